"""Every write to an enrolment: enrol with consent, withdraw consent, assess needs, review, end, record visits
(raising an appeal or a referral in the same step), answer referrals, record services, grant sensitive categories.

One function per act, keyword-only, in one transaction, permission-checked, audited (``care.*``).
Overdue rule: the next visit is due ``interval`` *calendar* days after the last visit (or the enrolment),
the interval following the risk level; a due date on a rest day rolls to the next working day
(``core.calendar.add_calendar_days``). Calendar days because a person at risk needs the visit whatever the
office calendar says; the roll-over only avoids counting a weekend as a missed visit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhucheng.core.audit import audit_record
from zhucheng.core.calendar import add_calendar_days
from zhucheng.places.models import Department, OrgUnit, Role
from zhucheng.places.selectors import scope_for

from . import access
from .errors import CareError
from .models import (
    CareCategory,
    CarePlan,
    CategoryGrant,
    Consent,
    ConsentForm,
    ConsentGiver,
    Enrolment,
    EnrolmentState,
    NeedsAssessment,
    Referral,
    ReferralState,
    RiskLevel,
    ServiceDelivery,
    ServiceKind,
    Visit,
    VisitKind,
)

ADULT_AGE = 18
PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{6,19}$")


def today() -> date:
    return timezone.localdate()


def require(ok: bool, message: str | None = None) -> None:
    if not ok:
        raise CareError(message or _("您没有权限执行此操作。"), code="forbidden")


def clean_text(value: str | None, field: str, label: str, *, limit: int = 4000, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise CareError(_("请填写%(label)s。") % {"label": label}, code="required", field=field)
    if len(value) > limit:
        raise CareError(_("%(label)s不能超过 %(n)d 字。") % {"label": label, "n": limit}, code="too_long", field=field)
    return value


def clean_phone(value: str | None, field: str, *, required: bool = True) -> str:
    value = (value or "").strip()
    if not value:
        if required:
            raise CareError(_("请填写联系电话。"), code="required", field=field)
        return ""
    if not PHONE_RE.match(value):
        raise CareError(_("电话“%(v)s”格式不对：请填写手机号或带区号的固定电话。") % {"v": value}, code="invalid", field=field)
    return value


def is_system(user: Any) -> bool:
    return user is None


def has_role_over(user: Any, unit: OrgUnit, roles: frozenset[str] | set[str]) -> bool:
    return is_system(user) or bool(access.roles_over(user, unit.path) & set(roles))


def can_read(user: Any, enrolment: Enrolment) -> bool:
    """Unit scope plus the sensitive-category grant (``actor=None``, the system, reads everything)."""
    if user is None:
        return True
    return bool(access.roles_over(user, enrolment.unit.path)) and access.can_read_category(user, enrolment.category, enrolment.unit.path)


def lock(enrolment: Enrolment) -> Enrolment:
    return Enrolment.objects.select_for_update(of=("self",)).select_related("unit", "category", "person").get(pk=enrolment.pk)


def require_active(enrolment: Enrolment) -> None:
    if enrolment.state != EnrolmentState.ACTIVE:
        raise CareError(_("该关爱对象已结案或已撤回同意，不能再登记。"), code="not_active")


def age_on(birth: date | None, on: date) -> int | None:
    if birth is None:
        return None
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def due_after(start: date, interval: int) -> date:
    return add_calendar_days(start, interval).date


def _replan(enrolment: Enrolment, *, goals: str | None = None) -> CarePlan:
    interval = enrolment.category.interval_for(enrolment.risk_level)
    plan = CarePlan.objects.filter(enrolment=enrolment).first()
    if plan is None:
        plan = CarePlan(enrolment=enrolment, goals=goals or "")
    elif goals is not None:
        plan.goals = goals
    plan.interval_days = interval
    plan.next_due_on = due_after(plan.last_visit_on or enrolment.enrolled_on, interval)
    plan.save()
    return plan


# --- enrolment -----------------------------------------------------------------------------------


@dataclass
class ConsentInput:
    """知情同意 as recorded on the form."""

    given_by: str = ""
    given_on: date | None = None
    form: str = ""
    withdrawal_method: str = ""
    guardian_name: str = ""
    guardian_relation: str = ""
    guardian_phone: str = ""
    lacks_capacity: bool = False
    document_ref: str = ""


def _check_consent(consent: ConsentInput | None, person: Any, on: date) -> ConsentInput:
    if consent is None or not consent.given_by:
        raise CareError(_("登记关爱对象须有本人或监护人的知情同意。"), code="consent_required", field="given_by")
    if consent.given_by not in ConsentGiver.values:
        raise CareError(_("同意人无效。"), code="invalid", field="given_by")
    if consent.form not in ConsentForm.values:
        raise CareError(_("请选择同意方式。"), code="required", field="form")
    if consent.given_on is None:
        raise CareError(_("请填写同意日期。"), code="required", field="given_on")
    if consent.given_on > on:
        raise CareError(_("同意日期不能晚于登记日期。"), code="invalid", field="given_on")
    consent.withdrawal_method = clean_text(consent.withdrawal_method, "withdrawal_method", _("撤回方式"), limit=200)
    age = age_on(getattr(person, "birth_date", None), on)
    needs_guardian = consent.lacks_capacity or (age is not None and age < ADULT_AGE)
    if needs_guardian and consent.given_by != ConsentGiver.GUARDIAN:
        why = _("未成年人") if not consent.lacks_capacity else _("无民事行为能力或限制民事行为能力的成年人")
        raise CareError(_("%(who)s须由监护人同意。") % {"who": why}, code="guardian_required", field="given_by")
    if consent.given_by == ConsentGiver.GUARDIAN:
        consent.guardian_name = clean_text(consent.guardian_name, "guardian_name", _("监护人姓名"), limit=60)
        consent.guardian_relation = clean_text(consent.guardian_relation, "guardian_relation", _("监护人与本人关系"), limit=30)
        consent.guardian_phone = clean_phone(consent.guardian_phone, "guardian_phone")
    else:
        consent.guardian_name = consent.guardian_relation = consent.guardian_phone = ""
    return consent


@transaction.atomic
def enrolment_create(
    *,
    actor: Any,
    person: Any,
    category: CareCategory,
    consent: ConsentInput | None,
    carer: Any = None,
    volunteer_name: str = "",
    volunteer_phone: str = "",
    situation: str = "",
    goals: str = "",
    enrolled_on: date | None = None,
) -> Enrolment:
    """登记关爱对象: only with consent; the carer is a staff member with a post over the person's grid, or a volunteer."""
    on = enrolled_on or today()
    unit = person.unit
    require(has_role_over(actor, unit, access.READ_ROLES), _("该人员不在您的管辖范围内。"))
    require(is_system(actor) or access.can_read_category(actor, category, unit.path), _("您没有登记该类别关爱对象的授权。"))
    if not category.is_active:
        raise CareError(_("该类别已停用。"), field="category")
    if getattr(person, "died_on", None):
        raise CareError(_("该人员已死亡，不能登记。"), code="deceased", field="person")
    consent = _check_consent(consent, person, on)
    volunteer_name = (volunteer_name or "").strip()[:60]
    if carer is None and not volunteer_name:
        raise CareError(_("请指定责任人（工作人员或志愿者）。"), code="required", field="carer")
    if carer is not None and not access.roles_over(carer, unit.path):
        raise CareError(_("责任人须在该人员所在网格有岗位。"), code="invalid", field="carer")
    volunteer_phone = clean_phone(volunteer_phone, "volunteer_phone", required=False) if carer is None else ""
    if Enrolment.objects.select_for_update().filter(person=person, category=category, state=EnrolmentState.ACTIVE).exists():
        raise CareError(_("该人员已在此类别中登记。"), code="duplicate", field="category")
    review_on = _add_months(on, category.review_months)
    given_on: date = consent.given_on  # type: ignore[assignment]  # checked in _check_consent
    enrolment = Enrolment.objects.create(
        person=person, category=category, unit=unit, enrolled_on=on, enrolled_by=actor if actor is not None else None,
        carer=carer, volunteer_name="" if carer is not None else volunteer_name, volunteer_phone=volunteer_phone,
        review_on=review_on, situation=clean_text(situation, "situation", _("基本情况"), required=False),
    )
    Consent.objects.create(
        enrolment=enrolment, given_by=consent.given_by, guardian_name=consent.guardian_name, guardian_relation=consent.guardian_relation,
        guardian_phone=consent.guardian_phone, lacks_capacity=consent.lacks_capacity, given_on=given_on, form=consent.form,
        document_ref=(consent.document_ref or "").strip()[:60], withdrawal_method=consent.withdrawal_method, recorded_by=actor,
    )
    _replan(enrolment, goals=goals.strip())
    audit_record(actor=actor, act="care.enrol", obj=enrolment, changed_fields=["person", "category", "consent", "carer"])
    return enrolment


