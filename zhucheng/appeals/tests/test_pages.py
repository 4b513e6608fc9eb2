"""The appeal pages: scoping of inbox, search, export, detail and attachments; act forms through the services;
stale edits; the inbox's query count; desk and resident intake; tracking, rating and review requests."""

from __future__ import annotations

import csv
import io
import itertools
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from zhucheng.accounts.models import User
from zhucheng.appeals import services
from zhucheng.appeals.models import (
    Appeal,
    AppealEvent,
    Attachment,
    Category,
    DuplicateCandidate,
    Feedback,
    Review,
    RoutingRule,
    Status,
)
from zhucheng.core.models import AuditEvent

IN_A = {"lat": 26.2, "lon": 106.1}  # inside grid_a (community A)
IN_B = {"lat": 26.2, "lon": 106.4}  # inside grid_b (community B)
PHONE = "13912345678"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def lamp(db: Any) -> Category:
    return Category.objects.get(code="CG01")


@pytest.fixture
def routed(city: Any, lamp: Category) -> Any:
    RoutingRule.objects.create(category=lamp, department=city.department)
    return city


def png(name: str = "photo.png") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buf, format="PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


_phones = itertools.count(1)


def submit(actor: Any = None, phone: str = "", **kw: Any) -> Appeal:
    """An appeal in community A; each gets its own petitioner's phone unless one is given."""
    phone = phone or f"1370000{next(_phones):04d}"
    args: dict[str, Any] = {
        "channel": "hotline",
        "title": "路灯不亮",
        "description": "中华北路123号门口路灯坏了一个月，晚上很黑，老人出门不安全。",
        "petitioners": [services.PetitionerInput(name="张三", phone=phone)],
        **IN_A,
    }
    args.update(kw)
    return services.appeal_submit(actor=actor, **args).appeal


def assigned(city: Any, lamp: Category, **kw: Any) -> Appeal:
    appeal = services.appeal_register(actor=city.worker_a, appeal=submit(category=lamp, **kw))
    return services.appeal_assign(actor=city.worker_a, appeal=appeal)


def replied(city: Any, lamp: Category, **kw: Any) -> Appeal:
    appeal = assigned(city, lamp, **kw)
    services.appeal_reply(actor=city.handler, appeal=appeal, outcome="support", text="路灯已经修好。")
    return Appeal.objects.get(pk=appeal.pk)


def as_user(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response: Any) -> str:
    return response.content.decode()


# --- scoping ---------------------------------------------------------------------------------------


def test_inbox_is_scoped_per_role(routed: Any, lamp: Category) -> None:
    city = routed
    in_a = submit(title="中华社区路灯")
    in_b = submit(title="威清社区井盖", **IN_B)
    handled = assigned(city, lamp, title="已交办路灯")

    page = text(as_user(city.worker_a).get(reverse("appeals:inbox") + "?tab=community"))
    assert in_a.code in page and handled.code in page and in_b.code not in page

    page = text(as_user(city.worker_b).get(reverse("appeals:inbox") + "?tab=community"))
    assert in_b.code in page and in_a.code not in page and handled.code not in page

    response = as_user(city.handler).get(reverse("appeals:inbox"))
    page = text(response)
    assert response.context["tab"] == "department"
    assert handled.code in page and in_a.code not in page and in_b.code not in page

    response = as_user(city.nobody).get(reverse("appeals:inbox"))
    assert response.status_code == 200
    assert not list(response.context["page"].object_list)
    assert in_a.code not in text(response) and "您还没有岗位" in text(response)

    anonymous = Client().get(reverse("appeals:inbox"))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_inbox_counts_and_overdue_first(routed: Any, lamp: Category) -> None:
    city = routed
    late = submit(title="早已超期")
    fresh = submit(title="刚提交")
    Appeal.objects.filter(pk=late.pk).update(due_at=late.submitted_at.replace(year=late.submitted_at.year - 1))
    response = as_user(city.worker_a).get(reverse("appeals:inbox") + "?tab=community")
    rows = list(response.context["page"].object_list)
    assert [a.pk for a in rows][:2] == [late.pk, fresh.pk]
    tabs = {t["key"]: t["count"] for t in response.context["tabs"]}
    assert tabs["overdue"] == 1 and tabs["community"] == 2
    page = text(response)
    assert page.count('class="is-overdue"') == 1 and "超期" in page


