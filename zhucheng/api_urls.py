"""The REST API, mounted at ``/api/v1/`` (schema at ``/api/schema/``, docs at ``/api/docs/``)."""

from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from zhucheng.appeals.api import AppealViewSet, TokenView
from zhucheng.core.api import api_not_found

router = SimpleRouter()
router.register("appeals", AppealViewSet, basename="api-appeals")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("", include(router.urls)),
    re_path(r"^.*$", api_not_found),
]
