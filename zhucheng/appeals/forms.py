"""Forms of the appeal pages: intake (desk and resident), search, and one small form per act on an appeal.

Forms only shape input; every rule is checked by the services, whose ``AppealError.field``
names the form field the message belongs to (the act forms use the services' argument names).
``ACTS`` lists the act forms the appeal page may offer and when it offers them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, TypeVar

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from zhucheng.places.models import Department, OrgUnit, OrgUnitKind
from zhucheng.places.selectors import departments_all, units_for

from . import permissions
from .models import (
    Appeal,
    AppealKind,
    Category,
    Channel,
    DeclineRoute,
    Outcome,
    Pause,
    ReviewDecision,
    Satisfaction,
    Status,
    SupervisionKind,
    Urgency,
)

DESK_CHANNELS = (Channel.VISIT, Channel.LETTER, Channel.HOTLINE, Channel.GRID)
INTAKE_UNIT_KINDS = (OrgUnitKind.COMMUNITY, OrgUnitKind.TOWNSHIP, OrgUnitKind.RESIDENTS_COMMITTEE, OrgUnitKind.VILLAGE)
SEARCH_UNIT_KINDS = (OrgUnitKind.CITY, OrgUnitKind.DISTRICT, OrgUnitKind.COMMUNITY, OrgUnitKind.TOWNSHIP)


# --- shared pieces ----------------------------------------------------------------------------


def category_label(category: Category) -> str:
    """The category's name in the page's language (English names are optional data)."""
    if (get_language() or "").startswith("en") and category.name_en:
        return category.name_en
    return category.name


def category_choices(*, leaves_only: bool, blank: str) -> list[Any]:
    """Two-level choices: one option group per top category, its leaves inside."""
    rows = list(Category.objects.filter(is_active=True).order_by("sort_order", "code"))
    kids: dict[int, list[Category]] = {}
    for c in rows:
        if c.parent_id is not None:
            kids.setdefault(c.parent_id, []).append(c)
    out: list[Any] = [("", blank)]
    for top in (c for c in rows if c.parent_id is None):
        options = [] if leaves_only else [(str(top.pk), _("%(name)s（全部）") % {"name": category_label(top)})]
        options += [(str(k.pk), category_label(k)) for k in kids.get(top.pk, [])]
        if options:
            out.append((category_label(top), options))
    return out


class CategorySelect(forms.ChoiceField):
    """A category picked from the two-level list; cleans to a ``Category`` (or None)."""

    def __init__(self, *, leaves_only: bool = True, blank: str = "", **kwargs: Any) -> None:
        self.leaves_only = leaves_only
        super().__init__(choices=(), **kwargs)
        self.blank = blank or str(_("请选择分类"))

    def load(self) -> None:
        self.choices = category_choices(leaves_only=self.leaves_only, blank=self.blank)

    def clean(self, value: Any) -> Category | None:  # type: ignore[override]
        value = super().clean(value)
        if not value:
            return None
        qs = Category.objects.filter(is_active=True)
        if self.leaves_only:
            qs = qs.filter(parent__isnull=False)
        found = qs.select_related("parent").filter(pk=value).first()
        if found is None:
            raise forms.ValidationError(_("请从列表中选择分类。"), code="invalid_choice")
        return found


class UnitChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        # Indentation shows the level inside the select (communities, then their committees).
        indent = "\u3000" * max(0, obj.depth - 2)
        return f"{indent}{obj.name}"


def intake_units(user: Any) -> QuerySet[OrgUnit]:
    return units_for(user).filter(kind__in=INTAKE_UNIT_KINDS, is_active=True).order_by("path")


def public_areas() -> QuerySet[OrgUnit]:
    """Communities and townships: what a resident picks when they do not put a point on the map."""
    return OrgUnit.objects.filter(kind__in=(OrgUnitKind.COMMUNITY, OrgUnitKind.TOWNSHIP), is_active=True).order_by("path")


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field; the content check is the service's (``attachments.validate_upload``)."""

    widget = MultipleFileInput

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:  # type: ignore[override]
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


