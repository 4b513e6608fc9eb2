"""Participation pages, mounted at /participation/: public community budget pages and staff pages."""

from django.urls import path

from . import staff_views, views

app_name = "participation"

urlpatterns = [
    path("", views.home, name="home"),
    path("budgets/", views.index, name="index"),
    path("budgets/new/", staff_views.budget_new, name="budget_new"),
    path("b/<int:pk>/", views.budget_page, name="budget"),
    path("b/<int:pk>/map.json", views.map_data, name="map_data"),
    path("b/<int:pk>/propose/", views.propose, name="propose"),
    path("b/<int:pk>/vote/", views.vote, name="vote"),
    path("b/<int:pk>/verify/", views.verify, name="verify"),
    path("b/<int:pk>/results/", views.results, name="results"),
    path("b/<int:pk>/budget.pb", views.export_pb, name="export_pb"),
    path("p/<int:pk>/", views.proposal_page, name="proposal"),
    path("project/<int:pk>/", views.project_page, name="project"),
    path("manage/<int:pk>/", views.manage, name="manage"),
    path("manage/<int:pk>/paper/", views.paper, name="paper"),
    path("manage/<int:pk>/<slug:act>/", views.manage_act, name="manage_act"),
    path("manage/project/<int:pk>/", views.project_manage, name="project_manage"),
    path("council/", staff_views.council_index, name="council"),
    path("council/<int:pk>/", staff_views.council_detail, name="council_detail"),
    path("council/<int:pk>/<slug:act>/", staff_views.council_act, name="council_act"),
]
