"""Open311 GeoReport v2, mounted at ``/open311/``: discovery and the spec's resources under ``v2/``.

The format is the URL's extension (``services.json``); an unknown extension or path is an
Open311 404, never an HTML page.
"""

from django.urls import path, re_path

from . import views

app_name = "open311"

FMT = r"\.(?P<fmt>[A-Za-z0-9]{1,10})$"

urlpatterns = [
    path("", views.root, name="home"),
    path("v2/", views.root, name="root"),
    re_path(r"^discovery" + FMT, views.discovery, name="discovery_alias"),
    re_path(r"^v2/discovery" + FMT, views.discovery, name="discovery"),
    re_path(r"^v2/services" + FMT, views.service_list, name="services"),
    re_path(r"^v2/services/(?P<service_code>[^/]+?)" + FMT, views.service_definition, name="service"),
    re_path(r"^v2/requests" + FMT, views.service_requests, name="requests"),
    re_path(r"^v2/requests/(?P<service_request_id>[^/]+?)" + FMT, views.service_request, name="request"),
    re_path(r"^v2/tokens/(?P<token>[^/]+?)" + FMT, views.token, name="token"),
    re_path(r"^v2/servicerequestupdates" + FMT, views.request_updates, name="updates"),
    re_path(r"^(?P<rest>.*)$", views.not_found, name="not_found"),
]
