"""REST API for appeals (``/api/v1/appeals/``): thin serializers and one viewset over selectors and services.

Reads go through ``selectors`` (the same scoping as the pages: missing and not-yours are both
404), every write through one ``services`` function (which checks permission, state and
``expected_version``). Each life-cycle act is its own POST endpoint and answers the appeal's
new state. Petitioners' contacts are never serialized: names are masked, and a petitioner who
asked to stay anonymous to the department is left out for everyone but the dispatchers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, Throttled, ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from zhucheng.core.api import IDEMPOTENCY_PARAMETER, ApiViewMixin, EnumField, error_responses
from zhucheng.core.masking import mask_name
from zhucheng.places.models import Department, OrgUnit, OrgUnitKind
from zhucheng.places.selectors import NotVisible, units_for

from . import permissions, selectors, services
from .errors import AppealError
from .models import (
    OPEN_STATUSES,
    Appeal,
    AppealKind,
    Category,
    Channel,
    DeclineRoute,
    Extension,
    Outcome,
    Pause,
    ReviewDecision,
    Satisfaction,
    Status,
    SupervisionKind,
    Urgency,
)
from .views import event_label

STAFF_CHANNELS = (Channel.VISIT, Channel.LETTER, Channel.HOTLINE, Channel.GRID, Channel.PORTAL)
INTAKE_UNIT_KINDS = (
    OrgUnitKind.COMMUNITY,
    OrgUnitKind.TOWNSHIP,
    OrgUnitKind.RESIDENTS_COMMITTEE,
    OrgUnitKind.VILLAGE,
    OrgUnitKind.GRID,
)
MAX_INT = 2**31 - 1
MAX_ID = 2**63 - 1
# Dates outside these years are typos, and some would overflow the time-zone arithmetic.
MIN_YEAR, MAX_YEAR = 1900, 2999


def _user_is_resident(user: Any) -> bool:
    return bool(getattr(user, "is_resident", False))


# --- small building blocks -----------------------------------------------------------------------


class CodeRelatedField(serializers.SlugRelatedField):
    """A related row named by its ``code``; anything that cannot be a code is "not found", never a DB error."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("slug_field", "code")
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str) or not data or len(data) > 64 or "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data)[:64])
        return super().to_internal_value(data)


class RefSerializer(serializers.Serializer):
    """A category, unit or department as ``{code, name}``."""

    code = serializers.CharField()
    name = serializers.CharField()


class PetitionerOutSerializer(serializers.Serializer):
    """A petitioner as shown to staff: masked name only, never contacts."""

    name = serializers.CharField(help_text="姓名（已脱敏，如“王**”）")
    is_primary = serializers.BooleanField()
    is_anonymous = serializers.BooleanField(help_text="对承办部门匿名")


class EventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    act = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label: DRF moves it aside
    department = serializers.CharField(allow_null=True)
    note = serializers.CharField(allow_blank=True)
    status = serializers.CharField(allow_blank=True, help_text="此后的状态")


class ReplyOutSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    outcome_display = serializers.CharField()
    text = serializers.CharField()
    department = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    on_time = serializers.BooleanField()


class ExtensionOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    days = serializers.IntegerField()
    reason = serializers.CharField()
    state = serializers.CharField(help_text="pending / approved / refused")
    requested_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField(allow_blank=True)


class ReviewOutSerializer(serializers.Serializer):
    level = serializers.IntegerField(help_text="1 复查，2 复核")
    reason = serializers.CharField()
    requested_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    decision = serializers.CharField(allow_blank=True, help_text="upheld / revised，未决定为空")
    decision_text = serializers.CharField(allow_blank=True)
    decided_at = serializers.DateTimeField(allow_null=True)


class FeedbackOutSerializer(serializers.Serializer):
    department_rating = serializers.CharField()
    centre_rating = serializers.CharField(allow_blank=True)
    comment = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class DuplicateOutSerializer(serializers.Serializer):
    other = serializers.IntegerField(help_text="疑似重复的另一件诉求的 id")
    other_code = serializers.CharField()
    score = serializers.FloatField()
    reason = serializers.CharField()
    decision = serializers.CharField(help_text="pending / merged / kept_apart")


# --- appeals out ---------------------------------------------------------------------------------


