"""Phases, proposals, support, moderated comments and feasibility review."""

from __future__ import annotations

from typing import Any

import pytest

from zhucheng.participation import services
from zhucheng.participation.errors import ParticipationError
from zhucheng.participation.models import Budget, Comment, Phase, ProposalState, TimelineEvent

from .conftest import make_budget, resident, to_phase

pytestmark = pytest.mark.django_db


def test_acts_outside_their_phase_are_refused_naming_the_phase(city: Any, housing: Any) -> None:
    budget = make_budget(city)
    author = resident(housing.unit_a)
    p = services.proposal_submit(actor=author, budget=budget, title="修路", description="门口的路坑洼不平", estimated_cost_fen=50_000_00)
    with pytest.raises(ParticipationError) as exc:
        services.proposal_review(actor=city.worker_a, proposal=p, feasible=True, cost_fen=50_000_00)
    assert exc.value.code == "wrong_phase"
    assert "征集提案" in exc.value.message and "可行性审查" in exc.value.message
    budget = to_phase(budget, Phase.REVIEWING, city.worker_a)
    with pytest.raises(ParticipationError) as exc:
        services.proposal_submit(actor=author, budget=budget, title="再修路", description="…", estimated_cost_fen=1_00)
    assert exc.value.code == "wrong_phase" and "可行性审查" in exc.value.message


def test_phases_only_move_forward_one_at_a_time_and_check_readiness(city: Any, housing: Any) -> None:
    budget = make_budget(city)
    with pytest.raises(ParticipationError) as exc:
        services.budget_advance(actor=city.worker_a, budget=budget, to=Phase.VOTING)
    assert exc.value.code == "wrong_phase"
    p = services.proposal_submit(actor=resident(housing.unit_a), budget=budget, title="修路", description="…", estimated_cost_fen=10_00)
    budget = services.budget_advance(actor=city.worker_a, budget=budget)
    assert budget.phase == Phase.REVIEWING
    with pytest.raises(ParticipationError) as exc:
        services.budget_advance(actor=city.worker_a, budget=budget)
    assert exc.value.code == "not_ready" and "1 项" in exc.value.message
    services.proposal_review(actor=city.worker_a, proposal=p, feasible=True, cost_fen=12_00)
    budget = services.budget_advance(actor=city.worker_a, budget=budget)
    assert budget.phase == Phase.VOTING
    assert TimelineEvent.objects.filter(budget=budget, kind="phase").count() == 2


def test_only_staff_of_the_community_manage_the_budget(city: Any) -> None:
    budget = make_budget(city)
    with pytest.raises(ParticipationError) as exc:
        services.budget_advance(actor=city.worker_b, budget=budget)
    assert exc.value.code == "forbidden"
    with pytest.raises(ParticipationError):
        services.budget_create(actor=city.worker_b, unit=city.community_a, year=2027, title="x", amount_fen=1)


@pytest.mark.parametrize(
    ("headings", "code"),
    [
        ([("道路", 10_00), ("道路", 5_00)], "duplicate"),
        ([("长" * 41, 1_00)], "too_long"),
        ([("  ", 1_00)], "required"),
        ([("绿化", -1)], "invalid"),
        ([("道路", 60_00), ("绿化", 50_00)], "invalid"),  # more than the 100 yuan budget
    ],
)
def test_budget_headings_are_checked_by_the_service(city: Any, headings: list[tuple[str, int]], code: str) -> None:
    with pytest.raises(ParticipationError) as exc:
        services.budget_create(
            actor=city.worker_a, unit=city.community_a, year=2031, title="x", amount_fen=100_00, headings=headings
        )
    assert (exc.value.code, exc.value.field) == (code, "headings")
    assert not Budget.objects.filter(year=2031).exists()
    budget = services.budget_create(
        actor=city.worker_a, unit=city.community_a, year=2031, title="x", amount_fen=100_00, headings=[(" 道路 ", 60_00)]
    )
    assert list(budget.headings.values_list("name", "amount_fen")) == [("道路", 60_00)]


def test_rejection_needs_a_public_explanation_and_review_sets_the_cost(city: Any, housing: Any) -> None:
    budget = make_budget(city)
    p = services.proposal_submit(actor=resident(housing.unit_a), budget=budget, title="建游泳池", description="…", estimated_cost_fen=90_000_00)
    budget = to_phase(budget, Phase.REVIEWING, city.worker_a)
    with pytest.raises(ParticipationError) as exc:
        services.proposal_review(actor=city.worker_a, proposal=p, feasible=False, cost_fen=300_000_00)
    assert exc.value.field == "explanation"
    services.proposal_review(actor=city.worker_a, proposal=p, feasible=False, cost_fen=300_000_00, explanation="用地不足,费用超出全年预算。")
    p.refresh_from_db()
    assert p.state == ProposalState.REJECTED and p.cost_fen == 300_000_00
    assert p.review.explanation.startswith("用地不足")


def test_non_resident_cannot_propose_or_support(city: Any, housing: Any) -> None:
    budget = make_budget(city)
    outsider = resident(housing.unit_b)
    with pytest.raises(ParticipationError) as exc:
        services.proposal_submit(actor=outsider, budget=budget, title="修路", description="…", estimated_cost_fen=10_00)
    assert exc.value.code == "not_resident"
    p = services.proposal_submit(actor=resident(housing.unit_a), budget=budget, title="修路", description="…", estimated_cost_fen=10_00)
    with pytest.raises(ParticipationError):
        services.proposal_support(actor=outsider, proposal=p)
    neighbour = resident(housing.unit_a)
    assert services.proposal_support(actor=neighbour, proposal=p) is True
    assert services.proposal_support(actor=neighbour, proposal=p) is False
    p.refresh_from_db()
    assert p.supports == 1


def test_hidden_comment_keeps_its_row_and_shows_a_public_reason(city: Any, housing: Any) -> None:
    budget = make_budget(city)
    p = services.proposal_submit(actor=resident(housing.unit_a), budget=budget, title="修路", description="…", estimated_cost_fen=10_00)
    c = services.comment_add(actor=resident(housing.unit_a), proposal=p, body="广告:低价装修请致电")
    with pytest.raises(ParticipationError):
        services.comment_hide(actor=city.worker_a, comment=c, reason="")
    services.comment_hide(actor=city.worker_a, comment=c, reason="与提案无关的广告")
    c = Comment.objects.get(pk=c.pk)
    assert c.is_hidden and c.hidden_reason == "与提案无关的广告" and c.body.startswith("广告")
    with pytest.raises(PermissionError):
        c.delete()
    with pytest.raises(PermissionError):
        Comment.objects.filter(pk=c.pk).delete()
    with pytest.raises(ParticipationError):
        services.comment_hide(actor=city.worker_b, comment=c, reason="x")
