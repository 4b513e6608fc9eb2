"""Residence permits (居住证, 城市绿卡) and points-based settlement (积分入户): eligibility, acts, scoring.

Permit life cycle: ``applied`` → ``issued`` (a number, valid for a period) → renewed (签注, the
period extended) → ``expired`` (the daily sweep ``permits_expire_due``) or ``revoked``; an
application can be ``refused``. A residence permit needs half a year's residence as a migrant
and a stable job, home or school (居住证暂行条例 第二条); a city green card also needs a degree.

Points: ``points_submit`` (needs a valid permit) → ``points_score`` (the active ``PointsRule`` s,
breakdown kept) → ``points_decide`` ranks the year's scored applications and approves as many
as the year's quota allows, each with its reasons. Re-exported by ``services``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from zhucheng.core.audit import audit_record
from zhucheng.core.context import acting_user

from . import standard
from .errors import RegistryError, require_reason
from .models import (
    Education,
    Employment,
    EmploymentStatus,
    PermitKind,
    PermitState,
    Person,
    PointsApplication,
    PointsQuota,
    PointsRule,
    PointsState,
    Residence,
    ResidenceKind,
    ResidencePermit,
    RuleKind,
    Tenancy,
)
from .permissions import DECIDER_ROLES, POINTS_ROLES, REGISTRAR_ROLES, can, is_resident_self, is_system, require, roles_over

MIN_RESIDENCE_DAYS = 183  # 居住半年以上
NUMBER_PREFIX: dict[str, str] = {PermitKind.RESIDENCE_PERMIT: "JZZ", PermitKind.GREEN_CARD: "LK"}
VALIDITY_YEARS: dict[str, int] = {PermitKind.RESIDENCE_PERMIT: 1, PermitKind.GREEN_CARD: 3}
DEGREES = (Education.BACHELOR, Education.MASTER, Education.DOCTOR)


def _today() -> date:
    return timezone.localdate()


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)



# --- eligibility ----------------------------------------------------------------------------------


def permit_eligibility(person: Person, kind: str, on: date) -> list[str]:
    """Why ``person`` may not hold a permit of ``kind`` on ``on`` (empty when eligible)."""
    problems: list[str] = []
    home = Residence.objects.filter(person=person, is_primary=True, to_date__isnull=True, is_void=False).first()
    if home is None:
        return [_("没有当前居住登记。")]
    if home.kind != ResidenceKind.MIGRANT:
        return [_("户籍人口不需办理居住证。")]
    if home.from_date is None or (on - home.from_date).days < MIN_RESIDENCE_DAYS:
        problems.append(_("在本市居住未满半年。"))
    works = Employment.objects.filter(person=person, to_date__isnull=True).exists()
    rents = Tenancy.objects.filter(tenants=person, ended_on__isnull=True, start_date__lte=on, end_date__gte=on).exists()
    owns = home.housing_unit.owner_id == person.pk
    studies = person.employment_status == EmploymentStatus.STUDENT
    if not (works or rents or owns or studies):
        problems.append(_("没有合法稳定就业、合法稳定住所或连续就读的登记。"))
    if kind == PermitKind.GREEN_CARD and (person.education not in DEGREES or not works):
        problems.append(_("城市绿卡需要大学本科以上学历并在本市就业。"))
    return problems


def _refuse_ineligible(person: Person, kind: str, on: date) -> None:
    problems = permit_eligibility(person, kind, on)
    if problems:
        raise RegistryError(problems[0], code="not_eligible", field="person")


# --- permits --------------------------------------------------------------------------------------


@transaction.atomic
def permit_apply(*, actor: Any, person: Person, kind: str = PermitKind.RESIDENCE_PERMIT, applied_on: date | None = None, reason: str = "") -> ResidencePermit:
    """Apply for a permit (the resident for themselves, or staff for them); eligibility is checked now."""
    if not (is_resident_self(actor, person) or can(actor, person.unit, REGISTRAR_ROLES)):
        raise RegistryError(_("找不到该人员,或不在您的管辖范围内。"), code="forbidden", field="person")
    if kind not in PermitKind.values:
        raise standard.error("kind", "choice", value=kind)
    if person.died_on is not None:
        raise RegistryError(_("此人已登记死亡,不能再办理此事项。"), code="deceased", field="person")
    on = applied_on or _today()
    if ResidencePermit.objects.filter(person=person, kind=kind, state__in=[PermitState.APPLIED, PermitState.ISSUED]).exists():
        raise RegistryError(_("已有一份办理中或有效的同类证件。"), code="permit_open", field="kind")
    _refuse_ineligible(person, kind, on)
    home = Residence.objects.filter(person=person, is_primary=True, to_date__isnull=True, is_void=False).first()
    permit = ResidencePermit.objects.create(person=person, kind=kind, applied_on=on, housing_unit=home.housing_unit if home else None)
    audit_record(actor=actor, act="registry.permit_apply", obj=permit, changed_fields=["state"], reason=reason)
    return permit


@transaction.atomic
def permit_issue(*, actor: Any, permit: ResidencePermit, issued_on: date | None = None, reason: str = "") -> ResidencePermit:
    """Issue an applied-for permit: a number and a validity (one year; three for a green card)."""
    require(actor, permit.person.unit, DECIDER_ROLES)
    permit = ResidencePermit.objects.select_for_update().get(pk=permit.pk)
    if permit.state != PermitState.APPLIED:
        raise RegistryError(_("只有已申请的证件可以发放。"), code="invalid_transition", field="state")
    on = issued_on or _today()
    _refuse_ineligible(permit.person, permit.kind, on)
    permit.state = PermitState.ISSUED
    permit.issued_on = on
    permit.valid_until = _add_years(on, VALIDITY_YEARS[permit.kind]) - timedelta(days=1)
    permit.number = f"{NUMBER_PREFIX[permit.kind]}{on.year}{permit.pk:08d}"
    permit.decided_by = acting_user(actor)
    permit.reason = reason
    permit.save()
    audit_record(actor=actor, act="registry.permit_issue", obj=permit, changed_fields=["state", "number", "valid_until"], reason=reason)
    return permit


@transaction.atomic
def permit_refuse(*, actor: Any, permit: ResidencePermit, reason: str) -> ResidencePermit:
    reason = require_reason(reason)
    require(actor, permit.person.unit, DECIDER_ROLES)
    permit = ResidencePermit.objects.select_for_update().get(pk=permit.pk)
    if permit.state != PermitState.APPLIED:
        raise RegistryError(_("只有已申请的证件可以不予办理。"), code="invalid_transition", field="state")
    permit.state, permit.closed_on, permit.reason, permit.decided_by = PermitState.REFUSED, _today(), reason, acting_user(actor)
    permit.save()
    audit_record(actor=actor, act="registry.permit_refuse", obj=permit, changed_fields=["state"], reason=reason)
    return permit


@transaction.atomic
def permit_renew(*, actor: Any, permit: ResidencePermit, renewed_on: date | None = None, reason: str = "") -> ResidencePermit:
    """签注: extend a valid (or lapsed) permit by one validity period, if the holder is still eligible."""
    require(actor, permit.person.unit, DECIDER_ROLES)
    permit = ResidencePermit.objects.select_for_update().get(pk=permit.pk)
    if permit.state not in (PermitState.ISSUED, PermitState.EXPIRED):
        raise RegistryError(_("只有有效或已过期的证件可以签注。"), code="invalid_transition", field="state")
    if permit.state == PermitState.EXPIRED and ResidencePermit.objects.filter(
        person=permit.person, kind=permit.kind, state__in=[PermitState.APPLIED, PermitState.ISSUED]
    ).exists():
        raise RegistryError(_("已有一份办理中或有效的同类证件。"), code="permit_open", field="kind")
    on = renewed_on or _today()
    _refuse_ineligible(permit.person, permit.kind, on)
    base = max(permit.valid_until or on, on - timedelta(days=1))
    old_until = permit.valid_until
    permit.valid_until = _add_years(base, VALIDITY_YEARS[permit.kind])
    permit.state, permit.closed_on = PermitState.ISSUED, None
    permit.renewed_count += 1
    permit.decided_by = acting_user(actor)
    permit.save()
    audit_record(
        actor=actor,
        act="registry.permit_renew",
        obj=permit,
        changed_fields=["valid_until", "renewed_count", "state"],
        reason=f"{reason}; {old_until} → {permit.valid_until}",
    )
    return permit


@transaction.atomic
def permit_revoke(*, actor: Any, permit: ResidencePermit, reason: str) -> ResidencePermit:
    """注销: a permit obtained by fraud, or whose holder has left, is revoked with a reason."""
    reason = require_reason(reason)
    require(actor, permit.person.unit, DECIDER_ROLES)
    permit = ResidencePermit.objects.select_for_update().get(pk=permit.pk)
    if permit.state not in (PermitState.APPLIED, PermitState.ISSUED):
        raise RegistryError(_("该证件已不在有效状态。"), code="invalid_transition", field="state")
    permit.state, permit.closed_on, permit.reason, permit.decided_by = PermitState.REVOKED, _today(), reason, acting_user(actor)
    permit.save()
    audit_record(actor=actor, act="registry.permit_revoke", obj=permit, changed_fields=["state"], reason=reason)
    return permit


@transaction.atomic
def permits_expire_due(*, actor: Any = None, today: date | None = None) -> int:
    """The daily sweep: issued permits whose validity ended before ``today`` become expired (one audit row)."""
    today = today or _today()
    count = ResidencePermit.objects.filter(state=PermitState.ISSUED, valid_until__lt=today).update(
        state=PermitState.EXPIRED, closed_on=F("valid_until"), updated_at=timezone.now()
    )
    if count:
        audit_record(actor=actor, act="registry.permit_expire", changed_fields=["state"], reason=f"{count} expired before {today}")
    return count


# --- points ---------------------------------------------------------------------------------------


@transaction.atomic
def points_submit(*, actor: Any, person: Person, year: int, facts: Mapping[str, Any], submitted_on: date | None = None) -> PointsApplication:
    """Apply for points-based settlement in ``year`` with the claimed facts; a valid permit is required."""
    if not (is_resident_self(actor, person) or can(actor, person.unit, REGISTRAR_ROLES)):
        raise RegistryError(_("找不到该人员,或不在您的管辖范围内。"), code="forbidden", field="person")
    if person.died_on is not None:
        raise RegistryError(_("此人已登记死亡,不能再办理此事项。"), code="deceased", field="person")
    standard.raise_for(standard.validate_points_facts(facts))
    if not ResidencePermit.objects.filter(person=person, state=PermitState.ISSUED).exists():
        raise RegistryError(_("申请积分入户须持有有效的居住证。"), code="permit_required", field="person")
    if PointsApplication.objects.filter(person=person, year=year).exists():
        raise RegistryError(_("本年度已提交过积分入户申请。"), code="duplicate", field="year")
    application = PointsApplication.objects.create(person=person, year=year, facts=dict(facts), submitted_on=submitted_on or _today())
    audit_record(actor=actor, act="registry.points_submit", obj=application, changed_fields=["facts"])
    return application


def residence_years(person: Person, on: date) -> int:
    """Whole years the person has lived in the city up to ``on`` (overlapping stays counted once)."""
    spans: list[tuple[date, date]] = sorted(
        (start, min(stop or on, on))
        for start, stop in Residence.objects.filter(person=person, is_void=False, from_date__isnull=False, from_date__lte=on).values_list(
            "from_date", "to_date"
        )
        if start is not None
    )
    days = 0
    end: date | None = None
    for start, stop in spans:
        if end is not None and start < end:
            start = end
        if stop > start:
            days += (stop - start).days
            end = stop if end is None else max(end, stop)
    return int(days // 365.25)


def score(person: Person, facts: Mapping[str, Any], rules: list[PointsRule], on: date) -> tuple[Decimal, list[dict[str, Any]]]:
    """The score and its breakdown; the breakdown is stored, so its text is always in Chinese."""
    with translation.override(settings.LANGUAGE_CODE):
        return _score(person, facts, rules, on)


def _score(person: Person, facts: Mapping[str, Any], rules: list[PointsRule], on: date) -> tuple[Decimal, list[dict[str, Any]]]:
    """Total and breakdown (rule, name, basis, points) of one application under ``rules``."""
    breakdown: list[dict[str, Any]] = []
    total = Decimal(0)
    for rule in rules:
        p = rule.params or {}
        levels = p.get("levels", {})
        basis: str
        if rule.kind == RuleKind.RESIDENCE_YEARS:
            years = residence_years(person, on)
            points, basis = Decimal(str(p.get("per_year", 0))) * years, _("居住 %(n)s 年") % {"n": years}
        elif rule.kind == RuleKind.INSURANCE_YEARS:
            years = math.floor(float(facts.get("insurance_years", 0) or 0))
            points, basis = Decimal(str(p.get("per_year", 0))) * years, _("参保 %(n)s 年") % {"n": years}
        elif rule.kind == RuleKind.EDUCATION:
            points, basis = Decimal(str(levels.get(person.education, 0))), person.get_education_display()
        elif rule.kind == RuleKind.SKILL:
            skill = str(facts.get("skill", "") or "")
            points, basis = Decimal(str(levels.get(skill, 0))), skill or "—"
        elif rule.kind == RuleKind.AWARD:
            awards = [str(a) for a in facts.get("awards", []) or []]
            points, basis = sum((Decimal(str(levels.get(a, 0))) for a in awards), Decimal(0)), "、".join(awards) or "—"
        else:  # deduction
            items = [str(d) for d in facts.get("deductions", []) or []]
            points, basis = -Decimal(str(p.get("per_item", 0))) * len(items), "、".join(items) or "—"
        if "max" in p and points > Decimal(str(p["max"])):
            points = Decimal(str(p["max"]))
        total += points
        breakdown.append({"rule": rule.code, "name": rule.name, "kind": rule.kind, "basis": basis, "points": float(points)})
    return total, breakdown


@transaction.atomic
def points_score(*, actor: Any, application: PointsApplication, on: date | None = None) -> PointsApplication:
    """Score an application with the active rules (again, if rules changed, until the year is decided)."""
    require(actor, application.person.unit, POINTS_ROLES)
    application = PointsApplication.objects.select_for_update().select_related("person").get(pk=application.pk)
    if application.state not in (PointsState.SUBMITTED, PointsState.SCORED):
        raise RegistryError(_("该申请已作出决定,不能重新评分。"), code="invalid_transition", field="state")
    rules = list(PointsRule.objects.filter(is_active=True).order_by("order", "code"))
    total, breakdown = score(application.person, application.facts, rules, on or _today())
    application.score, application.breakdown = total, breakdown
    application.state, application.scored_at = PointsState.SCORED, timezone.now()
    application.save()
    audit_record(actor=actor, act="registry.points_score", obj=application, changed_fields=["score", "breakdown"])
    return application


@transaction.atomic
def points_reject(*, actor: Any, application: PointsApplication, reason: str) -> PointsApplication:
    """Exclude one application before the ranking (false facts, conditions not met), with a reason."""
    reason = require_reason(reason)
    require(actor, application.person.unit, POINTS_ROLES)
    application = PointsApplication.objects.select_for_update().get(pk=application.pk)
    if application.state not in (PointsState.SUBMITTED, PointsState.SCORED):
        raise RegistryError(_("该申请已作出决定。"), code="invalid_transition", field="state")
    application.state, application.decision_reasons = PointsState.REJECTED, reason
    application.decided_at, application.decided_by = timezone.now(), acting_user(actor)
    application.save()
    audit_record(actor=actor, act="registry.points_reject", obj=application, changed_fields=["state"], reason=reason)
    return application


@transaction.atomic
def points_decide(*, actor: Any, year: int, quota: int | None = None, reason: str = "") -> list[PointsApplication]:
    """Rank the year's scored applications (score, then earlier submission) and approve the first ``quota``.

    Every application gets its rank and the reasons; unscored applications block the decision.
    """
    pending = PointsApplication.objects.select_for_update().filter(year=year, state__in=[PointsState.SUBMITTED, PointsState.SCORED])
    apps = list(pending.select_related("person__unit").order_by(F("score").desc(nulls_last=True), "submitted_on", "pk"))
    if not apps:
        raise RegistryError(_("该年度没有待决定的申请。"), code="nothing_to_decide", field="year")
    if not is_system(actor) and any(not (roles_over(actor, a.person.unit) & POINTS_ROLES) for a in apps):
        raise RegistryError(_("您在该辖区没有办理此事项的岗位权限。"), code="forbidden")
    if any(a.state == PointsState.SUBMITTED for a in apps):
        raise RegistryError(_("还有未评分的申请,请全部评分后再排名。"), code="unscored", field="year")
    if quota is None:
        row = PointsQuota.objects.filter(year=year).first()
        if row is None:
            raise RegistryError(_("请先设定本年度的入户名额。"), code="quota_required", field="quota")
        quota = row.quota
    now, who = timezone.now(), acting_user(actor)
    for rank, app in enumerate(apps, start=1):
        app.rank = rank
        params = {"rank": rank, "total": len(apps), "quota": quota, "score": app.score}
        if rank <= quota:
            app.state = PointsState.APPROVED
            app.decision_reasons = _("积分 %(score)s 分,在 %(total)s 名申请人中排第 %(rank)s 名,在年度名额 %(quota)s 名以内,准予入户。") % params
        else:
            app.state = PointsState.WAITLISTED
            app.decision_reasons = _("积分 %(score)s 分,在 %(total)s 名申请人中排第 %(rank)s 名,超出年度名额 %(quota)s 名,本年度未获入户。") % params
        app.decided_at, app.decided_by = now, who
    PointsApplication.objects.bulk_update(apps, ["rank", "state", "decision_reasons", "decided_at", "decided_by"])
    audit_record(
        actor=actor,
        act="registry.points_decide",
        obj=("registry.points_year", str(year)),
        changed_fields=["rank", "state"],
        reason=f"{reason}; quota={quota}; approved={min(quota, len(apps))}; applications={len(apps)}",
    )
    return apps


__all__ = [
    "permit_apply",
    "permit_eligibility",
    "permit_issue",
    "permit_refuse",
    "permit_renew",
    "permit_revoke",
    "permits_expire_due",
    "points_decide",
    "points_reject",
    "points_score",
    "points_submit",
    "residence_years",
    "score",
]