class AppealListSerializer(serializers.ModelSerializer):
    """One row of a list: no description, no petitioners."""

    status_display = serializers.CharField(source="get_status_display")
    category = RefSerializer(allow_null=True)
    unit = RefSerializer()
    department = RefSerializer(allow_null=True)
    is_overdue = serializers.SerializerMethodField()
    is_paused = serializers.BooleanField()

    class Meta:
        model = Appeal
        fields = [
            "id", "code", "kind", "channel", "urgency", "status", "status_display", "title", "category", "unit",
            "department", "submitted_at", "due_at", "is_overdue", "is_paused", "version",
        ]
        read_only_fields = fields

    def get_is_overdue(self, obj: Appeal) -> bool:
        return bool(obj.status in OPEN_STATUSES and obj.due_at and obj.due_at < timezone.now() and not obj.paused_at)

    def to_representation(self, instance: Appeal) -> dict[str, Any]:
        # Built by hand, field for field as declared above (the schema comes from those fields): DRF's
        # generic machinery spent more time on a page of 50 rows than the database did.
        a = instance
        return {
            "id": a.pk,
            "code": a.code,
            "kind": a.kind,
            "channel": a.channel,
            "urgency": a.urgency,
            "status": a.status,
            "status_display": str(Status(a.status).label),
            "title": a.title,
            "category": _ref(a.category),
            "unit": _ref(a.unit),
            "department": _ref(a.department),
            "submitted_at": _when(a.submitted_at),
            "due_at": _when(a.due_at),
            "is_overdue": self.get_is_overdue(a),
            "is_paused": a.paused_at is not None,
            "version": a.version,
        }


def _ref(obj: Any) -> dict[str, str] | None:
    return None if obj is None else {"code": obj.code, "name": obj.name}


def _when(value: datetime | None) -> str | None:
    """As DRF's DateTimeField writes it: ISO 8601 in the current time zone."""
    return None if value is None else timezone.localtime(value).isoformat()


class AppealDetailSerializer(AppealListSerializer):
    """One appeal: the record, masked petitioners, public timeline, replies; staff also see extensions and duplicates."""

    def to_representation(self, instance: Appeal) -> Any:
        return serializers.ModelSerializer.to_representation(self, instance)

    grid = RefSerializer(allow_null=True)
    suggested_category = RefSerializer(allow_null=True)
    repeat_of: serializers.SlugRelatedField[Appeal] = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    petitioners = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()
    replies = serializers.SerializerMethodField()
    feedback = serializers.SerializerMethodField()
    reviews = serializers.SerializerMethodField()
    extensions = serializers.SerializerMethodField()
    duplicate_candidates = serializers.SerializerMethodField()

    class Meta(AppealListSerializer.Meta):
        fields = [
            *AppealListSerializer.Meta.fields,
            "description", "address", "lat", "lon", "grid", "suggested_category", "is_collective", "headcount",
            "registered_at", "assigned_at", "replied_at", "closed_at", "register_due", "reply_due", "paused_at",
            "pause_reason", "decline_reason", "decline_route", "resolved", "is_final", "repeat_of",
            "petitioners", "timeline", "replies", "feedback", "reviews", "extensions", "duplicate_candidates",
        ]
        read_only_fields = fields

    def _user(self) -> Any:
        return self.context["request"].user

    @extend_schema_field(PetitionerOutSerializer(many=True))
    def get_petitioners(self, obj: Appeal) -> list[dict[str, Any]]:
        sees_anonymous = permissions.is_dispatcher(self._user(), obj)
        return [
            {"name": mask_name(p.name), "is_primary": p.is_primary, "is_anonymous": p.is_anonymous}
            for p in obj.petitioners.all().order_by("-is_primary", "id")
            if sees_anonymous or not p.is_anonymous
        ]

    @extend_schema_field(EventSerializer(many=True))
    def get_timeline(self, obj: Appeal) -> list[dict[str, Any]]:
        return [
            {
                "at": e.at,
                "act": e.act,
                "label": event_label(e.act),
                "department": e.department.name if e.department else None,
                "note": e.note,
                "status": e.to_status,
            }
            for e in selectors.timeline(obj, public_only=True)
        ]

    @extend_schema_field(ReplyOutSerializer(many=True))
    def get_replies(self, obj: Appeal) -> list[dict[str, Any]]:
        return [
            {
                "outcome": r.outcome,
                "outcome_display": r.get_outcome_display(),
                "text": r.text,
                "department": r.department.name if r.department else None,
                "created_at": r.created_at,
                "on_time": r.on_time,
            }
            for r in obj.replies.select_related("department").order_by("created_at", "id")
        ]

    @extend_schema_field(FeedbackOutSerializer(many=True))
    def get_feedback(self, obj: Appeal) -> list[dict[str, Any]]:
        return [dict(r) for r in obj.feedback.order_by("created_at", "id").values("department_rating", "centre_rating", "comment", "created_at")]

    @extend_schema_field(ReviewOutSerializer(many=True))
    def get_reviews(self, obj: Appeal) -> list[dict[str, Any]]:
        rows = obj.reviews.order_by("level").values("level", "reason", "requested_at", "due_at", "decision", "decision_text", "decided_at")
        return [dict(r) for r in rows]

    @extend_schema_field(ExtensionOutSerializer(many=True))
    def get_extensions(self, obj: Appeal) -> list[dict[str, Any]]:
        if _user_is_resident(self._user()):
            return []
        rows = obj.extensions.order_by("requested_at", "id").values(
            "id", "days", "reason", "state", "requested_at", "decided_at", "decision_note"
        )
        return [dict(r) for r in rows]

    @extend_schema_field(DuplicateOutSerializer(many=True))
    def get_duplicate_candidates(self, obj: Appeal) -> list[dict[str, Any]]:
        user = self._user()
        if _user_is_resident(user):
            return []
        visible = selectors.appeals_visible_to(user).values("pk")
        return [
            {"other": c.other_id, "other_code": c.other.code, "score": c.score, "reason": c.reason, "decision": c.decision}
            for c in obj.duplicate_candidates.filter(other__in=visible).select_related("other").order_by("-score")
        ]


