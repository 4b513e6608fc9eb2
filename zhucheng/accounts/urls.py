from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("resident/login/", views.resident_login, name="resident_login"),
    path("resident/register/", views.resident_register, name="resident_register"),
    path("resident/code/", views.resident_send_code, name="resident_send_code"),
    path("resident/", views.resident_home, name="resident_home"),
]
