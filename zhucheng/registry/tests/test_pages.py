"""The registry pages: every page and the export are scoped (a worker of community B gets 404 or
nothing for community A), identifiers are masked on screen, revealing a full number needs a reason
and leaves an audit row the resident then sees, and a resident's correction request is decided by
staff from the queue."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from zhucheng.accounts.models import User
from zhucheng.core.masking import mask_id_number, mask_phone
from zhucheng.core.models import AuditEvent
from zhucheng.registry import services
from zhucheng.registry.models import CorrectionRequest, CorrectionState, Person, PointsApplication, PointsQuota

from . import factories as f

pytestmark = pytest.mark.django_db


def as_user(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _body(response: Any) -> str:
    return response.content.decode()


def _results(response: Any) -> str:
    """The search results section only (the search box echoes what was typed)."""
    body = _body(response)
    assert response.status_code == 200
    return body[body.index('id="results-h"') : body.index('id="todo-h"')] if 'id="results-h"' in body else ""


def _search(client: Client, q: str, **extra: Any) -> str:
    return _results(client.post(reverse("registry:search"), {"q": q, **extra}))


@pytest.fixture
def scene(city: Any) -> dict[str, Any]:
    """One person in each community (a rental and a permit ending soon, a points application); A is a resident's record."""
    out: dict[str, Any] = {}
    for where, name, phone in (("a", "欧阳明珠", "13912345678"), ("b", "司马青云", "13987654321")):
        b = f.building(where, plate=f"{'新华' if where == 'a' else '中南'}路{'18' if where == 'a' else '29'}号")
        home = services.housing_unit_add(actor=None, building=b, number="1单元101")
        p = f.person(home, name=name, kind="migrant", since=f.today() - timedelta(days=700), phone=phone, male=where == "b")
        services.employment_start(actor=None, person=p, employer="贵阳某公司", occupation="会计", from_date=date(2020, 1, 1))
        services.tenancy_register(
            actor=None, housing_unit=home, tenants=[p], landlord_name="某物业公司", start_date=f.today() - timedelta(days=300), end_date=f.today() + timedelta(days=10)
        )
        permit = services.permit_issue(actor=None, permit=services.permit_apply(actor=None, person=p), issued_on=f.today() - timedelta(days=350))
        services.points_submit(actor=None, person=p, year=2026, facts={"insurance_years": 2})
        out[where] = {"person": p, "home": home, "building": b, "permit": permit}
    resident = User.objects.create(username="r13912345678", kind="resident", phone="13912345678", display_name="欧阳明珠")
    services.person_link_account(actor=city.worker_a, person=out["a"]["person"], user=resident)
    out["resident"] = resident
    out["a"]["person"].refresh_from_db()
    return out


def _staff_pages(city: Any, scene: dict[str, Any]) -> dict[str, str]:
    a = scene["a"]
    return {
        "person": reverse("registry:person_detail", args=[a["person"].pk]),
        "unit": reverse("registry:housing_unit", args=[a["home"].pk]),
        "grid": reverse("registry:area", args=[city.grid_a.pk]),
        "community": reverse("registry:area", args=[city.community_a.pk]),
        "search_name": reverse("registry:search") + "?q=欧阳明",
        "search_address": reverse("registry:search") + "?q=新华路18号&kind=address",
        "rentals": reverse("registry:rentals"),
        "permits": reverse("registry:permits"),
        "points": reverse("registry:points") + "?year=2026",
        "corrections": reverse("registry:corrections"),
    }


def test_worker_of_community_b_gets_404_or_nothing_for_community_a(city: Any, scene: dict[str, Any]) -> None:
    a, b = scene["a"]["person"], scene["b"]["person"]
    correction = services.correction_request(actor=scene["resident"], person=a, field="ethnicity", requested_value="苗族", reason="登记错误")
    pages = _staff_pages(city, scene)
    pages["correction"] = reverse("registry:correction_detail", args=[correction.pk])
    # Community A's worker sees A's person everywhere.
    worker_a = as_user(city.worker_a)
    for name, url in pages.items():
        response = worker_a.get(url)
        assert response.status_code == 200, name
        if name not in ("grid", "community"):
            assert a.name in _body(response), name
    # Community B's worker: 404 for A's records and areas, and A's name nowhere on the lists.
    worker_b = as_user(city.worker_b)
    for name, url in pages.items():
        response = worker_b.get(url)
        if name in ("person", "unit", "grid", "community", "correction"):
            assert response.status_code == 404, name
            continue
        assert response.status_code == 200, name
        visible = _results(response) if name.startswith("search") else _body(response)
        assert a.name not in visible, name
        assert "新华路18号" not in visible, name
    # Searches by ID and phone (posted, so the number stays out of the URL) are scoped alike.
    assert a.name in _search(worker_a, a.id_number) and a.name in _search(worker_a, "13912345678")
    assert a.name not in _search(worker_b, a.id_number) and a.name not in _search(worker_b, "13912345678")
    # B's own person is found by B's worker (the searches work, they are just scoped).
    assert b.name in _search(worker_b, "司马青")
    # Reveal and decide are refused the same way and leave no trace.
    before = AuditEvent.objects.count()
    assert worker_b.post(reverse("registry:person_reveal", args=[a.pk]), {"field": "id_number", "reason": "好奇"}).status_code == 404
    assert worker_b.post(pages["correction"], {"decision": "accept", "reason": "同意"}).status_code == 404
    assert AuditEvent.objects.count() == before
    # The export holds only the worker's own people.
    csv_b = _body(worker_b.post(reverse("registry:export"), {"reason": "季度核查"}))
    assert b.name in csv_b and a.name not in csv_b
    csv_a = _body(worker_a.post(reverse("registry:export"), {"reason": "季度核查"}))
    assert a.name in csv_a and b.name not in csv_a
    assert a.id_number not in csv_a and mask_id_number(a.id_number) in csv_a
    assert AuditEvent.objects.filter(act="registry.export", actor=city.worker_a, reason__startswith="季度核查").exists()


