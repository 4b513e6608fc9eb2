from django.urls import path

from . import views

app_name = "places"

urlpatterns = [
    path("units/", views.unit_list, name="unit_list"),
    path("units/export.csv", views.unit_export, name="unit_export"),
    path("units/<int:pk>/", views.unit_detail, name="unit_detail"),
    path("units/<int:pk>/edit/", views.unit_edit, name="unit_edit"),
    path("units/<int:pk>/boundary.geojson", views.unit_boundary, name="unit_boundary"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/export.csv", views.staff_export, name="staff_export"),
]
