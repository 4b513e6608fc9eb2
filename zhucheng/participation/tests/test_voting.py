"""Eligibility, the check before casting, one ballot per person (also under concurrency), changing a
ballot with its receipt, paper ballots entered twice, receipts, and ballots that cannot be linked to voters."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from zhucheng.accounts.models import User
from zhucheng.core.audit import audit_verify
from zhucheng.core.models import AuditEvent
from zhucheng.participation import services, tally, voting
from zhucheng.participation.errors import ParticipationError
from zhucheng.participation.models import (
    Ballot,
    BallotChoice,
    Channel,
    PaperSheetState,
    Phase,
    VoterRegister,
    VotingRule,
)
from zhucheng.places.models import Role
from zhucheng.places.services import membership_grant
from zhucheng.registry.models import Person, Residence, ResidenceKind

from .conftest import World, ids, make_budget, resident, to_phase

pytestmark = pytest.mark.django_db


def test_eligibility_refuses_non_residents_and_unverified_accounts(world: World) -> None:
    b = world.budget
    with pytest.raises(ParticipationError) as exc:
        voting.ballot_cast(actor=resident(world.housing.unit_b), budget=b, proposal_ids=ids(world.proposals[3]))
    assert exc.value.code == "not_resident" and "中华社区" in exc.value.message
    with pytest.raises(ParticipationError) as exc:
        voting.ballot_cast(actor=resident(world.housing.unit_a, linked=False), budget=b, proposal_ids=ids(world.proposals[3]))
    assert exc.value.code == "not_verified"
    young = resident(world.housing.unit_a, birth=timezone.localdate() - timedelta(days=365 * 15))
    with pytest.raises(ParticipationError) as exc:
        voting.ballot_cast(actor=young, budget=b, proposal_ids=ids(world.proposals[3]))
    assert exc.value.code == "not_eligible" and "16" in exc.value.message
    moved = resident(world.housing.unit_a)
    Residence.objects.filter(person__user=moved).update(to_date=date(2025, 1, 1))
    with pytest.raises(ParticipationError) as exc:
        voting.ballot_cast(actor=moved, budget=b, proposal_ids=ids(world.proposals[3]))
    assert exc.value.code == "not_resident"


def test_residence_rules_are_configurable(city: Any, housing: Any) -> None:
    budget = make_budget(city, allow_migrants=False, min_residence_months=6)
    migrant = resident(housing.unit_a, kind=ResidenceKind.MIGRANT)
    newcomer = resident(housing.unit_a, since=timezone.localdate() - timedelta(days=30))
    with pytest.raises(ParticipationError) as exc:
        voting.check_eligible(budget, Person.objects.get(user=migrant))
    assert "户籍" in exc.value.message
    with pytest.raises(ParticipationError) as exc:
        voting.check_eligible(budget, Person.objects.get(user=newcomer))
    assert "6 个月" in exc.value.message
    voting.check_eligible(budget, Person.objects.get(user=resident(housing.unit_a)))


def test_ballot_check_applies_the_knapsack_rule(world: World) -> None:
    b = world.budget
    p600, p500, p300, p100 = world.proposals
    assert voting.ballot_check(budget=b, proposal_ids=ids(p600, p300, p100)).ok
    over = voting.ballot_check(budget=b, proposal_ids=ids(p600, p500))
    assert not over.ok and "超过了预算" in over.problems[0] and over.total_fen == 1100_00
    b.min_spend_percent = 70
    b.save()
    low = voting.ballot_check(budget=b, proposal_ids=ids(p100))
    assert not low.ok and "70%" in low.problems[0]


def test_ballot_check_applies_the_approval_rule(world: World) -> None:
    b = world.budget
    b.voting_rule, b.min_choices, b.max_choices = VotingRule.APPROVAL, 2, 3
    b.save()
    assert not voting.ballot_check(budget=b, proposal_ids=ids(world.proposals[0])).ok
    assert voting.ballot_check(budget=b, proposal_ids=ids(*world.proposals[:3])).ok  # costs may exceed the budget
    assert not voting.ballot_check(budget=b, proposal_ids=ids(*world.proposals)).ok


def test_one_ballot_per_person_change_with_receipt(world: World) -> None:
    b, (p600, p500, p300, p100) = world.budget, world.proposals
    result = voting.ballot_cast(actor=world.voter, budget=b, proposal_ids=ids(p600, p300))
    assert not result.changed and len(result.receipt) == 14
    with pytest.raises(ParticipationError) as exc:
        voting.ballot_cast(actor=world.voter, budget=b, proposal_ids=ids(p100))
    assert exc.value.code == "already_voted"
    with pytest.raises(ParticipationError) as exc:
        voting.ballot_cast(actor=world.voter, budget=b, proposal_ids=ids(p100), receipt="2222-2222-2222")
    assert exc.value.code == "bad_receipt"
    changed = voting.ballot_cast(actor=world.voter, budget=b, proposal_ids=ids(p500, p100), receipt=result.receipt.lower().replace("-", ""))
    assert changed.changed and Ballot.objects.filter(budget=b).count() == 1
    assert set(BallotChoice.objects.values_list("proposal_id", flat=True)) == {p500.pk, p100.pk}
    assert VoterRegister.objects.filter(budget=b).count() == 1
    status = voting.receipt_verify(budget=b, receipt=result.receipt)
    assert status.found and [p.pk for p in status.proposals] == [p500.pk, p100.pk] and not status.counted
    services.budget_advance(actor=world.city.worker_a, budget=b)
    with pytest.raises(ParticipationError) as exc:
        voting.ballot_cast(actor=world.voter, budget=b, proposal_ids=ids(p100), receipt=result.receipt)
    assert exc.value.code == "wrong_phase" and "计票公示" in exc.value.message


def test_voting_closes_at_its_time(world: World) -> None:
    world.budget.voting_closes_at = timezone.now() - timedelta(minutes=1)
    world.budget.save()
    with pytest.raises(ParticipationError) as exc:
        voting.ballot_cast(actor=world.voter, budget=world.budget, proposal_ids=ids(world.proposals[3]))
    assert exc.value.code == "wrong_phase" and "截止" in exc.value.message


def test_the_register_refuses_a_second_row_for_a_person(world: World) -> None:
    person = Person.objects.get(user=world.voter)
    VoterRegister.objects.create(budget=world.budget, person=person, channel=Channel.ONLINE, voted_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        VoterRegister.objects.create(budget=world.budget, person=person, channel=Channel.PAPER, voted_at=timezone.now())


def test_ballots_cannot_be_linked_to_voters(world: World) -> None:
    voting.ballot_cast(actor=world.voter, budget=world.budget, proposal_ids=ids(world.proposals[3]))
    with connection.cursor() as cur:
        columns = {c.name for c in connection.introspection.get_table_description(cur, Ballot._meta.db_table)}
        relations = connection.introspection.get_relations(cur, Ballot._meta.db_table)
    assert columns == {"id", "budget_id", "channel", "receipt_hash"}
    assert {target for _col, (_f, target) in relations.items()} <= {"participation_budget"}
    assert Ballot._meta.get_field("id").get_internal_type() == "UUIDField"  # random, not in casting order
    register_columns = {f.column for f in VoterRegister._meta.concrete_fields}
    assert not any("ballot" in c or "receipt" in c for c in register_columns)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_first_ballots_of_one_person_count_once(city: Any, housing: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the constraint is tested directly above")
    budget = make_budget(city, amount_fen=1000_00)
    author = resident(housing.unit_a)
    p = services.proposal_submit(actor=author, budget=budget, title="安装路灯", description="…", estimated_cost_fen=100_00)
    budget = to_phase(budget, Phase.REVIEWING, city.worker_a)
    services.proposal_review(actor=city.worker_a, proposal=p, feasible=True, cost_fen=100_00)
    budget = to_phase(budget, Phase.VOTING, city.worker_a)
    voter = resident(housing.unit_a)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def cast() -> None:
        from django.db import connections

        try:
            user = User.objects.get(pk=voter.pk)
            barrier.wait(timeout=10)
            voting.ballot_cast(actor=user, budget=budget, proposal_ids=[p.pk])
            outcomes.append("ok")
        except ParticipationError as exc:
            outcomes.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=cast) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["already_voted", "ok"]
    assert Ballot.objects.filter(budget=budget).count() == 1
    assert VoterRegister.objects.filter(budget=budget).count() == 1


def test_paper_ballots_are_entered_twice_by_different_staff(world: World) -> None:
    b, (p600, p500, p300, p100) = world.budget, world.proposals
    clerk2 = User.objects.create(username="clerk2", display_name="周录入")
    clerk3 = User.objects.create(username="clerk3", display_name="吴复核")
    for u in (clerk2, clerk3):
        membership_grant(actor=None, user=u, role=Role.COMMUNITY_STAFF, unit=world.city.community_a)
    elderly = [Person.objects.get(user=resident(world.housing.unit_a, birth=date(1940, 1, 1))) for _ in range(2)]
    for person in elderly:
        voting.paper_voter_mark(actor=world.city.grid_worker_a, budget=b, person=person)
    with pytest.raises(ParticipationError) as exc:
        voting.paper_voter_mark(actor=world.city.worker_a, budget=b, person=elderly[0])
    assert exc.value.code == "already_voted"
    outsider = Person.objects.get(user=resident(world.housing.unit_b))
    with pytest.raises(ParticipationError):
        voting.paper_voter_mark(actor=world.city.worker_a, budget=b, person=outsider)
    first = voting.paper_sheet_enter(actor=world.city.worker_a, budget=b, receipt="AAAA-BBBB-CCCC", proposal_ids=ids(p600, p300))
    assert first.state == PaperSheetState.FIRST and not Ballot.objects.exists()
    with pytest.raises(ParticipationError) as exc:
        voting.paper_sheet_enter(actor=world.city.worker_a, budget=b, receipt="AAAA-BBBB-CCCC", proposal_ids=ids(p600, p300))
    assert exc.value.code == "same_clerk"
    second = voting.paper_sheet_enter(actor=clerk2, budget=b, receipt="aaaabbbbcccc", proposal_ids=ids(p300, p600))
    assert second.state == PaperSheetState.MATCHED
    assert Ballot.objects.get().channel == Channel.PAPER
    voting.paper_sheet_enter(actor=world.city.worker_a, budget=b, receipt="DDDD-EEEE-FFFF", proposal_ids=ids(p500))
    mismatch = voting.paper_sheet_enter(actor=clerk2, budget=b, receipt="DDDD-EEEE-FFFF", proposal_ids=ids(p500, p100))
    assert mismatch.state == PaperSheetState.MISMATCH and Ballot.objects.count() == 1
    with pytest.raises(ParticipationError):
        voting.paper_sheet_resolve(actor=clerk2, sheet=mismatch.sheet, proposal_ids=ids(p500))
    sheet = voting.paper_sheet_resolve(actor=clerk3, sheet=mismatch.sheet, proposal_ids=ids(p500))
    assert sheet.state == PaperSheetState.RESOLVED and Ballot.objects.count() == 2
    # A third sheet would be more paper ballots than voters marked at the booth.
    voting.paper_sheet_enter(actor=world.city.worker_a, budget=b, receipt="GGGG-HHHH-JJJJ", proposal_ids=ids(p100))
    with pytest.raises(ParticipationError) as exc:
        voting.paper_sheet_enter(actor=clerk2, budget=b, receipt="GGGG-HHHH-JJJJ", proposal_ids=ids(p100))
    assert exc.value.code == "too_many_paper"
    status = voting.receipt_verify(budget=b, receipt="AAAA-BBBB-CCCC")
    assert status.found and status.channel == Channel.PAPER


def test_receipt_shows_the_ballot_in_the_published_count(world: World) -> None:
    b = world.budget
    mine = voting.ballot_cast(actor=world.voter, budget=b, proposal_ids=ids(world.proposals[2], world.proposals[3]))
    voting.ballot_cast(actor=resident(world.housing.unit_a), budget=b, proposal_ids=ids(world.proposals[0]))
    b = services.budget_advance(actor=world.city.worker_a, budget=b)
    tally.tally_run(actor=world.city.worker_a, budget=b)
    status = voting.receipt_verify(budget=b, receipt=mine.receipt)
    assert status.found and status.counted and status.tallied
    assert [p.title for p in status.proposals] == ["老年食堂添置餐桌", "安装路灯"]
    assert status.public_id in tally.pabulib_text(b)
    assert not voting.receipt_verify(budget=b, receipt="ZZZZ-ZZZZ-ZZZZ").found
    with pytest.raises(ParticipationError):
        voting.receipt_verify(budget=b, receipt="not a code")


def test_a_cast_leaves_no_audit_event_that_could_line_voters_up_with_ballots(world: World) -> None:
    b, (p600, p500, p300, p100) = world.budget, world.proposals
    before = AuditEvent.objects.count()
    first = voting.ballot_cast(actor=world.voter, budget=b, proposal_ids=ids(p600, p300))
    voting.ballot_cast(actor=world.voter, budget=b, proposal_ids=ids(p100), receipt=first.receipt)
    # The register row is the record that this person voted; nothing else is written per cast.
    assert VoterRegister.objects.filter(budget=b, person__user=world.voter).count() == 1
    assert AuditEvent.objects.count() == before
    assert audit_verify()[1] is None
    with pytest.raises(ParticipationError):
        voting.ballot_cast(actor=world.voter, budget=b, proposal_ids=ids(p500))
    assert AuditEvent.objects.count() == before


def test_the_budget_read_under_the_shared_lock_is_the_whole_budget_with_its_community(world: World) -> None:
    with transaction.atomic():
        fresh = voting._share_budget(world.budget)
    stored = type(world.budget).objects.select_related("unit").get(pk=world.budget.pk)
    for f in type(stored)._meta.concrete_fields:
        assert getattr(fresh, f.attname) == getattr(stored, f.attname), f.name
    assert (fresh.unit.pk, fresh.unit.path, fresh.unit.name) == (stored.unit.pk, stored.unit.path, stored.unit.name)