def test_export_needs_a_reason(city: Any, scene: dict[str, Any]) -> None:
    response = as_user(city.worker_a).post(reverse("registry:export"), {"reason": ""})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert "field--error" in _body(response) and 'id="id_reason_error"' in _body(response)
    assert not AuditEvent.objects.filter(act="registry.export").exists()


def test_person_page_masks_identifiers_and_records_the_read(city: Any, scene: dict[str, Any]) -> None:
    a = scene["a"]["person"]
    response = as_user(city.worker_a).get(reverse("registry:person_detail", args=[a.pk]) + "?why=核实居住情况")
    body = _body(response)
    assert response.status_code == 200
    assert a.id_number not in body and "13912345678" not in body
    assert mask_id_number(a.id_number) in body and mask_phone("13912345678") in body
    assert response["Cache-Control"] == "no-store"
    read = AuditEvent.objects.get(act="registry.read", object_id=str(a.pk))
    assert read.actor == city.worker_a and read.reason == "核实居住情况"
    # Search results are masked too.
    results = _search(as_user(city.worker_a), a.id_number)
    assert a.name in results and a.id_number not in results and mask_id_number(a.id_number) in results


def test_reveal_requires_a_reason_is_audited_and_the_resident_sees_it(city: Any, scene: dict[str, Any]) -> None:
    a = scene["a"]["person"]
    url = reverse("registry:person_reveal", args=[a.pk])
    worker = as_user(city.worker_a)
    refused = worker.post(url, {"field": "id_number", "reason": "  "})
    assert refused.status_code == 400
    assert a.id_number not in _body(refused)
    assert not AuditEvent.objects.filter(act="registry.reveal_id").exists()
    shown = worker.post(url, {"field": "id_number", "reason": "办理居住证签注,核对身份证"})
    assert shown.status_code == 200 and a.id_number in _body(shown)
    assert shown["Cache-Control"] == "no-store"
    assert "13912345678" not in _body(shown)  # only the field asked for
    event = AuditEvent.objects.get(act="registry.reveal_id")
    assert (event.actor, event.object_id, event.reason) == (city.worker_a, str(a.pk), "办理居住证签注,核对身份证")
    # The resident's page lists the read: who (name, post and unit), when, why.
    me = as_user(scene["resident"]).get(reverse("registry:me"))
    body = _body(me)
    assert me.status_code == 200
    assert "李社区" in body and "社区工作人员 · 中华社区" in body
    assert "办理居住证签注,核对身份证" in body and "查看了您的完整身份证号码" in body
    assert a.id_number not in body and mask_id_number(a.id_number) in body


