"""URL map: pages per app, admin, API schema, language switch, error handlers."""

from importlib.util import find_spec

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("", include("zhucheng.core.urls")),
    path("accounts/", include("zhucheng.accounts.urls")),
    path("places/", include("zhucheng.places.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

if find_spec("zhucheng.open311.urls") is not None:
    urlpatterns.append(path("open311/", include("zhucheng.open311.urls")))
if find_spec("zhucheng.api_urls") is not None:
    urlpatterns.append(path("api/v1/", include("zhucheng.api_urls")))

# Domain apps mount their pages under their own name once they have any.
for _app in ("appeals", "registry", "mediation", "care", "participation", "exchange"):
    if find_spec(f"zhucheng.{_app}") is not None and find_spec(f"zhucheng.{_app}.urls") is not None:
        urlpatterns.append(path(f"{_app}/", include(f"zhucheng.{_app}.urls")))

handler400 = "zhucheng.core.views.error_400"
handler403 = "zhucheng.core.views.error_403"
handler404 = "zhucheng.core.views.error_404"
handler500 = "zhucheng.core.views.error_500"
