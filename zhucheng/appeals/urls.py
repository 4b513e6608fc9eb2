"""Appeal pages, mounted at ``/appeals/``: staff pages first, then the resident's submit and track pages."""

from django.urls import path

from . import views

app_name = "appeals"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/act/<slug:name>/", views.act, name="act"),
    path("desk/new/", views.desk_new, name="desk_new"),
    path("search/", views.search, name="search"),
    path("export/", views.export, name="export"),
    path("backlog/", views.backlog, name="backlog"),
    path("map/", views.map_page, name="map"),
    path("map/data.geojson", views.map_data, name="map_data"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
    path("submit/", views.submit, name="submit"),
    path("submit/done/", views.submit_done, name="submit_done"),
    path("submit/areas.geojson", views.submit_areas, name="submit_areas"),
    path("track/", views.track, name="track"),
    path("track/<str:code>/", views.track_detail, name="track_detail"),
    path("track/<str:code>/rate/", views.track_rate, name="track_rate"),
    path("track/<str:code>/review/", views.track_review, name="track_review"),
    path("mine/", views.mine, name="mine"),
]
