"""Every write to an appeal: one function per act, in one transaction, permission- and scope-checked, audited.

The life cycle is an explicit state machine (``TRANSITIONS``): a service refuses a move its
table does not allow with ``AppealError(code="invalid_transition")``. Two staff editing the
same appeal: pass the ``expected_version`` the page was rendered with; the second save is
refused with ``code="stale"`` and nothing is overwritten. Intake (``appeal_submit``) lives in
``intake.py`` and is re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhucheng.core.audit import audit_record
from zhucheng.core.context import acting_user
from zhucheng.core.notify import notify
from zhucheng.places.models import Department, OrgUnit

from . import deadlines, permissions
from .errors import AppealError
from .intake import PetitionerInput, SubmitResult, appeal_record_history, appeal_submit  # noqa: F401  (re-export)
from .models import (
    OPEN_STATUSES,
    Appeal,
    AppealEvent,
    AppealKind,
    Assignment,
    AssignmentRole,
    AssignmentState,
    Category,
    CategoryDecision,
    DeclineRoute,
    DuplicateCandidate,
    DuplicateDecision,
    Extension,
    ExtensionState,
    Feedback,
    Outcome,
    Pause,
    Reply,
    Review,
    ReviewDecision,
    ReviewLevel,
    Satisfaction,
    Status,
    Supervision,
    SupervisionKind,
)

# act → statuses it may start from. Acts not listed here do not change the status.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "register": (Status.SUBMITTED,),
    "decline": (Status.SUBMITTED,),
    "assign": (Status.REGISTERED,),
    "start": (Status.ASSIGNED,),
    "transfer": (Status.ASSIGNED, Status.IN_PROGRESS),
    "object": (Status.ASSIGNED, Status.IN_PROGRESS),
    "decide_objection": (Status.ASSIGNED, Status.IN_PROGRESS),
    "reply": (Status.ASSIGNED, Status.IN_PROGRESS),
    "request_extension": (Status.ASSIGNED, Status.IN_PROGRESS),
    "decide_extension": (Status.ASSIGNED, Status.IN_PROGRESS),
    "feedback": (Status.REPLIED,),
    "close": (Status.REPLIED, Status.FEEDBACK),
    "request_review": (Status.REPLIED, Status.FEEDBACK, Status.CLOSED),
    "decide_review": (Status.UNDER_REVIEW,),
    "reopen": (Status.CLOSED,),
    "merge": (Status.SUBMITTED, Status.REGISTERED),
    "supervise": OPEN_STATUSES + (Status.REPLIED, Status.FEEDBACK),
    "pause": OPEN_STATUSES,
    "resume": OPEN_STATUSES,
    "set_category": (Status.SUBMITTED, Status.REGISTERED, Status.ASSIGNED, Status.IN_PROGRESS),
}


# --- shared steps --------------------------------------------------------------------------


def _now() -> datetime:
    return timezone.now()


def _lock(appeal: Appeal, expected_version: int | None) -> Appeal:
    """Re-read the appeal under a row lock and refuse a stale edit."""
    fresh = Appeal.objects.select_for_update(of=("self",)).select_related("unit", "department", "category").get(pk=appeal.pk)
    if expected_version is not None and fresh.version != expected_version:
        raise AppealError(
            _("该诉求已被他人修改（当前版本 %(now)s，您打开的是版本 %(seen)s），请刷新后再操作，您的修改未保存。")
            % {"now": fresh.version, "seen": expected_version},
            code="stale",
        )
    return fresh


def _check_move(appeal: Appeal, act: str) -> None:
    allowed = TRANSITIONS[act]
    if appeal.status not in allowed:
        raise AppealError(
            _("当前状态“%(status)s”下不能执行“%(act)s”。") % {"status": appeal.get_status_display(), "act": act_name(act)},
            code="invalid_transition",
        )


def _require(ok: bool, message: str | None = None) -> None:
    if not ok:
        raise AppealError(message or _("您没有权限对该诉求执行此操作。"), code="forbidden")


def _label(actor: Any) -> str:
    if actor is None:
        return _("系统")
    return str(getattr(actor, "display_name", "") or actor.get_username())


def _event(
    appeal: Appeal,
    *,
    actor: Any,
    act: str,
    note: str = "",
    is_public: bool = True,
    from_status: str = "",
    department: Department | None = None,
    at: datetime | None = None,
) -> AppealEvent:
    return AppealEvent.objects.create(
        appeal=appeal,
        act=act,
        actor=acting_user(actor),
        actor_label=_label(actor)[:150],
        department=department,
        from_status=from_status,
        to_status=appeal.status,
        note=note,
        is_public=is_public,
        at=at or _now(),
    )


def _save(appeal: Appeal, fields: Iterable[str]) -> None:
    appeal.version += 1
    names = set(fields) | {"version", "updated_at"}
    appeal.save(update_fields=sorted(names))


def _tell_petitioner(appeal: Appeal, text: str) -> None:
    primary = appeal.petitioners.filter(is_primary=True).first()
    if primary and primary.phone:
        notify(channel="sms", address=primary.phone, text=text)


def _text(value: str, field: str, label: str, *, limit: int = 4000) -> str:
    value = (value or "").strip()
    if not value:
        raise AppealError(_("请填写%(label)s。") % {"label": label}, code="required", field=field)
    if len(value) > limit:
        raise AppealError(
            _("%(label)s不能超过 %(limit)s 个字（现有 %(n)s 个）。") % {"label": label, "limit": limit, "n": len(value)},
            code="too_long",
            field=field,
        )
    return value


def act_name(act: str) -> str:
    """The act's name in the user's language (timeline, messages)."""
    names = {
        "register": _("受理"),
        "decline": _("不予受理"),
        "assign": _("交办"),
        "start": _("签收办理"),
        "transfer": _("转办"),
        "object": _("退单"),
        "decide_objection": _("退单裁定"),
        "reply": _("答复"),
        "request_extension": _("申请延期"),
        "decide_extension": _("延期审批"),
        "feedback": _("评价"),
        "close": _("办结"),
        "request_review": _("申请复查复核"),
        "decide_review": _("复查复核决定"),
        "reopen": _("重新办理"),
        "merge": _("合并重复件"),
        "supervise": _("督办"),
        "pause": _("暂停计时"),
        "resume": _("恢复计时"),
        "set_category": _("确认分类"),
    }
    return names.get(act, act)


# --- registration ----------------------------------------------------------------------------


def _blocking_duplicates(appeal: Appeal) -> list[DuplicateCandidate]:
    return list(
        appeal.duplicate_candidates.filter(decision=DuplicateDecision.PENDING)
        .filter(reason="same_petitioner")
        .select_related("other")
    )


def _root(appeal: Appeal) -> Appeal:
    seen = set()
    while appeal.repeat_of_id and appeal.pk not in seen:
        seen.add(appeal.pk)
        assert appeal.repeat_of is not None
        appeal = appeal.repeat_of
    return appeal


@transaction.atomic
def appeal_set_category(
    *, actor: Any, appeal: Appeal, category: Category, expected_version: int | None = None
) -> Appeal:
    """Confirm or change the category; the classifier's suggestion and the choice are both kept."""
    appeal = _lock(appeal, expected_version)
    _check_move(appeal, "set_category")
    _require(permissions.is_dispatcher(actor, appeal) or permissions.is_handler(actor, appeal))
    if category.parent_id is None:
        raise AppealError(_("请选择二级分类（如“城市管理 › 路灯照明”）。"), code="not_leaf", field="category")
    before = appeal.category_id
    appeal.category = category
    appeal.category_confirmed_by = acting_user(actor)
    CategoryDecision.objects.create(
        appeal=appeal,
        suggested=appeal.suggested_category,
        score=appeal.suggested_score,
        chosen=category,
        by=appeal.category_confirmed_by,
        at=_now(),
        model_version=appeal.suggestion_model,
    )
    _save(appeal, ["category", "category_confirmed_by"])
    if before != category.pk:
        _event(appeal, actor=actor, act="set_category", note=str(category), is_public=False)
    audit_record(actor=actor, act="appeals.set_category", obj=appeal, changed_fields=["category"])
    return appeal


