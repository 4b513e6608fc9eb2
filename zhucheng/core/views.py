"""Staff home, health check and error pages (thin: reads come from selectors)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader

from zhucheng.core.selectors import home_sections_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if getattr(request.user, "is_resident", False):
        return redirect("accounts:resident_home")
    return render(request, "core/home.html", {"sections": home_sections_for(request.user)})


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})


def _error(request: HttpRequest, status: int, template: str) -> HttpResponse:
    return render(request, template, status=status)


def error_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, "errors/400.html")


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, "errors/403.html")


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404, "errors/404.html")


def error_500(request: HttpRequest) -> HttpResponse:
    # No request context: the failure may have come from a context processor or middleware.
    try:
        body = loader.get_template("errors/500.html").render()
    except Exception:  # the error page itself must never fail
        body = "<h1>500 服务器内部错误 / Server error</h1>"
    return HttpResponse(body, status=500)
