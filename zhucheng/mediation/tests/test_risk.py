"""Risk assessment: the configured factors and weights change the score exactly as configured, the
contributions are stored and shown, and a rise to high warns the supervisors over the dispute's unit."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from zhucheng.mediation import risk, services
from zhucheng.mediation.errors import MediationError
from zhucheng.mediation.models import FactorCode, RiskFactor, RiskLevel

from .conftest import World, as_user, make_dispute

pytestmark = pytest.mark.django_db


def configure(**weights: tuple[int, float] | None) -> None:
    """Replace the factor table: code=(weight, saturation), or None to leave a factor out."""
    RiskFactor.objects.all().delete()
    for code, spec in weights.items():
        if spec is not None:
            RiskFactor.objects.create(code=code, weight=spec[0], saturation=spec[1])


def test_weights_and_factors_change_the_score_as_configured(world: World) -> None:
    # Two parties, 12,000 yuan in dispute, no repeats, nothing missed, no threat.
    configure(parties=(10, 4), amount=(40, 24_000))
    dispute = make_dispute(world)
    a = risk.risk_assess(actor=world.city.worker_a, dispute=dispute)
    assert a.score == pytest.approx(10 * 2 / 4 + 40 * 12_000 / 24_000)  # 5 + 20
    by_code = {c["code"]: c for c in a.contributions}
    assert by_code["parties"]["points"] == 5.0 and by_code["parties"]["value"] == 2.0
    assert by_code["amount"]["points"] == 20.0 and by_code["amount"]["weight"] == 40
    assert a.contributions[0]["code"] == "amount"  # largest contribution first

    RiskFactor.objects.filter(code="amount").update(weight=80)
    assert risk.risk_assess(actor=None, dispute=dispute).score == pytest.approx(5 + 40)
    RiskFactor.objects.filter(code="amount").update(saturation=6_000)  # saturates: full weight, no more
    assert risk.risk_assess(actor=None, dispute=dispute).score == pytest.approx(5 + 80)
    RiskFactor.objects.filter(code="parties").update(is_active=False)
    last = risk.risk_assess(actor=None, dispute=dispute)
    assert last.score == pytest.approx(80) and [c["code"] for c in last.contributions] == ["amount"]
    assert last.level == RiskLevel.HIGH
    dispute.refresh_from_db()
    assert dispute.risk_score == pytest.approx(80) and dispute.risk_level == RiskLevel.HIGH


def test_repeats_missed_deadlines_and_threats_are_inputs(world: World) -> None:
    configure(repeat_appeals=(20, 2), threats=(30, 1), missed_deadlines=(10, 1))
    first = make_dispute(world)
    assert risk.inputs(first)[FactorCode.REPEAT_APPEALS] == 0
    # The same applicant (same phone) comes back with another dispute, having complained once before.
    second = make_dispute(world, title="再次反映欠薪", prior_appeals=1)
    values = risk.inputs(second)
    assert values[FactorCode.REPEAT_APPEALS] == 2  # one earlier complaint + one other dispute
    assert risk.risk_assess(actor=None, dispute=second).score == pytest.approx(20)
    services.threat_record(actor=world.city.grid_worker_a, dispute=second, note="申请人称拿不到钱就去塔吊上")
    second.refresh_from_db()
    assert second.risk_score == pytest.approx(50) and second.risk_level == RiskLevel.MEDIUM


def test_high_risk_warns_supervisors_once(world: World, sms: Any, django_capture_on_commit_callbacks: Any) -> None:
    configure(threats=(70, 1), parties=(10, 10))
    dispute = make_dispute(world)
    assert dispute.risk_level == RiskLevel.LOW
    with django_capture_on_commit_callbacks(execute=True):
        services.threat_record(actor=world.mediator_user, dispute=dispute, note="被申请人扬言报复")
    warned = [(p, t) for p, t in sms if p == "13800000004"]  # the district supervisor of the city fixture
    assert len(warned) == 1
    text = warned[0][1]
    assert dispute.code in text and "高" in text and "危害" in text
    # About the dispute, never a label on a person: no party name or number in the warning.
    assert "张三" not in text and "13912345678" not in text
    with django_capture_on_commit_callbacks(execute=True):
        risk.risk_assess(actor=world.city.supervisor, dispute=dispute)  # still high: no second warning
    assert len([p for p, _ in sms if p == "13800000004"]) == 1


def test_contributions_are_shown_on_the_dispute_page(world: World) -> None:
    configure(parties=(15, 6), amount=(20, 200_000))
    dispute = make_dispute(world)
    page = as_user(world.city.worker_a).get(reverse("mediation:dispute_detail", args=[dispute.pk])).content.decode()
    assert "各因素对得分的贡献" in page and "当事人数量" in page and "争议金额" in page
    assert "不是对任何人的标签" in page


def test_only_case_staff_assess(world: World) -> None:
    dispute = make_dispute(world)
    with pytest.raises(MediationError):
        risk.risk_assess(actor=world.city.worker_b, dispute=dispute)
    with pytest.raises(MediationError):
        risk.risk_assess(actor=world.city.grid_worker_a, dispute=dispute)