@transaction.atomic
def appeal_register(
    *, actor: Any, appeal: Appeal, category: Category | None = None, note: str = "", expected_version: int | None = None
) -> Appeal:
    """受理: accept the appeal for handling; the handling period starts now."""
    appeal = _lock(appeal, expected_version)
    _check_move(appeal, "register")
    _require(permissions.is_dispatcher(actor, appeal))
    if category is not None and category.pk != appeal.category_id:
        appeal_set_category(actor=actor, appeal=appeal, category=category)
        appeal.refresh_from_db()
    if appeal.category_id is None:
        raise AppealError(_("受理前请先确认诉求分类。"), code="required", field="category")
    for cand in _blocking_duplicates(appeal):
        root = _root(cand.other)
        if root.is_final:
            raise AppealError(
                _("同一诉求人的同一事项（%(code)s）已经复核终结，依法不再受理。请作“不予受理”并告知诉求人；"
                  "若有新的事实和理由，请先将其标记为“不合并”。") % {"code": root.code},
                code="final_case",
            )
        raise AppealError(
            _("该诉求与 %(code)s 疑似重复（同一诉求人），请先“合并”或标记“不合并”，以免重复办理。") % {"code": cand.other.code},
            code="duplicate_pending",
        )
    now = _now()
    was = appeal.status
    appeal.status = Status.REGISTERED
    appeal.registered_at = now
    appeal.reply_due = deadlines.reply_due(appeal, now)
    deadlines.refresh_due_at(appeal)
    _save(appeal, ["status", "registered_at", "reply_due", "due_at"])
    _event(appeal, actor=actor, act="register", note=note, from_status=was)
    audit_record(actor=actor, act="appeals.register", obj=appeal, changed_fields=["status", "registered_at"])
    _tell_petitioner(appeal, _("您的诉求 %(code)s 已受理，我们将在期限内答复。") % {"code": appeal.code})
    return appeal


@transaction.atomic
def appeal_decline(
    *, actor: Any, appeal: Appeal, reason: str, route: str = "", expected_version: int | None = None
) -> Appeal:
    """不予受理: with the written reason and, where it belongs elsewhere, the channel to use."""
    appeal = _lock(appeal, expected_version)
    _check_move(appeal, "decline")
    _require(permissions.is_dispatcher(actor, appeal))
    reason = _text(reason, "reason", _("不予受理理由"), limit=2000)
    if route not in DeclineRoute.values:
        raise AppealError(_("“应通过的途径”取值无效。"), code="invalid", field="route")
    now = _now()
    was = appeal.status
    appeal.status = Status.DECLINED
    appeal.decline_reason = reason
    appeal.decline_route = route
    appeal.registered_at = None
    appeal.closed_at = now
    appeal.due_at = None
    _save(appeal, ["status", "decline_reason", "decline_route", "registered_at", "closed_at", "due_at"])
    route_text = DeclineRoute(route).label if route else ""
    note = reason + (f"（{_('请通过')}{route_text}{_('依法解决')}）" if route else "")
    _event(appeal, actor=actor, act="decline", note=note, from_status=was)
    audit_record(actor=actor, act="appeals.decline", obj=appeal, changed_fields=["status", "decline_reason"], reason=reason)
    _tell_petitioner(appeal, _("您的诉求 %(code)s 不予受理：%(note)s") % {"code": appeal.code, "note": note})
    return appeal