def test_resident_correction_lands_in_the_queue_and_is_decided_with_a_reason(city: Any, scene: dict[str, Any]) -> None:
    a = scene["a"]["person"]
    resident = as_user(scene["resident"])
    # An empty reason is refused on the form; nothing is queued.
    assert resident.post(reverse("registry:me"), {"field": "ethnicity", "requested_value": "苗族", "reason": ""}).status_code == 400
    assert not CorrectionRequest.objects.exists()
    response = resident.post(reverse("registry:me"), {"field": "ethnicity", "requested_value": "苗族", "reason": "本人为苗族,附户口簿"})
    assert response.status_code == 302
    correction = CorrectionRequest.objects.get(person=a)
    assert (correction.field, correction.state, correction.requested_by) == ("ethnicity", CorrectionState.PENDING, scene["resident"])
    # A second request for the same field while one is pending is refused with the reason on the field.
    again = resident.post(reverse("registry:me"), {"field": "ethnicity", "requested_value": "布依族", "reason": "再次申请"})
    assert again.status_code == 400 and "该事项已有一份待处理的更正申请" in _body(again)
    # In community A's queue, not in B's.
    assert "本人为苗族,附户口簿" in _body(as_user(city.worker_a).get(reverse("registry:corrections")))
    assert "本人为苗族" not in _body(as_user(city.worker_b).get(reverse("registry:corrections")))
    url = reverse("registry:correction_detail", args=[correction.pk])
    # A grid worker sees it but may not decide.
    grid = as_user(city.grid_worker_a)
    assert grid.get(url).status_code == 200
    assert grid.post(url, {"decision": "accept", "reason": "同意"}).status_code == 403
    worker = as_user(city.worker_a)
    assert worker.post(url, {"decision": "accept", "reason": ""}).status_code == 400
    correction.refresh_from_db()
    assert correction.state == CorrectionState.PENDING
    assert worker.post(url, {"decision": "accept", "reason": "已核对户口簿,予以更正"}).status_code == 302
    correction.refresh_from_db()
    a.refresh_from_db()
    assert correction.state == CorrectionState.ACCEPTED and a.ethnicity == "苗族"
    assert correction.decided_by == city.worker_a and correction.decision_reason == "已核对户口簿,予以更正"
    body = _body(resident.get(reverse("registry:me")))
    assert "已更正" in body and "已核对户口簿,予以更正" in body
    assert "民族" in body  # the change log names the field in Chinese
    # A rejection keeps the record as it was, and says why.
    second = services.correction_request(actor=scene["resident"], person=a, field="hukou_place", requested_value="贵州省遵义市", reason="户籍已迁")
    before = a.hukou_place
    url = reverse("registry:correction_detail", args=[second.pk])
    assert worker.post(url, {"decision": "reject", "reason": "未提供迁移证明"}).status_code == 302
    a.refresh_from_db()
    second.refresh_from_db()
    assert a.hukou_place == before and second.state == CorrectionState.REJECTED
    assert "未提供迁移证明" in _body(resident.get(reverse("registry:me")))
    assert "未提供迁移证明" in _body(worker.get(reverse("registry:corrections")))  # recent decisions


def test_identifier_corrections_are_masked_in_the_queue_and_the_decider_read_is_logged(city: Any, scene: dict[str, Any]) -> None:
    a = scene["a"]["person"]
    services.correction_request(actor=scene["resident"], person=a, field="phone", requested_value="13700001111", reason="换号")
    worker = as_user(city.worker_a)
    queue = _body(worker.get(reverse("registry:corrections")))
    assert "13700001111" not in queue and mask_phone("13700001111") in queue
    c = CorrectionRequest.objects.get(field="phone")
    detail = _body(worker.get(reverse("registry:correction_detail", args=[c.pk])))
    assert "13700001111" in detail
    assert AuditEvent.objects.filter(act="registry.read", actor=city.worker_a, object_id=str(a.pk)).exists()
    # The grid worker (who cannot decide) sees it masked, and no read is logged for them.
    grid = _body(as_user(city.grid_worker_a).get(reverse("registry:correction_detail", args=[c.pk])))
    assert "13700001111" not in grid
    assert not AuditEvent.objects.filter(act="registry.read", actor=city.grid_worker_a).exists()


def test_residents_and_staff_each_stay_on_their_side(city: Any, scene: dict[str, Any]) -> None:
    resident = as_user(scene["resident"])
    for url in _staff_pages(city, scene).values():
        assert resident.get(url).status_code == 403, url
    assert resident.post(reverse("registry:export"), {"reason": "x"}).status_code == 403
    staff_me = as_user(city.worker_a).get(reverse("registry:me"))
    assert staff_me.status_code == 302 and staff_me["Location"] == reverse("registry:search")
    assert Client().get(reverse("registry:me")).status_code == 302  # to the login page
    # A resident without a linked record is told how to link it, and cannot request corrections.
    other = User.objects.create(username="r13600000000", kind="resident", phone="13600000000")
    page = as_user(other)
    assert "还没有关联人口登记信息" in _body(page.get(reverse("registry:me")))
    assert page.post(reverse("registry:me"), {"field": "name", "requested_value": "王某", "reason": "x"}).status_code == 200
    assert not CorrectionRequest.objects.exists()


def test_resident_page_holds_household_history_permits_and_points(city: Any, scene: dict[str, Any]) -> None:
    a, home = scene["a"]["person"], scene["a"]["home"]
    services.household_create(actor=None, head=a, housing_unit=home)
    new_home = services.housing_unit_add(actor=None, building=scene["a"]["building"], number="2单元202")
    services.person_move_in(actor=city.worker_a, person=a, housing_unit=new_home, kind="migrant", from_date=f.today() - timedelta(days=5))
    body = _body(as_user(scene["resident"]).get(reverse("registry:me")))
    assert "户主" in body and "1单元101" in body and "2单元202" in body  # both stays: the history is kept
    assert scene["a"]["permit"].number in body
    assert "2026" in body and "积分入户申请" in body
    assert "还没有工作人员查看过您的信息" in body