def test_detail_is_404_for_missing_and_forbidden_alike(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = submit()
    forbidden = as_user(city.worker_b).get(reverse("appeals:detail", args=[appeal.pk]))
    missing = as_user(city.worker_b).get(reverse("appeals:detail", args=[appeal.pk + 1000]))
    assert forbidden.status_code == missing.status_code == 404
    assert as_user(city.nobody).get(reverse("appeals:detail", args=[appeal.pk])).status_code == 404
    # Acts on an appeal out of scope are refused the same way, and change nothing.
    response = as_user(city.worker_b).post(
        reverse("appeals:act", args=[appeal.pk, "decline"]), {"decline-version": appeal.version, "decline-reason": "不归我们管"}
    )
    assert response.status_code == 404
    assert Appeal.objects.get(pk=appeal.pk).status == Status.SUBMITTED
    assert as_user(city.worker_a).get(reverse("appeals:detail", args=[appeal.pk])).status_code == 200


def test_resident_accounts_cannot_open_staff_pages(city: Any) -> None:
    resident = User.objects.create(username="r13700000000", kind="resident", phone="13700000000")
    for name in ("appeals:inbox", "appeals:search", "appeals:backlog", "appeals:map", "appeals:desk_new", "appeals:export"):
        assert as_user(resident).get(reverse(name)).status_code == 403, name


def test_search_is_scoped_and_filters(routed: Any, lamp: Category) -> None:
    city = routed
    lamp_a = submit(title="路灯坏了", category=lamp)
    other_a = submit(title="噪音扰民", description="楼下广场舞音量太大，晚上十点还在跳。")
    in_b = submit(title="路灯也坏了", **IN_B)
    url = reverse("appeals:search")

    response = as_user(city.worker_a).get(url, {"q": "路灯"})
    codes = {a.code for a in response.context["page"].object_list}
    assert codes == {lamp_a.code}
    response = as_user(city.worker_a).get(url, {"category": lamp.parent_id})
    assert {a.code for a in response.context["page"].object_list} == {lamp_a.code}
    response = as_user(city.worker_a).get(url, {"code": other_a.code})
    assert {a.code for a in response.context["page"].object_list} == {other_a.code}
    # Another community's appeal cannot be found even by its exact code.
    response = as_user(city.worker_a).get(url, {"code": in_b.code})
    assert list(response.context["page"].object_list) == []
    response = as_user(city.nobody).get(url)
    assert list(response.context["page"].object_list) == []
    # A bad date range is a message, not a crash.
    response = as_user(city.worker_a).get(url, {"date_from": "2026-05-02", "date_to": "2026-05-01"})
    assert "结束日期不能早于开始日期" in text(response)


# --- export ----------------------------------------------------------------------------------------


def _csv_rows(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_csv_export_is_scoped_audited_and_has_no_contacts(routed: Any, lamp: Category) -> None:
    city = routed
    a1 = submit(title="路灯坏了", category=lamp)
    a2 = submit(title="=HYPERLINK(\"http://evil\")", petitioners=[services.PetitionerInput(name="李四", phone="13611112222")])
    in_b = submit(title="威清社区", **IN_B)
    response = as_user(city.worker_a).get(reverse("appeals:export"), {"fmt": "csv", "q": ""})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv") and "attachment" in response["Content-Disposition"]
    rows = _csv_rows(response)
    assert rows[0][:3] == ["受理编号", "类型", "渠道"] and len(rows[0]) == 13
    codes = [r[0] for r in rows[1:]]
    assert sorted(codes) == sorted([a1.code, a2.code]) and in_b.code not in codes
    flat = "\n".join(",".join(r) for r in rows)
    assert "1370000" not in flat and "13611112222" not in flat and "张三" not in flat and "李四" not in flat
    row = next(r for r in rows if r[0] == a1.code)
    assert row[5] == "城市管理 › 路灯照明" and row[6] == "金东居委会 第1网格" and row[12] == "否"
    assert row[8].count(":") == 1 and len(row[8]) == 16  # "YYYY-MM-DD HH:MM" in Asia/Shanghai
    # A title that looks like a formula is exported as text.
    assert next(r for r in rows if r[0] == a2.code)[4].startswith("'=")
    event = AuditEvent.objects.filter(act="appeals.export").latest("id")
    assert event.actor_id == city.worker_a.pk and "2 rows" in event.reason and "csv" in event.reason


def test_xlsx_export_keeps_the_search_filters(routed: Any, lamp: Category) -> None:
    from openpyxl import load_workbook

    city = routed
    a1 = submit(title="路灯坏了", category=lamp)
    submit(title="噪音扰民", description="楼下广场舞音量太大。")
    response = as_user(city.worker_a).get(reverse("appeals:export"), {"fmt": "xlsx", "q": "路灯"})
    assert response.status_code == 200 and "spreadsheetml" in response["Content-Type"]
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    assert rows[0][0] == "受理编号" and [r[0] for r in rows[1:]] == [a1.code]
    event = AuditEvent.objects.filter(act="appeals.export").latest("id")
    assert "q=路灯" in event.reason and "1 rows" in event.reason and "xlsx" in event.reason
    # Out of scope: nothing, and the export is still audited with 0 rows.
    response = as_user(city.worker_b).get(reverse("appeals:export"), {"fmt": "xlsx"})
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    assert len(list(book.worksheets[0].iter_rows(values_only=True))) == 1
    assert "0 rows" in AuditEvent.objects.filter(act="appeals.export").latest("id").reason


# --- attachments ------------------------------------------------------------------------------------


def test_attachment_download_is_scoped(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = submit(phone=PHONE, attachments=[png()])
    att = Attachment.objects.get(appeal=appeal)
    url = reverse("appeals:attachment", args=[att.pk])
    response = as_user(city.worker_a).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment") and "photo.png" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff" and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    for user in (city.worker_b, city.nobody, city.handler):
        assert as_user(user).get(url).status_code == 404
    assert Client().get(url).status_code == 404
    assert as_user(city.worker_a).get(reverse("appeals:attachment", args=[att.pk + 1000])).status_code == 404
    # The petitioner, once verified by code + phone, gets the public file.
    petitioner = Client()
    petitioner.post(reverse("appeals:track"), {"code": appeal.code, "phone": PHONE})
    assert petitioner.get(url).status_code == 200
    Attachment.objects.filter(pk=att.pk).update(is_public=False)
    assert petitioner.get(url).status_code == 404


# --- act forms --------------------------------------------------------------------------------------


def _post(client: Client, appeal: Appeal, act: str, data: dict[str, Any]) -> Any:
    fresh = Appeal.objects.get(pk=appeal.pk)
    payload = {f"{act}-version": fresh.version, **{f"{act}-{k}": v for k, v in data.items()}}
    return client.post(reverse("appeals:act", args=[appeal.pk, act]), payload)


def test_decline_without_reason_shows_the_service_message_and_keeps_input(city: Any) -> None:
    appeal = submit()
    client = as_user(city.worker_a)
    response = _post(client, appeal, "decline", {"reason": "", "route": "court"})
    assert response.status_code == 200
    page = text(response)
    assert "请填写不予受理理由。" in page
    form = next(p.form for p in response.context["panels"] if p.name == "decline")
    assert form.errors["reason"] == ["请填写不予受理理由。"]
    assert '<option value="court" selected>' in page  # what the user chose is still there
    assert Appeal.objects.get(pk=appeal.pk).status == Status.SUBMITTED

    response = _post(client, appeal, "decline", {"reason": "属于劳动争议，应申请仲裁。", "route": "arbitration"})
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == Status.DECLINED and appeal.decline_route == "arbitration"


def test_forms_offered_follow_role_and_status(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = submit(category=lamp)
    names = {p.name for p in as_user(city.worker_a).get(reverse("appeals:detail", args=[appeal.pk])).context["panels"]}
    assert {"register", "decline", "set_category"} <= names and "reply" not in names and "start" not in names
    appeal = assigned(city, lamp)
    handler_names = {p.name for p in as_user(city.handler).get(reverse("appeals:detail", args=[appeal.pk])).context["panels"]}
    assert "start" in handler_names and "reply" in handler_names
    assert "register" not in handler_names and "transfer" not in handler_names and "decide_review" not in handler_names
    sup_names = {p.name for p in as_user(city.supervisor).get(reverse("appeals:detail", args=[appeal.pk])).context["panels"]}
    assert "supervise" in sup_names and "start" not in sup_names


def test_whole_life_cycle_through_the_pages(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = submit()
    dispatcher, handler, supervisor = as_user(city.worker_a), as_user(city.handler), as_user(city.supervisor)

    # Registering needs a category: the service's message shows on the category field.
    response = _post(dispatcher, appeal, "register", {"note": "请尽快"})
    assert "受理前请先确认诉求分类。" in text(response)
    assert _post(dispatcher, appeal, "set_category", {"category": lamp.pk}).status_code == 302
    assert Appeal.objects.get(pk=appeal.pk).category_id == lamp.pk
    assert _post(dispatcher, appeal, "register", {"note": "请尽快"}).status_code == 302
    assert _post(dispatcher, appeal, "assign", {"department": "", "instructions": "按规则交办"}).status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == Status.ASSIGNED and appeal.department_id == city.department.pk

    assert _post(handler, appeal, "start", {}).status_code == 302
    assert _post(handler, appeal, "note", {"text": "已到现场查看", "is_public": ""}).status_code == 302
    assert "请选择暂停原因。" in text(_post(handler, appeal, "pause", {"reason": "", "note": ""}))
    assert _post(handler, appeal, "pause", {"reason": "materials", "note": "等待补充照片"}).status_code == 302
    assert Appeal.objects.get(pk=appeal.pk).is_paused
    assert "resume" in {p.name for p in handler.get(reverse("appeals:detail", args=[appeal.pk])).context["panels"]}
    assert _post(handler, appeal, "resume", {}).status_code == 302
    assert not Appeal.objects.get(pk=appeal.pk).is_paused
    response = _post(handler, appeal, "request_extension", {"days": 3, "reason": ""})
    assert "请填写延期理由。" in text(response)
    assert _post(handler, appeal, "request_extension", {"days": 3, "reason": "需要采购灯具"}).status_code == 302
    assert _post(supervisor, appeal, "decide_extension", {"approve": "1", "note": "同意"}).status_code == 302
    assert _post(supervisor, appeal, "supervise", {"kind": "supervision", "instructions": "请加快办理"}).status_code == 302
    assert "只有领导可以交办或包案。" in text(_post(supervisor, appeal, "supervise", {"kind": "leader", "instructions": "包案"}))
    response = _post(handler, appeal, "reply", {"outcome": "", "text": "已修复"})
    assert "请选择处理结果" in text(response)
    assert _post(handler, appeal, "reply", {"outcome": "support", "text": "路灯已修复。"}).status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == Status.REPLIED

    assert _post(dispatcher, appeal, "feedback", {"department_rating": "satisfied", "centre_rating": "satisfied"}).status_code == 302
    assert _post(dispatcher, appeal, "close", {"resolved": "", "note": ""}).status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == Status.CLOSED and appeal.resolved is True
    assert _post(supervisor, appeal, "reopen", {"reason": "群众再次反映"}).status_code == 302
    assert Appeal.objects.get(pk=appeal.pk).status == Status.IN_PROGRESS
    acts = set(AppealEvent.objects.filter(appeal=appeal).values_list("act", flat=True))
    assert {"register", "assign", "start", "note", "pause", "resume", "extension_approved", "supervision", "reply", "close", "reopen"} <= acts
    page = text(dispatcher.get(reverse("appeals:detail", args=[appeal.pk])))
    assert "已到现场查看" in page and "路灯已修复。" in page


def test_transfer_objection_and_review_forms(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = assigned(city, lamp)
    dispatcher, handler, supervisor = as_user(city.worker_a), as_user(city.handler), as_user(city.supervisor)
    response = _post(handler, appeal, "object", {"reason": ""})
    assert "请填写退单理由。" in text(response)
    assert _post(handler, appeal, "object", {"reason": "不属于本部门职责"}).status_code == 302
    response = _post(dispatcher, appeal, "decide_objection", {"accept": "1", "note": "改派", "department": ""})
    assert "同意退单时须选择改派的部门。" in text(response)
    assert _post(dispatcher, appeal, "decide_objection", {"accept": "1", "note": "改派", "department": city.other_department.pk}).status_code == 302
    appeal.refresh_from_db()
    assert appeal.department_id == city.other_department.pk
    response = _post(dispatcher, appeal, "transfer", {"department": city.other_department.pk, "reason": "再转"})
    assert "请选择其他部门" in text(response)
    assert _post(dispatcher, appeal, "transfer", {"department": city.department.pk, "reason": "职责调整"}).status_code == 302
    services.appeal_reply(actor=city.handler, appeal=Appeal.objects.get(pk=appeal.pk), outcome="explain", text="已解释")
    assert _post(dispatcher, appeal, "request_review", {"reason": "诉求人电话申请复查"}).status_code == 302
    response = _post(supervisor, appeal, "decide_review", {"decision": "", "text": ""})
    assert "请选择复查复核结论。" in text(response)
    assert _post(supervisor, appeal, "decide_review", {"decision": "upheld", "text": "维持"}).status_code == 302
    assert Appeal.objects.get(pk=appeal.pk).status == Status.CLOSED


def test_stale_version_is_refused_and_the_input_kept(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = submit(category=lamp)
    client = as_user(city.worker_a)
    seen = Appeal.objects.get(pk=appeal.pk).version
    # Someone else acts in between.
    services.appeal_set_category(actor=city.supervisor, appeal=appeal, category=Category.objects.get(code="CG02"))
    response = client.post(
        reverse("appeals:act", args=[appeal.pk, "register"]), {"register-version": seen, "register-note": "我写的受理意见"}
    )
    assert response.status_code == 200
    page = text(response)
    assert "已被他人修改" in page and "我写的受理意见" in page
    assert Appeal.objects.get(pk=appeal.pk).status == Status.SUBMITTED
    # The re-shown form carries the current version: sending it again, with the changes in view, works.
    form = next(p.form for p in response.context["panels"] if p.name == "register")
    assert form.data["register-version"] == str(Appeal.objects.get(pk=appeal.pk).version)


def test_forbidden_act_is_a_message_not_a_change(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = assigned(city, lamp)
    response = _post(as_user(city.handler), appeal, "transfer", {"department": city.other_department.pk, "reason": "不归我们"})
    assert response.status_code == 200 and "您没有权限" in text(response)
    assert Appeal.objects.get(pk=appeal.pk).department_id == city.department.pk


def test_duplicates_are_listed_and_merged_from_the_page(routed: Any, lamp: Category) -> None:
    city = routed
    older = submit(category=lamp, phone=PHONE)
    newer = submit(category=lamp, phone=PHONE, title="路灯还是不亮")
    assert DuplicateCandidate.objects.filter(appeal=newer, other=older).exists()
    client = as_user(city.worker_a)
    page = text(client.get(reverse("appeals:detail", args=[newer.pk])))
    assert older.code in page and "合并到" in page and "不合并" in page
    response = client.post(
        reverse("appeals:act", args=[newer.pk, "merge"]), {"merge-version": Appeal.objects.get(pk=newer.pk).version, "merge-into": older.pk}
    )
    assert response.status_code == 302
    newer.refresh_from_db()
    assert newer.status == Status.MERGED and newer.repeat_of_id == older.pk


def test_keep_apart_from_the_page(routed: Any, lamp: Category) -> None:
    city = routed
    older = submit(category=lamp, phone=PHONE)
    newer = submit(category=lamp, phone=PHONE)
    client = as_user(city.worker_a)
    response = client.post(
        reverse("appeals:act", args=[newer.pk, "keep_apart"]), {"keep_apart-version": newer.version, "keep_apart-other": older.pk}
    )
    assert response.status_code == 302
    assert DuplicateCandidate.objects.get(appeal=newer, other=older).decision == "kept_apart"


def test_anonymous_petitioner_is_hidden_from_the_handling_department(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = assigned(city, lamp, petitioners=[services.PetitionerInput(name="张三丰", phone=PHONE, is_anonymous=True)])
    handler_page = text(as_user(city.handler).get(reverse("appeals:detail", args=[appeal.pk])))
    assert "张**" not in handler_page and "139****5678" not in handler_page and "对承办部门匿名，联系方式不予显示" in handler_page
    dispatcher_page = text(as_user(city.worker_a).get(reverse("appeals:detail", args=[appeal.pk])))
    assert "张**" in dispatcher_page and "139****5678" in dispatcher_page
    assert "张三丰" not in dispatcher_page and PHONE not in dispatcher_page


def test_inbox_query_count_does_not_grow_with_rows(routed: Any, lamp: Category) -> None:
    city = routed
    for i in range(5):
        submit(title=f"诉求{i}", category=lamp)
    client = as_user(city.worker_a)
    url = reverse("appeals:inbox") + "?tab=community"
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(url).context["page"].object_list) == 5
    for i in range(5, 60):
        submit(title=f"诉求{i}", category=lamp)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(url).context["page"].object_list) == 50
    assert len(few.captured_queries) == len(many.captured_queries), [q["sql"] for q in many.captured_queries]
    assert len(many.captured_queries) <= 12


def test_backlog_and_map_are_scoped(routed: Any, lamp: Category) -> None:
    city = routed
    late = submit(title="早已超期")
    Appeal.objects.filter(pk=late.pk).update(due_at=late.submitted_at.replace(year=late.submitted_at.year - 1))
    in_b = submit(**IN_B)
    response = as_user(city.worker_a).get(reverse("appeals:backlog"))
    assert response.status_code == 200
    assert sum(r["total"] for r in response.context["by_unit"]) == 1

    data = as_user(city.worker_a).get(reverse("appeals:map_data")).json()
    grids = [f for f in data["features"] if f["properties"]["kind"] == "grid"]
    points = [f for f in data["features"] if f["properties"]["kind"] == "appeal"]
    assert [g["properties"]["id"] for g in grids] == [city.grid_a.pk] and grids[0]["properties"]["count"] == 1
    assert [p["properties"]["code"] for p in points] == [late.code] and points[0]["properties"]["overdue"] is True
    data_b = as_user(city.worker_b).get(reverse("appeals:map_data")).json()
    assert {f["properties"].get("code") for f in data_b["features"] if f["properties"]["kind"] == "appeal"} == {in_b.code}
    assert as_user(city.nobody).get(reverse("appeals:map_data")).json()["features"] == []
    assert as_user(city.worker_a).get(reverse("appeals:map")).status_code == 200


# --- desk intake --------------------------------------------------------------------------------------


def _desk_token(client: Client) -> str:
    return str(client.get(reverse("appeals:desk_new")).context["form"].initial["client_token"])


def test_desk_intake_records_the_caller(city: Any, lamp: Category) -> None:
    client = as_user(city.worker_a)
    data = {
        "channel": "hotline", "kind": "appeal", "urgency": "urgent", "title": "水管爆裂",
        "description": "小区主水管爆裂，整栋楼停水。", "category": lamp.pk, "name": "王五", "phone": "13800001111",
        "is_collective": "on", "headcount": "12", "address": "中华北路 1 号", "lat": "", "lon": "",
        "unit": city.community_a.pk, "client_token": _desk_token(client),
    }
    bad = client.post(reverse("appeals:desk_new"), {**data, "phone": "12345"})
    assert bad.status_code == 200 and "手机号" in bad.context["form"].errors["phone"][0]
    assert Appeal.objects.count() == 0
    response = client.post(reverse("appeals:desk_new"), {**data, "attachments": [png()]})
    appeal = Appeal.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("appeals:detail", args=[appeal.pk])
    assert appeal.channel == "hotline" and appeal.urgency == "urgent" and appeal.headcount == 12 and appeal.is_collective
    assert appeal.unit_id == city.community_a.pk and appeal.petitioners.get().phone == "13800001111"
    assert appeal.attachments.count() == 1 and appeal.submitted_by_id == city.worker_a.pk
    # Sending the same form twice (double click) creates one appeal.
    client.post(reverse("appeals:desk_new"), data)
    assert Appeal.objects.count() == 1


def test_desk_point_outside_the_city_is_shown_on_the_coordinates(city: Any) -> None:
    client = as_user(city.worker_a)
    response = client.post(
        reverse("appeals:desk_new"),
        {"channel": "visit", "kind": "petition", "urgency": "normal", "title": "来访", "description": "反映问题",
         "lat": "39.9", "lon": "116.4", "headcount": "1", "client_token": _desk_token(client)},
    )
    assert response.status_code == 200 and "不在本市任何网格内" in response.context["form"].errors["lat"][0]
    assert Appeal.objects.count() == 0


# --- resident side ------------------------------------------------------------------------------------


def _resident_data(client: Client, **kw: Any) -> dict[str, Any]:
    token = client.get(reverse("appeals:submit")).context["form"].initial["client_token"]
    return {
        "title": "小区门口路灯不亮", "description": "金东居委会门口的路灯坏了两个星期了。", "category": "",
        "address": "中华北路 8 号", "lat": "26.2", "lon": "106.1", "unit": "", "name": "张阿姨", "phone": PHONE,
        "client_token": token, **kw,
    }


def test_resident_submit_refuses_a_renamed_executable_and_creates_nothing(city: Any) -> None:
    client = Client()
    fake = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00" + b"\x00" * 200, content_type="image/jpeg")
    response = client.post(reverse("appeals:submit"), _resident_data(client, attachments=[fake]))
    assert response.status_code == 200
    errors = response.context["form"].errors["attachments"]
    assert "可执行文件" in errors[0] and "photo.jpg" in errors[0]
    assert "小区门口路灯不亮" in text(response)  # what was typed is kept
    assert Appeal.objects.count() == 0 and Attachment.objects.count() == 0


def test_resident_submit_needs_a_phone_and_then_shows_the_code(city: Any) -> None:
    client = Client()
    response = client.post(reverse("appeals:submit"), _resident_data(client, phone=""))
    assert response.status_code == 200 and response.context["form"].errors["phone"]
    assert Appeal.objects.count() == 0
    response = client.post(reverse("appeals:submit"), _resident_data(client, attachments=[png()]), follow=True)
    appeal = Appeal.objects.get()
    assert appeal.channel == "portal" and appeal.grid_id == city.grid_a.pk and appeal.attachments.count() == 1
    assert response.redirect_chain[-1][0] == reverse("appeals:submit_done")
    assert appeal.code in text(response) and 'id="tracking-code"' in text(response)
    # The session already knows the petitioner: the track page opens without typing anything.
    assert client.get(reverse("appeals:track_detail", args=[appeal.code])).status_code == 200


def test_track_by_code_and_phone_never_says_which_part_was_wrong(city: Any) -> None:
    appeal = submit(phone=PHONE)
    services.appeal_add_note(actor=city.worker_a, appeal=appeal, text="内部意见：此人多次来电", is_public=False)
    client = Client()
    url = reverse("appeals:track")
    wrong_phone = text(client.post(url, {"code": appeal.code, "phone": "13900000000"}))
    no_such_code = text(client.post(url, {"code": "GY2000-0000001", "phone": PHONE}))
    message = "没有找到与该受理编号和手机号相符的诉求"
    assert message in wrong_phone and message in no_such_code
    # Without verification the detail page sends you back to the form.
    response = client.get(reverse("appeals:track_detail", args=[appeal.code]))
    assert response.status_code == 302 and response["Location"].startswith(url)
    response = client.post(url, {"code": appeal.code.lower(), "phone": "139 1234 5678"}, follow=True)
    page = text(response)
    assert response.redirect_chain[-1][0] == reverse("appeals:track_detail", args=[appeal.code])
    assert appeal.title in page and "提交诉求" in page
    assert "内部意见" not in page and "此人多次来电" not in page


def test_track_attempts_are_limited_per_session(city: Any) -> None:
    appeal = submit(phone=PHONE)
    client = Client()
    url = reverse("appeals:track")
    for _ in range(5):
        client.post(url, {"code": appeal.code, "phone": "13900000000"})
    response = client.post(url, {"code": appeal.code, "phone": PHONE})
    assert response.status_code == 200 and "查询次数过多" in text(response)
    assert client.get(reverse("appeals:track_detail", args=[appeal.code])).status_code == 302


def _verified(appeal: Appeal) -> Client:
    client = Client()
    client.post(reverse("appeals:track"), {"code": appeal.code, "phone": PHONE})
    return client


def test_petitioner_rates_the_reply(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = replied(city, lamp, phone=PHONE)
    client = _verified(appeal)
    page = client.get(reverse("appeals:track_detail", args=[appeal.code]))
    assert page.context["rate_form"] is not None and "路灯已经修好。" in text(page)
    rate = reverse("appeals:track_rate", args=[appeal.code])
    response = client.post(rate, {"rate-version": appeal.version, "rate-department_rating": "unsatisfied", "rate-comment": ""})
    assert response.status_code == 200 and "选择“不满意”时请写明原因" in text(response)
    assert Feedback.objects.count() == 0
    response = client.post(
        rate, {"rate-version": appeal.version, "rate-department_rating": "satisfied", "rate-centre_rating": "basic", "rate-comment": "谢谢"}
    )
    assert response.status_code == 302
    fb = Feedback.objects.get()
    assert fb.department_rating == "satisfied" and fb.centre_rating == "basic" and fb.by_id is None
    assert Appeal.objects.get(pk=appeal.pk).status == Status.FEEDBACK
    # A stranger without the verified session cannot rate.
    assert Client().post(rate, {"rate-version": appeal.version, "rate-department_rating": "unsatisfied"}).status_code == 302
    assert Feedback.objects.count() == 1


def test_petitioner_requests_a_review(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = replied(city, lamp, kind="petition", channel="letter", phone=PHONE)
    client = _verified(appeal)
    page = client.get(reverse("appeals:track_detail", args=[appeal.code]))
    assert page.context["review_form"] is not None and page.context["review_level"] == 1
    url = reverse("appeals:track_review", args=[appeal.code])
    response = client.post(url, {"review-version": appeal.version, "review-reason": ""})
    assert "请填写申请理由。" in text(response) and Review.objects.count() == 0
    response = client.post(url, {"review-version": appeal.version, "review-reason": "答复没有解决问题"})
    assert response.status_code == 302
    review = Review.objects.get()
    assert review.level == 1 and Appeal.objects.get(pk=appeal.pk).status == Status.UNDER_REVIEW
    page = client.get(reverse("appeals:track_detail", args=[appeal.code]))
    assert page.context["review_form"] is None and "复查" in text(page)


def test_resident_account_sees_my_appeals(city: Any) -> None:
    resident = User.objects.create(username="r13700000000", kind="resident", phone="13700000000", display_name="李阿姨")
    client = as_user(resident)
    form = client.get(reverse("appeals:submit")).context["form"]
    assert form.initial["phone"] == "13700000000"
    data = _resident_data(client, phone="13700000000")
    assert client.post(reverse("appeals:submit"), data).status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.resident_id == resident.pk
    page = text(client.get(reverse("appeals:mine")))
    assert appeal.code in page and reverse("appeals:track_detail", args=[appeal.code]) in page
    # A fresh login (no tracking session) still opens the resident's own appeal.
    assert as_user(resident).get(reverse("appeals:track_detail", args=[appeal.code])).status_code == 200
    other = submit()
    assert as_user(resident).get(reverse("appeals:track_detail", args=[other.code])).status_code == 302


def test_pages_render_in_english_too(routed: Any, lamp: Category) -> None:
    city = routed
    appeal = assigned(city, lamp)
    staff = as_user(city.worker_a)
    for url in (
        reverse("appeals:inbox"), reverse("appeals:search"), reverse("appeals:backlog"), reverse("appeals:map"),
        reverse("appeals:desk_new"), reverse("appeals:detail", args=[appeal.pk]),
    ):
        response = staff.get(url, {"lang": "en"})
        assert response.status_code == 200 and '<html lang="en">' in text(response), url
    for url in (reverse("appeals:submit"), reverse("appeals:track")):
        response = Client().get(url, {"lang": "en"})
        assert response.status_code == 200 and '<html lang="en">' in text(response), url
