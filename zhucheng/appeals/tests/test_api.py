"""The REST API over appeals: scoping, every act's endpoint, stale versions, idempotent POSTs, tokens, schema."""

from __future__ import annotations

import importlib
import json
import re
import threading
from typing import Any

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.db import connections
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from zhucheng.accounts.models import User
from zhucheng.appeals import services
from zhucheng.appeals.models import (
    Appeal,
    AppealEvent,
    Category,
    DuplicateCandidate,
    Extension,
    RoutingRule,
    Status,
    Supervision,
)
from zhucheng.core.models import IdempotentRequest

IN_A = {"lat": 26.2, "lon": 106.1}  # inside grid_a (community A)
PHONE = "13912345678"
BASE = "/api/v1/appeals/"


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
        "petitioners": [services.PetitionerInput(name="张三丰", phone=PHONE)],
        **IN_A,
    }
    args.update(kw)
    return services.appeal_submit(actor=actor, **args).appeal


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def post(user: Any, appeal: Appeal | int, act: str, data: dict[str, Any] | None = None, **headers: str) -> Any:
    pk = appeal if isinstance(appeal, int) else appeal.pk
    return client_for(user).post(f"{BASE}{pk}/{act}/", data or {}, format="json", headers=headers or None)


def status_of(appeal: Appeal) -> str:
    return Appeal.objects.get(pk=appeal.pk).status


# --- authentication --------------------------------------------------------------------------------


def test_anonymous_is_refused_with_401(city: Any) -> None:
    appeal = submit()
    anon = APIClient()
    for response in (
        anon.get(BASE),
        anon.get(f"{BASE}{appeal.pk}/"),
        anon.post(BASE, {"title": "x"}, format="json"),
        anon.post(f"{BASE}{appeal.pk}/register/", {}, format="json"),
    ):
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"
        assert response.json()["code"] == "not_authenticated"
    assert status_of(appeal) == Status.SUBMITTED


