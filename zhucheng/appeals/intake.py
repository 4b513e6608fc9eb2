"""Intake (诉求登记): the one service every channel calls — portal, desk, letter, hotline, Open311, import.

``appeal_submit`` validates everything before it writes anything (fields, location, contacts,
attachments), so a refused submission leaves nothing behind; it then gives the appeal its
tracking code, places it in a grid, asks the classifier for a category, sets the registration
deadline, stores the attachments and records likely duplicates. A client that retries with the
same ``client_token`` gets the appeal it already created.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhucheng.core.audit import audit_record
from zhucheng.core.context import acting_user
from zhucheng.core.crypto import keyed_hash
from zhucheng.core.identifiers import validate_mobile, validate_resident_id
from zhucheng.core.notify import notify
from zhucheng.places import geo
from zhucheng.places.models import Department, OrgUnit, OrgUnitKind

from . import deadlines
from .errors import AppealError
from .models import (
    Appeal,
    AppealEvent,
    AppealKind,
    Assignment,
    AssignmentRole,
    AssignmentState,
    Category,
    CategoryDecision,
    Channel,
    CodeSequence,
    DuplicateCandidate,
    Feedback,
    Outcome,
    Petitioner,
    Reply,
    Satisfaction,
    Status,
    Urgency,
)

CODE_PREFIX = getattr(settings, "ZHUCHENG_APPEAL_CODE_PREFIX", "GY")
MAX_DESCRIPTION = 4000
# Channels where a person types the appeal in themselves and must leave a phone to track it.
SELF_SERVICE = (Channel.PORTAL,)  # Open311 makes every contact field optional


@dataclass
class PetitionerInput:
    name: str = ""
    phone: str = ""
    id_number: str = ""
    address: str = ""
    is_anonymous: bool = False


@dataclass
class SubmitResult:
    appeal: Appeal
    created: bool
    duplicates: list[DuplicateCandidate] = field(default_factory=list)


def next_code(year: int) -> str:
    """GY2026-0001234: a per-year counter, incremented under the row lock of this transaction."""
    last = _increment(year)
    if last is None:
        try:
            with transaction.atomic():
                CodeSequence.objects.create(year=year, last=1)
            last = 1
        except IntegrityError:
            last = _increment(year)
    return f"{CODE_PREFIX}{year}-{last:07d}"


_SET_CODE_SQL = f"UPDATE {Appeal._meta.db_table} SET code = %s WHERE id = %s"  # noqa: S608 - a table name


def _placeholder_code() -> str:
    """A unique stand-in for the code while the new appeal's row is written (never committed)."""
    return "~" + uuid.uuid4().hex[:19]