def test_search_by_id_and_phone_is_exact(city: Any, scene: dict[str, Any]) -> None:
    a = scene["a"]["person"]
    worker = as_user(city.worker_a)
    assert a.name in _search(worker, "139 1234 5678")
    assert a.name not in _search(worker, "1391234567")
    assert a.name not in _search(worker, a.id_number[:-1])
    assert a.name in _search(worker, a.id_number.lower())
    assert a.name in _search(worker, "阳明珠", kind="name")  # a substring (trigram index on PostgreSQL)
    assert a.name in _search(worker, "欧阳")  # two characters: from the start of the name
    assert "请至少输入两个字" in _search(worker, "欧")
    # Limited to one area (from an area page); an area out of scope is a 404.
    assert a.name in _search(worker, "欧阳明珠", unit=city.grid_a.pk)
    assert worker.post(reverse("registry:search"), {"q": "欧阳明珠", "unit": city.grid_b.pk}).status_code == 404
    sup = as_user(city.supervisor)
    assert a.name in _search(sup, "欧阳明珠")
    assert a.name not in _search(sup, "欧阳明珠", unit=city.community_b.pk)
    assert a.name not in _search(sup, "13912345678", unit=city.community_b.pk)
    assert a.name in _search(sup, "新华路18号", kind="address", unit=city.community_a.pk)
    assert a.name not in _search(sup, "新华路18号", kind="address", unit=city.community_b.pk)


def test_unit_page_shows_current_and_past_occupants(city: Any, scene: dict[str, Any]) -> None:
    a, home = scene["a"]["person"], scene["a"]["home"]
    newcomer = f.person(home, name="上官新来", since=f.today() - timedelta(days=30))
    new_home = services.housing_unit_add(actor=None, building=scene["a"]["building"], number="3单元303")
    services.person_move_in(actor=city.worker_a, person=a, housing_unit=new_home, kind="migrant", from_date=f.today() - timedelta(days=3))
    body = _body(as_user(city.worker_a).get(reverse("registry:housing_unit", args=[home.pk])))
    current = body[body.index("现住人员") : body.index("曾住人员")]
    past = body[body.index("曾住人员") : body.index("出租登记")]
    assert newcomer.name in current and a.name not in current
    assert a.name in past and "3单元303" in past


def test_area_page_shows_units_and_completeness(city: Any, scene: dict[str, Any]) -> None:
    worker = as_user(city.worker_a)
    grid = _body(worker.get(reverse("registry:area", args=[city.grid_a.pk])))
    assert "1单元101" in grid and "门牌清楚" in grid and "人员清楚" in grid
    community = _body(worker.get(reverse("registry:area", args=[city.community_a.pk])))
    assert "金东居委会" in community and "1单元101" not in community  # children rows, not units
    # The areas entry goes straight to a worker's only unit.
    response = worker.get(reverse("registry:areas"))
    assert response.status_code == 302 and response["Location"] == reverse("registry:area", args=[city.community_a.pk])


def test_lists_ending_soon_and_points_ranking(city: Any, scene: dict[str, Any]) -> None:
    a = scene["a"]["person"]
    sup = as_user(city.supervisor)
    rentals = _body(sup.get(reverse("registry:rentals"), {"days": 30}))
    assert a.name in rentals and scene["b"]["person"].name in rentals
    assert a.name not in _body(sup.get(reverse("registry:rentals"), {"days": 7}))
    permits = _body(sup.get(reverse("registry:permits")))
    assert a.name in permits and scene["a"]["permit"].number in permits
    for app in PointsApplication.objects.filter(year=2026):
        services.points_score(actor=None, application=app, on=date(2026, 4, 1))
    PointsQuota.objects.create(year=2026, quota=1)
    services.points_decide(actor=None, year=2026, reason="年度排名")
    ranked = list(PointsApplication.objects.filter(year=2026).order_by("rank"))
    body = _body(sup.get(reverse("registry:points"), {"year": 2026}))
    assert body.index(ranked[0].person.name) < body.index(ranked[1].person.name)
    assert "准予入户" in body and "未入围" in body and "年度名额 1 名" in body


def test_deceased_person_shows_on_the_person_page(city: Any, scene: dict[str, Any]) -> None:
    a = scene["a"]["person"]
    services.person_death(actor=city.worker_a, person=Person.objects.get(pk=a.pk), died_on=f.today() - timedelta(days=1))
    body = _body(as_user(city.worker_a).get(reverse("registry:person_detail", args=[a.pk])))
    assert "死亡" in body