# --- assignment, transfer, objection ----------------------------------------------------------


def _active_assignments(appeal: Appeal) -> list[Assignment]:
    return list(
        appeal.assignments.filter(state__in=[AssignmentState.ACTIVE, AssignmentState.OBJECTED]).select_related("department")
    )


def _hand_to(
    appeal: Appeal,
    *,
    actor: Any,
    department: Department | None,
    unit: OrgUnit | None,
    assisting: Iterable[Department],
    instructions: str,
    now: datetime,
) -> Assignment:
    lead = Assignment.objects.create(
        appeal=appeal,
        department=department,
        unit=unit if department is None else None,
        role=AssignmentRole.LEAD,
        assigned_at=now,
        assigned_by=acting_user(actor),
        instructions=instructions,
        objection_due=deadlines.objection_due(appeal, now),
    )
    for dept in assisting:
        if department is not None and dept.pk == department.pk:
            continue
        Assignment.objects.create(
            appeal=appeal,
            department=dept,
            role=AssignmentRole.ASSIST,
            assigned_at=now,
            assigned_by=lead.assigned_by,
            instructions=instructions,
        )
    appeal.department = department
    return lead


@transaction.atomic
def appeal_assign(
    *,
    actor: Any,
    appeal: Appeal,
    department: Department | None = None,
    assisting: Iterable[Department] = (),
    instructions: str = "",
    expected_version: int | None = None,
) -> Appeal:
    """交办: hand the appeal to a lead department (routing decides when none is given) and assisting ones."""
    from . import routing

    appeal = _lock(appeal, expected_version)
    _check_move(appeal, "assign")
    _require(permissions.is_dispatcher(actor, appeal))
    unit: OrgUnit | None = None
    if department is None:
        route = routing.route(category=appeal.category, unit=appeal.grid or appeal.unit)
        department, unit = route.department, route.unit
        if department is None and unit is None:
            raise AppealError(_("找不到承办部门或社区，请手动选择承办部门。"), code="no_route", field="department")
    elif not department.is_active:
        raise AppealError(_("“%(name)s”已停用，不能交办。") % {"name": department.name}, code="invalid", field="department")
    now = _now()
    was = appeal.status
    _hand_to(appeal, actor=actor, department=department, unit=unit, assisting=assisting, instructions=instructions, now=now)
    appeal.status = Status.ASSIGNED
    appeal.assigned_at = now
    if appeal.kind == AppealKind.APPEAL:
        appeal.reply_due = deadlines.reply_due(appeal, now)
    deadlines.refresh_due_at(appeal)
    _save(appeal, ["status", "assigned_at", "department", "reply_due", "due_at"])
    who = department.name if department else (unit.name if unit else "")
    _event(appeal, actor=actor, act="assign", note=who, from_status=was, department=department)
    audit_record(actor=actor, act="appeals.assign", obj=appeal, changed_fields=["department", "status"])
    return appeal


@transaction.atomic
def appeal_start(*, actor: Any, appeal: Appeal, expected_version: int | None = None) -> Appeal:
    """签收: the lead department takes the appeal up."""
    appeal = _lock(appeal, expected_version)
    _check_move(appeal, "start")
    _require(permissions.is_handler(actor, appeal))
    was = appeal.status
    appeal.status = Status.IN_PROGRESS
    _save(appeal, ["status"])
    _event(appeal, actor=actor, act="start", from_status=was, department=appeal.department)
    audit_record(actor=actor, act="appeals.start", obj=appeal, changed_fields=["status"])
    return appeal


def _restart_handling(appeal: Appeal, now: datetime) -> None:
    """A hotline appeal's new department gets the full handling period; a petition's period runs from registration."""
    if appeal.kind == AppealKind.APPEAL:
        appeal.reply_due = deadlines.reply_due(appeal, now)
    deadlines.refresh_due_at(appeal)


@transaction.atomic
def appeal_transfer(
    *, actor: Any, appeal: Appeal, department: Department, reason: str, expected_version: int | None = None
) -> Appeal:
    """转办: move the lead to another department, with a reason."""
    appeal = _lock(appeal, expected_version)
    _check_move(appeal, "transfer")
    _require(permissions.is_dispatcher(actor, appeal))
    reason = _text(reason, "reason", _("转办理由"), limit=1000)
    if appeal.department_id == department.pk:
        raise AppealError(_("已由“%(name)s”主办，请选择其他部门。") % {"name": department.name}, code="invalid", field="department")
    now = _now()
    for a in _active_assignments(appeal):
        if a.role == AssignmentRole.LEAD:
            a.state, a.ended_at = AssignmentState.TRANSFERRED, now
            a.save(update_fields=["state", "ended_at"])
    was = appeal.status
    _hand_to(appeal, actor=actor, department=department, unit=None, assisting=(), instructions=reason, now=now)
    appeal.status = Status.ASSIGNED
    appeal.assigned_at = now
    _restart_handling(appeal, now)
    _save(appeal, ["status", "department", "assigned_at", "reply_due", "due_at"])
    _event(appeal, actor=actor, act="transfer", note=f"{department.name}：{reason}", from_status=was, department=department)
    audit_record(actor=actor, act="appeals.transfer", obj=appeal, changed_fields=["department"], reason=reason)
    return appeal