class AppealStateSerializer(serializers.Serializer):
    """What an act answers: the appeal's new state (and the row the act created, if any)."""

    id = serializers.IntegerField()
    code = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    status_display = serializers.CharField()
    version = serializers.IntegerField(help_text="下次操作时作为 expected_version 提交")
    object_id = serializers.IntegerField(allow_null=True, help_text="本操作新建的答复、延期申请、复查、督办或记录的 id")


class AppealCreatedSerializer(AppealStateSerializer):
    created = serializers.BooleanField()
    duplicates = serializers.IntegerField(help_text="疑似重复件的数量")


def _state(appeal_pk: int, obj: Any = None, **extra: Any) -> dict[str, Any]:
    fresh = Appeal.objects.only("id", "code", "status", "version").get(pk=appeal_pk)
    object_id = obj.pk if isinstance(obj, Model) and not isinstance(obj, Appeal) else None
    return {
        "id": fresh.pk,
        "code": fresh.code,
        "status": fresh.status,
        "status_display": fresh.get_status_display(),
        "version": fresh.version,
        "object_id": object_id,
        **extra,
    }


# --- inputs --------------------------------------------------------------------------------------


def _text(limit: int | None = None, *, help_text: str = "") -> serializers.CharField:
    """Free text; emptiness and length are checked by the service, which says so in the user's words."""
    if limit is None:
        return serializers.CharField(required=False, allow_blank=True, default="", help_text=help_text)
    return serializers.CharField(required=False, allow_blank=True, default="", max_length=limit, help_text=help_text)


class PetitionerInSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=60)
    phone = serializers.CharField(required=False, allow_blank=True, default="", max_length=30)
    id_number = serializers.CharField(required=False, allow_blank=True, default="", max_length=30)
    address = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    is_anonymous = serializers.BooleanField(required=False, default=False, help_text="对承办部门匿名")


class AppealCreateSerializer(serializers.Serializer):
    channel = EnumField(
        [(c.value, c.label) for c in STAFF_CHANNELS],
        enum_name="IntakeChannelEnum",
        required=False,
        help_text="工作人员代录时必填；群众账户固定为 portal",
    )
    kind = serializers.ChoiceField(choices=AppealKind.choices, required=False, default=AppealKind.APPEAL)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False, default=Urgency.NORMAL)
    title = _text(help_text="标题，120 字以内")
    description = _text(help_text="诉求内容，4000 字以内，不含 HTML")
    category = CodeRelatedField(queryset=Category.objects.filter(is_active=True), required=False, allow_null=True, default=None)
    address = _text(200)
    lat = serializers.FloatField(required=False, allow_null=True, default=None)
    lon = serializers.FloatField(required=False, allow_null=True, default=None)
    unit = CodeRelatedField(
        queryset=OrgUnit.objects.filter(kind__in=INTAKE_UNIT_KINDS), required=False, allow_null=True, default=None,
        help_text="没有坐标时：诉求所在的社区、乡镇、村居或网格的编码",
    )
    petitioners = PetitionerInSerializer(many=True, required=False, default=list, max_length=50)  # type: ignore[call-arg]
    is_collective = serializers.BooleanField(required=False, default=False)
    headcount = serializers.IntegerField(required=False, default=1, min_value=-MAX_INT, max_value=1_000_000)


