"""Staff pages that set things up: a community's yearly budget (errors beside the field, nothing typed
lost, only communities the staff member manages) and the residents' council (members, meetings,
minutes with attendance, resolutions that file proposals, responses), scoped like the rest."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from zhucheng.participation import council
from zhucheng.participation.models import (
    Budget,
    Council,
    CouncilMeeting,
    CouncilMember,
    Proposal,
    Resolution,
    ResolutionKind,
    VotingRule,
)
from zhucheng.places.models import Role
from zhucheng.places.services import membership_grant

from .conftest import as_user, days, make_budget, resident, today

pytestmark = pytest.mark.django_db

NEW = "participation:budget_new"


def field_error(html: str, field: str) -> str:
    """The text of the error block beside ``field`` ('' when there is none)."""
    m = re.search(rf'<div class="field-error" id="id_{re.escape(field)}_error">(.*?)</div>', html, re.S)
    return re.sub(r"<[^>]+>", "", m.group(1)) if m else ""


def budget_post(city: Any, **kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "unit": city.community_a.pk,
        "year": "2027",
        "amount": "80000.50",
        "title": "",
        "description": "说明文字:用于楼道和绿化",
        "voting_rule": VotingRule.KNAPSACK,
        "min_spend_percent": "50",
        "min_choices": "1",
        "max_choices": "5",
        "min_age": "18",
        "min_residence_months": "6",
        "allow_migrants": "on",
    }
    data.update(kw)
    return {k: v for k, v in data.items() if v is not None}


# --- budgets -------------------------------------------------------------------------------------


def test_staff_creates_a_budget_through_the_page(city: Any) -> None:
    staff = as_user(city.worker_a)
    page = staff.get(reverse(NEW)).content.decode()
    assert "中华社区" in page and "威清社区" not in page  # only communities the staff member manages
    assert reverse(NEW) in staff.get(reverse("participation:home")).content.decode()  # linked from the staff area
    r = staff.post(
        reverse(NEW),
        budget_post(
            city,
            voting_rule=VotingRule.APPROVAL,
            min_choices="2",
            max_choices="4",
            allow_migrants=None,
            heading_name_0="道路",
            heading_amount_0="30000",
            heading_name_1="绿化",
            heading_amount_1="20000.25",
            schedule_proposing="2027-02-01",
            schedule_voting="2027-05-01",
            voting_closes_at="2027-05-20T18:00",
        ),
    )
    budget = Budget.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("participation:manage", args=[budget.pk])
    assert budget.unit == city.community_a and budget.year == 2027 and budget.title == "中华社区2027年度社区公益金"
    assert budget.amount_fen == 8000050 and budget.voting_rule == VotingRule.APPROVAL
    assert (budget.min_choices, budget.max_choices, budget.min_spend_percent) == (2, 4, 0)
    assert (budget.min_age, budget.min_residence_months, budget.allow_migrants) == (18, 6, False)
    assert [(h.name, h.amount_fen) for h in budget.headings.order_by("id")] == [("道路", 3000000), ("绿化", 2000025)]
    assert budget.schedule == {"proposing": "2027-02-01", "voting": "2027-05-01"}
    assert budget.voting_closes_at is not None and budget.description == "说明文字:用于楼道和绿化"
    assert staff.get(r["Location"]).status_code == 200


def test_knapsack_budget_keeps_its_minimum_spend(city: Any) -> None:
    r = as_user(city.worker_a).post(reverse(NEW), budget_post(city, title="自定名称", min_choices="", max_choices=""))
    budget = Budget.objects.get()
    assert r.status_code == 302 and budget.title == "自定名称" and budget.voting_rule == VotingRule.KNAPSACK
    assert (budget.min_spend_percent, budget.min_choices, budget.allow_migrants) == (50, 1, True) and not budget.headings.exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"unit": ""}, "unit", "请选择社区"),
        ({"year": ""}, "year", ""),
        ({"year": "1999"}, "year", ""),
        ({"amount": "abc"}, "amount", "请输入金额(元)"),
        ({"amount": "0"}, "amount", "请输入大于零、最多两位小数的金额(元)"),
        ({"amount": "12.345"}, "amount", "请输入大于零、最多两位小数的金额(元)"),
        ({"title": "长" * 121}, "title", ""),
        ({"min_spend_percent": "150"}, "min_spend_percent", ""),
        (
            {"voting_rule": VotingRule.APPROVAL, "min_choices": "4", "max_choices": "2"},
            "max_choices",
            "最多选择项数不能少于最少选择项数",
        ),
        ({"voting_rule": VotingRule.APPROVAL, "min_choices": ""}, "min_choices", "请填写最少选择项数"),
        ({"voting_rule": "lottery"}, "voting_rule", ""),
        ({"min_age": "-1"}, "min_age", ""),
        ({"heading_name_0": "道路"}, "heading_amount_0", "请填写该类别的参考金额"),
        ({"heading_amount_0": "100"}, "heading_name_0", "请填写类别名称"),
        (
            {"heading_name_0": "道路", "heading_amount_0": "100", "heading_name_1": "道路", "heading_amount_1": "100"},
            "heading_name_1",
            "重复",
        ),
        ({"heading_name_0": "道路", "heading_amount_0": "90000"}, "heading_amount_0", "合计不能超过预算金额"),
        ({"schedule_proposing": "2027-05-01", "schedule_voting": "2027-04-01"}, "schedule_voting", "不能早于「征集提案」"),
        (
            {"schedule_voting": "2027-05-01", "voting_closes_at": "2027-04-01T12:00"},
            "voting_closes_at",
            "投票截止时间不能早于投票开始日期",
        ),
    ],
)
def test_each_error_is_shown_beside_its_field_and_nothing_typed_is_lost(
    city: Any, changes: dict[str, str], field: str, message: str
) -> None:
    data = budget_post(city, **changes)
    r = as_user(city.worker_a).post(reverse(NEW), data)
    html = r.content.decode()
    assert r.status_code == 200 and not Budget.objects.exists()
    error = field_error(html, field)
    assert error, f"no error beside {field}"
    assert message in error
    assert "请改正下面标出的错误" in html
    assert "说明文字:用于楼道和绿化" in html  # what was typed comes back
    if data.get("amount") not in ("", None):
        assert f'value="{data["amount"]}"' in html


def test_a_refusal_of_the_service_comes_back_beside_its_field(city: Any) -> None:
    make_budget(city, year=2027)
    r = as_user(city.worker_a).post(reverse(NEW), budget_post(city, title="重复的预算"))
    html = r.content.decode()
    assert r.status_code == 200 and Budget.objects.count() == 1
    assert "2027 年度的预算已经设立" in field_error(html, "year") and 'value="重复的预算"' in html


def test_a_community_out_of_scope_is_refused(city: Any) -> None:
    staff = as_user(city.worker_a)
    for unit in (city.community_b, city.committee_a):  # another community; a unit that is not a community
        r = staff.post(reverse(NEW), budget_post(city, unit=unit.pk))
        assert r.status_code == 200 and "请选择您有权管理的社区" in field_error(r.content.decode(), "unit")
    assert not Budget.objects.exists()
    # A district supervisor may set up a budget for any community below.
    page = as_user(city.supervisor).get(reverse(NEW)).content.decode()
    assert "中华社区" in page and "威清社区" in page


def test_non_staff_cannot_create_a_budget(city: Any, housing: Any) -> None:
    assert Client().get(reverse(NEW)).status_code == 302  # log in first
    assert as_user(resident(housing.unit_a)).get(reverse(NEW)).status_code == 403
    assert as_user(resident(housing.unit_a)).post(reverse(NEW), budget_post(city)).status_code == 403
    for user in (city.grid_worker_a, city.nobody, city.handler):  # staff without a post over a community
        assert as_user(user).get(reverse(NEW)).status_code == 403
        assert as_user(user).post(reverse(NEW), budget_post(city)).status_code == 403
    assert not Budget.objects.exists()


def test_budget_page_in_english(city: Any) -> None:
    client = as_user(city.worker_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse(NEW)).content.decode()
    assert "Set up a yearly community budget" in html and "设立年度社区公益金预算" not in html
    html = client.post(reverse(NEW), budget_post(city, amount="abc")).content.decode()
    assert "Enter an amount in yuan" in field_error(html, "amount")


# --- the residents' council ----------------------------------------------------------------------


def act(pk: int, name: str) -> str:
    return reverse("participation:council_act", args=[pk, name])


def test_council_from_creation_to_a_response(city: Any, housing: Any) -> None:
    staff = as_user(city.worker_a)
    index = staff.get(reverse("participation:council")).content.decode()
    assert "设立议事会" in index and "中华社区" in index and "威清社区" not in index
    r = staff.post(reverse("participation:council"), {"unit": city.community_b.pk})
    assert "请选择您有权管理、尚未设立议事会的社区" in field_error(r.content.decode(), "unit") and not Council.objects.exists()
    r = staff.post(reverse("participation:council"), {"unit": city.community_a.pk, "name": ""})
    c = Council.objects.get()
    assert r["Location"] == reverse("participation:council_detail", args=[c.pk]) and c.name == "中华社区居民议事会"
    assert "中华社区居民议事会" in staff.get(reverse("participation:council")).content.decode()

    # Members: terms checked, a registry person linked by ID number within scope.
    term = {
        "member-role": "议事员",
        "member-term_from": (today() - timedelta(days=300)).isoformat(),
        "member-term_to": days(700).isoformat(),
    }
    r = staff.post(
        act(c.pk, "member"), {**term, "member-name": "王德明", "member-term_to": (today() - timedelta(days=400)).isoformat()}
    )
    html = r.content.decode()
    assert (
        r.status_code == 200 and "任期结束日期应晚于开始日期" in field_error(html, "member-term_to") and 'value="王德明"' in html
    )
    assert staff.post(act(c.pk, "member"), {**term, "member-name": "王德明", "member-role": "议事长"}).status_code == 302
    person = resident(housing.unit_a, name="陈桂兰").registry_person  # type: ignore[attr-defined]
    r = staff.post(act(c.pk, "member"), {**term, "member-name": "", "member-id_number": "110101199001011234"})
    assert "没有找到该身份证号对应的人员" in field_error(r.content.decode(), "member-id_number")
    r = staff.post(act(c.pk, "member"), {**term, "member-name": "", "member-id_number": person.id_number})
    assert r.status_code == 302
    linked = CouncilMember.objects.get(person=person)
    assert linked.name == "陈桂兰"
    council.member_add(
        actor=None, council=c, name="吴老", term_from=today() - timedelta(days=2000), term_to=today() - timedelta(days=600)
    )
    wang, chen, wu = CouncilMember.objects.order_by("id")

    # Meetings: one today (recorded), one later (only scheduled).
    r = staff.post(
        act(c.pk, "meeting"),
        {"meeting-held_on": today().isoformat(), "meeting-place": "", "meeting-agenda": "一、讨论年度公益金项目"},
    )
    assert (
        "meeting-place" in r.content.decode()
        and field_error(r.content.decode(), "meeting-place")
        and "一、讨论年度公益金项目" in r.content.decode()
    )
    staff.post(
        act(c.pk, "meeting"),
        {"meeting-held_on": today().isoformat(), "meeting-place": "社区活动室", "meeting-agenda": "一、讨论年度公益金项目"},
    )
    staff.post(
        act(c.pk, "meeting"),
        {"meeting-held_on": days(30).isoformat(), "meeting-place": "社区会议室", "meeting-agenda": "二、管护分工"},
    )
    held, later = CouncilMeeting.objects.order_by("held_on")
    page = staff.get(reverse("participation:council_detail", args=[c.pk])).content.decode()
    assert f'name="rec{held.pk}-attendees" value="{wang.pk}"' in page and f'value="{wu.pk}"' not in page  # only members in term
    assert f"rec{later.pk}-minutes" not in page and "会议日期未到" in page

    rec = f"rec{held.pk}"
    r = staff.post(
        act(c.pk, "record"), {"meeting": held.pk, f"{rec}-minutes": "到会 2 人。", f"{rec}-attendees": [wang.pk, wu.pk]}
    )
    assert (
        "出席人员中有不在任期内的成员" in field_error(r.content.decode(), f"{rec}-attendees")
        and "到会 2 人。" in r.content.decode()
    )
    assert (
        staff.post(
            act(c.pk, "record"), {"meeting": held.pk, f"{rec}-minutes": "到会 2 人。", f"{rec}-attendees": [wang.pk, chen.pk]}
        ).status_code
        == 302
    )
    held.refresh_from_db()
    assert held.minutes == "到会 2 人。" and set(held.attendees.all()) == {wang, chen}

    # A resolution that files a proposal in the community's budget, and a recommendation answered.
    budget = make_budget(city)
    res = f"res{held.pk}"
    base = {
        "meeting": held.pk,
        f"{res}-kind": ResolutionKind.PROPOSAL,
        f"{res}-text": "1至4栋加装楼梯扶手",
        f"{res}-votes_against": "0",
        f"{res}-abstentions": "0",
    }
    r = staff.post(
        act(c.pk, "resolution"),
        {
            **base,
            f"{res}-votes_for": "3",
            f"{res}-budget": budget.pk,
            f"{res}-proposal_title": "加装扶手",
            f"{res}-proposal_cost": "5000",
        },
    )
    assert "表决票数超过了出席人数 2" in field_error(r.content.decode(), f"{res}-votes_for") and not Resolution.objects.exists()
    r = staff.post(
        act(c.pk, "resolution"),
        {
            **base,
            f"{res}-votes_for": "2",
            f"{res}-budget": "",
            f"{res}-proposal_title": "加装扶手",
            f"{res}-proposal_cost": "5000",
        },
    )
    assert (
        "请选择本社区的年度预算" in field_error(r.content.decode(), f"{res}-budget") and 'value="加装扶手"' in r.content.decode()
    )
    r = staff.post(
        act(c.pk, "resolution"),
        {
            **base,
            f"{res}-votes_for": "2",
            f"{res}-budget": budget.pk,
            f"{res}-proposal_title": "加装扶手",
            f"{res}-proposal_cost": "5000",
        },
    )
    assert r.status_code == 302
    proposal = Proposal.objects.get(budget=budget)
    assert proposal.by_council and proposal.author_label == "中华社区居民议事会" and proposal.estimated_cost_fen == 5000_00
    assert proposal.resolution is not None and proposal.resolution.meeting == held

    r = staff.post(
        act(c.pk, "resolution"),
        {**base, f"{res}-kind": ResolutionKind.RECOMMENDATION, f"{res}-text": "建议延长活动室开放时间", f"{res}-votes_for": "2"},
    )
    rec_res = Resolution.objects.get(kind=ResolutionKind.RECOMMENDATION)
    assert r.status_code == 302 and not rec_res.proposals.exists()
    r = staff.post(act(c.pk, "respond"), {"resolution": rec_res.pk, f"resp{rec_res.pk}-response": ""})
    assert field_error(r.content.decode(), f"resp{rec_res.pk}-response")
    assert (
        staff.post(
            act(c.pk, "respond"), {"resolution": rec_res.pk, f"resp{rec_res.pk}-response": "已延长至晚上九点。"}
        ).status_code
        == 302
    )
    rec_res.refresh_from_db()
    assert rec_res.response == "已延长至晚上九点。"

    page = staff.get(reverse("participation:council_detail", args=[c.pk])).content.decode()
    for text in (
        "王德明",
        "议事长",
        "已卸任",
        "到会 2 人。",
        "加装扶手",
        reverse("participation:proposal", args=[proposal.pk]),
        "已延长至晚上九点。",
        "二、管护分工",
    ):
        assert text in page, text


def test_council_pages_are_scoped(city: Any, housing: Any) -> None:
    a = council.council_create(actor=None, unit=city.community_a, name="中华社区居民议事会")
    b = council.council_create(actor=None, unit=city.community_b, name="威清社区居民议事会")
    meeting_b = council.meeting_schedule(actor=None, council=b, held_on=today(), place="会议室", agenda="议程")
    member = {"member-name": "张三", "member-role": "议事员", "member-term_from": "2026-01-01", "member-term_to": "2028-01-01"}
    worker_b = as_user(city.worker_b)
    index = worker_b.get(reverse("participation:council")).content.decode()
    assert "威清社区居民议事会" in index and "中华社区居民议事会" not in index
    assert worker_b.get(reverse("participation:council_detail", args=[a.pk])).status_code == 404
    assert worker_b.post(act(a.pk, "member"), member).status_code == 404
    assert not CouncilMember.objects.exists()
    # Another council's meeting through my council's page: not found.
    worker_a = as_user(city.worker_a)
    assert worker_a.post(act(a.pk, "record"), {"meeting": meeting_b.pk, f"rec{meeting_b.pk}-minutes": "x"}).status_code == 404
    assert worker_a.post(act(a.pk, "unknown"), member).status_code == 404
    assert worker_a.get(act(a.pk, "member")).status_code == 405
    # Residents and anonymous visitors.
    assert as_user(resident(housing.unit_a)).get(reverse("participation:council")).status_code == 403
    assert as_user(resident(housing.unit_a)).get(reverse("participation:council_detail", args=[a.pk])).status_code == 403
    assert Client().get(reverse("participation:council_detail", args=[a.pk])).status_code == 302
    # A grid worker sees no council above the grid; staff who may see but not manage get no forms and a 403 on acts.
    assert as_user(city.grid_worker_a).get(reverse("participation:council_detail", args=[a.pk])).status_code == 404
    membership_grant(actor=None, user=city.nobody, role=Role.MEDIATOR, unit=city.community_a)
    viewer = as_user(city.nobody)
    page = viewer.get(reverse("participation:council_detail", args=[a.pk]))
    assert page.status_code == 200 and "添加成员" not in page.content.decode()
    assert viewer.post(act(a.pk, "member"), member).status_code == 403
    assert "设立议事会" not in viewer.get(reverse("participation:council")).content.decode()
    assert not CouncilMember.objects.exists()


def test_council_page_in_english(city: Any) -> None:
    c = council.council_create(actor=None, unit=city.community_a, name="中华社区居民议事会")
    client = as_user(city.worker_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("participation:council_detail", args=[c.pk])).content.decode()
    assert "Members and terms" in html and "Schedule a meeting" in html and "成员与任期" not in html


def test_council_page_queries_do_not_grow_with_meetings(city: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = council.council_create(actor=None, unit=city.community_a, name="中华社区居民议事会")
    members = [
        council.member_add(actor=None, council=c, name=f"议事员{i}", term_from=days(-100), term_to=days(700)) for i in range(3)
    ]
    budget = make_budget(city)
    client = as_user(city.worker_a)
    url = reverse("participation:council_detail", args=[c.pk])

    def add_meetings(n: int) -> None:
        for i in range(n):
            m = council.meeting_schedule(actor=None, council=c, held_on=days(-i - 1), place="会议室", agenda="议程")
            council.meeting_record(actor=None, meeting=m, minutes="纪要", attendees=members)
            council.resolution_add(actor=None, meeting=m, kind=ResolutionKind.RECOMMENDATION, text="建议", votes_for=3)
            council.resolution_add(
                actor=None,
                meeting=m,
                kind=ResolutionKind.PROPOSAL,
                text="提案",
                votes_for=3,
                budget=budget,
                proposal_title=f"提案{i}",
                proposal_cost_fen=100_00,
            )
        council.meeting_schedule(actor=None, council=c, held_on=days(10 + n), place="会议室", agenda="议程")

    add_meetings(1)
    client.get(url)  # warm the session and the user's posts
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    add_meetings(4)
    with CaptureQueriesContext(connection) as many:
        page = client.get(url)
    assert page.content.decode().count('name="resolution"') == 5  # a reply form per unanswered recommendation
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
