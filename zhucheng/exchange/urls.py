"""Exchange pages, mounted at /exchange/."""

from django.urls import path

from . import views

app_name = "exchange"

urlpatterns = [
    path("", views.home, name="home"),
    path("feeds/<int:pk>/upload/", views.feed_upload, name="feed_upload"),
    path("batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/progress/", views.batch_progress, name="batch_progress"),
    path("batches/<int:pk>/errors.xlsx", views.batch_errors, name="batch_errors"),
    path("review/", views.review_queue, name="review_queue"),
    path("review/<int:pk>/", views.review_detail, name="review_detail"),
    path("persons/<int:pk>/", views.person_provenance, name="person_provenance"),
    path("merges/<int:pk>/undo/", views.merge_undo, name="merge_undo"),
    path("reports/", views.report_page, name="reports"),
]