ACCEPT = "image/jpeg,image/png,image/gif,image/webp,application/pdf"


# --- intake ---------------------------------------------------------------------------------------


class IntakeBase(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=120, widget=forms.TextInput(attrs={"maxlength": 120}))
    description = forms.CharField(
        label=_("诉求内容"), max_length=4000, widget=forms.Textarea(attrs={"rows": 6, "maxlength": 4000})
    )
    category = CategorySelect(label=_("分类"), required=False)
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    lat = forms.FloatField(label=_("纬度"), required=False, widget=forms.HiddenInput)
    lon = forms.FloatField(label=_("经度"), required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("姓名"), max_length=60, required=False, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    phone = forms.CharField(
        label=_("手机号"), max_length=20, required=False, widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"})
    )
    is_anonymous = forms.BooleanField(
        label=_("对承办部门匿名"), required=False, help_text=_("勾选后，承办部门看不到您的姓名和电话；群众工作中心仍可联系您。")
    )
    attachments = MultipleFileField(
        label=_("照片或材料"),
        widget=MultipleFileInput(attrs={"multiple": True, "accept": ACCEPT}),
        help_text=_("可选。JPEG、PNG、GIF、WebP 图片或 PDF，每个不超过 10 MB，最多 9 个。"),
    )
    client_token = forms.CharField(required=False, widget=forms.HiddenInput, max_length=80)

    # AppealError.field → the form field that shows the message.
    FIELD_MAP = {
        "petitioners[0].phone": "phone",
        "petitioners[0].id_number": "id_number",
        "petitioners[0].name": "name",
        "location": "unit",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        assert isinstance(category, CategorySelect)
        category.load()

    def error_field(self, name: str) -> str | None:
        name = self.FIELD_MAP.get(name, name)
        return name if name in self.fields else None


class DeskForm(IntakeBase):
    """来访、来信、来电、网格员上报: staff record the matter and the caller."""

    channel = forms.ChoiceField(label=_("渠道"), choices=[(c.value, c.label) for c in DESK_CHANNELS])
    kind = forms.ChoiceField(label=_("类型"), choices=AppealKind.choices, initial=AppealKind.APPEAL)
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=Urgency.choices, initial=Urgency.NORMAL)
    lat = forms.FloatField(label=_("纬度"), required=False, widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
    lon = forms.FloatField(label=_("经度"), required=False, widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
    unit = UnitChoiceField(
        label=_("所在社区（无坐标时）"), queryset=OrgUnit.objects.none(), required=False, empty_label=_("— 请选择 —")
    )
    id_number = forms.CharField(label=_("身份证号"), max_length=20, required=False)
    is_collective = forms.BooleanField(label=_("集体诉求"), required=False)
    headcount = forms.IntegerField(label=_("人数"), min_value=1, initial=1, widget=forms.NumberInput(attrs={"inputmode": "numeric"}))

    field_order = [
        "channel", "kind", "urgency", "title", "description", "category",
        "name", "phone", "id_number", "is_anonymous", "is_collective", "headcount",
        "address", "lat", "lon", "unit", "attachments", "client_token",
    ]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unit = self.fields["unit"]
        assert isinstance(unit, UnitChoiceField)
        unit.queryset = intake_units(user)
        self.fields["name"].label = _("来访（来电）人姓名")
        self.fields["phone"].label = _("来访（来电）人手机号")


class ResidentSubmitForm(IntakeBase):
    """群众网上提交: phone-first, plain words."""

    unit = forms.ModelChoiceField(
        label=_("所在社区或乡镇"),
        queryset=OrgUnit.objects.none(),
        required=False,
        empty_label=_("— 不在地图上选点时，请选择 —"),
    )

    field_order = [
        "title", "description", "category", "address", "lat", "lon", "unit",
        "attachments", "name", "phone", "is_anonymous", "client_token",
    ]

    def __init__(self, *args: Any, phone_required: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unit = self.fields["unit"]
        assert isinstance(unit, forms.ModelChoiceField)
        unit.queryset = public_areas()
        self.fields["title"].help_text = _("一句话说明是什么事，例如“小区门口路灯不亮”。")
        self.fields["description"].help_text = _("请写清楚时间、地点和经过，以及您希望怎样解决。")
        self.fields["category"].help_text = _("不清楚可以不选，工作人员会帮您分类。")
        self.fields["category"].label = _("问题类型")
        self.fields["address"].help_text = _("例如：南明区中华北路 123 号。")
        self.fields["name"].label = _("您的称呼")
        self.fields["phone"].required = phone_required
        self.fields["phone"].help_text = _("用于查询办理进度和接收答复，不会公开。")
        self.fields["attachments"].widget.attrs["accept"] = "image/*,application/pdf"
        self.fields["attachments"].label = _("照片")
        self.fields["is_anonymous"].label = _("不让承办部门看到我的姓名和电话")


# --- search and export ----------------------------------------------------------------------------


class SearchForm(forms.Form):
    code = forms.CharField(label=_("受理编号"), max_length=20, required=False)
    q = forms.CharField(label=_("关键词"), max_length=100, required=False)
    category = CategorySelect(label=_("分类"), required=False, leaves_only=False, blank=str(_("全部分类")))
    unit = forms.ModelChoiceField(label=_("区划"), queryset=OrgUnit.objects.none(), required=False, empty_label=_("全部区划"))
    department = forms.ModelChoiceField(label=_("承办部门"), queryset=Department.objects.none(), required=False, empty_label=_("全部部门"))
    status = forms.ChoiceField(label=_("状态"), choices=[("", _("全部状态")), *Status.choices], required=False)
    kind = forms.ChoiceField(label=_("类型"), choices=[("", _("全部类型")), *AppealKind.choices], required=False)
    channel = forms.ChoiceField(label=_("渠道"), choices=[("", _("全部渠道")), *Channel.choices], required=False)
    date_from = forms.DateField(label=_("提交日期自"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    overdue = forms.BooleanField(label=_("仅超期"), required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        assert isinstance(category, CategorySelect)
        category.load()
        unit = self.fields["unit"]
        assert isinstance(unit, forms.ModelChoiceField)
        unit.queryset = units_for(user).filter(kind__in=SEARCH_UNIT_KINDS).order_by("path")
        dept = self.fields["department"]
        assert isinstance(dept, forms.ModelChoiceField)
        dept.queryset = departments_all()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("结束日期不能早于开始日期。"))
        return data

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for ``selectors.appeals_search`` (only what was filled in)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        out: dict[str, Any] = {}
        for key in ("code", "q", "status", "kind", "channel"):
            if data.get(key):
                out[key] = data[key].strip()
        for key in ("category", "unit", "department", "date_from", "date_to"):
            if data.get(key) is not None:
                out[key] = data[key]
        if data.get("overdue"):
            out["overdue"] = True
        return out

    def summary(self) -> str:
        """The filters in words, for the audit trail of an export."""
        parts = []
        for key, value in self.filters().items():
            if isinstance(value, Category | OrgUnit | Department):
                value = f"{value.pk}:{value.name}"
            elif isinstance(value, date):
                value = value.isoformat()
            parts.append(f"{key}={value}")
        return "; ".join(parts) or "all"


# --- act forms --------------------------------------------------------------------------------------


class ActForm(forms.Form):
    """Every act form carries the version of the appeal the page showed (stale edits are refused)."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, appeal: Appeal, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("version", appeal.version)
        super().__init__(*args, **kwargs)
        self.appeal = appeal
        for field in self.fields.values():
            if isinstance(field, CategorySelect):
                field.load()

    def error_field(self, name: str) -> str | None:
        return name if name in self.fields and name != "version" else None


F = TypeVar("F", bound=forms.Field)


def _needed(field: F) -> F:
    """Required by the service, not by the form: an empty field reaches the service, whose message is shown."""
    field.zc_needed = True  # type: ignore[attr-defined]
    field.widget.attrs["aria-required"] = "true"
    return field


def _text(label: Any, *, rows: int = 3, needed: bool = False, max_length: int = 4000) -> forms.CharField:
    field = forms.CharField(label=label, required=False, max_length=max_length, widget=forms.Textarea(attrs={"rows": rows}))
    if needed:
        _needed(field)
    return field


def _departments(**kwargs: Any) -> forms.ModelChoiceField:  # type: ignore[type-arg]
    return forms.ModelChoiceField(queryset=Department.objects.filter(is_active=True).order_by("code"), **kwargs)


class RegisterForm(ActForm):
    category = CategorySelect(label=_("确认分类"), required=False)
    note = _text(_("受理意见"), rows=2, max_length=1000)


class DeclineForm(ActForm):
    reason = _text(_("不予受理理由"), max_length=2000, needed=True)
    route = forms.ChoiceField(label=_("应通过的途径"), choices=DeclineRoute.choices, required=False)


class AssignForm(ActForm):
    department = _departments(label=_("主办部门"), required=False, empty_label=_("— 按分派规则自动选择 —"))
    assisting = forms.ModelMultipleChoiceField(
        label=_("协办部门"), queryset=Department.objects.filter(is_active=True).order_by("code"), required=False
    )
    instructions = _text(_("交办意见"), max_length=2000)


class StartForm(ActForm):
    pass


class TransferForm(ActForm):
    department = _departments(label=_("转至部门"))
    reason = _text(_("转办理由"), max_length=1000, needed=True)


class ObjectForm(ActForm):
    reason = _text(_("退单理由"), max_length=2000, needed=True)


class DecideObjectionForm(ActForm):
    accept = forms.TypedChoiceField(
        label=_("裁定"),
        choices=[("1", _("同意退单，改派其他部门")), ("0", _("不同意，由原部门继续办理"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    department = _departments(label=_("改派部门"), required=False, empty_label=_("— 同意退单时选择 —"))
    note = _text(_("裁定意见"), max_length=1000, needed=True)


class ReplyForm(ActForm):
    outcome = _needed(forms.ChoiceField(label=_("处理结果"), choices=[("", _("— 请选择 —")), *Outcome.choices], required=False))
    text = _text(_("答复内容"), rows=5, needed=True)


class RequestExtensionForm(ActForm):
    days = forms.IntegerField(label=_("延期天数"), min_value=1, max_value=365)
    reason = _text(_("延期理由"), max_length=1000, needed=True)


class DecideExtensionForm(ActForm):
    approve = forms.TypedChoiceField(
        label=_("审批"), choices=[("1", _("批准")), ("0", _("不批准"))], coerce=lambda v: v == "1", widget=forms.RadioSelect
    )
    note = forms.CharField(label=_("审批意见"), max_length=200, required=False)


class SuperviseForm(ActForm):
    kind = forms.ChoiceField(label=_("类型"), choices=SupervisionKind.choices)
    instructions = _text(_("督办意见"), max_length=2000, needed=True)
    due_at = forms.DateField(label=_("督办期限"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                             help_text=_("不填则为 3 个工作日。"))
    leader_name = forms.CharField(label=_("包案领导"), max_length=60, required=False)

    def due_datetime(self) -> datetime | None:
        """The end of the chosen day in the city's time zone."""
        day = self.cleaned_data.get("due_at")
        if day is None:
            return None
        return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


class PauseForm(ActForm):
    reason = _needed(forms.ChoiceField(label=_("暂停原因"), choices=[("", _("— 请选择 —")), *Pause.Reason.choices], required=False))
    note = forms.CharField(label=_("说明"), max_length=200, required=False)


class ResumeForm(ActForm):
    pass


class FeedbackForm(ActForm):
    department_rating = _needed(forms.ChoiceField(
        label=_("对承办部门的评价"), choices=Satisfaction.choices, widget=forms.RadioSelect, required=False
    ))
    centre_rating = forms.ChoiceField(
        label=_("对群众工作中心的评价"), choices=Satisfaction.choices, widget=forms.RadioSelect, required=False
    )
    comment = _text(_("意见"), max_length=2000)


class CloseForm(ActForm):
    resolved = forms.TypedChoiceField(
        label=_("是否化解"),
        choices=[("", _("按评价或答复结果自动判断")), ("1", _("已化解")), ("0", _("未化解"))],
        coerce=lambda v: {"1": True, "0": False}.get(v),
        empty_value=None,
        required=False,
    )
    note = forms.CharField(label=_("办结说明"), max_length=200, required=False)


class RequestReviewForm(ActForm):
    reason = _text(_("申请理由"), max_length=2000, needed=True)


class DecideReviewForm(ActForm):
    decision = _needed(forms.ChoiceField(label=_("结论"), choices=ReviewDecision.choices, widget=forms.RadioSelect, required=False))
    text = _text(_("复查复核意见"), rows=4, needed=True)


class ReopenForm(ActForm):
    reason = _text(_("重新办理理由"), max_length=1000, needed=True)


class SetCategoryForm(ActForm):
    category = _needed(CategorySelect(label=_("分类"), required=False))


class NoteForm(ActForm):
    text = _text(_("记录内容"), max_length=2000, needed=True)
    is_public = forms.BooleanField(label=_("诉求人可见"), required=False)


class MergeForm(ActForm):
    into = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("合并说明"), max_length=200, required=False)


class KeepApartForm(ActForm):
    other = forms.IntegerField(widget=forms.HiddenInput)


# --- which act forms the appeal page offers -----------------------------------------------------------


@dataclass(frozen=True)
class PageState:
    """Facts about the appeal that decide which forms make sense (read once by the view)."""

    objection_pending: bool = False
    lead_active: bool = False
    extension_pending: bool = False
    review_open: bool = False


@dataclass(frozen=True)
class Act:
    name: str
    title: Any
    form: type[ActForm]
    transition: str | None
    allowed: Callable[[Any, Appeal, PageState], bool]
    button: Any = _("提交")


def _dispatcher(u: Any, a: Appeal, s: PageState) -> bool:
    return permissions.is_dispatcher(u, a)


def _handler(u: Any, a: Appeal, s: PageState) -> bool:
    return permissions.is_handler(u, a)


def _supervisor(u: Any, a: Appeal, s: PageState) -> bool:
    return permissions.is_supervisor(u, a)


ACTS: list[Act] = [
    Act("set_category", _("确认或更改分类"), SetCategoryForm, "set_category",
        lambda u, a, s: permissions.is_dispatcher(u, a) or permissions.is_handler(u, a), _("保存分类")),
    Act("register", _("受理"), RegisterForm, "register", _dispatcher, _("受理")),
    Act("decline", _("不予受理"), DeclineForm, "decline", _dispatcher, _("不予受理")),
    Act("assign", _("交办"), AssignForm, "assign", _dispatcher, _("交办")),
    Act("start", _("签收办理"), StartForm, "start", _handler, _("签收")),
    Act("reply", _("答复"), ReplyForm, "reply", _handler, _("提交答复")),
    Act("request_extension", _("申请延期"), RequestExtensionForm, "request_extension",
        lambda u, a, s: permissions.is_handler(u, a) and not s.extension_pending, _("申请延期")),
    Act("decide_extension", _("延期审批"), DecideExtensionForm, "decide_extension",
        lambda u, a, s: s.extension_pending and permissions.is_supervisor(u, a), _("提交审批")),
    Act("object", _("退单"), ObjectForm, "object",
        lambda u, a, s: a.department_id is not None and s.lead_active and permissions.is_handler(u, a), _("申请退单")),
    Act("decide_objection", _("退单裁定"), DecideObjectionForm, "decide_objection",
        lambda u, a, s: s.objection_pending and permissions.is_dispatcher(u, a), _("提交裁定")),
    Act("transfer", _("转办"), TransferForm, "transfer", _dispatcher, _("转办")),
    Act("pause", _("暂停计时"), PauseForm, "pause",
        lambda u, a, s: not a.is_paused and (permissions.is_handler(u, a) or permissions.is_dispatcher(u, a)), _("暂停计时")),
    Act("resume", _("恢复计时"), ResumeForm, "resume",
        lambda u, a, s: a.is_paused and (permissions.is_handler(u, a) or permissions.is_dispatcher(u, a)), _("恢复计时")),
    Act("supervise", _("督办 / 领导交办"), SuperviseForm, "supervise",
        lambda u, a, s: permissions.is_supervisor(u, a) or permissions.is_leader(u, a), _("下达")),
    Act("feedback", _("代录满意度评价"), FeedbackForm, "feedback", _dispatcher, _("保存评价")),
    Act("close", _("办结"), CloseForm, "close",
        lambda u, a, s: permissions.is_dispatcher(u, a) or permissions.is_handler(u, a), _("办结")),
    Act("request_review", _("代为申请复查复核"), RequestReviewForm, "request_review",
        lambda u, a, s: not a.is_final and permissions.is_dispatcher(u, a), _("提交申请")),
    Act("decide_review", _("复查复核决定"), DecideReviewForm, "decide_review",
        lambda u, a, s: s.review_open and permissions.is_supervisor(u, a), _("提交决定")),
    Act("reopen", _("重新办理"), ReopenForm, "reopen",
        lambda u, a, s: not a.is_final and permissions.is_supervisor(u, a), _("重新办理")),
    Act("note", _("办理记录"), NoteForm, None,
        lambda u, a, s: a.status not in (Status.MERGED,) and (permissions.is_handler(u, a) or permissions.is_dispatcher(u, a)),
        _("添加记录")),
]
# Reached from the duplicate list, not offered as panels of their own.
HIDDEN_ACTS: dict[str, type[ActForm]] = {"merge": MergeForm, "keep_apart": KeepApartForm}
ACTS_BY_NAME: dict[str, Act] = {a.name: a for a in ACTS}


def available_acts(user: Any, appeal: Appeal, state: PageState, transitions: dict[str, tuple[str, ...]]) -> list[Act]:
    """The act forms this user may use on this appeal in its current status."""
    out = []
    for act in ACTS:
        if act.transition is not None and appeal.status not in transitions[act.transition]:
            continue
        if act.allowed(user, appeal, state):
            out.append(act)
    return out


def form_class(name: str) -> type[ActForm] | None:
    if name in ACTS_BY_NAME:
        return ACTS_BY_NAME[name].form
    return HIDDEN_ACTS.get(name)


# --- the petitioner's forms (track page) -------------------------------------------------------------


class TrackForm(forms.Form):
    code = forms.CharField(
        label=_("受理编号"), max_length=20, widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
        help_text=_("提交后收到的编号，例如 GY2026-0001234。"),
    )
    phone = forms.CharField(
        label=_("提交时留的手机号"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"})
    )


class RateForm(ActForm):
    """满意度评价 by the petitioner: plain words, large radio buttons."""

    department_rating = _needed(forms.ChoiceField(
        label=_("您对承办部门的处理满意吗？"), choices=Satisfaction.choices, widget=forms.RadioSelect, required=False
    ))
    centre_rating = forms.ChoiceField(
        label=_("您对群众工作中心（受理和转交）满意吗？"), choices=Satisfaction.choices, widget=forms.RadioSelect, required=False
    )
    comment = _text(_("您的意见"), rows=4, max_length=2000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["comment"].help_text = _("选“不满意”时请写明原因，我们会重新办理。")


class PetitionerReviewForm(ActForm):
    reason = _text(_("申请理由"), rows=4, max_length=2000, needed=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = _("请说明您对答复哪一点不认同，以及理由。")
