"""Care pages, mounted at /care/."""

from django.urls import path

from . import views, views_more

app_name = "care"

urlpatterns = [
    path("", views.home, name="home"),
    path("enrolments/", views.enrolment_list, name="enrolment_list"),
    path("enrolments/export.csv", views.enrolment_export, name="enrolment_export"),
    path("api/enrolments/", views.enrolment_api, name="enrolment_api"),
    path("api/persons/<int:person_id>/enrolments/", views.person_enrolments_api, name="person_enrolments_api"),
    path("enrol/", views.person_pick, name="person_pick"),
    path("enrol/<int:person_id>/", views.enrol, name="enrol"),
    path("enrolments/<int:pk>/", views.enrolment_detail, name="enrolment_detail"),
    path("enrolments/<int:pk>/visit/", views.visit_new, name="visit_new"),
    path("enrolments/<int:pk>/<slug:act>/", views.enrolment_act, name="enrolment_act"),
    path("overdue/", views.overdue, name="overdue"),
    path("referrals/", views.referral_list, name="referrals"),
    path("referrals/<int:pk>/answer/", views.referral_answer, name="referral_answer"),
    path("metrics/", views.metrics_page, name="metrics"),
    path("points/", views_more.point_list, name="point_list"),
    path("points/<int:pk>/", views_more.point_detail, name="point_detail"),
    path("bookings/<int:pk>/<slug:act>/", views_more.booking_act, name="booking_act"),
    path("homes/", views_more.home_list, name="home_list"),
    path("homes/<int:pk>/", views_more.home_detail, name="home_detail"),
    path("proxy/", views_more.pairing_list, name="pairing_list"),
    path("proxy/<int:pk>/", views_more.pairing_detail, name="pairing_detail"),
    path("homeless/", views_more.homeless_list, name="homeless_list"),
    path("homeless/new/", views_more.homeless_new, name="homeless_new"),
    path("homeless/<int:pk>/", views_more.homeless_detail, name="homeless_detail"),
]
