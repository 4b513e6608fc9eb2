"""Appeal pages (thin): reads come from ``selectors``, every write goes through ``services``.

Staff: inbox, the appeal page with one form per act it offers, desk intake, search and export,
backlog boards, the map and attachment downloads. Residents: the submit form, tracking by code
and phone (the verified appeal is remembered in the session), rating and review requests, and
"my appeals" for those with an account. Missing and forbidden look the same (404).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from zhucheng.core.masking import mask_id_number, mask_name, mask_phone
from zhucheng.places.models import OrgUnit, OrgUnitKind
from zhucheng.places.selectors import NotVisible, scope_for, unit_ancestors, units_for

from . import exports, permissions, selectors, services
from .errors import AppealError
from .forms import (
    ACTS_BY_NAME,
    ActForm,
    DeskForm,
    MergeForm,
    PageState,
    PetitionerReviewForm,
    RateForm,
    ResidentSubmitForm,
    SearchForm,
    SuperviseForm,
    TrackForm,
    available_acts,
    form_class,
    public_areas,
)
from .models import (
    OPEN_STATUSES,
    Appeal,
    AppealEvent,
    AssignmentRole,
    AssignmentState,
    Attachment,
    Channel,
    DuplicateDecision,
    ExtensionState,
    Status,
)

PAGE_SIZE = 50
MAP_MAX_GRIDS = 5000
# Tracking by code + phone: a few wrong tries per session, then a pause (the answer never says which part was wrong).
TRACK_MAX_FAILURES = 5
TRACK_WINDOW_SECONDS = 15 * 60
TRACKED_KEY = "appeals_tracked"
FAILURES_KEY = "appeals_track_failures"
TOKENS_KEY = "appeals_tokens"
SUBMITTED_KEY = "appeals_submitted"


def staff_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Logged-in staff only; a resident account is refused (their pages are ``submit``/``track``/``mine``)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if getattr(request.user, "is_resident", False):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _appeal_or_404(request: HttpRequest, pk: Any) -> Appeal:
    try:
        return selectors.appeal_get_for_user(request.user, pk)
    except NotVisible as exc:
        raise Http404(_("没有找到该诉求，或它不在您的管辖范围内。")) from exc


def event_label(act: str) -> str:
    """Timeline names for acts that are steps of other acts (``services.act_name`` has the rest)."""
    names = {
        "submit": _("提交诉求"),
        "reassign": _("改派"),
        "objection_refused": _("退单未获同意"),
        "extension_approved": _("延期已批准"),
        "extension_refused": _("延期未批准"),
        "feedback_returned": _("评价不满意，退回重新办理"),
        "feedback_to_review": _("评价不满意，转入复查"),
        "request_review_1": _("申请复查"),
        "request_review_2": _("申请复核"),
        "review_upheld": _("复查复核：维持原处理意见"),
        "review_revised": _("复查复核：撤销或变更，重新办理"),
        "repeat": _("收到重复件"),
        "keep_apart": _("确认不是重复件"),
        "note": _("办理记录"),
        "leader": _("领导交办"),
        "supervision": _("督办"),
        "import_history": _("历史导入"),
        "escalate": _("超期自动升级督办"),
    }
    return names.get(act) or services.act_name(act)


def _timeline(appeal: Appeal, *, public_only: bool) -> list[tuple[AppealEvent, str]]:
    return [(e, event_label(e.act)) for e in selectors.timeline(appeal, public_only=public_only)]


# --- inbox -----------------------------------------------------------------------------------------

TAB_ORDER = ("department", "dispatch", "community", "overdue")


def _tab_labels() -> dict[str, str]:
    return {
        "department": _("本部门承办"),
        "dispatch": _("待受理交办"),
        "community": _("辖区诉求"),
        "overdue": _("已超期"),
    }


@staff_required
def inbox(request: HttpRequest) -> HttpResponse:
    user = request.user
    scope = scope_for(user)
    counts = selectors.inbox_counts(user)
    has_units = scope.everything or bool(scope.paths)
    tabs = [t for t in TAB_ORDER if t in counts and (has_units or t not in ("dispatch", "community"))]
    default = "department" if "department" in tabs else "community" if "community" in tabs else (tabs[0] if tabs else "")
    tab = request.GET.get("tab", "")
    if tab not in tabs:
        tab = default
    qs = selectors.inbox_for(user, tab=tab).select_related("unit__parent") if tab else Appeal.objects.none()
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    labels = _tab_labels()
    return render(
        request,
        "appeals/inbox.html",
        {
            "tabs": [{"key": t, "label": labels[t], "count": counts[t], "current": t == tab} for t in tabs],
            "tab": tab,
            "page": page,
            "now": timezone.now(),
            "has_scope": not scope.is_empty,
        },
    )


# --- the appeal page -----------------------------------------------------------------------------------


@dataclass
class Panel:
    name: str
    title: str
    button: str
    form: ActForm
    open: bool = False


@dataclass
class Bound:
    """The act form that was just posted and refused, to show again with its message."""

    name: str
    form: ActForm
    stale: bool = False


def _petitioner_rows(user: Any, appeal: Appeal) -> tuple[list[dict[str, Any]], int]:
    """Masked petitioners; an anonymous one is left out entirely for everyone but the dispatchers."""
    sees_anonymous = permissions.is_dispatcher(user, appeal)
    rows, hidden = [], 0
    for p in appeal.petitioners.all().order_by("-is_primary", "id"):
        if p.is_anonymous and not sees_anonymous:
            hidden += 1
            continue
        rows.append(
            {
                "name": mask_name(p.name),
                "phone": mask_phone(p.phone),
                "id_number": mask_id_number(p.id_number),
                "address": p.address,
                "is_anonymous": p.is_anonymous,
                "is_primary": p.is_primary,
            }
        )
    return rows, hidden


def _render_detail(request: HttpRequest, appeal: Appeal, *, bound: Bound | None = None) -> HttpResponse:
    user = request.user
    assignments = list(appeal.assignments.select_related("department", "unit").order_by("assigned_at", "id"))
    extensions = list(appeal.extensions.select_related("requested_by", "decided_by"))
    reviews = list(appeal.reviews.all())
    state = PageState(
        objection_pending=any(a.role == AssignmentRole.LEAD and a.state == AssignmentState.OBJECTED for a in assignments),
        lead_active=any(a.role == AssignmentRole.LEAD and a.state == AssignmentState.ACTIVE for a in assignments),
        extension_pending=any(e.state == ExtensionState.PENDING for e in extensions),
        review_open=any(r.decided_at is None for r in reviews),
    )
    acts = available_acts(user, appeal, state, services.TRANSITIONS)
    panels = []
    for act in acts:
        if bound is not None and bound.name == act.name:
            panels.append(Panel(act.name, str(act.title), str(act.button), bound.form, open=True))
        else:
            panels.append(Panel(act.name, str(act.title), str(act.button), act.form(appeal=appeal, prefix=act.name)))
    if bound is not None and bound.name in ACTS_BY_NAME and bound.name not in {a.name for a in acts}:
        # The act is no longer on offer (someone moved the appeal on); still show why it was refused.
        act = ACTS_BY_NAME[bound.name]
        panels.insert(0, Panel(act.name, str(act.title), str(act.button), bound.form, open=True))
    visible_pks = selectors.appeals_visible_to(user).values("pk")
    candidates = list(
        appeal.duplicate_candidates.filter(other__in=visible_pks).select_related("other", "other__unit").order_by("-score")
    )
    is_dispatcher = permissions.is_dispatcher(user, appeal)
    petitioners, hidden = _petitioner_rows(user, appeal)
    duplicate_error = bound.form if bound is not None and bound.name in ("merge", "keep_apart") else None
    return render(
        request,
        "appeals/detail.html",
        {
            "appeal": appeal,
            "now": timezone.now(),
            "overdue": _is_overdue(appeal),
            "unit_path": " › ".join(u.name for u in [*unit_ancestors(appeal.unit)[1:], appeal.unit]),
            "petitioners": petitioners,
            "hidden_petitioners": hidden,
            "assignments": assignments,
            "extensions": extensions,
            "reviews": reviews,
            "replies": list(appeal.replies.select_related("department").order_by("created_at", "id")),
            "feedback": list(appeal.feedback.select_related("department").order_by("created_at", "id")),
            "supervisions": list(appeal.supervisions.select_related("by").order_by("created_at", "id")),
            "pauses": list(appeal.pauses.all()),
            "attachments": list(appeal.attachments.all()),
            "candidates": candidates,
            "can_decide_duplicates": is_dispatcher,
            "can_merge": is_dispatcher and appeal.status in services.TRANSITIONS["merge"],
            "duplicate_error": duplicate_error,
            "repeats": list(appeal.repeats.filter(pk__in=visible_pks).order_by("submitted_at")),
            "timeline": _timeline(appeal, public_only=False),
            "panels": panels,
            "stale": bound.stale if bound else False,
            "pending": DuplicateDecision.PENDING,
        },
    )


def _is_overdue(appeal: Appeal) -> bool:
    return bool(appeal.status in OPEN_STATUSES and appeal.due_at and appeal.due_at < timezone.now() and not appeal.paused_at)


@staff_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _appeal_or_404(request, pk))


def _need(value: Any, message: str, field: str) -> Any:
    if value in (None, ""):
        raise AppealError(message, code="required", field=field)
    return value


def _run(name: str, user: Any, appeal: Appeal, form: ActForm) -> str:
    """Call the act's service with what the form collected; returns the success message."""
    d = form.cleaned_data
    v = d.get("version")
    if name == "set_category":
        category = _need(d.get("category"), _("请选择分类。"), "category")
        services.appeal_set_category(actor=user, appeal=appeal, category=category, expected_version=v)
        return _("分类已保存。")
    if name == "register":
        services.appeal_register(actor=user, appeal=appeal, category=d.get("category"), note=d.get("note", ""), expected_version=v)
        return _("已受理。")
    if name == "decline":
        services.appeal_decline(actor=user, appeal=appeal, reason=d.get("reason", ""), route=d.get("route", ""), expected_version=v)
        return _("已作不予受理，并告知诉求人。")
    if name == "assign":
        a = services.appeal_assign(
            actor=user,
            appeal=appeal,
            department=d.get("department"),
            assisting=list(d.get("assisting") or []),
            instructions=d.get("instructions", ""),
            expected_version=v,
        )
        return _("已交办给“%(who)s”。") % {"who": a.department.name if a.department else (a.unit.name if a.unit else "—")}
    if name == "start":
        services.appeal_start(actor=user, appeal=appeal, expected_version=v)
        return _("已签收，开始办理。")
    if name == "transfer":
        department = _need(d.get("department"), _("请选择转至的部门。"), "department")
        services.appeal_transfer(actor=user, appeal=appeal, department=department, reason=d.get("reason", ""), expected_version=v)
        return _("已转办。")
    if name == "object":
        services.appeal_object(actor=user, appeal=appeal, reason=d.get("reason", ""), expected_version=v)
        return _("已申请退单，等待群众工作中心裁定。")
    if name == "decide_objection":
        services.appeal_decide_objection(
            actor=user, appeal=appeal, accept=bool(d.get("accept")), note=d.get("note", ""),
            department=d.get("department"), expected_version=v,
        )
        return _("退单裁定已保存。")
    if name == "reply":
        services.appeal_reply(actor=user, appeal=appeal, outcome=d.get("outcome", ""), text=d.get("text", ""), expected_version=v)
        return _("已答复，诉求人将收到通知。")
    if name == "request_extension":
        services.appeal_request_extension(actor=user, appeal=appeal, days=d["days"], reason=d.get("reason", ""), expected_version=v)
        return _("延期申请已提交。")
    if name == "decide_extension":
        extension = appeal.extensions.filter(state=ExtensionState.PENDING).first()
        if extension is None:
            raise AppealError(_("没有待审批的延期申请。"), code="invalid_transition")
        services.appeal_decide_extension(
            actor=user, extension=extension, approve=bool(d.get("approve")), note=d.get("note", ""), expected_version=v
        )
        return _("延期审批已保存。")
    if name == "supervise":
        assert isinstance(form, SuperviseForm)
        services.appeal_supervise(
            actor=user, appeal=appeal, kind=d.get("kind", ""), instructions=d.get("instructions", ""),
            due_at=form.due_datetime(), leader_name=d.get("leader_name", ""), expected_version=v,
        )
        return _("督办已下达。")
    if name == "pause":
        services.appeal_pause(actor=user, appeal=appeal, reason=d.get("reason", ""), note=d.get("note", ""), expected_version=v)
        return _("已暂停计时。")
    if name == "resume":
        services.appeal_resume(actor=user, appeal=appeal, expected_version=v)
        return _("已恢复计时。")
    if name == "feedback":
        services.appeal_feedback(
            actor=user, appeal=appeal, department_rating=d.get("department_rating", ""),
            centre_rating=d.get("centre_rating", ""), comment=d.get("comment", ""), expected_version=v,
        )
        return _("评价已保存。")
    if name == "close":
        services.appeal_close(actor=user, appeal=appeal, resolved=d.get("resolved"), note=d.get("note", ""), expected_version=v)
        return _("已办结。")
    if name == "request_review":
        services.appeal_request_review(actor=user, appeal=appeal, reason=d.get("reason", ""), expected_version=v)
        return _("复查复核申请已登记。")
    if name == "decide_review":
        services.appeal_decide_review(actor=user, appeal=appeal, decision=d.get("decision", ""), text=d.get("text", ""), expected_version=v)
        return _("复查复核决定已保存。")
    if name == "reopen":
        services.appeal_reopen(actor=user, appeal=appeal, reason=d.get("reason", ""), expected_version=v)
        return _("已重新办理。")
    if name == "note":
        services.appeal_add_note(actor=user, appeal=appeal, text=d.get("text", ""), is_public=bool(d.get("is_public")))
        return _("记录已添加。")
    if name == "merge":
        assert isinstance(form, MergeForm)
        try:
            target = selectors.appeal_get_for_user(user, d["into"])
        except NotVisible:
            raise AppealError(_("没有找到要合并到的诉求。"), code="invalid", field="into") from None
        services.appeal_merge(actor=user, appeal=appeal, into=target, reason=d.get("reason", ""), expected_version=v)
        return _("已合并到 %(code)s。") % {"code": target.code}
    if name == "keep_apart":
        try:
            other = selectors.appeal_get_for_user(user, d["other"])
        except NotVisible:
            raise AppealError(_("没有找到该疑似重复件。"), code="invalid", field="other") from None
        services.appeal_keep_apart(actor=user, appeal=appeal, other=other)
        return _("已标记为不是重复件。")
    raise Http404()


