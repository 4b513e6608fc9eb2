"""Request id for the audit trail, and security headers Django does not set itself."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from . import context

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data: blob:",
        "style-src 'self' 'unsafe-inline'",
        "script-src 'self'",
        "connect-src 'self'",
        "font-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class RequestIdMiddleware:
    """One request id per user action (taken from ``X-Request-ID`` when sane), echoed back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-ID", "")
        ip = request.META.get("REMOTE_ADDR") or None
        token = context.begin(ip=ip, request_id=given if _REQUEST_ID.match(given) else None)
        try:
            ctx = context.current()
            request.request_id = ctx.request_id if ctx else ""  # type: ignore[attr-defined]
            response = self.get_response(request)
            response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
            return response
        finally:
            context.end(token)


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response (no CDN: all 'self')."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/admin/"):
            response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", "geolocation=(self), camera=(self), microphone=()")
        return response


class ChineseFirstMiddleware:
    """Pages open in Chinese unless the user chose English (language cookie or ``?lang=en``).

    The browser's Accept-Language is ignored for pages: a city's staff and residents share
    computers and phones set up in English as often as not, and the platform is Chinese first.
    Machine clients (``/api/``, ``/open311/``) keep Accept-Language, as HTTP APIs should.
    """

    MACHINE_PREFIXES = ("/api/", "/open311/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(self.MACHINE_PREFIXES):
            wanted = request.GET.get("lang", "")
            if wanted in ("en", "zh-hans"):
                request.META["HTTP_ACCEPT_LANGUAGE"] = wanted
            else:
                request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