@transaction.atomic
def appeal_object(*, actor: Any, appeal: Appeal, reason: str, expected_version: int | None = None) -> Appeal:
    """退单: the lead department says the appeal is outside its remit, within the objection period."""
    appeal = _lock(appeal, expected_version)
    _check_move(appeal, "object")
    _require(permissions.is_handler(actor, appeal) and appeal.department_id is not None)
    reason = _text(reason, "reason", _("退单理由"), limit=2000)
    lead = next((a for a in _active_assignments(appeal) if a.role == AssignmentRole.LEAD), None)
    if lead is None or lead.state != AssignmentState.ACTIVE:
        raise AppealError(_("已申请退单，请等待群众工作中心裁定。"), code="invalid_transition")
    now = _now()
    if lead.objection_due and now > lead.objection_due:
        raise AppealError(
            _("退单须在交办后 %(n)s 个工作日内提出（截止 %(due)s），已超过期限，请继续办理或申请协调。")
            % {"n": deadlines.policy_for(appeal).objection_working_days, "due": timezone.localtime(lead.objection_due).strftime("%Y-%m-%d %H:%M")},
            code="objection_late",
        )
    lead.state, lead.objection_reason, lead.objected_at = AssignmentState.OBJECTED, reason, now
    lead.save(update_fields=["state", "objection_reason", "objected_at"])
    _save(appeal, [])
    _event(appeal, actor=actor, act="object", note=reason, is_public=False, department=appeal.department)
    audit_record(actor=actor, act="appeals.object", obj=appeal, reason=reason)
    return appeal


@transaction.atomic
def appeal_decide_objection(
    *,
    actor: Any,
    appeal: Appeal,
    accept: bool,
    note: str,
    department: Department | None = None,
    expected_version: int | None = None,
) -> Appeal:
    """退单裁定: the dispatching centre returns and reassigns (改派), or keeps the department on it."""
    appeal = _lock(appeal, expected_version)
    _check_move(appeal, "decide_objection")
    _require(permissions.is_dispatcher(actor, appeal))
    note = _text(note, "note", _("裁定意见"), limit=1000)
    lead = next((a for a in _active_assignments(appeal) if a.role == AssignmentRole.LEAD), None)
    if lead is None or lead.state != AssignmentState.OBJECTED:
        raise AppealError(_("没有待裁定的退单申请。"), code="invalid_transition")
    now = _now()
    lead.decided_at, lead.decision_note = now, note
    if not accept:
        lead.state = AssignmentState.ACTIVE
        lead.save(update_fields=["state", "decided_at", "decision_note"])
        _save(appeal, [])
        _event(appeal, actor=actor, act="objection_refused", note=note, is_public=False, department=appeal.department)
        audit_record(actor=actor, act="appeals.objection_refused", obj=appeal, reason=note)
        return appeal
    if department is None:
        raise AppealError(_("同意退单时须选择改派的部门。"), code="required", field="department")
    if department.pk == lead.department_id:
        raise AppealError(_("改派部门不能与退单部门相同。"), code="invalid", field="department")
    lead.state, lead.ended_at = AssignmentState.RETURNED, now
    lead.save(update_fields=["state", "decided_at", "decision_note", "ended_at"])
    was = appeal.status
    _hand_to(appeal, actor=actor, department=department, unit=None, assisting=(), instructions=note, now=now)
    appeal.status = Status.ASSIGNED
    appeal.assigned_at = now
    _restart_handling(appeal, now)
    _save(appeal, ["status", "department", "assigned_at", "reply_due", "due_at"])
    _event(appeal, actor=actor, act="reassign", note=f"{department.name}：{note}", from_status=was, department=department)
    audit_record(actor=actor, act="appeals.reassign", obj=appeal, changed_fields=["department"], reason=note)
    return appeal


# --- handling: reply, extension, pause, notes --------------------------------------------------


@transaction.atomic
def appeal_reply(
    *, actor: Any, appeal: Appeal, outcome: str, text: str, expected_version: int | None = None
) -> Reply:
    """答复: the written answer with its outcome (支持 / 解释 / 不予支持)."""
    appeal = _lock(appeal, expected_version)
    _check_move(appeal, "reply")
    _require(permissions.is_handler(actor, appeal))
    if outcome not in Outcome.values:
        raise AppealError(_("请选择处理结果：支持、解释或不予支持。"), code="required", field="outcome")
    text = _text(text, "text", _("答复内容"), limit=4000)
    if appeal.is_paused:
        raise AppealError(_("计时暂停中，请先恢复计时再答复。"), code="invalid_transition")
    now = _now()
    reply = Reply.objects.create(
        appeal=appeal,
        department=appeal.department,
        outcome=outcome,
        text=text,
        by=acting_user(actor),
        created_at=now,
        on_time=appeal.reply_due is None or now <= appeal.reply_due,
    )
    was = appeal.status
    appeal.status = Status.REPLIED
    appeal.replied_at = now
    appeal.due_at = None
    _save(appeal, ["status", "replied_at", "due_at"])
    _event(appeal, actor=actor, act="reply", note=f"【{reply.get_outcome_display()}】{text}", from_status=was, department=appeal.department)
    audit_record(actor=actor, act="appeals.reply", obj=appeal, changed_fields=["status", "replied_at"])
    _tell_petitioner(appeal, _("您的诉求 %(code)s 已答复，请查看并评价。") % {"code": appeal.code})
    return reply


