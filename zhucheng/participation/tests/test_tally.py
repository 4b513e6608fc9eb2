"""The CONSUL greedy rule and the Method of Equal Shares on crafted cases with known answers, the
tally from real ballots, and the pabulib export re-read by pabutools."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from typing import Any

import pytest
from pabutools.election import ApprovalMultiProfile, Cost_Sat, FrozenApprovalBallot, Instance
from pabutools.election import Project as PbProject
from pabutools.election.pabulib import parse_pabulib_from_string
from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares

from zhucheng.participation import services, tally, voting
from zhucheng.participation.errors import ParticipationError
from zhucheng.participation.models import Ballot, BallotChoice, Phase, Project, ProposalState, Tally

from .conftest import World, ids, resident

C = tally.Candidate


def test_greedy_funds_by_votes_skips_what_does_not_fit_and_breaks_ties() -> None:
    candidates = [
        C(key=1, cost=60, votes=10, order=0),
        C(key=2, cost=50, votes=8, order=1),  # ties with 3 on votes, costs more: after 3, then does not fit
        C(key=3, cost=30, votes=8, order=2),
        C(key=4, cost=10, votes=5, order=3),
        C(key=5, cost=10, votes=5, order=4),  # same votes and cost as 4, submitted later
        C(key=6, cost=1, votes=0, order=5),
    ]
    winners, steps = tally.greedy(100, candidates)
    assert winners == [1, 3, 4]
    assert [s["key"] for s in steps] == [1, 3, 2, 4, 5, 6]
    assert [s["funded"] for s in steps] == [True, True, False, True, False, False]
    assert [s["reason"] for s in steps] == ["fits", "fits", "does_not_fit", "fits", "does_not_fit", "no_votes"]
    assert [s["remaining_after"] for s in steps] == [40, 10, 10, 0, 0, 0]
    assert steps[2]["tie"] == "cost" and steps[4]["tie"] == "order"
    assert "超过剩余资金" in tally.step_reason(steps[2])


def test_greedy_keeps_going_after_a_project_that_does_not_fit() -> None:
    winners, _steps = tally.greedy(100, [C(1, 90, 9, 0), C(2, 20, 8, 1), C(3, 10, 7, 2)])
    assert winners == [1, 3]


def _case() -> tuple[list[tally.Candidate], Counter[frozenset[int]]]:
    # 10 voters, budget 100: six approve X (60) of whom five also approve Y (40); four approve Z (40).
    ballots: Counter[frozenset[int]] = Counter({frozenset({1, 2}): 5, frozenset({1}): 1, frozenset({3}): 4})
    candidates = [C(1, 60, 6, 0, "X"), C(2, 40, 5, 1, "Y"), C(3, 40, 4, 2, "Z")]
    return candidates, ballots


def test_equal_shares_gives_the_minority_its_share_where_greedy_does_not() -> None:
    candidates, ballots = _case()
    assert tally.greedy(100, candidates)[0] == [1, 2]
    winners, steps = tally.equal_shares(100, candidates, ballots)
    assert winners == [1, 3]
    assert [s["reason"] for s in steps] == ["equal_shares", "equal_shares", "does_not_fit"]


def test_equal_shares_matches_pabutools_cost_sat_and_completes_greedily() -> None:
    candidates, ballots = _case()
    projects = {c.key: PbProject(str(c.key), c.cost) for c in candidates}
    instance = Instance(projects.values(), budget_limit=100)
    profile = ApprovalMultiProfile(instance=instance)
    for keys, n in ballots.items():
        profile[FrozenApprovalBallot([projects[k] for k in keys])] = n
    reference = method_of_equal_shares(instance, profile, sat_class=Cost_Sat)
    assert sorted(int(p.name) for p in reference) == sorted(tally.equal_shares(100, candidates, ballots, complete=False)[0])
    # Budget 130: MES buys X and Z (100), completion adds nothing that fits 30; with 140, Y (40) is added by votes.
    assert tally.equal_shares(140, candidates, ballots)[0][-1] == 2


def test_tally_from_ballots_selects_winners_and_records_both_rules(world: World) -> None:
    b, (p600, p500, p300, p100) = world.budget, world.proposals
    for choice, n in (((p600, p300), 3), ((p500, p300, p100), 2), ((p500,), 2), ((p100,), 1)):
        for _ in range(n):
            voting.ballot_cast(actor=resident(world.housing.unit_a), budget=b, proposal_ids=ids(*choice))
    with pytest.raises(ParticipationError) as exc:
        tally.tally_run(actor=world.city.worker_a, budget=b)
    assert exc.value.code == "wrong_phase"
    b = services.budget_advance(actor=world.city.worker_a, budget=b)
    result = tally.tally_run(actor=world.city.worker_a, budget=b)
    # votes: 300 → 5, 500 → 4, 600 → 3, 100 → 3; budget 1000: 300 ✓ (700 left), 500 ✓ (200), 100 ✓ (tie on
    # 3 votes: cheaper first; 100 left), 600 ✗.
    assert result.greedy.votes == {str(p600.number): 3, str(p500.number): 4, str(p300.number): 5, str(p100.number): 3}
    assert result.greedy.winners == [p300.number, p500.number, p100.number]
    assert [s["key"] for s in result.greedy.steps] == [p300.number, p500.number, p100.number, p600.number]
    assert result.greedy.ballots == 8 and result.greedy.spent_fen == 900_00
    assert Tally.objects.filter(budget=b).count() == 2
    assert set(b.proposals.filter(state=ProposalState.SELECTED).values_list("number", flat=True)) == {p300.number, p500.number, p100.number}
    b = services.budget_advance(actor=world.city.worker_a, budget=b)
    assert b.phase == Phase.BUILDING
    assert sorted(Project.objects.filter(budget=b).values_list("approved_fen", flat=True)) == [100_00, 300_00, 500_00]


def test_pb_export_reread_by_pabutools_gives_the_same_winners(world: World) -> None:
    b, (p600, p500, p300, p100) = world.budget, world.proposals
    for choice, n in (((p600, p300), 3), ((p500, p100), 2), ((p500,), 1), ((p300,), 1)):
        for _ in range(n):
            voting.ballot_cast(actor=resident(world.housing.unit_a), budget=b, proposal_ids=ids(*choice))
    b = services.budget_advance(actor=world.city.worker_a, budget=b)
    result = tally.tally_run(actor=world.city.worker_a, budget=b)
    text = tally.pabulib_text(b)
    instance, profile = parse_pabulib_from_string(text)
    assert int(instance.budget_limit) == b.amount_fen and profile.num_ballots() == 7
    # pabutools' greedy with cost utilities orders by votes: the CONSUL rule.
    candidates = tally.candidates_of(b)
    greedy = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat, tie_breaking=tally.tie_breaking(candidates))
    assert sorted(int(p.name) for p in greedy) == sorted(result.greedy.winners)
    mes = method_of_equal_shares(instance, profile, sat_class=Cost_Sat, tie_breaking=tally.tie_breaking(candidates))
    mes_only = [s["key"] for s in result.mes.steps if s["reason"] == "equal_shares"]
    assert sorted(int(p.name) for p in mes) == sorted(mes_only)
    selected = {p.name for p in instance if instance.project_meta[p]["selected"] == "1"}
    assert selected == {str(k) for k in result.greedy.winners}


def test_tally_waits_for_paper_sheets(world: World, city: Any) -> None:
    voting.paper_sheet_enter(actor=city.worker_a, budget=world.budget, receipt="AAAA-BBBB-CCCC", proposal_ids=ids(world.proposals[3]))
    b = services.budget_advance(actor=city.worker_a, budget=world.budget)
    with pytest.raises(ParticipationError) as exc:
        tally.tally_run(actor=city.worker_a, budget=b)
    assert exc.value.code == "not_ready" and "1 张" in exc.value.message


def _draw(rng: random.Random, projects: int, voters: int) -> Counter[frozenset[int]]:
    """Ballots as the bench draws them: 1–6 projects each, popular projects first (Zipf-like)."""
    weights = [1.0 / (i + 1) ** 0.8 for i in range(projects)]
    out: Counter[frozenset[int]] = Counter()
    for _ in range(voters):
        want = rng.randint(1, 6)
        out[frozenset(rng.choices(range(1, projects + 1), weights=weights, k=want))] += 1
    return out


@pytest.mark.parametrize("seed", range(12))
def test_the_reduced_profile_gives_exactly_what_pabutools_gives_on_every_ballot(seed: int) -> None:
    rng = random.Random(seed)
    projects = rng.randint(3, 14)
    ballots = _draw(rng, projects, rng.randint(5, 400))
    votes = Counter(k for keys, n in ballots.items() for k in keys for _ in range(n))
    candidates = [C(k, rng.randint(1, 60) * 10, votes.get(k, 0), k - 1) for k in range(1, projects + 1)]
    budget = rng.randint(60, 400)
    reduced = tally.mes_profile(budget, candidates, ballots)
    assert sum(reduced.values()) == sum(ballots.values())  # every voter keeps a share, even with an empty ballot
    assert tally.equal_shares(budget, candidates, ballots) == tally.equal_shares(budget, candidates, ballots, reduce=False)
    # … and the Equal Shares part equals pabutools' own rule with its own Cost_Sat on the ballots as cast.
    projects_pb = {c.key: PbProject(str(c.key), c.cost) for c in candidates}
    instance = Instance(projects_pb.values(), budget_limit=budget)
    profile = ApprovalMultiProfile(instance=instance)
    for keys, n in ballots.items():
        profile[FrozenApprovalBallot([projects_pb[k] for k in sorted(keys)])] = n
    reference = method_of_equal_shares(instance, profile, sat_class=Cost_Sat, tie_breaking=tally.tie_breaking(candidates))
    assert [int(p.name) for p in reference] == tally.equal_shares(budget, candidates, ballots, complete=False)[0][: len(reference)]


def test_unaffordable_projects_leave_the_ballots_but_their_voters_keep_their_shares() -> None:
    # Budget 100, 10 voters (10 each). Project 9 costs 90 and has 3 supporters (30 < 90): never bought.
    ballots: Counter[frozenset[int]] = Counter({frozenset({1, 9}): 2, frozenset({9}): 1, frozenset({1}): 3, frozenset({2}): 4})
    candidates = [C(1, 50, 5, 0), C(2, 40, 4, 1), C(9, 90, 3, 2)]
    reduced = tally.mes_profile(100, candidates, ballots)
    assert reduced == Counter({frozenset({1}): 5, frozenset(): 1, frozenset({2}): 4})
    assert tally.equal_shares(100, candidates, ballots) == tally.equal_shares(100, candidates, ballots, reduce=False)


def test_ballots_votes_and_digest_from_the_database_match_a_count_row_by_row(world: World) -> None:
    b, (p600, p500, p300, p100) = world.budget, world.proposals
    for choice, n in (((p600, p300), 3), ((p500, p100), 2), ((p500,), 1), ((p300, p100), 1)):
        for _ in range(n):
            voting.ballot_cast(actor=resident(world.housing.unit_a), budget=b, proposal_ids=ids(*choice))
    number = {p.pk: p.number for p in world.proposals}
    per_ballot: dict[Any, set[int]] = {}
    for ballot_id, proposal_id in BallotChoice.objects.filter(ballot__budget=b).values_list("ballot_id", "proposal_id"):
        per_ballot.setdefault(ballot_id, set()).add(number[proposal_id])
    assert tally.ballots_of(b) == Counter(frozenset(s) for s in per_ballot.values())
    assert tally.ballots_of(b)[frozenset({p600.number, p300.number})] == 3
    assert tally.candidates_of(b, tally.ballots_of(b)) == tally.candidates_of(b)
    hashes = sorted(Ballot.objects.filter(budget=b).values_list("receipt_hash", flat=True))
    assert tally.receipts_digest(b) == hashlib.sha256("".join(hashes).encode()).hexdigest()
    assert len(hashes) == 7