@staff_required
@require_POST
def act(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    appeal = _appeal_or_404(request, pk)
    cls = form_class(name)
    if cls is None:
        raise Http404()
    form = cls(request.POST, appeal=appeal, prefix=name)
    stale = False
    if form.is_valid():
        try:
            message = _run(name, request.user, appeal, form)
        except AppealError as exc:
            appeal = _appeal_or_404(request, pk)
            if exc.code == "stale":
                # Show the latest state with what the user typed; the form now carries the current
                # version, so sending it again is a decision taken with the changes in view.
                stale = True
                data = request.POST.copy()
                data[f"{name}-version"] = str(appeal.version)
                form = cls(data, appeal=appeal, prefix=name)
                form.is_valid()
            form.add_error(form.error_field(exc.field), exc.message)
        else:
            messages.success(request, message)
            if name == "merge":
                return redirect("appeals:detail", pk=appeal.pk)
            return redirect(reverse("appeals:detail", args=[appeal.pk]) + "#timeline-h")
    return _render_detail(request, appeal, bound=Bound(name, form, stale))


# --- desk intake ---------------------------------------------------------------------------------------


def _issue_token(request: HttpRequest) -> str:
    """A one-time key for the form, so that a double click or a resend creates one appeal only."""
    token = uuid.uuid4().hex
    issued = list(request.session.get(TOKENS_KEY, []))[-19:]
    request.session[TOKENS_KEY] = [*issued, token]
    return token


def _token_from(request: HttpRequest, value: str) -> str | None:
    # Only tokens this session was given: a guessed token must not fetch someone else's appeal.
    return value if value and value in request.session.get(TOKENS_KEY, []) else None


def _intake_error(form: DeskForm | ResidentSubmitForm, exc: AppealError) -> None:
    field = exc.field
    if field == "location" and (form.cleaned_data.get("lat") is not None or form.cleaned_data.get("lon") is not None):
        field = "lat" if isinstance(form, DeskForm) else "unit"
    form.add_error(form.error_field(field), exc.message)


@staff_required
def desk_new(request: HttpRequest) -> HttpResponse:
    form = DeskForm(request.POST or None, request.FILES or None, user=request.user, initial={"client_token": _issue_token(request)})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        people = []
        if d["name"] or d["phone"] or d["id_number"]:
            people.append(
                services.PetitionerInput(name=d["name"], phone=d["phone"], id_number=d["id_number"], is_anonymous=d["is_anonymous"])
            )
        try:
            result = services.appeal_submit(
                actor=request.user,
                channel=d["channel"],
                kind=d["kind"],
                title=d["title"],
                description=d["description"],
                category=d["category"],
                urgency=d["urgency"],
                address=d["address"],
                lat=d["lat"],
                lon=d["lon"],
                unit=d["unit"],
                petitioners=people,
                is_collective=d["is_collective"],
                headcount=d["headcount"] or 1,
                attachments=d["attachments"],
                client_token=_token_from(request, d["client_token"]),
            )
        except AppealError as exc:
            _intake_error(form, exc)
        else:
            appeal = result.appeal
            text = _("已登记，受理编号 %(code)s。") % {"code": appeal.code}
            if result.duplicates:
                text += " " + _("发现 %(n)s 件疑似重复，请在诉求页面确认。") % {"n": len(result.duplicates)}
            messages.success(request, text)
            if selectors.appeals_visible_to(request.user).filter(pk=appeal.pk).exists():
                return redirect("appeals:detail", pk=appeal.pk)
            return redirect("appeals:desk_new")
    return render(request, "appeals/desk_new.html", {"form": form})


# --- search, export -----------------------------------------------------------------------------------


@staff_required
def search(request: HttpRequest) -> HttpResponse:
    params = request.GET.copy()
    params.pop("page", None)
    form = SearchForm(params or None, user=request.user)
    valid = not form.is_bound or form.is_valid()
    qs = selectors.appeals_search(request.user, **form.filters()).select_related("unit__parent") if valid else Appeal.objects.none()
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "appeals/search.html",
        {"form": form, "page": page, "now": timezone.now(), "query": params.urlencode(), "valid": valid},
    )


