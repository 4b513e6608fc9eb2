"""Mediation pages, mounted at /mediation/."""

from django.urls import path

from . import dispute_page, views

app_name = "mediation"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("disputes/", views.dispute_list, name="dispute_list"),
    path("disputes/new/", views.dispute_new, name="dispute_new"),
    path("disputes/<int:pk>/", dispute_page.dispute_detail, name="dispute_detail"),
    path("disputes/<int:pk>/<slug:act>/", dispute_page.dispute_act, name="dispute_act"),
    path("from-appeal/<int:appeal_id>/", views.dispute_from_appeal, name="from_appeal"),
    path("agreements/<int:pk>/pdf/", views.agreement_pdf, name="agreement_pdf"),
    path("rooms/", views.room_list, name="room_list"),
    path("rooms/<int:pk>/", views.room_detail, name="room_detail"),
    path("mediators/", views.mediator_list, name="mediator_list"),
    path("risk/", views.risk_board, name="risk_board"),
    path("screening/", views.coverage, name="coverage"),
    path("screening/rounds/<int:pk>/", views.round_detail, name="round_detail"),
    path("screening/rounds/<int:pk>/close/", views.round_close, name="round_close"),
    path("screening/reports/<int:pk>/", views.report_submit, name="report_submit"),
    path("metrics/", views.metrics_page, name="metrics"),
]
