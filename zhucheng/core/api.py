"""Shared pieces of the REST API (``/api/v1/``): authentication, one error shape, idempotent POSTs.

Every error the API answers is ``{"code", "field", "message"}`` (plus ``errors`` with every
field's messages when input was invalid), so clients handle one shape. Domain errors
(``AppealError``) keep the service's code and translated message: ``forbidden`` → 403,
``stale`` → 409, anything else → 400; "missing or not yours" (``NotVisible``) → 404.
A POST that carries an ``Idempotency-Key`` header runs once per user and key
(``core.idempotency.run_once``): a retry gets the first answer, nothing is created twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase, JsonResponse
from django.http.request import RawPostDataException
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, TokenAuthentication
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import set_rollback

from zhucheng.appeals.errors import AppealError
from zhucheng.places.selectors import NotVisible

from .idempotency import KeyReused, StillRunning, fingerprint, run_once

IDEMPOTENCY_HEADER = "Idempotency-Key"
# Domain error codes that are not "bad input".
STATUS_BY_CODE = {"forbidden": 403, "stale": 409, "not_found": 404}


# --- the one error shape ----------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """What every refused request answers."""

    code = serializers.CharField(help_text="稳定的错误代码，如 forbidden、stale、invalid_transition、required")
    field = serializers.CharField(allow_blank=True, help_text="出错的字段（如 petitioners[0].phone），整体错误为空")
    message = serializers.CharField(help_text="已翻译的说明")
    # Shadows ``Serializer.errors`` only on the class body; DRF moves declared fields aside.
    errors = serializers.JSONField(required=False, help_text="输入有误时：每个字段的全部错误")  # type: ignore[assignment]


def error_body(code: str, message: str, field: str = "", errors: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "field": field, "message": str(message)}
    if errors is not None:
        body["errors"] = errors
    return body


def _first_error(detail: Any, path: str = "") -> tuple[str, str, str]:
    """(field path, code, message) of the first message in a DRF error structure."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key in ("non_field_errors", "detail"):
                sub = path
            elif isinstance(key, int) or str(key).isdigit():
                sub = f"{path}[{key}]"
            else:
                sub = f"{path}.{key}" if path else str(key)
            found = _first_error(value, sub)
            if found[2]:
                return found
        return path, "invalid", ""
    if isinstance(detail, list):
        for index, value in enumerate(detail):
            sub = f"{path}[{index}]" if isinstance(value, dict) else path
            found = _first_error(value, sub)
            if found[2]:
                return found
        return path, "invalid", ""
    return path, str(getattr(detail, "code", "invalid") or "invalid"), str(detail)