@transaction.atomic
def appeal_request_extension(
    *, actor: Any, appeal: Appeal, days: int, reason: str, expected_version: int | None = None
) -> Extension:
    """申请延期: the handler asks for more time; a supervisor approves (one extension by default)."""
    appeal = _lock(appeal, expected_version)
    _check_move(appeal, "request_extension")
    _require(permissions.is_handler(actor, appeal))
    reason = _text(reason, "reason", _("延期理由"), limit=1000)
    policy = deadlines.policy_for(appeal)
    if days < 1:
        raise AppealError(_("延期天数至少为 1。"), code="invalid", field="days")
    if days > policy.extension_max:
        raise AppealError(
            _("延期不得超过 %(n)s（%(unit)s）。") % {"n": policy.extension_max, "unit": policy.get_extension_unit_display()},
            code="extension_too_long",
            field="days",
        )
    exts = list(appeal.extensions.all())
    if any(e.state == ExtensionState.PENDING for e in exts):
        raise AppealError(_("已有待审批的延期申请。"), code="invalid_transition")
    if sum(e.state == ExtensionState.APPROVED for e in exts) >= policy.max_extensions:
        raise AppealError(
            _("该类诉求最多延期 %(n)s 次，已用完。") % {"n": policy.max_extensions}, code="extension_limit"
        )
    ext = Extension.objects.create(
        appeal=appeal,
        days=days,
        reason=reason,
        requested_by=acting_user(actor),
        requested_at=_now(),
    )
    _save(appeal, [])
    _event(appeal, actor=actor, act="request_extension", note=f"{days}：{reason}", is_public=False, department=appeal.department)
    audit_record(actor=actor, act="appeals.request_extension", obj=appeal, reason=reason)
    return ext


@transaction.atomic
def appeal_decide_extension(
    *, actor: Any, extension: Extension, approve: bool, note: str = "", expected_version: int | None = None
) -> Extension:
    """延期审批: approving moves the reply deadline, counted from the current one."""
    appeal = _lock(extension.appeal, expected_version)
    _check_move(appeal, "decide_extension")
    _require(permissions.is_supervisor(actor, appeal))
    extension.refresh_from_db()
    if extension.state != ExtensionState.PENDING:
        raise AppealError(_("该延期申请已审批。"), code="invalid_transition")
    now = _now()
    extension.state = ExtensionState.APPROVED if approve else ExtensionState.REFUSED
    extension.decided_by = acting_user(actor)
    extension.decided_at, extension.decision_note = now, note[:200]
    extension.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
    fields: list[str] = []
    if approve:
        appeal.reply_due = deadlines.extended_due(appeal, extension.days)
        appeal.escalated_at = None
        appeal.reminded_at = None
        deadlines.refresh_due_at(appeal)
        fields = ["reply_due", "due_at", "escalated_at", "reminded_at"]
    _save(appeal, fields)
    act = "extension_approved" if approve else "extension_refused"
    due = timezone.localtime(appeal.reply_due).strftime("%Y-%m-%d") if approve and appeal.reply_due else ""
    _event(appeal, actor=actor, act=act, note=(_("答复期限延至 %(d)s") % {"d": due}) if approve else note, is_public=approve)
    audit_record(actor=actor, act=f"appeals.{act}", obj=appeal, changed_fields=fields, reason=note)
    return extension


@transaction.atomic
def appeal_pause(
    *, actor: Any, appeal: Appeal, reason: str, note: str = "", expected_version: int | None = None
) -> Appeal:
    """暂停计时: waiting on the petitioner's materials or a hearing; the clock and due dates freeze."""
    appeal = _lock(appeal, expected_version)
    _check_move(appeal, "pause")
    _require(permissions.is_handler(actor, appeal) or permissions.is_dispatcher(actor, appeal))
    if reason not in Pause.Reason.values:
        raise AppealError(_("请选择暂停原因。"), code="required", field="reason")
    deadlines.pause(appeal, reason=reason, note=note, now=_now())
    _save(appeal, ["paused_at", "pause_reason", "due_at"])
    _event(appeal, actor=actor, act="pause", note=f"{Pause.Reason(reason).label} {note}".strip())
    audit_record(actor=actor, act="appeals.pause", obj=appeal, reason=reason)
    return appeal


@transaction.atomic
def appeal_resume(*, actor: Any, appeal: Appeal, expected_version: int | None = None) -> Appeal:
    """恢复计时: due dates move by the paused time."""
    appeal = _lock(appeal, expected_version)
    _check_move(appeal, "resume")
    _require(permissions.is_handler(actor, appeal) or permissions.is_dispatcher(actor, appeal))
    deadlines.resume(appeal, now=_now())
    _save(appeal, ["paused_at", "pause_reason", "register_due", "reply_due", "due_at"])
    _event(appeal, actor=actor, act="resume")
    audit_record(actor=actor, act="appeals.resume", obj=appeal)
    return appeal


