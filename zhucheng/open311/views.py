"""GeoReport v2 endpoints (``/open311/v2/…``): thin views that check, delegate and render.

Every answer is XML or JSON by the URL's extension; every refusal is the spec's error list:
404 for an unknown format, service, request or token, 403 for the api_key (missing, wrong,
revoked, or not allowed for the service), 429 with ``Retry-After`` over the rate limit, 405 for
a method the resource does not have, 409 while an identical request with the same idempotency
key is still running, and 400 for everything else — unexpected failures included, as the spec
asks ("General service error"); those are logged with their traceback.

``GET requests`` answers come from ``listcache`` while the database snapshot is unchanged, with a
strong ``ETag`` (``If-None-Match`` → 304); ``Cache-Control: no-cache`` renders afresh.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, HttpResponseRedirect, QueryDict
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import parse_etags
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from zhucheng.appeals.errors import AppealError
from zhucheng.core.idempotency import KeyReused, StillRunning, fingerprint, run_once

from . import keys, listcache, params, ratelimit, selectors
from .errors import Open311Error
from .models import ServiceRequest
from .render import FORMATS, Items, errors, render_document, respond
from .services import Created, service_request_create, submission_token

logger = logging.getLogger("zhucheng.open311")

View = Callable[..., HttpResponse]
READ = ("GET", "HEAD")
IDEMPOTENCY_HEADER = "Idempotency-Key"
TOKEN_HEADER = "Open311-Token"  # noqa: S105 - a header name, not a secret


def _client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _limit_ip(request: HttpRequest) -> None:
    retry = ratelimit.hit(f"ip:{_client_ip(request)}", ratelimit.configured("ip"))
    if retry:
        raise Open311Error(429, _("请求过于频繁，请在 %(n)s 秒后重试。") % {"n": retry}, retry_after=retry)


def _error_response(fmt: str, exc: Open311Error) -> HttpResponse:
    response = errors(fmt, exc.status, exc.descriptions)
    if exc.retry_after:
        response["Retry-After"] = str(exc.retry_after)
    return response


def endpoint(*methods: str) -> Callable[[View], View]:
    """Format check, method check, the per-IP limit on reads, and every refusal in the spec's error format."""
    allowed = tuple(methods)

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, fmt: str = "xml", **kwargs: Any) -> HttpResponse:
            if fmt not in FORMATS:
                return errors("xml", 404, [_("不支持的格式“%(fmt)s”：请使用 .xml 或 .json。") % {"fmt": fmt[:20]}])
            try:
                if request.method not in allowed:
                    response = errors(fmt, 405, [_("该资源不支持 %(method)s 请求。") % {"method": str(request.method)[:10]}])
                    response["Allow"] = ", ".join(allowed)
                    return response
                if request.method in READ:
                    _limit_ip(request)
                return view(request, *args, fmt=fmt, **kwargs)
            except Open311Error as exc:
                return _error_response(fmt, exc)
            except AppealError as exc:
                return errors(fmt, 400, [exc.message])
            except (SuspiciousOperation, RequestDataTooBig, BadRequest, UnicodeDecodeError):
                return errors(fmt, 400, [_("请求无法解析（参数过多、过大或编码错误）。")])
            except Exception:
                logger.exception("open311: general service error on %s %s", request.method, request.path)
                return errors(fmt, 400, [_("服务处理出错，请稍后重试；如持续出现请联系我们。")])

        return csrf_exempt(wrapper)

    return decorate


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("open311:root")).rstrip("/")


# --- discovery and services ----------------------------------------------------------------------


@endpoint(*READ)
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    return respond(fmt, "discovery", selectors.discovery_document(_base_url(request)))


@endpoint(*READ)
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    return respond(fmt, "services", selectors.services_document(selectors.services()))


@endpoint(*READ)
def service_definition(request: HttpRequest, service_code: str, fmt: str) -> HttpResponse:
    category = selectors.service_get(service_code)
    if category is None:
        raise Open311Error(404, _("没有编码为“%(code)s”的服务（service_code）。") % {"code": service_code[:40]})
    return respond(fmt, "service_definition", selectors.definition_document(category, selectors.attributes_of(category)))


# --- service requests ------------------------------------------------------------------------------


@endpoint("GET", "HEAD", "POST")
def service_requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create(request, fmt)
    query = params.requests_query(request.GET)

    def render() -> bytes:
        return render_document(fmt, "service_requests", selectors.request_documents(selectors.request_page(query)))

    key = (fmt, translation.get_language() or "", query.key())
    no_cache = "no-cache" in request.headers.get("Cache-Control", "").lower()
    entry = listcache.answer(key, render, no_cache=no_cache)
    response: HttpResponse
    # RFC 9110 §13.1.2: If-None-Match compares weakly; "*" matches any answer.
    tags = parse_etags(request.headers.get("If-None-Match", ""))
    if "*" in tags or entry.etag in [t.removeprefix("W/") for t in tags]:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(entry.body, content_type=FORMATS[fmt])
    response["ETag"] = entry.etag
    return response


