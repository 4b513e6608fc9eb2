"""Risk assessment (评估): an escalation-risk score of a dispute from admin-configurable weighted factors.

Each factor (``RiskFactor``: weight in points, and the input value at which it counts in full)
contributes ``weight × min(input / saturation, 1)``; the score is their sum, and each factor's
input and points are stored with the assessment and shown beside it. Default weights sum to 100.
The score describes the dispute's chance of escalating, never a person. Rising to high warns
the supervisors over the dispute's unit (``core.notify``), once per rise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from zhucheng.core.audit import audit_record
from zhucheng.core.context import acting_user
from zhucheng.core.notify import notify
from zhucheng.places.models import Membership, Role

from . import permissions
from .errors import MediationError
from .models import (
    AgreementTerm,
    Dispute,
    FactorCode,
    FollowUp,
    FollowUpState,
    Party,
    RiskAssessment,
    RiskFactor,
    RiskLevel,
    TermResult,
)

# Score thresholds (points): with the default weights summing to 100 these are 60 and 30.
HIGH_AT = 60.0
MEDIUM_AT = 30.0


@dataclass(frozen=True)
class FactorSpec:
    code: str
    weight: int
    saturation: float


# Used only while the factor table is empty (a fresh database before the data migration ran).
DEFAULT_FACTORS: tuple[FactorSpec, ...] = (
    FactorSpec(FactorCode.PARTIES, 15, 6),
    FactorSpec(FactorCode.AMOUNT, 20, 200_000),
    FactorSpec(FactorCode.REPEAT_APPEALS, 20, 3),
    FactorSpec(FactorCode.MISSED_DEADLINES, 15, 2),
    FactorSpec(FactorCode.THREATS, 30, 1),
)


@dataclass(frozen=True)
class Contribution:
    code: str
    label: str
    value: float
    weight: int
    saturation: float
    points: float


def factors() -> list[FactorSpec]:
    """The active factors as an administrator configured them."""
    rows = list(RiskFactor.objects.values_list("code", "weight", "saturation", "is_active"))
    if not rows:
        return list(DEFAULT_FACTORS)
    return [FactorSpec(code, weight, saturation) for code, weight, saturation, active in rows if active]


def level_for(score: float) -> str:
    if score >= HIGH_AT:
        return RiskLevel.HIGH
    if score >= MEDIUM_AT:
        return RiskLevel.MEDIUM
    return RiskLevel.LOW


def inputs(dispute: Dispute) -> dict[str, float]:
    """Every factor's input for this dispute (a handful of indexed counts)."""
    today = timezone.localdate()
    parties = list(Party.objects.filter(dispute=dispute).values_list("phone_hash", "id_number_hash"))
    hashes = [h for pair in parties for h in pair if h]
    # The same person in another dispute: the matter keeps coming back.
    others = 0
    if hashes:
        others = (
            Party.objects.filter(Q(phone_hash__in=hashes) | Q(id_number_hash__in=hashes))
            .exclude(dispute=dispute)
            .values("dispute")
            .distinct()
            .count()
        )
    breached = AgreementTerm.objects.filter(agreement__dispute=dispute, result=TermResult.BREACHED).count()
    overdue = FollowUp.objects.filter(dispute=dispute, state=FollowUpState.OPEN, due_on__lt=today).count()
    return {
        FactorCode.PARTIES: float(len(parties)),
        FactorCode.AMOUNT: (dispute.amount_fen or 0) / 100,
        FactorCode.REPEAT_APPEALS: float(dispute.prior_appeals + others),
        FactorCode.MISSED_DEADLINES: float(breached + overdue),
        FactorCode.THREATS: 1.0 if dispute.threat_recorded_at else 0.0,
    }


def score(values: dict[str, float], specs: list[FactorSpec] | None = None) -> tuple[float, list[Contribution]]:
    """The score and each factor's contribution, largest first."""
    labels = dict(FactorCode.choices)
    out: list[Contribution] = []
    for spec in specs if specs is not None else factors():
        value = float(values.get(spec.code, 0.0))
        strength = min(max(value, 0.0) / spec.saturation, 1.0) if spec.saturation > 0 else 0.0
        out.append(Contribution(spec.code, str(labels.get(spec.code, spec.code)), value, spec.weight, spec.saturation, round(spec.weight * strength, 1)))
    out.sort(key=lambda c: (-c.points, c.code))
    return round(sum(c.points for c in out), 1), out


def supervisors_over(dispute: Dispute) -> list[Any]:
    """Active supervisors posted on the dispute's unit or an ancestor."""
    codes = [c for c in dispute.unit.path.split("/") if c]
    paths = ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]
    rows = Membership.objects.active().filter(role=Role.SUPERVISOR, unit__path__in=paths).select_related("user")
    return [m.user for m in rows if m.user.is_active]


def _warn(dispute: Dispute, total: float, contributions: list[Contribution]) -> int:
    top = "、".join([c.label for c in contributions if c.points > 0][:3]) or "—"
    text = _("【筑城】矛盾纠纷 %(code)s（%(field)s）风险评估为高（%(score).0f 分），主要因素：%(factors)s。请关注并督促化解。") % {
        "code": dispute.code,
        "field": dispute.get_field_display(),
        "score": total,
        "factors": top,
    }
    sent = 0
    for user in supervisors_over(dispute):
        if user.phone:
            notify(channel="sms", address=user.phone, text=text)
            sent += 1
    return sent


@transaction.atomic
def risk_assess(*, actor: Any, dispute: Dispute, note: str = "") -> RiskAssessment:
    """评估: score the dispute now, store the contributions, warn supervisors when it rises to high."""
    dispute = Dispute.objects.select_for_update(of=("self",)).select_related("unit", "mediator").get(pk=dispute.pk)
    if not (permissions.has_role_over(actor, dispute.unit, permissions.CASE_ROLES) or permissions.is_dispute_mediator(actor, dispute)):
        raise MediationError(_("您没有权限评估该纠纷的风险。"), code="forbidden")
    total, contributions = score(inputs(dispute))
    level = level_for(total)
    previous = dispute.risk_level
    at = timezone.now()
    assessment = RiskAssessment.objects.create(
        dispute=dispute,
        assessed_at=at,
        assessed_by=acting_user(actor),
        score=total,
        level=level,
        contributions=[asdict(c) for c in contributions],
        note=(note or "").strip()[:2000],
    )
    dispute.risk_score, dispute.risk_level, dispute.risk_assessed_at = total, level, at
    dispute.save(update_fields=["risk_score", "risk_level", "risk_assessed_at", "updated_at"])
    audit_record(actor=actor, act="mediation.risk_assess", obj=dispute, changed_fields=["risk_score", "risk_level"], reason=f"{total:.1f} {level}")
    if level == RiskLevel.HIGH and previous != RiskLevel.HIGH:
        _warn(dispute, total, contributions)
    return assessment