def _add_months(on: date, months: int) -> date:
    y, m = divmod(on.month - 1 + months, 12)
    year, month = on.year + y, m + 1
    for day in (on.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    return date(year, month, 28)


@transaction.atomic
def consent_withdraw(*, actor: Any, enrolment: Enrolment, withdrawn_on: date | None = None, via: str = "") -> Enrolment:
    """撤回同意: ends the enrolment at once; from then on its details are shown to no one (the audit keeps the acts)."""
    enrolment = lock(enrolment)
    require(is_system(actor) or can_read(actor, enrolment))
    require_active(enrolment)
    on = withdrawn_on or today()
    via = clean_text(via, "via", _("撤回途径"), limit=100)
    consent = Consent.objects.select_for_update().get(enrolment=enrolment)
    consent.withdrawn_on, consent.withdrawn_via = on, via
    consent.save(update_fields=["withdrawn_on", "withdrawn_via", "updated_at"])
    enrolment.state, enrolment.ended_on, enrolment.end_reason = EnrolmentState.WITHDRAWN, on, str(_("本人或监护人撤回同意"))
    enrolment.save(update_fields=["state", "ended_on", "end_reason", "updated_at"])
    audit_record(actor=actor, act="care.consent_withdraw", obj=enrolment, changed_fields=["state", "consent"], reason=via)
    return enrolment


@transaction.atomic
def enrolment_end(*, actor: Any, enrolment: Enrolment, reason: str, ended_on: date | None = None) -> Enrolment:
    """结案 (needs met, moved away, died): the record stays readable to those who may read it."""
    enrolment = lock(enrolment)
    require(is_system(actor) or (can_read(actor, enrolment) and has_role_over(actor, enrolment.unit, access.MANAGE_ROLES)))
    require_active(enrolment)
    enrolment.state, enrolment.ended_on = EnrolmentState.ENDED, ended_on or today()
    enrolment.end_reason = clean_text(reason, "reason", _("结案原因"), limit=200)
    enrolment.save(update_fields=["state", "ended_on", "end_reason", "updated_at"])
    audit_record(actor=actor, act="care.end", obj=enrolment, changed_fields=["state"], reason=enrolment.end_reason)
    return enrolment


def score_answers(questionnaire: Any, answers: Sequence[int]) -> tuple[int, str]:
    """Total of the chosen answers' scores and the risk level its thresholds give."""
    questions = list(questionnaire.questions or [])
    if len(answers) != len(questions):
        raise CareError(_("请回答全部 %(n)d 道题。") % {"n": len(questions)}, code="required", field="answers")
    total = 0
    for i, (question, answer) in enumerate(zip(questions, answers, strict=True)):
        choices = question.get("choices") or []
        if not isinstance(answer, int) or not 0 <= answer < len(choices):
            raise CareError(_("第 %(n)d 题的答案无效。") % {"n": i + 1}, code="invalid", field=f"q{i}")
        total += int(choices[answer][1])
    if total >= questionnaire.high_from:
        return total, RiskLevel.HIGH
    if total >= questionnaire.medium_from:
        return total, RiskLevel.MEDIUM
    return total, RiskLevel.LOW


@transaction.atomic
def assessment_record(*, actor: Any, enrolment: Enrolment, answers: Sequence[int], notes: str = "", assessed_on: date | None = None) -> NeedsAssessment:
    """需求评估: score the answers, set the risk level and with it the visit interval of the care plan."""
    enrolment = lock(enrolment)
    require(is_system(actor) or (can_read(actor, enrolment) and has_role_over(actor, enrolment.unit, access.READ_ROLES)))
    require_active(enrolment)
    questionnaire = enrolment.category.questionnaire
    if questionnaire is None:
        raise CareError(_("该类别没有配置评估问卷。"), code="no_questionnaire")
    score, level = score_answers(questionnaire, list(answers))
    assessment = NeedsAssessment.objects.create(
        enrolment=enrolment, questionnaire=questionnaire, answers=list(answers), score=score, risk_level=level,
        assessed_on=assessed_on or today(), assessed_by=actor, notes=clean_text(notes, "notes", _("说明"), required=False),
    )
    enrolment.risk_level = level
    enrolment.save(update_fields=["risk_level", "updated_at"])
    _replan(enrolment)
    audit_record(actor=actor, act="care.assess", obj=enrolment, changed_fields=["risk_level"], reason=f"score={score}")
    return assessment


@transaction.atomic
def enrolment_review(*, actor: Any, enrolment: Enrolment, note: str, carer: Any = None, reviewed_on: date | None = None) -> Enrolment:
    """定期复核: confirm the situation (optionally change the carer) and set the next review date."""
    enrolment = lock(enrolment)
    require(is_system(actor) or (can_read(actor, enrolment) and has_role_over(actor, enrolment.unit, access.MANAGE_ROLES)))
    require_active(enrolment)
    on = reviewed_on or today()
    note = clean_text(note, "note", _("复核意见"))
    fields = ["reviewed_on", "review_on", "situation", "updated_at"]
    if carer is not None:
        if not access.roles_over(carer, enrolment.unit.path):
            raise CareError(_("责任人须在该人员所在网格有岗位。"), code="invalid", field="carer")
        enrolment.carer, enrolment.volunteer_name, enrolment.volunteer_phone = carer, "", ""
        fields += ["carer", "volunteer_name", "volunteer_phone"]
    enrolment.reviewed_on, enrolment.review_on = on, _add_months(on, enrolment.category.review_months)
    enrolment.situation = note
    enrolment.save(update_fields=fields)
    audit_record(actor=actor, act="care.review", obj=enrolment, changed_fields=[f for f in fields if f != "updated_at"])
    return enrolment


# --- visits ----------------------------------------------------------------------------------------


@transaction.atomic
def visit_record(
    *,
    actor: Any,
    enrolment: Enrolment,
    visited_on: date,
    kind: str,
    situation: str,
    needs: str = "",
    follow_up: str = "",
    raise_appeal: bool = False,
    appeal_title: str = "",
    refer_to: Department | None = None,
    referral_note: str = "",
) -> Visit:
    """走访: record the visit, move the plan's due date; optionally raise an appeal and/or a referral, linked to the visit.

    The appeal and the referral carry the need, never the care category (appeals are read by many).
    """
    from zhucheng.appeals.errors import AppealError
    from zhucheng.appeals.intake import PetitionerInput, appeal_submit

    enrolment = lock(enrolment)
    is_carer = actor is not None and enrolment.carer_id == getattr(actor, "pk", None)
    require(is_system(actor) or (can_read(actor, enrolment) and (is_carer or has_role_over(actor, enrolment.unit, access.VISIT_ROLES))))
    require_active(enrolment)
    if kind not in VisitKind.values:
        raise CareError(_("请选择走访方式。"), code="required", field="kind")
    if visited_on > today():
        raise CareError(_("走访日期不能晚于今天。"), code="invalid", field="visited_on")
    if visited_on < enrolment.enrolled_on:
        raise CareError(_("走访日期不能早于登记日期。"), code="invalid", field="visited_on")
    situation = clean_text(situation, "situation", _("现场情况"))
    needs = clean_text(needs, "needs", _("需求"), required=False)
    follow_up = clean_text(follow_up, "follow_up", _("后续措施"), required=False)
    plan = CarePlan.objects.select_for_update().get(enrolment=enrolment)
    visit = Visit.objects.create(
        enrolment=enrolment, visited_on=visited_on, due_on=plan.next_due_on, kind=kind, situation=situation,
        needs=needs, follow_up=follow_up, recorded_by=actor,
    )
    if plan.last_visit_on is None or visited_on >= plan.last_visit_on:
        plan.last_visit_on = visited_on
        plan.next_due_on = due_after(visited_on, plan.interval_days)
        plan.save(update_fields=["last_visit_on", "next_due_on", "updated_at"])
    if raise_appeal:
        if not needs:
            raise CareError(_("转为诉求时请填写需求。"), code="required", field="needs")
        title = clean_text(appeal_title or needs[:40], "appeal_title", _("诉求标题"), limit=120)
        try:
            result = appeal_submit(
                actor=actor, channel="grid", title=title, description=needs, unit=enrolment.unit,
                petitioners=[PetitionerInput(name=enrolment.person.name)], source_ref=f"care-visit-{visit.pk}",
            )
        except AppealError as exc:
            raise CareError(exc.message, code=exc.code, field="appeal_title") from exc
        visit.appeal = result.appeal
        visit.save(update_fields=["appeal", "updated_at"])
    if refer_to is not None:
        note = clean_text(referral_note or needs, "referral_note", _("转介事项"))
        Referral.objects.create(visit=visit, department=refer_to, note=note)
    audit_record(
        actor=actor, act="care.visit", obj=visit, changed_fields=["visit"] + (["appeal"] if raise_appeal else []) + (["referral"] if refer_to else []),
    )
    return visit


@transaction.atomic
def referral_answer(*, actor: Any, referral: Referral, answer: str) -> Referral:
    """转介办理: the department (or unit staff) records what it did."""
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    scope = scope_for(actor)
    require(is_system(actor) or scope.everything or referral.department_id in scope.department_ids)
    if referral.state == ReferralState.DONE:
        raise CareError(_("该转介已处理。"), code="invalid_transition")
    referral.answer = clean_text(answer, "answer", _("处理结果"))
    referral.state, referral.answered_at = ReferralState.DONE, timezone.now()
    referral.save(update_fields=["answer", "state", "answered_at", "updated_at"])
    audit_record(actor=actor, act="care.referral_answer", obj=referral, changed_fields=["answer", "state"])
    return referral


# --- services --------------------------------------------------------------------------------------


@transaction.atomic
def service_record(
    *, actor: Any, enrolment: Enrolment, kind: str, description: str, provider: str, delivered_on: date, amount_fen: int = 0
) -> ServiceDelivery:
    """服务记录: rehabilitation, an aid, a subsidy, material help or hospitalisation, with its value in fen."""
    enrolment = lock(enrolment)
    require(is_system(actor) or (can_read(actor, enrolment) and has_role_over(actor, enrolment.unit, access.READ_ROLES)))
    require_active(enrolment)
    if kind not in ServiceKind.values:
        raise CareError(_("请选择服务类型。"), code="required", field="kind")
    if delivered_on > today():
        raise CareError(_("服务日期不能晚于今天。"), code="invalid", field="delivered_on")
    try:
        amount = int(amount_fen)
    except (TypeError, ValueError):
        raise CareError(_("金额须为数字。"), code="invalid", field="amount_fen") from None
    if amount < 0:
        raise CareError(_("金额不能为负数。"), code="invalid", field="amount_fen")
    delivery = ServiceDelivery.objects.create(
        enrolment=enrolment, kind=kind, description=clean_text(description, "description", _("服务内容"), limit=200),
        provider=clean_text(provider, "provider", _("提供方"), limit=100), delivered_on=delivered_on, amount_fen=amount, recorded_by=actor,
    )
    audit_record(actor=actor, act="care.service", obj=delivery, changed_fields=["kind", "amount_fen"])
    return delivery


# --- grants and reads ----------------------------------------------------------------------------


@transaction.atomic
def grant_create(*, actor: Any, category: CareCategory, unit: OrgUnit, reason: str, role: str = "", user: Any = None) -> CategoryGrant:
    """敏感类别授权: a leader or administrator over ``unit`` grants one role or one person the category there."""
    require(
        is_system(actor) or bool(getattr(actor, "is_superuser", False)) or has_role_over(actor, unit, {Role.LEADER, Role.ADMIN}),
        _("只有该区划的领导或系统管理员可以授权。"),
    )
    if not category.is_sensitive:
        raise CareError(_("一般类别无需授权。"), code="invalid", field="category")
    if bool(role) == (user is not None):
        raise CareError(_("请选择授权给一个角色或一名人员（二选一）。"), code="invalid", field="role")
    if role and role not in Role.values:
        raise CareError(_("角色无效。"), code="invalid", field="role")
    grant = CategoryGrant.objects.create(
        category=category, unit=unit, role=role, user=user, reason=clean_text(reason, "reason", _("授权依据")), granted_by=actor
    )
    audit_record(actor=actor, act="care.grant", obj=grant, changed_fields=["category", "unit", "role" if role else "user"], reason=grant.reason)
    return grant


@transaction.atomic
def grant_revoke(*, actor: Any, grant: CategoryGrant, reason: str) -> CategoryGrant:
    require(is_system(actor) or bool(getattr(actor, "is_superuser", False)) or has_role_over(actor, grant.unit, {Role.LEADER, Role.ADMIN}))
    grant.revoked_at = timezone.now()
    grant.save(update_fields=["revoked_at", "updated_at"])
    audit_record(actor=actor, act="care.grant_revoke", obj=grant, changed_fields=["revoked_at"], reason=reason)
    return grant


def record_reads(*, actor: Any, enrolments: Sequence[Enrolment], purpose: str) -> int:
    """Audit each read of a sensitive-category enrolment (detail, list row, export row, API item)."""
    n = 0
    for e in enrolments:
        if e.category.is_sensitive:
            audit_record(actor=actor, act="care.read_sensitive", obj=e, reason=purpose)
            n += 1
    return n