def _increment(year: int) -> int | None:
    """The year's counter plus one, in one statement (UPDATE … RETURNING), or None without a row."""
    table = connection.ops.quote_name(CodeSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET last = last + 1 WHERE year = %s RETURNING last", [year])  # noqa: S608 (table name from the model)
        row = cursor.fetchone()
    return int(row[0]) if row else None


def _clean_text(value: Any, field_name: str, label: str, limit: int) -> str:
    text = str(value or "").strip()
    if not text:
        raise AppealError(_("请填写%(label)s。") % {"label": label}, code="required", field=field_name)
    if len(text) > limit:
        raise AppealError(
            _("%(label)s不能超过 %(limit)s 个字（现有 %(n)s 个）。") % {"label": label, "limit": limit, "n": len(text)},
            code="too_long",
            field=field_name,
        )
    if "<" in text and ">" in text and any(tag in text.lower() for tag in ("<script", "<a ", "<img", "<iframe", "</")):
        raise AppealError(_("%(label)s不能包含 HTML 标记。") % {"label": label}, code="html", field=field_name)
    return text


def _locate(lat: Any, lon: Any, unit: OrgUnit | None) -> tuple[float | None, float | None, OrgUnit, OrgUnit | None]:
    """(lat, lon, unit, grid): a point is placed by the grid boundaries; without one a unit is needed."""
    if lat in (None, "") and lon in (None, ""):
        if unit is None:
            raise AppealError(_("请在地图上选点，或选择诉求所在的社区（乡镇）。"), code="required", field="location")
        return None, None, unit, unit if unit.kind == OrgUnitKind.GRID else None
    try:
        flat, flon = float(lat), float(lon)
    except (TypeError, ValueError):
        raise AppealError(_("坐标须为数字（纬度、经度都要填写）。"), code="invalid", field="location") from None
    if not (-90 <= flat <= 90 and -180 <= flon <= 180):
        raise AppealError(
            _("坐标超出范围：纬度 %(lat)s、经度 %(lon)s。") % {"lat": lat, "lon": lon}, code="invalid", field="location"
        )
    found = geo.locate(flat, flon)
    if found is None:
        raise AppealError(
            _("该位置（纬度 %(lat).5f，经度 %(lon).5f）不在本市任何网格内，请核对坐标或改为选择所在社区。")
            % {"lat": flat, "lon": flon},
            code="outside_city",
            field="location",
        )
    return flat, flon, found, found if found.kind == OrgUnitKind.GRID else None


def _petitioners(items: Sequence[PetitionerInput], channel: str, resident: Any) -> list[Petitioner]:
    out: list[Petitioner] = []
    for i, p in enumerate(items):
        prefix = f"petitioners[{i}]"
        phone = ""
        if p.phone:
            try:
                phone = validate_mobile(p.phone)
            except Exception as exc:
                raise AppealError(
                    _("第 %(n)s 位诉求人的手机号“%(v)s”无效：%(why)s") % {"n": i + 1, "v": p.phone, "why": exc},
                    code="invalid",
                    field=f"{prefix}.phone",
                ) from None
        id_number = ""
        if p.id_number:
            try:
                id_number = validate_resident_id(p.id_number)
            except Exception as exc:
                raise AppealError(
                    _("第 %(n)s 位诉求人的身份证号无效：%(why)s") % {"n": i + 1, "why": exc},
                    code="invalid",
                    field=f"{prefix}.id_number",
                ) from None
        out.append(
            Petitioner(
                name=(p.name or "").strip()[:60],
                phone=phone,
                id_number=id_number,
                address=(p.address or "").strip()[:200],
                is_anonymous=p.is_anonymous,
                is_primary=i == 0,
            )
        )
    if channel in SELF_SERVICE and resident is None and not any(p.phone for p in out):
        raise AppealError(_("请留下手机号，用于查询办理进度和接收答复。"), code="required", field="petitioners[0].phone")
    return out


def _submitter_label(actor: Any) -> str:
    if actor is not None and getattr(actor, "is_authenticated", False):
        return str(getattr(actor, "display_name", "") or actor.get_username())[:150]
    return str(_("诉求人"))


@dataclass(frozen=True)
class AuditAs:
    """Who the submission's audit event names, for a channel acting on a client's behalf."""

    actor: Any
    act: str
    reason: str = ""


@transaction.atomic
def appeal_submit(
    *,
    actor: Any,
    channel: str,
    title: str,
    description: str,
    kind: str = AppealKind.APPEAL,
    category: Category | None = None,
    urgency: str = Urgency.NORMAL,
    address: str = "",
    lat: Any = None,
    lon: Any = None,
    unit: OrgUnit | None = None,
    petitioners: Sequence[PetitionerInput] = (),
    is_collective: bool = False,
    headcount: int = 1,
    attachments: Sequence[Any] = (),
    resident: Any = None,
    submitted_at: datetime | None = None,
    client_token: str | None = None,
    source_ref: str = "",
    audit_as: AuditAs | None = None,
) -> SubmitResult:
    """诉求登记: validate, code, locate, classify, set the registration deadline, store files, suggest duplicates.

    ``audit_as`` lets a channel that acts for someone else (an Open311 client's key) write the one
    audit event of the submission in its own name, act and reason instead of ``appeals.submit``.
    """
    from . import attachments as attachment_store
    from . import classifier, duplicates

    if client_token:
        # Almost always absent: ask for the id alone (a full-row query costs more to build than to run).
        earlier = list(Appeal.objects.filter(client_token=client_token).values_list("pk", flat=True)[:1])
        if earlier:
            retried = Appeal.objects.get(pk=earlier[0])
            return SubmitResult(retried, created=False, duplicates=list(retried.duplicate_candidates.all()))
    # --- validate everything first: nothing is written for a refused submission ---
    if channel not in Channel.values:
        raise AppealError(_("渠道“%(v)s”无效。") % {"v": channel}, code="invalid", field="channel")
    if kind not in AppealKind.values:
        raise AppealError(_("类型“%(v)s”无效。") % {"v": kind}, code="invalid", field="kind")
    if urgency not in Urgency.values:
        raise AppealError(_("紧急程度“%(v)s”无效。") % {"v": urgency}, code="invalid", field="urgency")
    title = _clean_text(title, "title", _("标题"), 120)
    description = _clean_text(description, "description", _("诉求内容"), MAX_DESCRIPTION)
    if category is not None and category.parent_id is None:
        raise AppealError(_("请选择二级分类（如“城市管理 › 路灯照明”）。"), code="not_leaf", field="category")
    try:
        headcount = int(headcount)
    except (TypeError, ValueError):
        raise AppealError(_("人数须为整数。"), code="invalid", field="headcount") from None
    if headcount < 1:
        raise AppealError(_("人数至少为 1。"), code="invalid", field="headcount")
    if is_collective and headcount < 2:
        raise AppealError(_("集体诉求请填写实际人数（至少 2 人）。"), code="invalid", field="headcount")
    flat, flon, placed_unit, grid = _locate(lat, lon, unit)
    people = _petitioners(petitioners, channel, resident)
    uploads = attachment_store.validate_uploads(list(attachments))
    address = (address or "").strip()[:200]

    now = timezone.now()
    when = submitted_at or now
    suggestion = classifier.suggest(f"{title}\n{description}")
    appeal = Appeal(
        kind=kind,
        channel=channel,
        urgency=urgency,
        title=title,
        description=description,
        category=category,
        suggested_category=suggestion.category if suggestion else None,
        suggested_score=suggestion.score if suggestion else None,
        suggestion_model=suggestion.model_version[:40] if suggestion else "",
        category_confirmed_by=actor
        if (category is not None and getattr(actor, "is_authenticated", False) and not getattr(actor, "is_resident", False))
        else None,
        address=address,
        lat=flat,
        lon=flon,
        grid=grid,
        unit=placed_unit,
        is_collective=is_collective,
        headcount=headcount,
        submitted_at=when,
        submitted_by=acting_user(actor),
        resident=resident,
        client_token=client_token or None,
        source_ref=(source_ref or "").strip()[:80],
    )
    # The petitioner key is the keyed hash of the first phone, as Petitioner.phone_hash would be.
    first_phone = next((p.phone for p in people if p.phone), "")
    resident_phone = str(getattr(resident, "phone", "") or "") if resident is not None else ""
    first_phone = first_phone or resident_phone
    appeal.petitioner_key = keyed_hash(first_phone) if first_phone else ""
    appeal.register_due = deadlines.register_due(appeal, when)
    deadlines.refresh_due_at(appeal)
    if submitted_at is not None and appeal.due_at is not None and appeal.due_at < now:
        # A historical case loaded already overdue is backlog from day one; it is shown as such,
        # but the sweep does not page every supervisor for thousands of old cases at once.
        appeal.reminded_at = appeal.escalated_at = now
    # The search reads only earlier appeals, so it runs before the code counter's row lock and the
    # audit lock are taken: concurrent submissions wait on each other for the inserts alone.
    found_candidates = duplicates.find_candidates(appeal)
    # Both locks are held to the commit, so they are taken last: the row goes in under a unique
    # placeholder that no other transaction can see, and gets its code just before the commit.
    appeal.code = _placeholder_code()
    try:
        # A savepoint only where a retried request may collide on its client token.
        with transaction.atomic(savepoint=bool(client_token)):
            appeal.save()
    except IntegrityError:
        if client_token:
            existing = Appeal.objects.filter(client_token=client_token).first()
            if existing is not None:
                return SubmitResult(existing, created=False, duplicates=[])
        raise
    for p in people:
        p.appeal = appeal
        p.save()
    if category is not None and suggestion is not None:
        CategoryDecision.objects.create(
            appeal=appeal,
            suggested=suggestion.category,
            score=suggestion.score,
            chosen=category,
            by=appeal.category_confirmed_by,
            at=now,
            model_version=suggestion.model_version,
        )
    for upload in uploads:
        attachment_store.store(appeal=appeal, upload=upload, uploaded_by=appeal.submitted_by, now=now)
    found = [DuplicateCandidate(appeal=appeal, other=c.other, score=round(c.score, 3), reason=c.reason) for c in found_candidates]
    DuplicateCandidate.objects.bulk_create(found)
    AppealEvent.objects.create(
        appeal=appeal,
        act="submit",
        actor=appeal.submitted_by,
        actor_label=_submitter_label(actor),
        to_status=appeal.status,
        note=str(Channel(channel).label),
        is_public=True,
        at=when,
    )
    if audit_as is None:
        audit_record(actor=actor, act="appeals.submit", obj=appeal, changed_fields=["status"])
    else:
        audit_record(actor=audit_as.actor, act=audit_as.act, obj=appeal, changed_fields=["status"], reason=audit_as.reason)
    appeal.code = next_code(timezone.localtime(when).year)
    with connection.cursor() as cursor:  # one plain UPDATE, without the ORM's compile step per submission
        cursor.execute(_SET_CODE_SQL, [appeal.code, appeal.pk])
    if first_phone and channel != Channel.IMPORT and submitted_at is None:
        notify(
            channel="sms",
            address=first_phone,
            text=_("您的诉求已收到，受理编号 %(code)s，可凭编号和手机号查询办理进度。") % {"code": appeal.code},
        )
    return SubmitResult(appeal, created=True, duplicates=found)


@transaction.atomic
def appeal_record_history(
    *,
    actor: Any,
    appeal: Appeal,
    department: Department | None,
    outcome: str,
    reply_text: str,
    replied_at: datetime,
    closed_at: datetime | None,
    rating: str | None = None,
) -> Appeal:
    """历史件: an imported case that was handled elsewhere goes straight to replied (or closed), with its reply."""
    if appeal.status != Status.SUBMITTED:
        raise AppealError(_("只能为新导入的诉求补录历史办理结果。"), code="invalid_transition")
    if outcome not in Outcome.values:
        raise AppealError(_("处理结果须为“支持”“解释”或“不予支持”。"), code="invalid", field="outcome")
    reply_text = _clean_text(reply_text, "reply", _("答复内容"), MAX_DESCRIPTION)
    if replied_at < appeal.submitted_at:
        raise AppealError(_("答复时间早于提交时间。"), code="invalid", field="replied_at")
    if closed_at is not None and closed_at < replied_at:
        raise AppealError(_("办结时间早于答复时间。"), code="invalid", field="closed_at")
    if rating and rating not in Satisfaction.values:
        raise AppealError(_("满意度取值无效。"), code="invalid", field="rating")
    appeal.registered_at = appeal.submitted_at
    appeal.assigned_at = appeal.submitted_at
    appeal.reply_due = deadlines.reply_due(appeal, appeal.submitted_at)
    if department is not None:
        Assignment.objects.create(
            appeal=appeal,
            department=department,
            role=AssignmentRole.LEAD,
            state=AssignmentState.DONE,
            assigned_at=appeal.submitted_at,
            ended_at=closed_at or replied_at,
        )
        appeal.department = department
    reply = Reply.objects.create(
        appeal=appeal,
        department=department,
        outcome=outcome,
        text=reply_text,
        created_at=replied_at,
        on_time=appeal.reply_due is None or replied_at <= appeal.reply_due,
    )
    appeal.replied_at = replied_at
    appeal.status = Status.REPLIED
    if rating:
        Feedback.objects.create(
            appeal=appeal, reply=reply, department=department, department_rating=rating, created_at=closed_at or replied_at
        )
        appeal.status = Status.FEEDBACK
    if closed_at is not None:
        appeal.status = Status.CLOSED
        appeal.closed_at = closed_at
        appeal.resolved = (rating != Satisfaction.UNSATISFIED) if rating else outcome != Outcome.NOT_SUPPORT
    appeal.due_at = None
    appeal.version += 1
    appeal.save()
    AppealEvent.objects.create(
        appeal=appeal,
        act="import_history",
        actor_label=_("历史导入"),
        to_status=appeal.status,
        note=reply_text[:200],
        at=replied_at,
    )
    audit_record(actor=actor, act="appeals.import_history", obj=appeal, changed_fields=["status"])
    return appeal