@staff_required
@require_GET
def export(request: HttpRequest) -> HttpResponseBase:
    params = request.GET.copy()
    fmt = params.pop("fmt", ["csv"])[-1]
    params.pop("page", None)
    if fmt not in exports.FORMATS:
        raise Http404()
    form = SearchForm(params or None, user=request.user)
    if form.is_bound and not form.is_valid():
        messages.error(request, _("筛选条件有误，请改正后再导出。"))
        return redirect(reverse("appeals:search") + "?" + params.urlencode())
    return exports.export_appeals(user=request.user, filters=form.filters(), summary=form.summary(), fmt=fmt)


# --- backlog, map -----------------------------------------------------------------------------------------


@staff_required
def backlog(request: HttpRequest) -> HttpResponse:
    user = request.user
    labels = {
        "lt30": _("30 天内"),
        "d30_90": _("30–90 天"),
        "d90_180": _("90–180 天"),
        "d180_365": _("180–365 天"),
        "gt365": _("一年以上"),
    }
    keys = [key for key, _lo, _hi in selectors.AGE_BUCKETS]
    buckets = [(key, labels.get(key, key)) for key in keys]

    def with_cells(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**r, "cells": [r.get(k, 0) for k in keys]} for r in rows]

    return render(
        request,
        "appeals/backlog.html",
        {
            "buckets": buckets,
            "by_unit": with_cells(selectors.backlog_board(user, by="unit")),
            "by_department": with_cells(selectors.backlog_board(user, by="department")),
            "supervised": list(selectors.supervised_board(user, kind="supervision")[:200]),
            "leader": list(selectors.supervised_board(user, kind="leader")[:200]),
            "now": timezone.now(),
        },
    )


