"""Mediation services: creation from an appeal keeps both linked, assignment rules, double-booking refused
(also under concurrency), outcomes, and the fulfilment check where a breach reopens the dispute."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from zhucheng.core.crypto import keyed_hash
from zhucheng.core.models import AuditEvent
from zhucheng.mediation import outcomes, services
from zhucheng.mediation.errors import MediationError
from zhucheng.mediation.models import (
    Agreement,
    AgreementState,
    ConflictDeclaration,
    Dispute,
    DisputeStatus,
    FollowUp,
    FollowUpState,
    Referral,
    Session,
    SessionStatus,
    Source,
    TermResult,
)

from .conftest import PHONE_A, World, at, make_dispute

pytestmark = pytest.mark.django_db


def _appeal(title: str = "工地拖欠工资") -> Any:
    from zhucheng.appeals.services import PetitionerInput, appeal_submit

    return appeal_submit(
        actor=None,
        channel="hotline",
        title=title,
        description="我在中华社区的工地干了三个月，老板一直拖着不发工资，一共一万二千元。",
        lat=26.2,
        lon=106.1,
        petitioners=[PetitionerInput(name="王小明", phone="13912345678")],
    ).appeal


def _public_notes(appeal: Any) -> list[str]:
    from zhucheng.appeals.selectors import timeline

    return [e.note for e in timeline(appeal, public_only=True) if e.act == "note"]


# --- creation from an appeal ---------------------------------------------------------------------


def test_creation_from_an_appeal_keeps_both_linked(world: World, django_capture_on_commit_callbacks: Any) -> None:
    city = world.city
    appeal = _appeal()
    dispute = services.dispute_create_from_appeal(actor=city.worker_a, appeal_id=appeal.pk, field="labour")

    assert dispute.appeal_id == appeal.pk and dispute.source == Source.APPEAL
    assert list(appeal.disputes.all()) == [dispute]
    # Located where the appeal is, so the same people see both.
    assert dispute.unit_id == (appeal.grid_id or appeal.unit_id)
    # The petitioner became the applicant, contacts carried over encrypted (same keyed hash).
    (party,) = dispute.parties.all()
    assert party.name == "王小明" and party.phone == "13912345678" and party.phone_hash == keyed_hash("13912345678")
    assert dispute.committee is not None and dispute.committee.field == "labour"
    notes = _public_notes(appeal)
    assert any(dispute.code in n and "人民调解" in n for n in notes)

    # Progress shows in the appeal: assigning and scheduling by the mediator (who does not handle
    # the appeal) still reach its timeline, written by the system.
    services.dispute_assign(actor=city.worker_a, dispute=dispute, mediator=world.mediator_a)
    services.session_schedule(actor=world.mediator_user, dispute=dispute, room=world.room_a, starts_at=at(2, 9), ends_at=at(2, 10))
    notes = _public_notes(appeal)
    assert any("已指派" in n for n in notes) and any("已安排调解" in n for n in notes)
    assert not any("王小明" in n or "13912345678" in n for n in notes)  # no party identifiers in the public timeline

    # One dispute per appeal: a second attempt names the first.
    with pytest.raises(MediationError) as exc:
        services.dispute_create_from_appeal(actor=city.worker_a, appeal_id=appeal.pk)
    assert exc.value.code == "exists" and dispute.code in exc.value.message


def test_creation_from_an_appeal_out_of_scope_is_refused(world: World) -> None:
    appeal = _appeal()
    with pytest.raises(MediationError) as exc:
        services.dispute_create_from_appeal(actor=world.city.worker_b, appeal_id=appeal.pk)
    assert exc.value.code == "not_found"
    assert not Dispute.objects.exists()


def test_create_is_audited_scoped_and_assessed(world: World) -> None:
    city = world.city
    dispute = make_dispute(world, assign=False)
    assert dispute.code.startswith(f"TJ{timezone.localdate().year}-")
    assert AuditEvent.objects.filter(act="mediation.dispute_create", object_id=str(dispute.pk)).exists()
    assert dispute.risk_assessments.count() == 1 and dispute.risk_score is not None
    # A worker of community B cannot open a dispute in community A; a grid worker can in their grid.
    with pytest.raises(MediationError) as exc:
        make_dispute(world, actor=city.worker_b, assign=False)
    assert exc.value.code == "forbidden"
    make_dispute(world, actor=city.grid_worker_a, assign=False)
    # Parties' identifiers are stored encrypted.
    with connection.cursor() as cur:
        cur.execute("SELECT phone, id_number FROM mediation_party WHERE dispute_id = %s", [dispute.pk])
        raw = cur.fetchall()
    assert raw and all(PHONE_A not in (p or "") and "520102199003071234" not in (i or "") for p, i in raw)


# --- assignment ------------------------------------------------------------------------------------


def test_assignment_rules(world: World) -> None:
    city = world.city
    dispute = make_dispute(world, assign=False)
    with pytest.raises(MediationError) as exc:
        services.dispute_assign(actor=city.worker_b, dispute=dispute, mediator=world.mediator_a)
    assert exc.value.code == "forbidden"

    # The suggestions rank the labour mediator of the community first, and leave out full mediators.
    from zhucheng.mediation.selectors import mediator_suggestions

    names = [s.mediator.name for s in mediator_suggestions(dispute)]
    assert names[0] == "杨调解" and "郑调解" in names
    world.mediator_a.max_load = 1
    world.mediator_a.save()
    make_dispute(world)  # takes the only slot
    assert "杨调解" not in [s.mediator.name for s in mediator_suggestions(dispute)]
    with pytest.raises(MediationError) as exc:
        services.dispute_assign(actor=city.worker_a, dispute=dispute, mediator=world.mediator_a)
    assert exc.value.code == "overloaded"

    # A declared conflict is recorded and bars the mediator.
    services.conflict_declare(actor=city.worker_a, dispute=dispute, mediator=world.volunteer_a, has_conflict=True, note="与被申请人系亲属")
    assert ConflictDeclaration.objects.filter(dispute=dispute, has_conflict=True).count() == 1
    with pytest.raises(MediationError) as exc:
        services.dispute_assign(actor=city.worker_a, dispute=dispute, mediator=world.volunteer_a)
    assert exc.value.code == "conflict"
    services.dispute_assign(actor=city.worker_a, dispute=dispute, mediator=world.mediator_b)
    assert Dispute.objects.get(pk=dispute.pk).status == DisputeStatus.MEDIATING


def test_declaring_a_conflict_takes_the_mediator_off(world: World) -> None:
    dispute = make_dispute(world)
    services.conflict_declare(actor=world.mediator_user, dispute=dispute, mediator=world.mediator_a, has_conflict=True, note="曾代理申请人")
    dispute.refresh_from_db()
    assert dispute.mediator is None and dispute.status == DisputeStatus.RECEIVED


# --- sessions ----------------------------------------------------------------------------------------


def test_double_booking_of_a_room_or_a_mediator_is_refused(world: World, sms: Any, django_capture_on_commit_callbacks: Any) -> None:
    first = make_dispute(world)
    second = make_dispute(world, title="另一起纠纷")
    third = make_dispute(world, title="第三起纠纷")
    services.dispute_assign(actor=world.city.worker_a, dispute=third, mediator=world.volunteer_a)
    with django_capture_on_commit_callbacks(execute=True):
        s1 = services.session_schedule(actor=world.mediator_user, dispute=first, room=world.room_a, starts_at=at(2, 9), ends_at=at(2, 11))
    # Parties were told when and where (two parties and the representative, by SMS).
    assert len(sms) == 3 and all("中华社区调解室" in text for _, text in sms)
    assert s1.attendances.count() == 2

    # Same room, overlapping (another mediator): refused.
    with pytest.raises(MediationError) as exc:
        services.session_schedule(actor=world.city.worker_a, dispute=third, room=world.room_a, starts_at=at(2, 10), ends_at=at(2, 12))
    assert exc.value.code == "double_booked" and "中华社区调解室" in exc.value.message
    # Same mediator, another room, overlapping: refused.
    with pytest.raises(MediationError) as exc:
        services.session_schedule(actor=world.mediator_user, dispute=second, room=world.room_a2, starts_at=at(2, 10, 30), ends_at=at(2, 11, 30))
    assert exc.value.code == "double_booked" and "杨调解" in exc.value.message
    # Back to back is fine (ranges are half-open).
    services.session_schedule(actor=world.mediator_user, dispute=second, room=world.room_a, starts_at=at(2, 11), ends_at=at(2, 12))
    # Cancelling frees the slot.
    services.session_cancel(actor=world.mediator_user, session=s1, reason="当事人请求改期")
    services.session_schedule(actor=world.city.worker_a, dispute=third, room=world.room_a, starts_at=at(2, 9), ends_at=at(2, 10))
    assert Session.objects.filter(status=SessionStatus.SCHEDULED).count() == 2


def test_sessions_respect_opening_hours_and_time(world: World) -> None:
    dispute = make_dispute(world)
    world.room_a.open_days, world.room_a.closes_at = "12345", world.room_a.closes_at.replace(hour=17)
    world.room_a.save()
    saturday = timezone.localdate() + timedelta(days=(5 - timezone.localdate().weekday()) % 7 or 7)
    sat = timezone.make_aware(timezone.datetime.combine(saturday, timezone.datetime.min.time().replace(hour=9)))
    with pytest.raises(MediationError) as exc:
        services.session_schedule(actor=world.mediator_user, dispute=dispute, room=world.room_a, starts_at=sat, ends_at=sat + timedelta(hours=1))
    assert exc.value.code == "closed"
    monday = saturday + timedelta(days=2)
    late = timezone.make_aware(timezone.datetime.combine(monday, timezone.datetime.min.time().replace(hour=16, minute=30)))
    with pytest.raises(MediationError) as exc:
        services.session_schedule(actor=world.mediator_user, dispute=dispute, room=world.room_a, starts_at=late, ends_at=late + timedelta(hours=1))
    assert exc.value.code == "closed" and "17:00" in exc.value.message
    with pytest.raises(MediationError):
        services.session_schedule(actor=world.mediator_user, dispute=dispute, room=world.room_a, starts_at=at(-1, 9), ends_at=at(-1, 10))
    with pytest.raises(MediationError):  # a worker of another community
        services.session_schedule(actor=world.city.worker_b, dispute=dispute, room=world.room_a, starts_at=at(3, 9), ends_at=at(3, 10))


@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_of_one_slot_let_exactly_one_through(world: World) -> None:
    """Two bookings of the same room at the same time from two connections: the row locks make the
    second wait for the first and then see it."""
    disputes = [make_dispute(world), make_dispute(world, title="并发纠纷")]
    services.dispute_assign(actor=world.city.worker_a, dispute=disputes[1], mediator=world.volunteer_a)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def book(dispute: Dispute) -> None:
        from django.db import connections

        try:
            barrier.wait(timeout=10)
            services.session_schedule(actor=None, dispute=dispute, room=world.room_a, starts_at=at(4, 14), ends_at=at(4, 15))
            results.append("ok")
        except MediationError as exc:
            results.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=book, args=(d,)) for d in disputes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == ["double_booked", "ok"]
    assert Session.objects.filter(room=world.room_a).count() == 1


def test_recording_a_session(world: World) -> None:
    dispute = make_dispute(world)
    session = services.session_schedule(
        actor=world.mediator_user, dispute=dispute, room=world.room_a, starts_at=at(1, 9), ends_at=at(1, 10), other_attendees=[("赵翻译", "翻译")]
    )
    with pytest.raises(MediationError) as exc:
        services.session_record(actor=world.mediator_user, session=session, present=[], minutes="未开始")
    assert exc.value.code == "too_early"
    Session.objects.filter(pk=session.pk).update(starts_at=at(-1, 9), ends_at=at(-1, 10))
    first = session.attendances.order_by("id").first()
    assert first is not None
    services.session_record(actor=world.mediator_user, session=session, present=[first.pk], minutes="双方陈述了各自意见。")
    session.refresh_from_db()
    assert session.status == SessionStatus.HELD and "陈述" in session.minutes
    assert [a.present for a in session.attendances.order_by("id")] == [True, False, False]


# --- outcomes and fulfilment ------------------------------------------------------------------------


def _agree(world: World, dispute: Dispute, due_days: int = 10) -> Agreement:
    applicant, respondent = dispute.parties.order_by("side", "id")  # applicant sorts first
    return outcomes.agreement_create(
        actor=world.mediator_user,
        dispute=dispute,
        facts="公司承认拖欠工资 12000 元。",
        terms=[
            outcomes.TermInput(text="某某建筑公司向张三支付拖欠工资人民币 12000 元", due_on=timezone.localdate() + timedelta(days=due_days), amount_fen=1_200_000, obligor_id=respondent.pk),
            outcomes.TermInput(text="张三不再就本纠纷向公司主张其他权利"),
        ],
    )


def test_breach_reopens_the_dispute(world: World, sms: Any, django_capture_on_commit_callbacks: Any) -> None:
    appeal = _appeal()
    dispute = services.dispute_create_from_appeal(actor=world.city.worker_a, appeal_id=appeal.pk, field="labour", parties=None)
    services.party_add(actor=world.city.worker_a, dispute=dispute, party=services.PartyInput(name="某某建筑公司", side="respondent"))
    services.dispute_assign(actor=world.city.worker_a, dispute=dispute, mediator=world.mediator_a)
    agreement = _agree(world, dispute)
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.AGREED and dispute.agreed_at is not None
    dated, immediate = agreement.terms.order_by("seq")
    assert dated.result == TermResult.PENDING and immediate.result == TermResult.FULFILLED

    # Nothing is due yet: the sweep opens no check.
    assert outcomes.sweep().checks_opened == 0
    # On the agreed date the sweep opens the check: a follow-up for the mediator, and an SMS.
    with django_capture_on_commit_callbacks(execute=True):
        report = outcomes.sweep(at=timezone.now() + timedelta(days=10))
    assert report.checks_opened == 1
    task = FollowUp.objects.get(term=dated)
    assert task.owner == world.mediator_user and task.state == FollowUpState.OPEN
    assert any(phone == "13800000009" and dispute.code in text for phone, text in sms)
    assert outcomes.sweep(at=timezone.now() + timedelta(days=11)).checks_opened == 0  # idempotent

    before = dispute.risk_score
    outcomes.term_check(actor=world.mediator_user, term=dated, fulfilled=False, note="公司仅支付 3000 元，余款未付")
    dispute.refresh_from_db()
    agreement.refresh_from_db()
    assert dispute.status == DisputeStatus.REOPENED and dispute.reopened_count == 1 and dispute.concluded_at is None
    assert agreement.state == AgreementState.BREACHED
    assert FollowUp.objects.get(pk=task.pk).state == FollowUpState.DONE
    assert dispute.risk_score is not None and before is not None and dispute.risk_score > before  # a missed deadline counts
    assert any("未按期履行" in n for n in _public_notes(appeal))
    # Reopened: it can be mediated again (a new session, a new agreement).
    services.session_schedule(actor=world.mediator_user, dispute=dispute, room=world.room_a, starts_at=at(3, 9), ends_at=at(3, 10))
    second = _agree(world, dispute, due_days=5)
    assert Dispute.objects.get(pk=dispute.pk).status == DisputeStatus.AGREED and second.number != agreement.number


def test_performance_resolves_the_dispute(world: World) -> None:
    dispute = make_dispute(world)
    agreement = _agree(world, dispute)
    term = agreement.terms.get(seq=1)
    outcomes.sweep(at=timezone.now() + timedelta(days=10))
    services.followup_create(actor=world.city.worker_a, dispute=dispute, title="回访张三", owner=world.mediator_user, due_on=timezone.localdate() + timedelta(days=20))
    outcomes.term_check(actor=world.mediator_user, term=term, fulfilled=True, note="已当面支付")
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.FULFILLED and dispute.concluded_at is not None
    assert Agreement.objects.get(pk=agreement.pk).state == AgreementState.FULFILLED
    assert not FollowUp.objects.filter(dispute=dispute, state=FollowUpState.OPEN).exists()
    with pytest.raises(MediationError):
        outcomes.term_check(actor=world.mediator_user, term=term, fulfilled=False, note="again")


def test_failure_withdrawal_judicial_confirmation_and_hand_over(world: World, sms: Any, django_capture_on_commit_callbacks: Any) -> None:
    city = world.city
    failed = make_dispute(world)
    with django_capture_on_commit_callbacks(execute=True):
        outcomes.dispute_fail(actor=world.mediator_user, dispute=failed, referral=Referral.LABOUR_ARBITRATION)
    failed.refresh_from_db()
    assert failed.status == DisputeStatus.FAILED and "劳动人事争议仲裁委员会" in failed.referral_guidance
    assert any("劳动人事争议仲裁" in text for _, text in sms)

    withdrawn = make_dispute(world)
    services.session_schedule(actor=world.mediator_user, dispute=withdrawn, room=world.room_a, starts_at=at(5, 9), ends_at=at(5, 10))
    outcomes.dispute_withdraw(actor=world.mediator_user, dispute=withdrawn, reason="双方已自行和解")
    assert Dispute.objects.get(pk=withdrawn.pk).status == DisputeStatus.WITHDRAWN
    assert not Session.objects.filter(dispute=withdrawn, status=SessionStatus.SCHEDULED).exists()

    agreed = make_dispute(world)
    agreement = _agree(world, agreed)
    with pytest.raises(MediationError):
        outcomes.agreement_request_judicial(actor=world.mediator_user, agreement=agreement, court="南明区人民法院", requested_on=agreement.signed_on - timedelta(days=1))
    outcomes.agreement_request_judicial(actor=world.mediator_user, agreement=agreement, court="南明区人民法院", requested_on=agreement.signed_on)
    assert Agreement.objects.get(pk=agreement.pk).judicial_court == "南明区人民法院"

    handed = make_dispute(world)
    services.followup_create(actor=city.worker_a, dispute=handed, title="了解工程款结算", owner=city.worker_a, due_on=timezone.localdate() + timedelta(days=3))
    with pytest.raises(MediationError) as exc:  # a mediator does not hand over
        services.dispute_hand_over(actor=world.mediator_user, dispute=handed, body="市人社局劳动监察支队", reason="涉及欠薪群体事件")
    assert exc.value.code == "forbidden"
    services.dispute_hand_over(actor=city.worker_a, dispute=handed, body="市人社局劳动监察支队", reason="涉及欠薪群体事件")
    handed.refresh_from_db()
    assert handed.status == DisputeStatus.HANDED_OVER
    assert not FollowUp.objects.filter(dispute=handed, state=FollowUpState.OPEN).exists()
    # Concluded disputes accept no more sessions.
    with pytest.raises(MediationError) as exc:
        services.session_schedule(actor=world.mediator_user, dispute=handed, room=world.room_a, starts_at=at(6, 9), ends_at=at(6, 10))
    assert exc.value.code == "invalid_transition"


def test_sweep_command_reminds_parties_once(world: World, sms: Any, django_capture_on_commit_callbacks: Any) -> None:
    import io

    from django.core.management import call_command

    dispute = make_dispute(world)
    soon = timezone.now() + timedelta(hours=3)
    Session.objects.create(dispute=dispute, room=world.room_a, mediator=world.mediator_a, starts_at=soon, ends_at=soon + timedelta(hours=1))
    Session.objects.create(dispute=dispute, room=world.room_a, mediator=world.mediator_a, starts_at=soon + timedelta(days=3), ends_at=soon + timedelta(days=3, hours=1))
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("mediation_sweep", stdout=out)
    assert "发送调解提醒 1 次" in out.getvalue()
    assert len([t for _, t in sms if "提醒" in t]) == 3  # two parties and the representative
    with django_capture_on_commit_callbacks(execute=True):
        call_command("mediation_sweep", stdout=io.StringIO())
    assert len([t for _, t in sms if "提醒" in t]) == 3
