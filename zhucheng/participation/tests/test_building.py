"""Building supervision (progress roll-up, overspend and missed-milestone flags, voter notifications),
evaluation and upkeep, and the residents' council."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from zhucheng.participation import aftercare, building, council, services, tally, voting
from zhucheng.participation.errors import ParticipationError
from zhucheng.participation.models import (
    FlagKind,
    Phase,
    Project,
    ProjectFlag,
    ProjectStatus,
    ProposalState,
    ResolutionKind,
    UpkeepTask,
)

from .conftest import World, ids, make_budget, resident, to_phase


@pytest.fixture
def sms(settings: Any) -> Any:
    from zhucheng.accounts.sms import MemorySmsBackend

    settings.ZHUCHENG_NOTIFY_CHANNELS = ["sms"]
    settings.ZHUCHENG_SMS_BACKEND = "zhucheng.accounts.sms.MemorySmsBackend"
    MemorySmsBackend.outbox.clear()
    yield MemorySmsBackend.outbox
    MemorySmsBackend.outbox.clear()


def built(world: World) -> Project:
    b, (p600, _p500, p300, _p100) = world.budget, world.proposals
    voting.ballot_cast(actor=world.voter, budget=b, proposal_ids=ids(p600, p300))
    b = services.budget_advance(actor=world.city.worker_a, budget=b)
    tally.tally_run(actor=world.city.worker_a, budget=b)
    services.budget_advance(actor=world.city.worker_a, budget=b)
    return Project.objects.get(proposal=p600)


def test_weighted_progress_of_child_works_rolls_up(world: World) -> None:
    project = built(world)
    roof = building.project_add_child(actor=world.city.worker_a, parent=project, title="屋面防水", approved_fen=400_00, weight=3)
    paint = building.project_add_child(actor=world.city.worker_a, parent=project, title="楼道粉刷", approved_fen=200_00, weight=1)
    with pytest.raises(ParticipationError) as exc:
        building.project_add_child(actor=world.city.worker_a, parent=project, title="多余", approved_fen=1_00)
    assert exc.value.code == "too_costly"
    building.project_update(actor=world.city.worker_a, project=roof, progress=60)
    building.project_update(actor=world.city.worker_a, project=paint, progress=20)
    project.refresh_from_db()
    assert project.progress == 50  # (60·3 + 20·1) / 4
    with pytest.raises(ParticipationError) as exc:
        building.project_update(actor=world.city.worker_a, project=project, progress=90)
    assert exc.value.code == "rolled_up"


def test_status_change_notifies_opted_in_voters_and_is_on_the_timeline(world: World, sms: Any, django_capture_on_commit_callbacks: Any) -> None:
    project = built(world)
    with django_capture_on_commit_callbacks(execute=True):
        building.project_update(actor=world.city.worker_a, project=project, status=ProjectStatus.UNDER_WAY, contractor="贵州筑安建设有限公司")
    assert len(sms) == 1 and sms[0][0] == world.voter.phone and "建设中" in sms[0][1]
    assert project.timeline.filter(text__contains="建设中").exists()
    with pytest.raises(ParticipationError) as exc:
        building.project_update(actor=world.city.worker_a, project=project, status=ProjectStatus.PLANNED)
    assert exc.value.code == "invalid_transition"


def test_overspend_and_missed_milestones_are_flagged_to_community_staff(world: World, sms: Any, django_capture_on_commit_callbacks: Any) -> None:
    project = built(world)
    with django_capture_on_commit_callbacks(execute=True):
        building.spending_record(actor=world.city.worker_a, project=project, amount_fen=500_00, spent_on=date.today(), description="材料费")
    assert not ProjectFlag.objects.exists() and not sms
    with django_capture_on_commit_callbacks(execute=True):
        building.spending_record(actor=world.city.worker_a, project=project, amount_fen=200_00, spent_on=date.today(), description="人工费")
        building.spending_record(actor=world.city.worker_a, project=project, amount_fen=10_00, spent_on=date.today(), description="杂费")
    flag = ProjectFlag.objects.get(kind=FlagKind.OVERSPEND)  # raised once while unresolved
    assert "700.00 元" in flag.text and "600.00 元" in flag.text
    assert [m[0] for m in sms] == [world.city.worker_a.phone]
    m = building.milestone_add(actor=world.city.worker_a, project=project, title="主体完工", due_on=timezone.localdate() - timedelta(days=3))
    building.milestone_add(actor=world.city.worker_a, project=project, title="验收", due_on=timezone.localdate() + timedelta(days=30))
    with django_capture_on_commit_callbacks(execute=True):
        assert building.flags_sweep() == 1
        assert building.flags_sweep() == 0
    missed = ProjectFlag.objects.get(kind=FlagKind.MISSED_MILESTONE)
    assert "主体完工" in missed.text and "3 天" in missed.text and len(sms) == 2
    building.milestone_done(actor=world.city.worker_a, milestone=m)
    missed.refresh_from_db()
    assert missed.resolved_at is not None
    with pytest.raises(ParticipationError):
        building.spending_record(actor=world.city.worker_b, project=project, amount_fen=1, spent_on=date.today(), description="x")


def test_supervisors_observe_evaluation_and_upkeep(world: World) -> None:
    project = built(world)
    with pytest.raises(ParticipationError):
        building.observation_add(actor=world.voter, project=project, text="工地没有围挡")
    building.supervisor_join(actor=world.voter, project=project)
    obs = building.observation_add(actor=world.voter, project=project, text="工地没有围挡", concern=True)
    assert obs.supervisor.name_label.startswith("李")
    with pytest.raises(ParticipationError):
        building.supervisor_join(actor=resident(world.housing.unit_b), project=project)
    building.project_update(actor=world.city.worker_a, project=project, status=ProjectStatus.UNDER_WAY)
    building.project_update(actor=world.city.worker_a, project=project, status=ProjectStatus.COMPLETED)
    with pytest.raises(ParticipationError) as exc:
        aftercare.evaluation_submit(actor=world.voter, project=project, quality=5, usefulness=4, would_vote_again=True)
    assert exc.value.code == "wrong_phase"
    b = to_phase(project.budget, Phase.EVALUATING, world.city.worker_a)
    aftercare.evaluation_submit(actor=world.voter, project=project, quality=5, usefulness=4, would_vote_again=True)
    with pytest.raises(ParticipationError) as exc:
        aftercare.evaluation_submit(actor=world.voter, project=project, quality=1, usefulness=1, would_vote_again=False)
    assert exc.value.code == "duplicate"
    with pytest.raises(ParticipationError) as exc:
        aftercare.evaluation_submit(actor=resident(world.housing.unit_a), project=project, quality=3, usefulness=3, would_vote_again=True)
    assert exc.value.code == "not_eligible"
    scores = aftercare.evaluation_scores(project)
    assert (scores.count, scores.quality, scores.usefulness, scores.again_percent) == (1, 5.0, 4.0, 100.0)
    b = to_phase(b, Phase.UPKEEP, world.city.worker_a)
    task = aftercare.upkeep_schedule(
        actor=world.city.worker_a, project=project, kind="cleaning", title="楼道保洁", due_on=timezone.localdate() - timedelta(days=2),
        assignee_kind="resident", assignee_name="李秀英", assignee_user=world.voter, repeat_days=7,
    )
    overdue = aftercare.upkeep_overdue(UpkeepTask.objects.all())
    assert list(overdue) == [task]
    aftercare.upkeep_done(actor=world.voter, task=task, note="已清扫")
    nxt = UpkeepTask.objects.exclude(pk=task.pk).get()
    assert nxt.due_on == task.due_on + timedelta(days=7) and nxt.done_on is None
    assert list(aftercare.upkeep_overdue(UpkeepTask.objects.all())) == []
    with pytest.raises(ParticipationError):
        aftercare.upkeep_done(actor=resident(world.housing.unit_a), task=nxt, note="x")


@pytest.mark.django_db
def test_council_meeting_and_a_resolution_that_becomes_a_proposal(city: Any, housing: Any) -> None:
    budget = make_budget(city)
    c = council.council_create(actor=city.worker_a, unit=city.community_a, name="中华社区居民议事会")
    today = timezone.localdate()
    a = council.member_add(actor=city.worker_a, council=c, name="王德明", role="议事长", term_from=today - timedelta(days=400), term_to=today + timedelta(days=700))
    b = council.member_add(actor=city.worker_a, council=c, name="陈桂兰", term_from=today - timedelta(days=400), term_to=today + timedelta(days=700))
    old = council.member_add(actor=city.worker_a, council=c, name="赵老", term_from=today - timedelta(days=2000), term_to=today - timedelta(days=500))
    meeting = council.meeting_schedule(actor=city.worker_a, council=c, held_on=today, place="社区活动室", agenda="一、讨论年度公益金项目")
    with pytest.raises(ParticipationError):
        council.meeting_record(actor=city.worker_a, meeting=meeting, minutes="…", attendees=[a, old])
    council.meeting_record(actor=city.worker_a, meeting=meeting, minutes="到会 2 人,讨论了加装电梯问题。", attendees=[a, b])
    with pytest.raises(ParticipationError) as exc:
        council.resolution_add(actor=city.worker_a, meeting=meeting, kind=ResolutionKind.OTHER, text="x", votes_for=3)
    assert "出席" in exc.value.message
    r = council.resolution_add(
        actor=city.worker_a, meeting=meeting, kind=ResolutionKind.PROPOSAL, text="建议为5栋加装无障碍坡道", votes_for=2,
        budget=budget, proposal_title="5栋无障碍坡道", proposal_cost_fen=8_000_00,
    )
    proposal = r.proposals.get()
    assert proposal.by_council and proposal.author_label == "中华社区居民议事会" and proposal.state == ProposalState.SUBMITTED
    rec = council.resolution_add(actor=city.worker_a, meeting=meeting, kind=ResolutionKind.RECOMMENDATION, text="建议延长活动室开放时间", votes_for=2)
    council.resolution_respond(actor=city.worker_a, resolution=rec, response="已延长至晚上九点。")
    rec.refresh_from_db()
    assert rec.response


pytestmark = pytest.mark.django_db