@staff_required
def map_page(request: HttpRequest) -> HttpResponse:
    # The same numbers as the map, as a table: a map alone is not accessible.
    rows = sorted(selectors.open_counts_by_grid(request.user), key=lambda r: (-r["count"], r["unit"].code))
    return render(request, "appeals/map.html", {"rows": rows[:100], "more": max(0, len(rows) - 100)})


def _feature(geometry: Any, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


@staff_required
@require_GET
def map_data(request: HttpRequest) -> JsonResponse:
    """Grids in scope with their open counts, and the located open appeals, as GeoJSON."""
    user = request.user
    counts = {row["unit"].pk: row for row in selectors.open_counts_by_grid(user)}
    features = []
    seen: set[int] = set()
    grids = (
        units_for(user).filter(kind=OrgUnitKind.GRID, boundary__isnull=False).only("id", "name", "code", "boundary")
        .order_by("path")[:MAP_MAX_GRIDS]
    )
    extra: list[OrgUnit] = [r["unit"] for pk, r in counts.items()]
    for grid in [*grids, *extra]:
        if grid.pk in seen or not grid.boundary:
            continue
        seen.add(grid.pk)
        n = counts[grid.pk]["count"] if grid.pk in counts else 0
        features.append(_feature(grid.boundary, {"kind": "grid", "id": grid.pk, "name": grid.name, "code": grid.code, "count": n}))
    now = timezone.now()
    detail_url = reverse("appeals:detail", args=[0])
    for p in selectors.open_points(user):
        features.append(
            _feature(
                {"type": "Point", "coordinates": [p["lon"], p["lat"]]},
                {
                    "kind": "appeal",
                    "code": p["code"],
                    "title": p["title"],
                    "status": str(Status(p["status"]).label),
                    "overdue": bool(p["due_at"] and p["due_at"] < now),
                    "url": detail_url.replace("/0/", f"/{p['pk']}/"),
                },
            )
        )
    top = max((c["count"] for c in counts.values()), default=0)
    return JsonResponse({"type": "FeatureCollection", "features": features, "max_count": top})


# --- attachments ---------------------------------------------------------------------------------------------


@require_GET
def attachment(request: HttpRequest, pk: int) -> FileResponse:
    """Staff who may see the appeal get any file; the petitioner (account or tracking session) the public ones."""
    from . import attachments as store

    found = Attachment.objects.filter(pk=pk).only("id", "appeal_id", "file", "original_name", "content_type", "is_public").first()
    if found is None:
        raise Http404()
    user = request.user
    allowed = False
    if user.is_authenticated:
        try:
            selectors.appeal_get_for_user(user, found.appeal_id)
            allowed = found.is_public or not getattr(user, "is_resident", False)
        except NotVisible:
            pass
    if not allowed and found.is_public and found.appeal_id in _tracked_ids(request):
        allowed = True
    if not allowed:
        raise Http404()
    try:
        handle, content_type, filename = store.open_for_download(found)
    except AppealError as exc:
        raise Http404() from exc
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- residents: submit ---------------------------------------------------------------------------------------


def _resident(request: HttpRequest) -> Any:
    user = request.user
    return user if user.is_authenticated and getattr(user, "is_resident", False) else None


def _tracked_ids(request: HttpRequest) -> list[int]:
    return [int(x) for x in request.session.get(TRACKED_KEY, [])]


def _remember(request: HttpRequest, appeal: Appeal) -> None:
    ids = [x for x in _tracked_ids(request) if x != appeal.pk][-19:]
    request.session[TRACKED_KEY] = [*ids, appeal.pk]


def submit(request: HttpRequest) -> HttpResponse:
    resident = _resident(request)
    initial: dict[str, Any] = {"client_token": _issue_token(request)}
    if resident is not None:
        initial.update(phone=resident.phone, name=resident.display_name)
    form = ResidentSubmitForm(
        request.POST or None,
        request.FILES or None,
        initial=initial,
        phone_required=resident is None or not resident.phone,
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        person = services.PetitionerInput(
            name=d["name"], phone=d["phone"] or (resident.phone if resident else ""), is_anonymous=d["is_anonymous"]
        )
        try:
            result = services.appeal_submit(
                actor=request.user if request.user.is_authenticated else None,
                channel=Channel.PORTAL,
                title=d["title"],
                description=d["description"],
                category=d["category"],
                address=d["address"],
                lat=d["lat"],
                lon=d["lon"],
                unit=d["unit"],
                petitioners=[person] if (person.phone or person.name) else [],
                attachments=d["attachments"],
                resident=resident,
                client_token=_token_from(request, d["client_token"]),
            )
        except AppealError as exc:
            _intake_error(form, exc)
        else:
            _remember(request, result.appeal)
            request.session[SUBMITTED_KEY] = result.appeal.code
            return redirect("appeals:submit_done")
    return render(request, "appeals/submit.html", {"form": form, "resident": resident})


def submit_done(request: HttpRequest) -> HttpResponse:
    code = request.session.get(SUBMITTED_KEY)
    if not code:
        return redirect("appeals:submit")
    return render(request, "appeals/submit_done.html", {"code": code})


@require_GET
def submit_areas(request: HttpRequest) -> JsonResponse:
    """Community and township outlines for the resident's point picker (public reference data)."""
    features = [
        _feature(u.boundary, {"id": u.pk, "name": u.name})
        for u in public_areas().only("id", "name", "boundary")
        if u.boundary
    ]
    response = JsonResponse({"type": "FeatureCollection", "features": features})
    response["Cache-Control"] = "public, max-age=3600"
    return response


# --- residents: track, rate, review ------------------------------------------------------------------------------


def _failures(request: HttpRequest) -> list[float]:
    cutoff = time.time() - TRACK_WINDOW_SECONDS
    return [t for t in request.session.get(FAILURES_KEY, []) if t > cutoff]


def track(request: HttpRequest) -> HttpResponse:
    form = TrackForm(request.POST or None, initial={"code": request.GET.get("code", "")[:20]})
    failures = _failures(request)
    locked = len(failures) >= TRACK_MAX_FAILURES
    if request.method == "POST":
        if locked:
            form.errors.clear()
            form.add_error(None, _("查询次数过多，请 15 分钟后再试。如需帮助，请拨打热线或到社区服务大厅咨询。"))
        elif form.is_valid():
            appeal = selectors.appeal_for_tracking(form.cleaned_data["code"], form.cleaned_data["phone"])
            if appeal is None:
                request.session[FAILURES_KEY] = [*failures, time.time()]
                # The same words whether the code exists or not: nobody learns which codes are real.
                form.add_error(None, _("没有找到与该受理编号和手机号相符的诉求，请核对后再试。"))
            else:
                request.session[FAILURES_KEY] = []
                _remember(request, appeal)
                return redirect("appeals:track_detail", code=appeal.code)
    tracked = list(Appeal.objects.filter(pk__in=_tracked_ids(request)).only("id", "code", "title", "status").order_by("-submitted_at"))
    return render(request, "appeals/track.html", {"form": form, "locked": locked, "tracked": tracked, "resident": _resident(request)})


def _tracked(request: HttpRequest, code: str) -> Appeal | None:
    """The appeal if this session verified it (or it is the logged-in resident's own)."""
    appeal = Appeal.objects.select_related("category", "category__parent", "department", "unit").filter(code=code.strip().upper()).first()
    if appeal is None:
        return None
    resident = _resident(request)
    if appeal.pk in _tracked_ids(request) or (resident is not None and appeal.resident_id == resident.pk):
        return appeal
    return None


def _render_track(
    request: HttpRequest, appeal: Appeal, *, rate_form: RateForm | None = None, review_form: PetitionerReviewForm | None = None
) -> HttpResponse:
    now = timezone.now()
    can_rate = appeal.status in services.TRANSITIONS["feedback"]
    level, until = services.review_request_until(appeal)
    can_review = bool(
        level and until and now <= until and not appeal.is_final and appeal.status in services.TRANSITIONS["request_review"]
    )
    return render(
        request,
        "appeals/track_detail.html",
        {
            "appeal": appeal,
            "timeline": _timeline(appeal, public_only=True),
            "replies": list(appeal.replies.select_related("department").order_by("created_at", "id")),
            "feedback": appeal.feedback.order_by("-created_at").first(),
            "reviews": list(appeal.reviews.all()),
            "attachments": list(appeal.attachments.filter(is_public=True)),
            "rate_form": (rate_form or RateForm(appeal=appeal, prefix="rate")) if can_rate else None,
            "review_form": (review_form or PetitionerReviewForm(appeal=appeal, prefix="review")) if can_review else None,
            "review_level": level,
            "review_until": until,
            "open": appeal.status in OPEN_STATUSES,
        },
    )


def track_detail(request: HttpRequest, code: str) -> HttpResponse:
    appeal = _tracked(request, code)
    if appeal is None:
        return redirect(reverse("appeals:track") + "?code=" + code[:20])
    return _render_track(request, appeal)


def _petitioner_actor(request: HttpRequest) -> Any:
    return request.user if request.user.is_authenticated else None


@require_POST
def track_rate(request: HttpRequest, code: str) -> HttpResponse:
    appeal = _tracked(request, code)
    if appeal is None:
        return redirect(reverse("appeals:track") + "?code=" + code[:20])
    form = RateForm(request.POST, appeal=appeal, prefix="rate")
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.appeal_feedback(
                actor=_petitioner_actor(request), appeal=appeal, department_rating=d.get("department_rating", ""),
                centre_rating=d.get("centre_rating", ""), comment=d.get("comment", ""), as_petitioner=True,
                expected_version=d["version"],
            )
        except AppealError as exc:
            form.add_error(form.error_field(exc.field), exc.message)
        else:
            messages.success(request, _("感谢您的评价。"))
            return redirect("appeals:track_detail", code=appeal.code)
    appeal.refresh_from_db()
    return _render_track(request, appeal, rate_form=form)


@require_POST
def track_review(request: HttpRequest, code: str) -> HttpResponse:
    appeal = _tracked(request, code)
    if appeal is None:
        return redirect(reverse("appeals:track") + "?code=" + code[:20])
    form = PetitionerReviewForm(request.POST, appeal=appeal, prefix="review")
    if form.is_valid():
        try:
            review = services.appeal_request_review(
                actor=_petitioner_actor(request), appeal=appeal, reason=form.cleaned_data.get("reason", ""),
                as_petitioner=True, expected_version=form.cleaned_data["version"],
            )
        except AppealError as exc:
            form.add_error(form.error_field(exc.field), exc.message)
        else:
            messages.success(request, _("您的%(what)s申请已提交，我们将在期限内答复。") % {"what": review.get_level_display()})
            return redirect("appeals:track_detail", code=appeal.code)
    appeal.refresh_from_db()
    return _render_track(request, appeal, review_form=form)


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    resident = _resident(request)
    if resident is None:
        return redirect("appeals:inbox")
    page = Paginator(selectors.appeals_of_resident(resident), 20).get_page(request.GET.get("page"))
    return render(request, "appeals/mine.html", {"page": page})