class VersionedSerializer(serializers.Serializer):
    expected_version = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=-MAX_INT, max_value=MAX_INT,
        help_text="您看到的版本；诉求已被他人修改时拒绝（409），不会覆盖",
    )


class RegisterSerializer(VersionedSerializer):
    category = CodeRelatedField(queryset=Category.objects.filter(is_active=True), required=False, allow_null=True, default=None)
    note = _text(2000)


class DeclineSerializer(VersionedSerializer):
    reason = _text()
    route = EnumField(DeclineRoute.choices, enum_name="DeclineRouteEnum", required=False, allow_blank=True, default="")


class AssignSerializer(VersionedSerializer):
    department = CodeRelatedField(
        queryset=Department.objects.all(), required=False, allow_null=True, default=None, help_text="留空由分派规则决定"
    )
    assisting = serializers.ListField(
        child=CodeRelatedField(queryset=Department.objects.all()), required=False, default=list, max_length=20
    )
    instructions = _text(2000)


class TransferSerializer(VersionedSerializer):
    department = CodeRelatedField(queryset=Department.objects.all())
    reason = _text()


class ReasonSerializer(VersionedSerializer):
    reason = _text()


class DecideObjectionSerializer(VersionedSerializer):
    accept = serializers.BooleanField(required=False, default=False, help_text="同意退单（须选择改派部门）")
    note = _text()
    department = CodeRelatedField(queryset=Department.objects.all(), required=False, allow_null=True, default=None)


class ReplySerializer(VersionedSerializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    text = _text()


class RequestExtensionSerializer(VersionedSerializer):
    days = serializers.IntegerField(min_value=-MAX_INT, max_value=MAX_INT)
    reason = _text()


class DecideExtensionSerializer(VersionedSerializer):
    approve = serializers.BooleanField()
    note = _text(200)


class SuperviseSerializer(VersionedSerializer):
    kind = EnumField(SupervisionKind.choices, enum_name="SupervisionKindEnum", required=False, default=SupervisionKind.SUPERVISION)
    instructions = _text()
    due_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    leader_name = _text(60)


class PauseSerializer(VersionedSerializer):
    reason = EnumField(Pause.Reason.choices, enum_name="PauseReasonEnum")
    note = _text(200)


class FeedbackSerializer(VersionedSerializer):
    department_rating = EnumField(Satisfaction.choices, enum_name="SatisfactionEnum")
    centre_rating = EnumField(Satisfaction.choices, enum_name="SatisfactionEnum", required=False, allow_blank=True, default="")
    comment = _text(2000)


class CloseSerializer(VersionedSerializer):
    resolved = serializers.BooleanField(required=False, allow_null=True, default=None, help_text="留空按评价或答复结果判断")
    note = _text(2000)


class DecideReviewSerializer(VersionedSerializer):
    decision = serializers.ChoiceField(choices=ReviewDecision.choices)
    text = _text()


class MergeSerializer(VersionedSerializer):
    into = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="并入的较早诉求的 id")
    reason = _text(1000)


class KeepApartSerializer(VersionedSerializer):
    other = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="疑似重复的另一件诉求的 id")


class SetCategorySerializer(VersionedSerializer):
    category = CodeRelatedField(queryset=Category.objects.filter(is_active=True))


class NoteSerializer(VersionedSerializer):
    text = _text()
    is_public = serializers.BooleanField(required=False, default=False, help_text="诉求人可见")


# --- list filters --------------------------------------------------------------------------------