def _plain(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {str(k): _plain(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_plain(v) for v in detail]
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's exception handler, answering every error in the shape of ``ErrorSerializer``."""
    if isinstance(exc, AppealError):
        set_rollback()
        return Response(exc.as_dict(), status=STATUS_BY_CODE.get(exc.code, 400))
    if isinstance(exc, NotVisible | Http404):
        set_rollback()
        return Response(error_body("not_found", _("没有找到，或不在您的管辖范围内。")), status=404)
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, KeyReused):
        return Response(
            error_body("idempotency_key_reused", _("该 Idempotency-Key 已用于另一个不同的请求，请换一个新的键。"), IDEMPOTENCY_HEADER),
            status=422,
        )
    if isinstance(exc, StillRunning):
        return Response(
            error_body("idempotency_in_progress", _("使用相同 Idempotency-Key 的请求仍在处理中，请稍后重试。"), IDEMPOTENCY_HEADER),
            status=409,
            headers={"Retry-After": "1"},
        )
    if not isinstance(exc, exceptions.APIException):
        return None
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = str(exc.auth_header)  # type: ignore[attr-defined]
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
    set_rollback()
    if isinstance(exc, exceptions.ValidationError):
        field, code, message = _first_error(exc.detail)
        return Response(error_body(code, message or _("输入有误。"), field, _plain(exc.detail)), status=exc.status_code, headers=headers)
    detail = exc.detail
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    message = detail if isinstance(detail, str) else _first_error(detail)[2]
    return Response(error_body(str(code), str(message)), status=exc.status_code, headers=headers)


@csrf_exempt  # nothing to protect, and a POST to a wrong path must get this answer, not the CSRF page
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Unknown paths under the API answer JSON too, not the HTML 404 page."""
    return JsonResponse(error_body("not_found", _("没有这个接口地址。")), status=404)


# --- OpenAPI helpers ---------------------------------------------------------------------------------


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """Error responses for ``extend_schema(responses=...)``; 401 is always possible."""
    descriptions = {
        400: "输入有误，或当前状态下不能执行此操作",
        401: "未登录（缺少或错误的令牌）",
        403: "没有权限",
        404: "没有找到，或不在您的管辖范围内",
        409: "该诉求已被他人修改（expected_version 过期），或相同 Idempotency-Key 的请求仍在处理",
        422: "该 Idempotency-Key 已用于另一个不同的请求",
        429: "请求过多，请按 Retry-After 稍后再试",
    }
    return {s: OpenApiResponse(ErrorSerializer, description=descriptions[s]) for s in sorted({401, *statuses})}


IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="客户端生成的唯一键（如 UUID）。相同用户以相同键重试同一请求，返回第一次的结果，不会重复创建；7 天后过期。",
)


class TokenScheme(OpenApiAuthenticationExtension):
    """Documents ``Authorization: Token <key>`` (DRF's TokenAuthentication)."""

    target_class = "rest_framework.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "令牌认证：`Authorization: Token <令牌>`。令牌由 POST /api/v1/auth/token/ 以用户名和密码换取。",
        }


class EnumField(serializers.ChoiceField):
    """A choice field documented as the named enum component ``enum_name``.

    drf-spectacular names enums after the field, so two fields called ``kind`` with different
    choices (an appeal's kind, a supervision's kind) would collide; a fixed name avoids that.
    """

    def __init__(self, choices: Any, *, enum_name: str, **kwargs: Any) -> None:
        self.enum_name = enum_name
        super().__init__(choices, **kwargs)


class EnumFieldExtension(OpenApiSerializerFieldExtension):
    target_class = EnumField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        field: EnumField = self.target
        values = [v for v in field.choices if v not in ("", None)]
        labels = "\n".join(f"* `{v}` - {field.choices[v]}" for v in values)
        component = ResolvedComponent(
            name=field.enum_name,
            type=ResolvedComponent.SCHEMA,
            object=field.enum_name,
            schema={"type": "string", "enum": values, "description": labels},
        )
        auto_schema.registry.register_on_missing(component)
        if field.allow_blank:
            return {"oneOf": [component.ref, {"type": "string", "enum": [""]}]}
        return component.ref


# --- base view behaviour ---------------------------------------------------------------------------


class ApiViewMixin:
    """JSON in and out, token or session login, our error shape; POSTs idempotent by header.

    Token comes first so that an anonymous client gets 401 with ``WWW-Authenticate: Token``.
    """

    authentication_classes: Sequence[type[BaseAuthentication]] = [TokenAuthentication, SessionAuthentication]
    permission_classes: Sequence[Any] = [IsAuthenticated]
    parser_classes: Sequence[type[BaseParser]] = [JSONParser]
    renderer_classes: Sequence[type[BaseRenderer]] = [JSONRenderer]

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response | None]:
        return exception_handler

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
        if request.method == "POST" and key and request.user.is_authenticated:
            # Authentication and permissions have run: wrap the handler dispatch() calls next.
            inner: Callable[..., Any] = self.post  # type: ignore[has-type,attr-defined]

            def idempotent_post(req: Request, *a: Any, **kw: Any) -> HttpResponseBase:
                return self._run_idempotent(inner, key, req, *a, **kw)

            self.post = idempotent_post

    def _run_idempotent(self, inner: Callable[..., Any], key: str, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            body: bytes | list[tuple[str, str]] = request._request.body
        except RawPostDataException:  # the stream was parsed already: fingerprint what it held
            body = [(str(k), str(v)) for k, v in request.data.items()]

        def produce() -> HttpResponseBase:
            try:
                response = inner(request, *args, **kwargs)
            except Exception as exc:
                response = self.handle_exception(exc)  # type: ignore[attr-defined]
            response = self.finalize_response(request, response, *args, **kwargs)  # type: ignore[attr-defined]
            response.render()
            return response

        return run_once(
            scope=f"api:user:{request.user.pk}",
            key=key,
            request_fingerprint=fingerprint(request.method or "", request.get_full_path(), body),
            produce=produce,  # type: ignore[arg-type]
        )
