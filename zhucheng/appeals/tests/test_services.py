"""The appeal life cycle: every transition, every refusal, deadlines moved by acts, duplicates, stale edits."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from zhucheng.appeals import services
from zhucheng.appeals.errors import AppealError
from zhucheng.appeals.models import (
    Appeal,
    AppealEvent,
    Assignment,
    AssignmentState,
    Category,
    DuplicateCandidate,
    Extension,
    Petitioner,
    Review,
    RoutingRule,
    Status,
    Supervision,
)
from zhucheng.appeals.selectors import appeal_for_tracking, appeals_visible_to
from zhucheng.core.models import AuditEvent
from zhucheng.places.models import Department, Role
from zhucheng.places.services import membership_grant

IN_A = {"lat": 26.2, "lon": 106.1}  # inside grid_a (community A)


@pytest.fixture
def lamp(db: Any) -> Category:
    return Category.objects.get(code="CG01")


@pytest.fixture
def routed(city: Any, lamp: Category) -> Any:
    RoutingRule.objects.create(category=lamp, department=city.department)
    return city


def submit(actor: Any = None, **kw: Any) -> Appeal:
    args: dict[str, Any] = {
        "channel": "hotline",
        "title": "路灯不亮",
        "description": "中华北路123号门口路灯坏了一个月，晚上很黑，老人出门不安全。",
        "petitioners": [services.PetitionerInput(name="张三", phone="13912345678")],
        **IN_A,
    }
    args.update(kw)
    return services.appeal_submit(actor=actor, **args).appeal


def handled(city: Any, lamp: Category, **kw: Any) -> Appeal:
    """An appeal registered and assigned (by routing) to city.department."""
    appeal = submit(category=lamp, **kw)
    appeal = services.appeal_register(actor=city.worker_a, appeal=appeal)
    return services.appeal_assign(actor=city.worker_a, appeal=appeal)


# --- intake ------------------------------------------------------------------------------------


def test_submit_codes_locates_encrypts_and_sets_registration_deadline(city: Any) -> None:
    appeal = submit(actor=city.worker_a)
    assert appeal.code.startswith(f"GY{timezone.localtime().year}-") and len(appeal.code.split("-")[1]) == 7
    assert appeal.grid == city.grid_a and appeal.unit == city.grid_a
    assert appeal.status == Status.SUBMITTED
    assert appeal.register_due is not None and appeal.due_at == appeal.register_due
    with connection.cursor() as cur:
        cur.execute("SELECT phone FROM appeals_petitioner")
        raw = cur.fetchone()[0]
    assert "13912345678" not in raw
    assert Petitioner.objects.get(appeal=appeal).phone == "13912345678"
    assert AppealEvent.objects.filter(appeal=appeal, act="submit").exists()
    assert AuditEvent.objects.filter(act="appeals.submit", object_id=str(appeal.pk)).exists()
    second = submit()
    assert int(second.code.split("-")[1]) == int(appeal.code.split("-")[1]) + 1


def test_the_code_is_given_last_and_only_the_final_code_is_stored_and_sent(
    city: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    """The row is written under a placeholder and gets its code just before the commit (so the code
    counter's lock is held only to the commit): nothing keeps or shows the placeholder."""
    sent: list[tuple[str, str, str]] = []
    monkeypatch.setattr("zhucheng.core.notify.deliver_task.delay", lambda channel, address, text, subject="": sent.append((channel, address, text)))
    with django_capture_on_commit_callbacks(execute=True):
        appeal = submit(actor=city.worker_a)
    stored = Appeal.objects.values_list("code", flat=True).get(pk=appeal.pk)
    assert stored == appeal.code and re.fullmatch(rf"GY{timezone.localtime().year}-\d{{7}}", stored)
    assert not Appeal.objects.filter(code__startswith="~").exists()
    assert sent == [("sms", "13912345678", f"您的诉求已收到，受理编号 {appeal.code}，可凭编号和手机号查询办理进度。")]
    assert AuditEvent.objects.filter(act="appeals.submit", object_id=str(appeal.pk)).count() == 1


def test_a_failed_submit_uses_no_code(city: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A submit that fails after its row is written rolls back whole, counter included: codes stay gapless."""
    first = submit()

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("audit store down")

    monkeypatch.setattr("zhucheng.appeals.intake.audit_record", broken)
    with pytest.raises(RuntimeError):
        submit()
    monkeypatch.undo()
    second = submit()
    assert int(second.code.split("-")[1]) == int(first.code.split("-")[1]) + 1
    assert Appeal.objects.count() == 2


def test_submit_is_idempotent_with_client_token(city: Any) -> None:
    first = services.appeal_submit(
        actor=None, channel="open311", title="井盖缺失", description="人行道井盖缺失，有人掉下去的危险。",
        petitioners=[services.PetitionerInput(phone="13912345678")], client_token="abc-1", **IN_A,
    )
    again = services.appeal_submit(
        actor=None, channel="open311", title="井盖缺失", description="人行道井盖缺失，有人掉下去的危险。",
        petitioners=[services.PetitionerInput(phone="13912345678")], client_token="abc-1", **IN_A,
    )
    assert first.created and not again.created
    assert again.appeal.pk == first.appeal.pk
    assert Appeal.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"title": "  "}, "title", "required"),
        ({"description": ""}, "description", "required"),
        ({"description": "字" * 4001}, "description", "too_long"),
        ({"description": "看这里 <script>alert(1)</script>"}, "description", "html"),
        ({"lat": 39.9, "lon": 116.4}, "location", "outside_city"),
        ({"lat": "abc", "lon": 106.1}, "location", "invalid"),
        ({"lat": None, "lon": None}, "location", "required"),
        ({"petitioners": [services.PetitionerInput(phone="1234")]}, "petitioners[0].phone", "invalid"),
        ({"petitioners": [services.PetitionerInput(phone="13912345678", id_number="520102199001011235")]}, "petitioners[0].id_number", "invalid"),
        ({"channel": "portal", "petitioners": []}, "petitioners[0].phone", "required"),
        ({"is_collective": True, "headcount": 1}, "headcount", "invalid"),
        ({"channel": "fax"}, "channel", "invalid"),
    ],
)
def test_bad_input_is_refused_specifically_and_writes_nothing(city: Any, change: dict[str, Any], field: str, code: str) -> None:
    before = AuditEvent.objects.count()
    with pytest.raises(AppealError) as err:
        submit(**change)
    assert err.value.field == field and err.value.code == code
    assert err.value.message  # a sentence for the user
    assert Appeal.objects.count() == 0 and Petitioner.objects.count() == 0
    assert AuditEvent.objects.count() == before


def test_submit_by_unit_without_point(city: Any) -> None:
    appeal = submit(lat=None, lon=None, unit=city.community_b)
    assert appeal.unit == city.community_b and appeal.grid is None


def test_tracking_by_code_and_phone(city: Any) -> None:
    appeal = submit()
    assert appeal_for_tracking(appeal.code.lower(), "139 1234 5678") == appeal
    assert appeal_for_tracking(appeal.code, "13900000000") is None
    assert appeal_for_tracking("GY2000-0000001", "13912345678") is None


# --- the happy path -------------------------------------------------------------------------------


def test_full_life_cycle(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = submit(category=lamp)
    appeal = services.appeal_register(actor=city.worker_a, appeal=appeal)
    assert appeal.status == Status.REGISTERED and appeal.reply_due is not None
    appeal = services.appeal_assign(actor=city.worker_a, appeal=appeal)
    assert appeal.status == Status.ASSIGNED and appeal.department == city.department
    lead = Assignment.objects.get(appeal=appeal)
    assert lead.objection_due is not None and lead.state == AssignmentState.ACTIVE
    appeal = services.appeal_start(actor=city.handler, appeal=appeal)
    assert appeal.status == Status.IN_PROGRESS
    reply = services.appeal_reply(actor=city.handler, appeal=appeal, outcome="support", text="已安排维修，三日内修复。")
    appeal.refresh_from_db()
    assert appeal.status == Status.REPLIED and reply.on_time and appeal.due_at is None
    services.appeal_feedback(actor=None, appeal=appeal, department_rating="satisfied", centre_rating="basic", as_petitioner=True)
    appeal.refresh_from_db()
    assert appeal.status == Status.FEEDBACK
    appeal = services.appeal_close(actor=city.worker_a, appeal=appeal)
    assert appeal.status == Status.CLOSED and appeal.resolved is True and appeal.closed_at
    acts = list(AppealEvent.objects.filter(appeal=appeal).values_list("act", flat=True))
    assert acts == ["submit", "register", "assign", "start", "reply", "feedback", "close"]
    assert AuditEvent.objects.filter(object_id=str(appeal.pk), act__startswith="appeals.").count() == 7


def test_routing_falls_back_to_the_community(city: Any, lamp: Category) -> None:
    appeal = submit(category=lamp)
    appeal = services.appeal_register(actor=city.worker_a, appeal=appeal)
    appeal = services.appeal_assign(actor=city.worker_a, appeal=appeal)
    lead = Assignment.objects.get(appeal=appeal)
    assert appeal.department is None and lead.unit == city.community_a
    # the community's own staff handle it
    services.appeal_start(actor=city.worker_a, appeal=appeal)
    with pytest.raises(AppealError) as err:
        services.appeal_reply(actor=city.handler, appeal=appeal, outcome="explain", text="x")
    assert err.value.code == "forbidden"


# --- refusals -----------------------------------------------------------------------------------


def test_invalid_moves_are_refused_with_a_message(routed: Any, lamp: Category) -> None:
    appeal = submit(category=lamp)
    with pytest.raises(AppealError) as err:
        services.appeal_reply(actor=None, appeal=appeal, outcome="support", text="好")
    assert err.value.code == "invalid_transition" and "待受理" in err.value.message
    with pytest.raises(AppealError) as err:
        services.appeal_assign(actor=None, appeal=appeal)
    assert err.value.code == "invalid_transition"
    services.appeal_register(actor=None, appeal=appeal)
    with pytest.raises(AppealError):
        services.appeal_register(actor=None, appeal=appeal)
    with pytest.raises(AppealError):
        services.appeal_close(actor=None, appeal=appeal)


def test_register_needs_a_category(city: Any) -> None:
    appeal = submit()
    with pytest.raises(AppealError) as err:
        services.appeal_register(actor=city.worker_a, appeal=appeal)
    assert err.value.field == "category"
    with pytest.raises(AppealError) as err:
        services.appeal_register(actor=city.worker_a, appeal=appeal, category=Category.objects.get(code="CG"))
    assert err.value.code == "not_leaf"


def test_scope_and_role_are_checked(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = submit(category=lamp)
    for outsider in (city.worker_b, city.nobody, city.handler, city.grid_worker_a):
        with pytest.raises(AppealError) as err:
            services.appeal_register(actor=outsider, appeal=appeal)
        assert err.value.code == "forbidden"
    appeal = services.appeal_register(actor=city.supervisor, appeal=appeal)
    appeal = services.appeal_assign(actor=city.worker_a, appeal=appeal)
    other_handler = city.nobody
    membership_grant(actor=None, user=other_handler, role=Role.DEPARTMENT_HANDLER, department=city.other_department)
    with pytest.raises(AppealError) as err:
        services.appeal_start(actor=other_handler, appeal=appeal)
    assert err.value.code == "forbidden"
    with pytest.raises(AppealError) as err:
        services.appeal_transfer(actor=city.handler, appeal=appeal, department=city.other_department, reason="不归我们管")
    assert err.value.code == "forbidden"


def test_decline_needs_a_reason_and_names_the_route(city: Any) -> None:
    appeal = submit()
    with pytest.raises(AppealError) as err:
        services.appeal_decline(actor=city.worker_a, appeal=appeal, reason=" ")
    assert err.value.field == "reason"
    with pytest.raises(AppealError) as err:
        services.appeal_decline(actor=city.worker_a, appeal=appeal, reason="x", route="moon")
    assert err.value.field == "route"
    appeal = services.appeal_decline(actor=city.worker_a, appeal=appeal, reason="属于劳动争议，应申请仲裁。", route="arbitration")
    assert appeal.status == Status.DECLINED and appeal.closed_at
    note = AppealEvent.objects.get(appeal=appeal, act="decline").note
    assert "仲裁" in note


def test_stale_edit_is_refused_and_nothing_is_overwritten(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = submit(category=lamp)
    seen = appeal.version
    services.appeal_register(actor=city.worker_a, appeal=appeal, expected_version=seen)
    with pytest.raises(AppealError) as err:
        services.appeal_decline(actor=city.worker_b, appeal=appeal, reason="重复", expected_version=seen)
    assert err.value.code == "stale"
    appeal.refresh_from_db()
    assert appeal.status == Status.REGISTERED and appeal.decline_reason == ""


# --- transfer, objection, co-handling ------------------------------------------------------------


def test_transfer_recomputes_the_deadline_for_hotline_appeals(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = handled(city, lamp)
    Appeal.objects.filter(pk=appeal.pk).update(reply_due=timezone.now() - timedelta(days=1))
    appeal.refresh_from_db()
    with pytest.raises(AppealError) as err:
        services.appeal_transfer(actor=city.worker_a, appeal=appeal, department=city.other_department, reason="")
    assert err.value.field == "reason"
    appeal = services.appeal_transfer(actor=city.worker_a, appeal=appeal, department=city.other_department, reason="属民政职责")
    assert appeal.department == city.other_department
    assert appeal.reply_due and appeal.reply_due > timezone.now()
    states = dict(Assignment.objects.filter(appeal=appeal).values_list("department__code", "state"))
    assert states == {"T01": AssignmentState.TRANSFERRED, "T02": AssignmentState.ACTIVE}


def test_petition_period_runs_from_registration_through_transfer(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = handled(city, lamp, kind="petition", channel="letter")
    due = appeal.reply_due
    appeal = services.appeal_transfer(actor=city.worker_a, appeal=appeal, department=city.other_department, reason="属民政职责")
    assert appeal.reply_due == due


def test_objection_within_five_working_days_then_reassignment(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = handled(city, lamp)
    with pytest.raises(AppealError) as err:
        services.appeal_decide_objection(actor=city.worker_a, appeal=appeal, accept=True, note="x", department=city.other_department)
    assert err.value.code == "invalid_transition"
    appeal = services.appeal_object(actor=city.handler, appeal=appeal, reason="路灯属城管局管理，不属住建局职责。")
    with pytest.raises(AppealError):
        services.appeal_object(actor=city.handler, appeal=appeal, reason="again")
    with pytest.raises(AppealError) as err:
        services.appeal_decide_objection(actor=city.worker_a, appeal=appeal, accept=True, note="同意")
    assert err.value.field == "department"
    appeal = services.appeal_decide_objection(
        actor=city.worker_a, appeal=appeal, accept=True, note="同意退单，改派民政局", department=city.other_department
    )
    assert appeal.department == city.other_department
    assert Assignment.objects.get(appeal=appeal, department=city.department).state == AssignmentState.RETURNED
    assert AppealEvent.objects.filter(appeal=appeal, act="reassign").exists()


def test_late_objection_is_refused(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = handled(city, lamp)
    Assignment.objects.filter(appeal=appeal).update(objection_due=timezone.now() - timedelta(minutes=1))
    with pytest.raises(AppealError) as err:
        services.appeal_object(actor=city.handler, appeal=appeal, reason="不属我局")
    assert err.value.code == "objection_late" and "5" in err.value.message


def test_refused_objection_keeps_the_department(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = handled(city, lamp)
    services.appeal_object(actor=city.handler, appeal=appeal, reason="不属我局")
    appeal = services.appeal_decide_objection(actor=city.worker_a, appeal=appeal, accept=False, note="属你局职责，请继续办理")
    assert appeal.department == city.department
    assert Assignment.objects.get(appeal=appeal).state == AssignmentState.ACTIVE


def test_assisting_department_sees_the_appeal(routed: Any, lamp: Category) -> None:
    city = routed
    helper = city.nobody
    membership_grant(actor=None, user=helper, role=Role.DEPARTMENT_HANDLER, department=city.other_department)
    appeal = submit(category=lamp)
    services.appeal_register(actor=city.worker_a, appeal=appeal)
    assert not appeals_visible_to(helper).filter(pk=appeal.pk).exists()
    services.appeal_assign(actor=city.worker_a, appeal=appeal, department=city.department, assisting=[city.other_department])
    helper = type(helper).objects.get(pk=helper.pk)
    assert appeals_visible_to(helper).filter(pk=appeal.pk).exists()
    services.appeal_add_note(actor=helper, appeal=appeal, text="协办意见：已现场查看。")
    with pytest.raises(AppealError):
        services.appeal_reply(actor=helper, appeal=appeal, outcome="support", text="x")


# --- extension, supervision, pause ---------------------------------------------------------------


def test_extension_request_and_approval(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = handled(city, lamp, kind="petition", channel="visit")
    due = appeal.reply_due
    assert due is not None
    with pytest.raises(AppealError) as err:
        services.appeal_request_extension(actor=city.handler, appeal=appeal, days=31, reason="需现场勘验")
    assert err.value.code == "extension_too_long" and err.value.field == "days"
    ext = services.appeal_request_extension(actor=city.handler, appeal=appeal, days=30, reason="需现场勘验")
    with pytest.raises(AppealError):
        services.appeal_decide_extension(actor=city.handler, extension=ext, approve=True)
    services.appeal_decide_extension(actor=city.supervisor, extension=ext, approve=True, note="同意")
    appeal.refresh_from_db()
    assert appeal.reply_due is not None and appeal.reply_due >= due + timedelta(days=30)
    with pytest.raises(AppealError) as err:
        services.appeal_request_extension(actor=city.handler, appeal=appeal, days=5, reason="再延")
    assert err.value.code == "extension_limit"
    assert Extension.objects.filter(appeal=appeal, state="approved").count() == 1


def test_supervision_and_leader_assignment(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = handled(city, lamp)
    sup = services.appeal_supervise(actor=city.supervisor, appeal=appeal, kind="supervision", instructions="请三日内答复")
    assert sup.due_at and sup.due_at > timezone.now()
    with pytest.raises(AppealError) as err:
        services.appeal_supervise(actor=city.supervisor, appeal=appeal, kind="leader", instructions="包案")
    assert err.value.code == "forbidden"
    leader = city.nobody
    membership_grant(actor=None, user=leader, role=Role.LEADER, unit=city.district)
    services.appeal_supervise(actor=leader, appeal=appeal, kind="leader", instructions="我包案，周五前办结", leader_name="孙区长")
    services.appeal_start(actor=city.handler, appeal=appeal)
    services.appeal_reply(actor=city.handler, appeal=appeal, outcome="support", text="已修复")
    services.appeal_close(actor=city.worker_a, appeal=Appeal.objects.get(pk=appeal.pk))
    assert not Supervision.objects.filter(appeal=appeal, closed_at__isnull=True).exists()


def test_pause_freezes_and_resume_moves_the_deadline(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = handled(city, lamp, kind="petition", channel="letter")
    due = appeal.reply_due
    appeal = services.appeal_pause(actor=city.handler, appeal=appeal, reason="materials", note="请补充购房合同")
    assert appeal.paused_at is not None
    with pytest.raises(AppealError):
        services.appeal_pause(actor=city.handler, appeal=appeal, reason="materials")
    with pytest.raises(AppealError):
        services.appeal_reply(actor=city.handler, appeal=appeal, outcome="support", text="x")
    Appeal.objects.filter(pk=appeal.pk).update(paused_at=timezone.now() - timedelta(days=3))
    appeal.refresh_from_db()
    appeal = services.appeal_resume(actor=city.handler, appeal=appeal)
    assert appeal.paused_at is None and appeal.reply_due is not None and due is not None
    assert appeal.reply_due - due >= timedelta(days=2, hours=23)


# --- feedback, review, reopen ---------------------------------------------------------------------


def replied(city: Any, lamp: Category, **kw: Any) -> Appeal:
    appeal = handled(city, lamp, **kw)
    services.appeal_reply(actor=city.handler, appeal=appeal, outcome="explain", text="该路段路灯已列入改造计划。")
    return Appeal.objects.get(pk=appeal.pk)


def test_unsatisfied_hotline_appeal_goes_back_to_the_department(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = replied(city, lamp)
    with pytest.raises(AppealError) as err:
        services.appeal_feedback(actor=None, appeal=appeal, department_rating="unsatisfied", as_petitioner=True)
    assert err.value.field == "comment"
    services.appeal_feedback(actor=None, appeal=appeal, department_rating="unsatisfied", comment="还是不亮", as_petitioner=True)
    appeal.refresh_from_db()
    assert appeal.status == Status.IN_PROGRESS and appeal.reply_due and appeal.reply_due > timezone.now()


def test_unsatisfied_petition_goes_to_review(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = replied(city, lamp, kind="petition", channel="letter")
    services.appeal_feedback(actor=None, appeal=appeal, department_rating="unsatisfied", comment="答复没有依据", as_petitioner=True)
    appeal.refresh_from_db()
    assert appeal.status == Status.UNDER_REVIEW
    assert Review.objects.get(appeal=appeal).level == 1


def test_feedback_needs_the_petitioner_or_staff(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = replied(city, lamp)
    with pytest.raises(AppealError) as err:
        services.appeal_feedback(actor=city.worker_b, appeal=appeal, department_rating="satisfied")
    assert err.value.code == "forbidden"


def test_review_then_re_review_makes_the_case_final(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = replied(city, lamp, kind="petition", channel="visit")
    review = services.appeal_request_review(actor=None, appeal=appeal, reason="不服答复", as_petitioner=True)
    assert review.level == 1
    appeal.refresh_from_db()
    assert appeal.status == Status.UNDER_REVIEW and appeal.due_at == review.due_at
    services.appeal_decide_review(actor=city.supervisor, appeal=appeal, decision="upheld", text="原处理意见正确，予以维持。")
    appeal.refresh_from_db()
    assert appeal.status == Status.CLOSED and not appeal.is_final
    rr = services.appeal_request_review(actor=None, appeal=appeal, reason="仍不服", as_petitioner=True)
    assert rr.level == 2
    services.appeal_decide_review(actor=city.supervisor, appeal=Appeal.objects.get(pk=appeal.pk), decision="upheld", text="复核维持。")
    appeal.refresh_from_db()
    assert appeal.is_final and appeal.status == Status.CLOSED
    with pytest.raises(AppealError) as err:
        services.appeal_request_review(actor=None, appeal=appeal, reason="再申请", as_petitioner=True)
    assert err.value.code == "final_case"
    with pytest.raises(AppealError) as err:
        services.appeal_reopen(actor=city.supervisor, appeal=appeal, reason="重办")
    assert err.value.code == "final_case"


def test_review_request_after_thirty_days_is_refused(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = replied(city, lamp, kind="petition", channel="visit")
    Appeal.objects.filter(pk=appeal.pk).update(replied_at=timezone.now() - timedelta(days=40))
    appeal.refresh_from_db()
    with pytest.raises(AppealError) as err:
        services.appeal_request_review(actor=None, appeal=appeal, reason="不服", as_petitioner=True)
    assert err.value.code == "review_late" and "30" in err.value.message


def test_revised_review_goes_back_to_handling(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = replied(city, lamp, kind="petition", channel="visit")
    services.appeal_request_review(actor=None, appeal=appeal, reason="不服", as_petitioner=True)
    services.appeal_decide_review(actor=city.supervisor, appeal=Appeal.objects.get(pk=appeal.pk), decision="revised", text="重新调查")
    appeal.refresh_from_db()
    assert appeal.status == Status.IN_PROGRESS and appeal.due_at == appeal.reply_due


def test_reopen_a_closed_appeal(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = replied(city, lamp)
    appeal = services.appeal_close(actor=city.worker_a, appeal=appeal)
    with pytest.raises(AppealError):
        services.appeal_reopen(actor=city.handler, appeal=appeal, reason="x")
    appeal = services.appeal_reopen(actor=city.supervisor, appeal=appeal, reason="群众反映仍未修好")
    assert appeal.status == Status.IN_PROGRESS and appeal.closed_at is None


# --- duplicates and repeats ----------------------------------------------------------------------


def test_same_petitioner_is_suggested_and_merged(routed: Any, lamp: Category) -> None:
    city = routed
    older = submit(category=lamp)
    newer = submit(category=lamp, title="路灯还是不亮")
    cand = DuplicateCandidate.objects.get(appeal=newer)
    assert cand.other == older and cand.reason == "same_petitioner" and 0 < cand.score <= 1
    with pytest.raises(AppealError) as err:
        services.appeal_register(actor=city.worker_a, appeal=newer)
    assert err.value.code == "duplicate_pending"
    with pytest.raises(AppealError):
        services.appeal_merge(actor=city.worker_a, appeal=older, into=newer)
    merged = services.appeal_merge(actor=city.worker_a, appeal=newer, into=older)
    assert merged.status == Status.MERGED and merged.repeat_of == older
    assert AppealEvent.objects.filter(appeal=older, act="repeat").exists()
    assert DuplicateCandidate.objects.get(appeal=newer).decision == "merged"


def test_kept_apart_pair_can_be_registered(routed: Any, lamp: Category) -> None:
    city = routed
    older = submit(category=lamp)
    newer = submit(category=lamp, title="另一件事", description="小区楼道灯不亮，与门口路灯无关。")
    services.appeal_keep_apart(actor=city.worker_a, appeal=newer, other=older)
    assert services.appeal_register(actor=city.worker_a, appeal=newer).status == Status.REGISTERED


def test_matter_final_after_re_review_is_not_registered_again(routed: Any, lamp: Category) -> None:
    city = routed
    old = submit(category=lamp, kind="petition", channel="visit")
    Appeal.objects.filter(pk=old.pk).update(status=Status.CLOSED, is_final=True)
    again = submit(category=lamp, kind="petition", channel="visit")
    with pytest.raises(AppealError) as err:
        services.appeal_register(actor=city.worker_a, appeal=again)
    assert err.value.code == "final_case" and old.code in err.value.message
    merged = services.appeal_merge(actor=city.worker_a, appeal=again, into=old)
    assert merged.repeat_of_id == old.pk


def test_departments_must_be_active_to_receive(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = submit(category=lamp)
    services.appeal_register(actor=city.worker_a, appeal=appeal)
    closed_dept = Department.objects.create(code="T99", name="已撤销的局", is_active=False)
    with pytest.raises(AppealError) as err:
        services.appeal_assign(actor=city.worker_a, appeal=appeal, department=closed_dept)
    assert err.value.field == "department"