def test_token_is_issued_for_a_password_used_and_revoked(city: Any) -> None:
    anon = APIClient()
    bad = anon.post("/api/v1/auth/token/", {"username": "worker_a", "password": "wrong-password"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "authorization"
    good = anon.post("/api/v1/auth/token/", {"username": "worker_a", "password": "correct-horse-battery"}, format="json")
    assert good.status_code == 200
    key = good.json()["token"]
    assert Token.objects.get(key=key).user == city.worker_a
    submit()
    with_token = APIClient(headers={"Authorization": f"Token {key}"})
    listed = with_token.get(BASE)
    assert listed.status_code == 200 and len(listed.json()["results"]) == 1
    assert APIClient(headers={"Authorization": "Token not-a-real-token"}).get(BASE).status_code == 401
    assert with_token.delete("/api/v1/auth/token/").status_code == 204
    assert with_token.get(BASE).status_code == 401


def test_token_endpoint_locks_out_after_repeated_failures(city: Any) -> None:
    anon = APIClient()
    answers = [
        anon.post("/api/v1/auth/token/", {"username": "worker_a", "password": f"wrong-{i}"}, format="json") for i in range(5)
    ]
    assert [a.status_code for a in answers] == [400, 400, 400, 400, 429]
    locked = anon.post("/api/v1/auth/token/", {"username": "worker_a", "password": "correct-horse-battery"}, format="json")
    assert locked.status_code == 429 and locked["Content-Type"] == "application/json"
    assert locked.json()["code"] == "throttled" and int(locked["Retry-After"]) > 0
    assert not Token.objects.exists()


def test_session_login_works_too(city: Any) -> None:
    submit()
    browser = Client()
    browser.force_login(city.worker_a)
    response = browser.get(BASE)
    assert response.status_code == 200 and len(response.json()["results"]) == 1


# --- scoping -------------------------------------------------------------------------------------------


def test_other_community_sees_nothing(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = submit(category=lamp)
    assert client_for(city.worker_b).get(BASE).json()["results"] == []
    missing = client_for(city.worker_b).get(f"{BASE}{appeal.pk}/")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    # An act on an appeal out of scope looks exactly like one on an appeal that does not exist.
    assert post(city.worker_b, appeal, "register").json() == post(city.worker_b, 999_999, "register").json()
    assert post(city.worker_b, appeal, "register").status_code == 404
    assert status_of(appeal) == Status.SUBMITTED
    assert client_for(city.nobody).get(BASE).json()["results"] == []
    mine = client_for(city.worker_a).get(BASE).json()["results"]
    assert [a["id"] for a in mine] == [appeal.pk]
    # The department sees it once it leads it.
    assert client_for(city.handler).get(BASE).json()["results"] == []
    services.appeal_register(actor=city.worker_a, appeal=appeal)
    services.appeal_assign(actor=city.worker_a, appeal=Appeal.objects.get(pk=appeal.pk))
    assert [a["id"] for a in client_for(city.handler).get(BASE).json()["results"]] == [appeal.pk]


def test_detail_masks_petitioners_and_hides_the_anonymous_from_the_department(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = submit(
        category=lamp,
        petitioners=[
            services.PetitionerInput(name="张三丰", phone=PHONE, id_number="520102199003071236"),
            services.PetitionerInput(name="李四", phone="13900001111", is_anonymous=True),
        ],
    )
    services.appeal_register(actor=city.worker_a, appeal=appeal)
    services.appeal_assign(actor=city.worker_a, appeal=Appeal.objects.get(pk=appeal.pk))
    services.appeal_add_note(actor=city.worker_a, appeal=appeal, text="内部记录：诉求人情绪激动")
    for user in (city.worker_a, city.handler):
        raw = client_for(user).get(f"{BASE}{appeal.pk}/").content.decode()
        for secret in (PHONE, "13900001111", "520102199003071236", "张三丰", "内部记录"):
            assert secret not in raw
    dispatcher = client_for(city.worker_a).get(f"{BASE}{appeal.pk}/").json()
    assert [p["name"] for p in dispatcher["petitioners"]] == ["张**", "李*"]
    department = client_for(city.handler).get(f"{BASE}{appeal.pk}/").json()
    assert [p["name"] for p in department["petitioners"]] == ["张**"]
    assert [e["act"] for e in department["timeline"]] == ["submit", "register", "assign"]
    assert department["description"].startswith("中华北路") and department["version"] == 3


def test_resident_sees_and_creates_only_their_own(city: Any) -> None:
    resident = User.objects.create(username="r1", kind="resident", phone="13955556666", display_name="赵六")
    own = client_for(resident).post(BASE, {"title": "井盖缺失", "description": "小区门口井盖缺失。", **IN_A}, format="json")
    assert own.status_code == 201, own.json()
    appeal = Appeal.objects.get(pk=own.json()["id"])
    assert appeal.channel == "portal" and appeal.resident == resident
    submit()  # someone else's
    listed = client_for(resident).get(BASE).json()["results"]
    assert [a["id"] for a in listed] == [appeal.pk]
    detail = client_for(resident).get(f"{BASE}{appeal.pk}/").json()
    assert detail["extensions"] == [] and detail["duplicate_candidates"] == []
    assert client_for(resident).get(f"{BASE}inbox/").status_code == 403
    refused = client_for(resident).post(BASE, {"title": "x", "description": "y", "channel": "hotline", **IN_A}, format="json")
    assert refused.status_code == 400 and refused.json()["field"] == "channel"


# --- list -----------------------------------------------------------------------------------------------


def test_list_filters_and_cursor_pagination(routed: Any, lamp: Category, django_assert_max_num_queries: Any) -> None:
    city = routed
    made = [submit(title=f"路灯{i}", category=lamp) for i in range(5)]
    petition = submit(title="噪音扰民", kind="petition", channel="letter")
    worker = client_for(city.worker_a)
    with django_assert_max_num_queries(6):
        first = worker.get(BASE, {"page_size": 4}).json()
    assert [a["id"] for a in first["results"]] == [petition.pk, made[4].pk, made[3].pk, made[2].pk]
    assert first["previous"] is None and first["next"]
    second = worker.get(first["next"]).json()
    assert [a["id"] for a in second["results"]] == [made[1].pk, made[0].pk] and second["next"] is None
    row = first["results"][1]
    assert row["category"] == {"code": "CG01", "name": lamp.name} and row["unit"]["code"] == city.grid_a.code
    assert "description" not in row and "petitioners" not in row
    # The list's hand-built rows say exactly what the detail (DRF's serializer fields) says.
    detail = worker.get(f"{BASE}{row['id']}/").json()
    assert row == {k: detail[k] for k in row}
    services.appeal_pause(actor=city.worker_a, appeal=made[3], reason="materials")
    paused = worker.get(BASE, {"page_size": 4}).json()["results"][2]
    assert paused["is_paused"] is True and paused == {k: worker.get(f"{BASE}{made[3].pk}/").json()[k] for k in paused}

    def ids(**params: Any) -> list[int]:
        response = worker.get(BASE, params)
        assert response.status_code == 200, response.json()
        return [a["id"] for a in response.json()["results"]]

    assert ids(kind="petition") == [petition.pk]
    assert ids(channel="letter") == [petition.pk]
    assert ids(q="噪音") == [petition.pk]
    assert ids(category="CG01") == [a.pk for a in reversed(made)]
    assert ids(unit=city.community_a.code, status="submitted,registered", kind="") == [petition.pk, *[a.pk for a in reversed(made)]]
    assert ids(status="closed") == []
    assert ids(submitted_after="2001-01-01", submitted_before="2001-12-31") == []
    assert ids(department=city.department.code) == []
    services.appeal_register(actor=city.worker_a, appeal=made[0])
    assert ids(status="registered") == [made[0].pk]
    assert ids(overdue="true") == []

    bad = worker.get(BASE, {"status": "nonsense"})
    assert bad.status_code == 400 and bad.json()["field"] == "status"
    assert worker.get(BASE, {"unit": city.community_b.code}).json()["field"] == "unit"  # not in worker_a's scope
    assert worker.get(BASE, {"submitted_after": "0001-01-01"}).status_code == 400
    assert worker.get(BASE, {"cursor": "garbage"}).status_code == 404


def test_inbox_lists_what_waits_for_the_user(routed: Any, lamp: Category) -> None:
    city = routed
    waiting = submit(category=lamp)
    response = client_for(city.worker_a).get(f"{BASE}inbox/", {"tab": "dispatch"})
    assert response.status_code == 200 and [a["id"] for a in response.json()["results"]] == [waiting.pk]
    assert client_for(city.handler).get(f"{BASE}inbox/").json()["results"] == []
    assert client_for(city.worker_a).get(f"{BASE}inbox/", {"tab": "moon"}).status_code == 400


# --- create ---------------------------------------------------------------------------------------------


def test_staff_create_and_refusals_carry_the_service_message(routed: Any) -> None:
    city = routed
    worker = client_for(city.worker_a)
    body = {
        "channel": "hotline",
        "title": "路灯不亮",
        "description": "路灯坏了。",
        "category": "CG01",
        "petitioners": [{"name": "王五", "phone": PHONE}],
        **IN_A,
    }
    created = worker.post(BASE, body, format="json")
    assert created.status_code == 201, created.json()
    out = created.json()
    appeal = Appeal.objects.get(pk=out["id"])
    assert out["code"] == appeal.code and out["status"] == "submitted" and out["created"] is True
    assert appeal.submitted_by == city.worker_a and appeal.category is not None and appeal.category.code == "CG01"
    assert appeal.petitioners.get().phone == PHONE

    no_title = worker.post(BASE, {**body, "title": " "}, format="json")
    assert no_title.status_code == 400
    assert no_title.json() == {"code": "required", "field": "title", "message": "请填写标题。"}
    outside = worker.post(BASE, {**body, "lat": 39.9, "lon": 116.4}, format="json")
    assert outside.json()["code"] == "outside_city" and outside.json()["field"] == "location"
    bad_phone = worker.post(BASE, {**body, "petitioners": [{"phone": "1234"}]}, format="json")
    assert bad_phone.json()["field"] == "petitioners[0].phone"
    no_channel = worker.post(BASE, {k: v for k, v in body.items() if k != "channel"}, format="json")
    assert no_channel.json()["field"] == "channel"
    unknown = worker.post(BASE, {**body, "category": "NOPE"}, format="json")
    assert unknown.status_code == 400 and unknown.json()["field"] == "category"
    not_json = worker.post(BASE, "title=x", content_type="application/x-www-form-urlencoded")
    assert not_json.status_code == 415 and not_json.json()["code"] == "unsupported_media_type"
    assert Appeal.objects.count() == 1


# --- acts ------------------------------------------------------------------------------------------------


def test_full_life_cycle_through_the_endpoints(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = submit(category=lamp)

    def act(user: Any, name: str, data: dict[str, Any] | None = None, expect: str | None = None) -> dict[str, Any]:
        response = post(user, appeal, name, data)
        assert response.status_code == 200, (name, response.json())
        out = response.json()
        if expect:
            assert out["status"] == expect == status_of(appeal), name
        assert out["version"] == Appeal.objects.get(pk=appeal.pk).version
        return out

    act(city.worker_a, "register", {"note": "已受理"}, "registered")
    act(city.worker_a, "assign", {"instructions": "请尽快修复"}, "assigned")
    assert Appeal.objects.get(pk=appeal.pk).department == city.department
    act(city.handler, "start", {}, "in_progress")
    ext = act(city.handler, "request-extension", {"days": 5, "reason": "需更换灯杆"})
    assert Extension.objects.get(pk=ext["object_id"]).state == "pending"
    act(city.supervisor, f"extensions/{ext['object_id']}/decide", {"approve": True, "note": "同意"})
    assert Extension.objects.get(pk=ext["object_id"]).state == "approved"
    act(city.handler, "notes", {"text": "已现场查看", "is_public": True})
    reply = act(city.handler, "reply", {"outcome": "support", "text": "已更换灯泡。"}, "replied")
    assert reply["object_id"] == Appeal.objects.get(pk=appeal.pk).replies.get().pk
    act(city.worker_a, "feedback", {"department_rating": "satisfied", "centre_rating": "basic"}, "feedback")
    act(city.worker_a, "close", {"note": "办结"}, "closed")
    act(city.worker_a, "request-review", {"reason": "灯又坏了"}, "under_review")
    act(city.supervisor, "decide-review", {"decision": "upheld", "text": "已修复，维持原意见"}, "closed")
    act(city.supervisor, "reopen", {"reason": "群众再次反映"}, "in_progress")
    detail = client_for(city.worker_a).get(f"{BASE}{appeal.pk}/").json()
    assert [r["text"] for r in detail["replies"]] == ["已更换灯泡。"]
    assert "已现场查看" in [e["note"] for e in detail["timeline"]]
    assert detail["extensions"][0]["state"] == "approved" and detail["reviews"][0]["decision"] == "upheld"


def test_invalid_moves_and_wrong_roles_are_refused_with_the_service_message(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = submit(category=lamp)
    early = post(city.worker_a, appeal, "start")
    assert early.status_code == 400
    assert early.json() == {"code": "invalid_transition", "field": "", "message": "当前状态“待受理”下不能执行“签收办理”。"}
    assert post(city.worker_a, appeal, "reply", {"outcome": "support", "text": "x"}).json()["code"] == "invalid_transition"
    forbidden = post(city.handler, appeal, "register")
    assert forbidden.status_code == 404  # the department cannot even see it yet
    services.appeal_register(actor=city.worker_a, appeal=appeal)
    services.appeal_assign(actor=city.worker_a, appeal=Appeal.objects.get(pk=appeal.pk))
    not_yours = post(city.handler, appeal, "transfer", {"department": city.other_department.code, "reason": "不归我们"})
    assert not_yours.status_code == 403 and not_yours.json()["code"] == "forbidden"
    assert not_yours.json()["message"] == "您没有权限对该诉求执行此操作。"
    no_reason = post(city.worker_a, appeal, "transfer", {"department": city.other_department.code})
    assert no_reason.status_code == 400 and no_reason.json()["field"] == "reason"
    bad_choice = post(city.handler, appeal, "reply", {"outcome": "maybe", "text": "x"})
    assert bad_choice.status_code == 400 and bad_choice.json()["field"] == "outcome"
    assert post(city.supervisor, appeal, "extensions/999/decide", {"approve": True}).status_code == 404
    assert post(city.supervisor, appeal, "extensions/abc/decide", {"approve": True}).status_code == 404
    assert status_of(appeal) == Status.ASSIGNED


def test_stale_version_is_refused_with_409_and_nothing_changes(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = submit(category=lamp)
    seen = appeal.version
    assert post(city.worker_a, appeal, "register", {"expected_version": seen}).status_code == 200
    stale = post(city.worker_b, appeal, "decline", {"reason": "重复", "expected_version": seen})
    assert stale.status_code == 404  # worker_b is out of scope: not even a version check
    stale = post(city.supervisor, appeal, "decline", {"reason": "重复", "expected_version": seen})
    assert stale.status_code == 409 and stale.json()["code"] == "stale"
    assert "请刷新后再操作" in stale.json()["message"]
    assert status_of(appeal) == Status.REGISTERED
    stale_note = post(city.worker_a, appeal, "notes", {"text": "x", "expected_version": seen})
    assert stale_note.status_code == 409
    assert not AppealEvent.objects.filter(appeal=appeal, act="note").exists()


def test_decline_transfer_objection_supervision_pause(routed: Any, lamp: Category) -> None:
    city = routed
    declined = submit(category=lamp)
    out = post(city.worker_a, declined, "decline", {"reason": "属于劳动争议，应申请仲裁。", "route": "arbitration"}).json()
    assert out["status"] == "declined" == status_of(declined)

    appeal = submit(category=lamp, petitioners=[services.PetitionerInput(name="钱七", phone="13700001111")])
    post(city.worker_a, appeal, "set-category", {"category": "CG01"})
    post(city.worker_a, appeal, "register")
    post(city.worker_a, appeal, "assign", {"department": city.department.code, "assisting": [city.other_department.code]})
    moved = post(city.worker_a, appeal, "transfer", {"department": city.other_department.code, "reason": "属民政职责"})
    assert moved.status_code == 200 and Appeal.objects.get(pk=appeal.pk).department == city.other_department
    other_handler = User.objects.create(username="h2")
    from zhucheng.places.services import membership_grant

    membership_grant(actor=None, user=other_handler, role="department_handler", department=city.other_department)
    assert post(other_handler, appeal, "object", {"reason": "不属本局职责"}).status_code == 200
    decided = post(city.worker_a, appeal, "decide-objection", {"accept": True, "note": "改派", "department": city.department.code})
    assert decided.status_code == 200 and Appeal.objects.get(pk=appeal.pk).department == city.department
    sup = post(city.supervisor, appeal, "supervise", {"instructions": "请三日内答复"})
    assert Supervision.objects.get(pk=sup.json()["object_id"]).kind == "supervision"
    assert post(city.handler, appeal, "pause", {"reason": "materials", "note": "请补充材料"}).status_code == 200
    assert Appeal.objects.get(pk=appeal.pk).paused_at is not None
    again = post(city.handler, appeal, "pause", {"reason": "materials"})
    assert again.status_code == 400 and again.json()["code"] == "invalid_transition"
    assert post(city.handler, appeal, "resume").status_code == 200
    assert Appeal.objects.get(pk=appeal.pk).paused_at is None


def test_merge_and_keep_apart(routed: Any, lamp: Category) -> None:
    city = routed
    first = submit(category=lamp)
    second = submit(category=lamp, title="路灯还是不亮")
    third = submit(category=lamp, title="路灯坏了")
    assert DuplicateCandidate.objects.filter(appeal=second, other=first).exists()
    blocked = post(city.worker_a, second, "register")
    assert blocked.status_code == 400 and blocked.json()["code"] == "duplicate_pending"
    outsider = submit(category=lamp, lat=26.2, lon=106.4)  # community B
    assert post(city.worker_a, second, "merge", {"into": outsider.pk}).json()["field"] == "into"
    merged = post(city.worker_a, second, "merge", {"into": first.pk, "reason": "同一事项"})
    assert merged.status_code == 200 and merged.json()["status"] == "merged"
    assert Appeal.objects.get(pk=second.pk).repeat_of == first
    kept = post(city.worker_a, third, "keep-apart", {"other": first.pk})
    assert kept.status_code == 200
    assert DuplicateCandidate.objects.get(appeal=third, other=first).decision == "kept_apart"
    detail = client_for(city.worker_a).get(f"{BASE}{third.pk}/").json()
    assert {c["other"]: c["decision"] for c in detail["duplicate_candidates"]}[first.pk] == "kept_apart"


# --- idempotency ------------------------------------------------------------------------------------------


def test_retry_with_the_same_key_creates_one_appeal_and_answers_the_same(city: Any) -> None:
    worker = client_for(city.worker_a)
    body = {"channel": "hotline", "title": "井盖缺失", "description": "人行道井盖缺失。", **IN_A}
    first = worker.post(BASE, body, format="json", headers={"Idempotency-Key": "k-1"})
    again = worker.post(BASE, body, format="json", headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Appeal.objects.count() == 1
    reused = worker.post(BASE, {**body, "title": "另一件"}, format="json", headers={"Idempotency-Key": "k-1"})
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    # Keys are per user: someone else's "k-1" is a new request.
    other = client_for(city.worker_b).post(BASE, body, format="json", headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    # A refused request releases its key, so the corrected retry goes through.
    bad = worker.post(BASE, {**body, "title": ""}, format="json", headers={"Idempotency-Key": "k-2"})
    assert bad.status_code == 400
    fixed = worker.post(BASE, {**body, "title": ""}, format="json", headers={"Idempotency-Key": "k-2"})
    assert fixed.status_code == 400 and not IdempotentRequest.objects.filter(key="k-2").exists()
    assert Appeal.objects.count() == 2


def test_retried_act_runs_once(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = submit(category=lamp)
    headers = {"Idempotency-Key": "act-1"}
    first = post(city.worker_a, appeal, "register", {}, **headers)
    again = post(city.worker_a, appeal, "register", {}, **headers)
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    assert AppealEvent.objects.filter(appeal=appeal, act="register").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_identical_posts_create_one_appeal(city: Any) -> None:
    if not Category.objects.exists():  # the flush after an earlier transactional test removed the reference data
        from django.apps import apps

        importlib.import_module("zhucheng.appeals.migrations.0002_reference_data").load(apps, None)
    token = Token.objects.create(user=city.worker_a)
    body = json.dumps({"channel": "hotline", "title": "井盖缺失", "description": "人行道井盖缺失，很危险。", **IN_A})
    barrier = threading.Barrier(2)
    results: list[tuple[int, dict[str, Any], str]] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            client = Client(headers={"Authorization": f"Token {token.key}", "Idempotency-Key": "same-click"})
            barrier.wait(timeout=10)
            response = client.post(BASE, body, content_type="application/json")
            results.append((response.status_code, response.json(), response.headers.get("Idempotent-Replayed", "")))
        except BaseException as exc:  # reported below: a thread's exception is otherwise lost
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert [status for status, _, _ in results] == [201, 201]
    assert results[0][1] == results[1][1]
    assert sorted(replayed for _, _, replayed in results) == ["", "true"]
    assert Appeal.objects.count() == 1


# --- schema ----------------------------------------------------------------------------------------------


def test_schema_generates_without_warnings(tmp_path: Any) -> None:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in ("/api/v1/appeals/{id}/register/", "/api/v1/appeals/{id}/extensions/{extension_id}/decide/", "/api/v1/appeals/{id}/notes/"):
        assert path in text
    assert "Idempotency-Key" in text and "tokenAuth" in text


def test_docs_page_and_schema_are_served(city: Any) -> None:
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200 and "/api/v1/appeals/" in schema.json()["paths"]
    assert Client().get("/api/docs/").status_code == 200


def test_docs_page_works_offline_under_the_content_security_policy(city: Any) -> None:
    pytest.importorskip("drf_spectacular_sidecar", reason="the offline docs page needs drf-spectacular-sidecar")
    page = Client().get("/api/docs/")
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith("/") for a in assets), assets  # nothing from a CDN
    assert not re.search(r"<script>\s*\S", html), "an inline script is blocked by script-src 'self'"
    assert "script-src 'self'" in page["Content-Security-Policy"]
    for asset in assets:
        if asset.startswith(settings.STATIC_URL):  # tests run without collectstatic: ask the finders
            assert finders.find(asset[len(settings.STATIC_URL):].split("?")[0]), asset
        else:
            assert Client().get(asset.replace("&amp;", "&")).status_code == 200, asset