@transaction.atomic
def appeal_add_note(*, actor: Any, appeal: Appeal, text: str, is_public: bool = False) -> AppealEvent:
    """办理记录: a handler's or assisting department's note on the timeline (internal unless public)."""
    appeal = Appeal.objects.select_related("unit").get(pk=appeal.pk)
    assisting = set(
        appeal.assignments.filter(role=AssignmentRole.ASSIST, state=AssignmentState.ACTIVE).values_list("department_id", flat=True)
    )
    _require(
        permissions.is_handler(actor, appeal)
        or permissions.is_dispatcher(actor, appeal)
        or permissions.is_assisting(actor, appeal, {d for d in assisting if d is not None})
    )
    text = _text(text, "text", _("记录内容"), limit=2000)
    event = _event(appeal, actor=actor, act="note", note=text, is_public=is_public)
    audit_record(actor=actor, act="appeals.note", obj=appeal)
    return event


# --- supervision ------------------------------------------------------------------------------


@transaction.atomic
def appeal_supervise(
    *,
    actor: Any,
    appeal: Appeal,
    kind: str,
    instructions: str,
    due_at: datetime | None = None,
    leader_name: str = "",
    expected_version: int | None = None,
) -> Supervision:
    """督办 / 领导交办: an instruction with its own deadline (3 working days unless given)."""
    appeal = _lock(appeal, expected_version)
    _check_move(appeal, "supervise")
    if kind not in SupervisionKind.values:
        raise AppealError(_("督办类型无效。"), code="invalid", field="kind")
    if kind == SupervisionKind.LEADER:
        _require(permissions.is_leader(actor, appeal), _("只有领导可以交办或包案。"))
        if not leader_name.strip():
            leader_name = _label(actor)
    else:
        _require(permissions.is_supervisor(actor, appeal))
    instructions = _text(instructions, "instructions", _("督办意见"), limit=2000)
    now = _now()
    if due_at is None:
        due_at = deadlines.due_after(now, 3, "working")
    elif due_at <= now:
        raise AppealError(_("督办期限须晚于现在。"), code="invalid", field="due_at")
    sup = Supervision.objects.create(
        appeal=appeal,
        kind=kind,
        by=acting_user(actor),
        leader_name=leader_name.strip()[:60],
        instructions=instructions,
        created_at=now,
        due_at=due_at,
    )
    _save(appeal, [])
    _event(appeal, actor=actor, act=kind, note=instructions, is_public=False)
    audit_record(actor=actor, act=f"appeals.{kind}", obj=appeal)
    return sup


def _close_supervisions(appeal: Appeal, now: datetime) -> None:
    appeal.supervisions.filter(closed_at__isnull=True).update(closed_at=now)


# --- the petitioner's side: feedback, review ----------------------------------------------------


@transaction.atomic
def appeal_feedback(
    *,
    actor: Any,
    appeal: Appeal,
    department_rating: str,
    centre_rating: str = "",
    comment: str = "",
    as_petitioner: bool = False,
    expected_version: int | None = None,
) -> Feedback:
    """满意度评价: an unsatisfied rating goes back to the department or to review, as the policy says.

    ``as_petitioner`` is set by a view only after it verified the petitioner (their account, or
    tracking code + phone); staff record a rating taken by phone with ``as_petitioner=False``.
    """
    appeal = _lock(appeal, expected_version)
    _check_move(appeal, "feedback")
    _require(as_petitioner or permissions.is_petitioner(actor, appeal) or permissions.is_dispatcher(actor, appeal))
    if department_rating not in Satisfaction.values:
        raise AppealError(_("请选择对承办部门的满意程度。"), code="required", field="department_rating")
    if centre_rating and centre_rating not in Satisfaction.values:
        raise AppealError(_("对群众工作中心的评价取值无效。"), code="invalid", field="centre_rating")
    comment = (comment or "").strip()[:2000]
    if department_rating == Satisfaction.UNSATISFIED and not comment:
        raise AppealError(_("选择“不满意”时请写明原因，以便重新办理。"), code="required", field="comment")
    now = _now()
    last_reply = appeal.replies.order_by("-created_at").first()
    fb = Feedback.objects.create(
        appeal=appeal,
        reply=last_reply,
        department=appeal.department,
        department_rating=department_rating,
        centre_rating=centre_rating,
        comment=comment,
        by=acting_user(actor),
        created_at=now,
    )
    was = appeal.status
    policy = deadlines.policy_for(appeal)
    act = "feedback"
    if department_rating != Satisfaction.UNSATISFIED:
        appeal.status = Status.FEEDBACK
    elif policy.unsatisfied_goes_to_review and not appeal.reviews.filter(level=ReviewLevel.RE_REVIEW).exists():
        level = ReviewLevel.RE_REVIEW if appeal.reviews.filter(level=ReviewLevel.REVIEW).exists() else ReviewLevel.REVIEW
        Review.objects.create(
            appeal=appeal, level=level, reason=comment, requested_at=now, requested_by=fb.by, due_at=deadlines.review_due(appeal, now)
        )
        appeal.status = Status.UNDER_REVIEW
        act = "feedback_to_review"
    else:
        # Back to the department: it handles again within a fresh handling period.
        appeal.status = Status.IN_PROGRESS
        appeal.reply_due = deadlines.reply_due(appeal, now)
        appeal.escalated_at = appeal.reminded_at = None
        act = "feedback_returned"
    deadlines.refresh_due_at(appeal)
    _save(appeal, ["status", "reply_due", "due_at", "escalated_at", "reminded_at"])
    _event(appeal, actor=actor, act=act, note=f"{fb.get_department_rating_display()} {comment}".strip(), from_status=was)
    audit_record(actor=actor, act=f"appeals.{act}", obj=appeal, changed_fields=["status"])
    return fb


