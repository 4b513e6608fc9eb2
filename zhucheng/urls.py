"""URL map: pages per app, admin, API schema, language switch, error handlers."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("", include("zhucheng.core.urls")),
    path("accounts/", include("zhucheng.accounts.urls")),
    path("places/", include("zhucheng.places.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

handler400 = "zhucheng.core.views.error_400"
handler403 = "zhucheng.core.views.error_403"
handler404 = "zhucheng.core.views.error_404"
handler500 = "zhucheng.core.views.error_500"
