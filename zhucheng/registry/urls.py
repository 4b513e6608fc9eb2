"""Registry pages, mounted at /registry/."""

from django.urls import path

from . import views

app_name = "registry"

urlpatterns = [
    path("", views.search, name="search"),
    path("me/", views.me, name="me"),
    path("persons/<int:pk>/", views.person_detail, name="person_detail"),
    path("persons/<int:pk>/reveal/", views.person_reveal, name="person_reveal"),
    path("units/<int:pk>/", views.housing_unit_detail, name="housing_unit"),
    path("areas/", views.areas, name="areas"),
    path("areas/<int:pk>/", views.area, name="area"),
    path("rentals/", views.rentals, name="rentals"),
    path("permits/", views.permits, name="permits"),
    path("points/", views.points, name="points"),
    path("corrections/", views.corrections, name="corrections"),
    path("corrections/<int:pk>/", views.correction_detail, name="correction_detail"),
    path("export/", views.export, name="export"),
]