@transaction.atomic
def appeal_close(
    *, actor: Any, appeal: Appeal, resolved: bool | None = None, note: str = "", expected_version: int | None = None
) -> Appeal:
    """办结. ``resolved`` (化解) defaults to: rated satisfied or basically satisfied, or, unrated, a reply that supported or explained."""
    appeal = _lock(appeal, expected_version)
    _check_move(appeal, "close")
    _require(permissions.is_dispatcher(actor, appeal) or permissions.is_handler(actor, appeal))
    if resolved is None:
        fb = appeal.feedback.order_by("-created_at").first()
        if fb is not None:
            resolved = fb.department_rating != Satisfaction.UNSATISFIED
        else:
            last = appeal.replies.order_by("-created_at").first()
            resolved = bool(last and last.outcome in (Outcome.SUPPORT, Outcome.EXPLAIN))
    now = _now()
    was = appeal.status
    appeal.status = Status.CLOSED
    appeal.closed_at = now
    appeal.resolved = resolved
    appeal.due_at = None
    _close_supervisions(appeal, now)
    _save(appeal, ["status", "closed_at", "resolved", "due_at"])
    _event(appeal, actor=actor, act="close", note=note, from_status=was)
    audit_record(actor=actor, act="appeals.close", obj=appeal, changed_fields=["status", "closed_at", "resolved"])
    return appeal


def review_request_until(appeal: Appeal) -> tuple[int, datetime | None]:
    """The next review level the petitioner may ask for and until when (level 0: none left)."""
    reviews = {r.level: r for r in appeal.reviews.all()}
    policy = deadlines.policy_for(appeal)
    if ReviewLevel.RE_REVIEW in reviews or appeal.is_final:
        return 0, None
    if ReviewLevel.REVIEW in reviews:
        first = reviews[ReviewLevel.REVIEW]
        if first.decided_at is None:
            return 0, None
        return ReviewLevel.RE_REVIEW, deadlines.due_after(first.decided_at, policy.review_request_days, "calendar")
    if appeal.replied_at is None:
        return 0, None
    return ReviewLevel.REVIEW, deadlines.due_after(appeal.replied_at, policy.review_request_days, "calendar")


@transaction.atomic
def appeal_request_review(
    *, actor: Any, appeal: Appeal, reason: str, as_petitioner: bool = False, expected_version: int | None = None
) -> Review:
    """复查 (then 复核): asked within 30 days of the reply (or of the review decision)."""
    appeal = _lock(appeal, expected_version)
    if appeal.is_final:
        raise AppealError(
            _("该事项已经复核终结。根据《信访工作条例》，同一事实和理由不再受理。"), code="final_case"
        )
    _check_move(appeal, "request_review")
    _require(as_petitioner or permissions.is_petitioner(actor, appeal) or permissions.is_dispatcher(actor, appeal))
    reason = _text(reason, "reason", _("申请理由"), limit=2000)
    level, until = review_request_until(appeal)
    now = _now()
    if level == 0 or until is None:
        raise AppealError(_("该诉求目前不能申请复查或复核。"), code="invalid_transition")
    if now > until:
        raise AppealError(
            _("申请%(what)s须在收到答复（或复查意见）之日起 %(n)s 日内提出，已于 %(d)s 截止。")
            % {
                "what": ReviewLevel(level).label,
                "n": deadlines.policy_for(appeal).review_request_days,
                "d": timezone.localtime(until).strftime("%Y-%m-%d"),
            },
            code="review_late",
        )
    review = Review.objects.create(
        appeal=appeal,
        level=level,
        reason=reason,
        requested_at=now,
        requested_by=acting_user(actor),
        due_at=deadlines.review_due(appeal, now),
    )
    was = appeal.status
    appeal.status = Status.UNDER_REVIEW
    appeal.escalated_at = appeal.reminded_at = None
    deadlines.refresh_due_at(appeal)
    _save(appeal, ["status", "due_at", "escalated_at", "reminded_at"])
    _event(appeal, actor=actor, act=f"request_review_{level}", note=reason, from_status=was)
    audit_record(actor=actor, act="appeals.request_review", obj=appeal, reason=reason)
    return review


@transaction.atomic
def appeal_decide_review(
    *, actor: Any, appeal: Appeal, decision: str, text: str, expected_version: int | None = None
) -> Review:
    """复查/复核意见: uphold (closed; after 复核 the case is final) or revise (handled again)."""
    appeal = _lock(appeal, expected_version)
    _check_move(appeal, "decide_review")
    _require(permissions.is_supervisor(actor, appeal))
    if decision not in ReviewDecision.values:
        raise AppealError(_("请选择复查复核结论。"), code="required", field="decision")
    text = _text(text, "text", _("复查复核意见"), limit=4000)
    review = appeal.reviews.filter(decided_at__isnull=True).order_by("-level").first()
    if review is None:
        raise AppealError(_("没有待办理的复查复核申请。"), code="invalid_transition")
    now = _now()
    review.decision, review.decision_text, review.decided_at = decision, text, now
    review.decided_by = acting_user(actor)
    review.save(update_fields=["decision", "decision_text", "decided_at", "decided_by"])
    was = appeal.status
    if decision == ReviewDecision.UPHELD:
        appeal.status = Status.CLOSED
        appeal.closed_at = now
        appeal.is_final = review.level == ReviewLevel.RE_REVIEW
        if appeal.resolved is None:
            appeal.resolved = False
        _close_supervisions(appeal, now)
    else:
        appeal.status = Status.IN_PROGRESS
        appeal.reply_due = deadlines.reply_due(appeal, now)
        appeal.closed_at = None
    deadlines.refresh_due_at(appeal)
    _save(appeal, ["status", "closed_at", "is_final", "resolved", "reply_due", "due_at"])
    _event(appeal, actor=actor, act=f"review_{decision}", note=text, from_status=was)
    audit_record(actor=actor, act="appeals.decide_review", obj=appeal, changed_fields=["status"], reason=decision)
    msg = _("您的%(what)s申请（%(code)s）已有结论：%(d)s。") % {
        "what": review.get_level_display(),
        "code": appeal.code,
        "d": review.get_decision_display(),
    }
    if appeal.is_final:
        msg += _("复核意见为最终意见，同一事实和理由不再受理。")
    _tell_petitioner(appeal, msg)
    return review