@endpoint(*READ)
def service_request(request: HttpRequest, service_request_id: str, fmt: str) -> HttpResponse:
    row = selectors.request_get(service_request_id)
    if row is None:
        raise Open311Error(404, _("没有编号为“%(id)s”的诉求（service_request_id）。") % {"id": service_request_id[:40]})
    return respond(fmt, "service_requests", selectors.request_documents([row]))


@endpoint(*READ)
def token(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    found = ServiceRequest.objects.select_related("appeal").filter(token=token.strip()[:64]).first() if token.strip() else None
    if found is None:
        raise Open311Error(404, _("没有令牌“%(token)s”。") % {"token": token[:64]})
    return respond(fmt, "service_requests", Items("request", [{"service_request_id": found.appeal.code, "token": found.token}]))


@endpoint(*READ)
def request_updates(request: HttpRequest, fmt: str) -> HttpResponse:
    start, end = params.window(request.GET)
    page, page_size = params.paging(request.GET)
    offset = (page - 1) * page_size
    events = selectors.updates(start, end)[offset : offset + page_size]
    return respond(fmt, "service_request_updates", selectors.update_documents(events))


def root(request: HttpRequest) -> HttpResponse:
    """The endpoint's root: the discovery document (the spec suggests serving it here)."""
    return HttpResponseRedirect(reverse("open311:discovery", kwargs={"fmt": "xml"}))


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    fmt = "json" if request.path.endswith(".json") else "xml"
    return errors(fmt, 404, [_("没有这个 Open311 资源：%(path)s") % {"path": request.path[:100]}])


# --- POST Service Request ----------------------------------------------------------------------------


def _pairs(data: QueryDict) -> list[tuple[str, str]]:
    return [(k, v) for k, values in data.lists() if k != "api_key" for v in values]


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    data = request.POST
    api_key = params.value(data, "api_key")
    if not api_key:
        _limit_ip(request)
        raise Open311Error(403, _("缺少 api_key，无法提交诉求。"))
    client = keys.authenticate(api_key)
    if client is None:
        _limit_ip(request)
        raise Open311Error(403, _("api_key 无效，无法提交诉求。"))
    if not client.is_active:
        raise Open311Error(403, _("该 api_key 已被吊销，无法提交诉求。"))
    try:
        rate = ratelimit.parse_rate(client.rate_limit) if client.rate_limit else ratelimit.configured("key")
    except ValueError:
        rate = ratelimit.configured("key")
    retry = ratelimit.hit(f"key:{client.pk}", rate)
    if retry:
        raise Open311Error(429, _("该 api_key 提交过于频繁，请在 %(n)s 秒后重试。") % {"n": retry}, retry_after=retry)

    sub = params.submission(data)
    if not sub.service_code:
        raise Open311Error(400, _("缺少 service_code。"))
    category = selectors.service_get(sub.service_code)
    if category is None:
        raise Open311Error(404, _("没有编码为“%(code)s”的服务（service_code）。") % {"code": sub.service_code[:40]})
    if not keys.allows(client, category):
        raise Open311Error(403, _("该 api_key 无权提交“%(service)s”类诉求。") % {"service": category.code})

    idempotency_key = (request.headers.get(IDEMPOTENCY_HEADER) or "").strip()
    params.check_text(idempotency_key, IDEMPOTENCY_HEADER, limit=200)
    if not idempotency_key and sub.request_id:
        idempotency_key = f"request:{sub.device_id}:{sub.request_id}"
    pairs = _pairs(data)
    if idempotency_key:
        sub_token = submission_token(client=client, key=idempotency_key)
    else:
        sub_token = submission_token(client=client, body=fingerprint(pairs), day=timezone.localdate().isoformat())

    def produce() -> HttpResponse:
        try:
            created = service_request_create(client=client, category=category, sub=sub, token=sub_token)
        except Open311Error as exc:
            return _error_response(fmt, exc)
        except AppealError as exc:
            return errors(fmt, 400, [exc.message])
        return _created_response(fmt, created)

    if idempotency_key:
        try:
            response = run_once(
                scope=f"open311:key:{client.pk}",
                key=idempotency_key,
                request_fingerprint=fingerprint("POST", request.path, pairs),
                produce=produce,
            )
        except KeyReused:
            raise Open311Error(400, _("该幂等键已用于另一份不同的提交，请换一个 Idempotency-Key 或 request_id。")) from None
        except StillRunning:
            response = errors(fmt, 409, [_("相同的提交仍在处理中，请稍后重试。")])
            response["Retry-After"] = "1"
            return response
    else:
        response = produce()
    if response.status_code < 400:
        response[TOKEN_HEADER] = sub_token
    return response


def _created_response(fmt: str, created: Created) -> HttpResponse:
    notice = selectors.Notices()(created.appeal.kind, created.appeal.urgency)
    document = Items(
        "request",
        [{"service_request_id": created.appeal.code, "service_notice": notice, "account_id": created.request.account_id}],
    )
    return respond(fmt, "service_requests", document)