class AppealFilterSerializer(serializers.Serializer):
    """Query parameters of the list; an empty parameter counts as absent."""

    status = serializers.CharField(required=False, max_length=200, help_text="状态，逗号分隔，如 submitted,registered")
    kind = serializers.ChoiceField(choices=AppealKind.choices, required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    category = CodeRelatedField(queryset=Category.objects.all(), required=False, help_text="分类编码（一级分类含其下全部）")
    unit = CodeRelatedField(queryset=OrgUnit.objects.none(), required=False, help_text="区划编码（含下级），须在您的管辖范围内")
    department = CodeRelatedField(queryset=Department.objects.all(), required=False, help_text="主办部门编码")
    q = serializers.CharField(required=False, max_length=100, help_text="关键词：标题、内容、地址或受理编号")
    code = serializers.CharField(required=False, max_length=20, help_text="受理编号（部分匹配）")
    submitted_after = serializers.DateField(required=False, help_text="提交日期不早于（含）")
    submitted_before = serializers.DateField(required=False, help_text="提交日期不晚于（含）")
    overdue = serializers.BooleanField(required=False, default=False, help_text="仅已超期")

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if user is not None:
            unit = self.fields["unit"]
            assert isinstance(unit, CodeRelatedField)
            unit.queryset = units_for(user)

    def validate_status(self, value: str) -> list[str]:
        wanted = [s.strip() for s in value.split(",") if s.strip()]
        bad = [s for s in wanted if s not in Status.values]
        if bad:
            raise serializers.ValidationError(
                _("状态“%(v)s”无效，可用：%(all)s。") % {"v": bad[0][:40], "all": ", ".join(Status.values)}, code="invalid_choice"
            )
        return wanted

    def _check_year(self, value: date) -> date:
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            raise serializers.ValidationError(_("日期超出范围（%(a)s—%(b)s 年）。") % {"a": MIN_YEAR, "b": MAX_YEAR}, code="invalid")
        return value

    def validate_submitted_after(self, value: date) -> date:
        return self._check_year(value)

    def validate_submitted_before(self, value: date) -> date:
        return self._check_year(value)

    def search_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``selectors.appeals_search``."""
        d = self.validated_data
        out: dict[str, Any] = {"overdue": bool(d.get("overdue"))}
        for key in ("status", "kind", "channel", "category", "unit", "department", "q", "code"):
            if d.get(key) not in (None, "", []):
                out[key] = d[key]
        if d.get("submitted_after"):
            out["date_from"] = d["submitted_after"]
        if d.get("submitted_before"):
            out["date_to"] = d["submitted_before"]
        return out


def _non_empty(params: Any) -> dict[str, str]:
    return {k: v for k, v in params.items() if v != ""}


class InboxFilterSerializer(serializers.Serializer):
    tab = serializers.ChoiceField(
        choices=[("department", _("本部门承办")), ("dispatch", _("待受理交办")), ("community", _("辖区诉求")), ("overdue", _("已超期"))],
        required=False,
        help_text="留空：有部门岗位时为 department，否则 community",
    )


# --- pagination ----------------------------------------------------------------------------------


class AppealCursorPagination(CursorPagination):
    """Newest first; a cursor stays correct while new appeals arrive (no OFFSET, no COUNT)."""

    ordering = ("-submitted_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class InboxPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


# --- the viewset -----------------------------------------------------------------------------------

LIST_COLUMNS = (
    "id", "code", "kind", "channel", "urgency", "status", "title", "submitted_at", "due_at", "paused_at", "version",
    "category__code", "category__name", "unit__code", "unit__name", "department__code", "department__name",
)


def _list_columns(qs: QuerySet[Appeal]) -> QuerySet[Appeal]:
    """Only what a list row shows: a unit's or grid's boundary (GeoJSON) would otherwise come with every row."""
    return qs.select_related(None).select_related("category", "unit", "department").only(*LIST_COLUMNS)


Act = Callable[[Any, Appeal, dict[str, Any]], Any]


def _visible(user: Any, pk: Any, field: str, message: str) -> Appeal:
    try:
        return selectors.appeal_get_for_user(user, pk)
    except NotVisible:
        raise AppealError(message, code="invalid", field=field) from None


def _check_version(appeal: Appeal, expected: int | None) -> None:
    """For acts whose service takes no version (notes, keep-apart): refuse a stale view all the same."""
    if expected is not None and appeal.version != expected:
        raise AppealError(
            _("该诉求已被他人修改（当前版本 %(now)s，您打开的是版本 %(seen)s），请刷新后再操作，您的修改未保存。")
            % {"now": appeal.version, "seen": expected},
            code="stale",
        )


ACT_ERRORS = error_responses(400, 403, 404, 409, 422)


def act_schema(name: str, request: type[serializers.Serializer] | None, description: str, **extra: Any) -> Callable[[Any], Any]:
    return extend_schema(
        operation_id=f"appeals_{name}",
        summary=description,
        request=request,
        responses={200: AppealStateSerializer, **ACT_ERRORS},
        parameters=[IDEMPOTENCY_PARAMETER, *extra.pop("parameters", [])],
        tags=["appeals"],
        **extra,
    )


class AppealViewSet(ApiViewMixin, viewsets.GenericViewSet):
    """诉求: list (cursor-paginated, filtered), detail, submit, and one POST per life-cycle act."""

    # An act's input field names are its service's keyword arguments, so most acts are one line.

    # For the schema generator only (it reads the model behind ``{id}``); data comes from selectors.
    queryset = Appeal.objects.none()
    lookup_value_regex = r"[^/]+"  # anything that is not a number is "not found" (JSON), not a routing miss
    serializer_class = AppealListSerializer
    pagination_class = AppealCursorPagination

    def _appeal(self, pk: Any) -> Appeal:
        return selectors.appeal_get_for_user(self.request.user, pk)

    def _act(self, pk: Any, serializer_class: type[serializers.Serializer], run: Act) -> Response:
        appeal = self._appeal(pk)
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        obj = run(self.request.user, appeal, dict(serializer.validated_data))
        return Response(_state(appeal.pk, obj))

    def _call(self, pk: Any, serializer_class: type[serializers.Serializer], service: Callable[..., Any]) -> Response:
        return self._act(pk, serializer_class, lambda user, appeal, data: service(actor=user, appeal=appeal, **data))

    # --- reads ---

    @extend_schema(
        operation_id="appeals_list",
        summary="诉求列表（按提交时间倒序，游标分页）",
        parameters=[AppealFilterSerializer],
        responses={200: AppealListSerializer(many=True), **error_responses(400, 404)},
        tags=["appeals"],
    )
    def list(self, request: Request) -> Response:
        filters = AppealFilterSerializer(data=_non_empty(request.query_params), user=request.user)
        filters.is_valid(raise_exception=True)
        qs = _list_columns(selectors.appeals_search(request.user, **filters.search_kwargs()))
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(AppealListSerializer(page, many=True).data)

    @extend_schema(
        operation_id="appeals_inbox",
        summary="收件箱：需要我办理的诉求，超期的在前",
        parameters=[InboxFilterSerializer],
        responses={200: AppealListSerializer(many=True), **error_responses(400, 403, 404)},
        tags=["appeals"],
    )
    @action(detail=False, methods=["get"], pagination_class=InboxPagination)
    def inbox(self, request: Request) -> Response:
        if _user_is_resident(request.user):
            raise PermissionDenied(_("收件箱仅供工作人员使用。"))
        filters = InboxFilterSerializer(data=_non_empty(request.query_params))
        filters.is_valid(raise_exception=True)
        qs = _list_columns(selectors.inbox_for(request.user, tab=filters.validated_data.get("tab", "")))
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(AppealListSerializer(page, many=True).data)

    @extend_schema(
        operation_id="appeals_retrieve",
        summary="诉求详情（诉求人信息已脱敏；公开的办理过程和答复）",
        responses={200: AppealDetailSerializer, **error_responses(404)},
        tags=["appeals"],
    )
    def retrieve(self, request: Request, pk: Any = None) -> Response:
        return Response(AppealDetailSerializer(self._appeal(pk), context={"request": request}).data)

    # --- intake ---

    @extend_schema(
        operation_id="appeals_create",
        summary="登记诉求（群众账户为网上诉求，工作人员为代录）",
        request=AppealCreateSerializer,
        responses={201: AppealCreatedSerializer, **error_responses(400, 409, 422)},
        parameters=[IDEMPOTENCY_PARAMETER],
        tags=["appeals"],
    )
    def create(self, request: Request) -> Response:
        serializer = AppealCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        d = dict(serializer.validated_data)
        user: Any = request.user
        resident = user if _user_is_resident(user) else None
        people = [services.PetitionerInput(**p) for p in d.pop("petitioners")]
        channel = d.pop("channel", "")
        if resident is not None:
            if channel not in ("", Channel.PORTAL):
                raise AppealError(_("群众账户只能提交网上诉求。"), code="invalid", field="channel")
            channel = Channel.PORTAL
            if not people and resident.phone:
                people = [services.PetitionerInput(name=resident.display_name, phone=resident.phone)]
        elif not channel:
            raise AppealError(_("请选择渠道。"), code="required", field="channel")
        result = services.appeal_submit(actor=user, channel=channel, petitioners=people, resident=resident, **d)
        body = _state(result.appeal.pk, created=result.created, duplicates=len(result.duplicates))
        return Response(body, status=201)

    # --- acts: one endpoint each ---

    @act_schema("register", RegisterSerializer, "受理")
    @action(detail=True, methods=["post"])
    def register(self, request: Request, pk: Any = None) -> Response:
        return self._call(pk, RegisterSerializer, services.appeal_register)

    @act_schema("decline", DeclineSerializer, "不予受理（写明理由和应通过的途径）")
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: Any = None) -> Response:
        return self._call(pk, DeclineSerializer, services.appeal_decline)

    @act_schema("assign", AssignSerializer, "交办（不选部门时按分派规则）")
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: Any = None) -> Response:
        return self._call(pk, AssignSerializer, services.appeal_assign)

    @act_schema("start", VersionedSerializer, "签收办理")
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: Any = None) -> Response:
        return self._call(pk, VersionedSerializer, services.appeal_start)

    @act_schema("transfer", TransferSerializer, "转办")
    @action(detail=True, methods=["post"])
    def transfer(self, request: Request, pk: Any = None) -> Response:
        return self._call(pk, TransferSerializer, services.appeal_transfer)

    @act_schema("object", ReasonSerializer, "退单（承办部门认为不属本部门职责）")
    @action(detail=True, methods=["post"], url_path="object")
    def object_(self, request: Request, pk: Any = None) -> Response:
        return self._call(pk, ReasonSerializer, services.appeal_object)

    @act_schema("decide_objection", DecideObjectionSerializer, "退单裁定（同意则改派）")
    @action(detail=True, methods=["post"], url_path="decide-objection")
    def decide_objection(self, request: Request, pk: Any = None) -> Response:
        return self._call(pk, DecideObjectionSerializer, services.appeal_decide_objection)

    @act_schema("reply", ReplySerializer, "答复")
    @action(detail=True, methods=["post"])
    def reply(self, request: Request, pk: Any = None) -> Response:
        return self._call(pk, ReplySerializer, services.appeal_reply)

    @act_schema("request_extension", RequestExtensionSerializer, "申请延期")
    @action(detail=True, methods=["post"], url_path="request-extension")
    def request_extension(self, request: Request, pk: Any = None) -> Response:
        return self._call(pk, RequestExtensionSerializer, services.appeal_request_extension)

    @act_schema(
        "decide_extension", DecideExtensionSerializer, "延期审批",
        parameters=[OpenApiParameter("extension_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="延期申请的 id")],
    )
    @action(detail=True, methods=["post"], url_path=r"extensions/(?P<extension_id>[^/]+)/decide")
    def decide_extension(self, request: Request, pk: Any = None, extension_id: Any = None) -> Response:
        def run(user: Any, appeal: Appeal, data: dict[str, Any]) -> Extension:
            try:
                extension = appeal.extensions.get(pk=int(extension_id))
            except (Extension.DoesNotExist, ValueError, TypeError, OverflowError):
                raise NotVisible() from None
            return services.appeal_decide_extension(actor=user, extension=extension, **data)

        return self._act(pk, DecideExtensionSerializer, run)

    @act_schema("supervise", SuperviseSerializer, "督办 / 领导交办")
    @action(detail=True, methods=["post"])
    def supervise(self, request: Request, pk: Any = None) -> Response:
        return self._call(pk, SuperviseSerializer, services.appeal_supervise)

    @act_schema("pause", PauseSerializer, "暂停计时")
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: Any = None) -> Response:
        return self._call(pk, PauseSerializer, services.appeal_pause)

    @act_schema("resume", VersionedSerializer, "恢复计时")
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: Any = None) -> Response:
        return self._call(pk, VersionedSerializer, services.appeal_resume)

    @act_schema("feedback", FeedbackSerializer, "满意度评价（诉求人本人，或工作人员代录电话回访）")
    @action(detail=True, methods=["post"])
    def feedback(self, request: Request, pk: Any = None) -> Response:
        return self._call(pk, FeedbackSerializer, services.appeal_feedback)

    @act_schema("close", CloseSerializer, "办结")
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: Any = None) -> Response:
        return self._call(pk, CloseSerializer, services.appeal_close)

    @act_schema("request_review", ReasonSerializer, "申请复查 / 复核")
    @action(detail=True, methods=["post"], url_path="request-review")
    def request_review(self, request: Request, pk: Any = None) -> Response:
        return self._call(pk, ReasonSerializer, services.appeal_request_review)

    @act_schema("decide_review", DecideReviewSerializer, "复查 / 复核决定")
    @action(detail=True, methods=["post"], url_path="decide-review")
    def decide_review(self, request: Request, pk: Any = None) -> Response:
        return self._call(pk, DecideReviewSerializer, services.appeal_decide_review)

    @act_schema("reopen", ReasonSerializer, "重新办理")
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: Any = None) -> Response:
        return self._call(pk, ReasonSerializer, services.appeal_reopen)

    @act_schema("merge", MergeSerializer, "合并重复件（较新的并入较早的）")
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, pk: Any = None) -> Response:
        def run(user: Any, appeal: Appeal, data: dict[str, Any]) -> Appeal:
            data["into"] = _visible(user, data["into"], "into", _("没有找到要合并到的诉求。"))
            return services.appeal_merge(actor=user, appeal=appeal, **data)

        return self._act(pk, MergeSerializer, run)

    @act_schema("keep_apart", KeepApartSerializer, "确认不是重复件")
    @action(detail=True, methods=["post"], url_path="keep-apart")
    def keep_apart(self, request: Request, pk: Any = None) -> Response:
        def run(user: Any, appeal: Appeal, data: dict[str, Any]) -> None:
            other = _visible(user, data["other"], "other", _("没有找到该疑似重复件。"))
            _check_version(appeal, data["expected_version"])
            services.appeal_keep_apart(actor=user, appeal=appeal, other=other)

        return self._act(pk, KeepApartSerializer, run)

    @act_schema("set_category", SetCategorySerializer, "确认或更改分类")
    @action(detail=True, methods=["post"], url_path="set-category")
    def set_category(self, request: Request, pk: Any = None) -> Response:
        return self._call(pk, SetCategorySerializer, services.appeal_set_category)

    @act_schema("add_note", NoteSerializer, "添加办理记录")
    @action(detail=True, methods=["post"])
    def notes(self, request: Request, pk: Any = None) -> Response:
        def run(user: Any, appeal: Appeal, data: dict[str, Any]) -> Any:
            _check_version(appeal, data.pop("expected_version"))
            return services.appeal_add_note(actor=user, appeal=appeal, **data)

        return self._act(pk, NoteSerializer, run)


# --- tokens --------------------------------------------------------------------------------------


class TokenOutSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="以 `Authorization: Token <令牌>` 发送")


class TokenView(ApiViewMixin, APIView):
    """令牌: exchange username and password for an API token (POST), or revoke your token (DELETE)."""

    def get_authenticators(self) -> list[Any]:
        return [] if getattr(self.request, "method", "") == "POST" else super().get_authenticators()

    def get_permissions(self) -> Sequence[Any]:
        return [AllowAny()] if getattr(self.request, "method", "") == "POST" else super().get_permissions()

    @extend_schema(
        operation_id="auth_token_create",
        summary="以用户名和密码换取令牌（连续输错 5 次锁定 15 分钟）",
        request=AuthTokenSerializer,
        responses={200: TokenOutSerializer, **error_responses(400, 429)},
        auth=[],
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        # The same lockout as the login page (django-axes), answered as JSON rather than its HTML page.
        http_request = request._request
        username = request.data.get("username") if isinstance(request.data, dict) else None
        if isinstance(username, str) and not AxesProxyHandler.is_allowed(http_request, {"username": username}):
            raise self._locked(http_request)
        serializer = AuthTokenSerializer(data=request.data, context={"request": http_request})
        try:
            serializer.is_valid(raise_exception=True)
        except ValidationError:
            if getattr(http_request, "axes_locked_out", False):
                http_request.axes_locked_out = False  # type: ignore[attr-defined]  # we answer, not the middleware
                raise self._locked(http_request) from None
            raise
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})

    @staticmethod
    def _locked(http_request: Any) -> Throttled:
        cool_off = get_cool_off(http_request)
        wait = int(cool_off.total_seconds()) if cool_off else None
        return Throttled(wait=wait, detail=_("登录失败次数过多，账户已暂时锁定，请稍后再试。"))

    @extend_schema(
        operation_id="auth_token_revoke",
        summary="注销当前令牌",
        responses={204: None, **error_responses()},
        tags=["auth"],
    )
    def delete(self, request: Request) -> Response:
        user: Any = request.user
        Token.objects.filter(user=user).delete()
        return Response(status=204)