@transaction.atomic
def appeal_reopen(*, actor: Any, appeal: Appeal, reason: str, expected_version: int | None = None) -> Appeal:
    """重新办理: a supervisor reopens a closed appeal (not a case made final by re-review)."""
    appeal = _lock(appeal, expected_version)
    _check_move(appeal, "reopen")
    _require(permissions.is_supervisor(actor, appeal))
    if appeal.is_final:
        raise AppealError(_("该事项已经复核终结，不能重新办理。"), code="final_case")
    reason = _text(reason, "reason", _("重新办理理由"), limit=1000)
    now = _now()
    was = appeal.status
    appeal.status = Status.IN_PROGRESS if appeal.department_id or appeal.assignments.exists() else Status.REGISTERED
    appeal.closed_at = None
    appeal.resolved = None
    appeal.reply_due = deadlines.reply_due(appeal, now)
    appeal.escalated_at = appeal.reminded_at = None
    deadlines.refresh_due_at(appeal)
    _save(appeal, ["status", "closed_at", "resolved", "reply_due", "due_at", "escalated_at", "reminded_at"])
    _event(appeal, actor=actor, act="reopen", note=reason, from_status=was)
    audit_record(actor=actor, act="appeals.reopen", obj=appeal, reason=reason)
    return appeal


# --- duplicates --------------------------------------------------------------------------------


@transaction.atomic
def appeal_merge(
    *, actor: Any, appeal: Appeal, into: Appeal, reason: str = "", expected_version: int | None = None
) -> Appeal:
    """合并: the newer appeal becomes a repeat (重复信访) of the older; one timeline on the older."""
    appeal = _lock(appeal, expected_version)
    _check_move(appeal, "merge")
    _require(permissions.is_dispatcher(actor, appeal))
    target = _root(Appeal.objects.select_related("repeat_of").get(pk=into.pk))
    if target.pk == appeal.pk:
        raise AppealError(_("不能与自身合并。"), code="invalid", field="into")
    if (target.submitted_at, target.pk) > (appeal.submitted_at, appeal.pk):
        raise AppealError(
            _("只能把较新的诉求合并到较早的诉求（%(code)s 较晚提交）。") % {"code": target.code}, code="invalid", field="into"
        )
    if target.status == Status.MERGED:
        raise AppealError(_("目标诉求本身已被合并。"), code="invalid", field="into")
    now = _now()
    was = appeal.status
    appeal.status = Status.MERGED
    appeal.repeat_of = target
    appeal.closed_at = now
    appeal.due_at = None
    _save(appeal, ["status", "repeat_of", "closed_at", "due_at"])
    DuplicateCandidate.objects.filter(appeal=appeal).filter(other__in=[into.pk, target.pk]).update(
        decision=DuplicateDecision.MERGED, decided_by=acting_user(actor), decided_at=now
    )
    _event(appeal, actor=actor, act="merge", note=_("并入 %(code)s") % {"code": target.code}, from_status=was)
    _event(target, actor=actor, act="repeat", note=_("重复件 %(code)s：%(title)s") % {"code": appeal.code, "title": appeal.title})
    Appeal.objects.filter(pk=target.pk).update(version=target.version + 1, updated_at=now)
    audit_record(actor=actor, act="appeals.merge", obj=appeal, changed_fields=["status", "repeat_of"], reason=reason)
    if target.is_final:
        _tell_petitioner(
            appeal,
            _("您反映的事项已于 %(code)s 复核终结，同一事实和理由不再受理。") % {"code": target.code},
        )
    else:
        _tell_petitioner(
            appeal, _("您的诉求 %(new)s 与 %(old)s 为同一事项，已合并办理。") % {"new": appeal.code, "old": target.code}
        )
    return appeal


@transaction.atomic
def appeal_keep_apart(*, actor: Any, appeal: Appeal, other: Appeal) -> DuplicateCandidate:
    """不合并: staff judge the suggested pair to be different matters (or new facts)."""
    appeal = Appeal.objects.select_related("unit").get(pk=appeal.pk)
    _require(permissions.is_dispatcher(actor, appeal))
    cand = DuplicateCandidate.objects.filter(appeal=appeal, other=other).first()
    if cand is None:
        raise AppealError(_("没有这一对疑似重复记录。"), code="invalid", field="other")
    cand.decision = DuplicateDecision.KEPT_APART
    cand.decided_by = acting_user(actor)
    cand.decided_at = _now()
    cand.save(update_fields=["decision", "decided_by", "decided_at"])
    _event(appeal, actor=actor, act="keep_apart", note=other.code, is_public=False)
    audit_record(actor=actor, act="appeals.keep_apart", obj=appeal)
    return cand
