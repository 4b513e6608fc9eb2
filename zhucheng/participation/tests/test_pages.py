"""Public budget pages (no login), the resident's vote with its check step, receipt verification,
results with every step, the .pb download, and the staff pages (scoped: 404 for another community)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from zhucheng.participation import services, tally, voting
from zhucheng.participation.models import Ballot, Comment, Phase, Project, ProposalState, VoterRegister

from .conftest import World, as_user, ids, resident

pytestmark = pytest.mark.django_db


def test_public_budget_page_needs_no_login(world: World) -> None:
    client = Client()
    r = client.get(reverse("participation:budget", args=[world.budget.pk]))
    assert r.status_code == 200
    text = r.content.decode()
    assert "修缮3栋楼道" in text and "居民投票" in text and "去投票" in text
    assert client.get(reverse("participation:index")).status_code == 200
    data = client.get(reverse("participation:map_data", args=[world.budget.pk])).json()
    assert data["type"] == "FeatureCollection" and data["features"][0]["properties"]["kind"] == "unit"
    assert client.get(reverse("participation:vote", args=[world.budget.pk])).status_code == 302  # login first
    assert client.get(reverse("participation:home")).status_code == 302


def test_resident_votes_through_the_check_step_and_verifies_the_receipt(world: World) -> None:
    client = as_user(world.voter)
    url = reverse("participation:vote", args=[world.budget.pk])
    assert "安装路灯" in client.get(url).content.decode()
    over = client.post(url, {"step": "check", "proposals": ids(world.proposals[0], world.proposals[1])})
    assert "超过了预算" in over.content.decode() and not Ballot.objects.exists()
    check = client.post(url, {"step": "check", "proposals": ids(world.proposals[0], world.proposals[3])})
    assert "核对选票" in check.content.decode() and "700.00" in check.content.decode() and not Ballot.objects.exists()
    done = client.post(url, {"step": "cast", "proposals": ids(world.proposals[0], world.proposals[3]), "notify": "1"})
    receipt = re.search(r'id="pb-receipt">([A-Z0-9-]+)<', done.content.decode()).group(1)  # type: ignore[union-attr]
    assert Ballot.objects.count() == 1 and VoterRegister.objects.get().notify
    again = client.post(url, {"step": "cast", "proposals": ids(world.proposals[2])})
    assert "已经投过票" in again.content.decode() and Ballot.objects.count() == 1
    verify = Client().get(reverse("participation:verify", args=[world.budget.pk]), {"receipt": receipt})
    assert "找到了您的选票" in verify.content.decode() and "修缮3栋楼道" in verify.content.decode()


def test_outsider_sees_why_they_cannot_vote(world: World) -> None:
    r = as_user(resident(world.housing.unit_b)).get(reverse("participation:vote", args=[world.budget.pk]))
    assert "只有本社区的居民可以参与" in r.content.decode()


def test_results_show_every_step_and_the_pb_download(world: World) -> None:
    voting.ballot_cast(actor=world.voter, budget=world.budget, proposal_ids=ids(world.proposals[1], world.proposals[2]))
    b = services.budget_advance(actor=world.city.worker_a, budget=world.budget)
    tally.tally_run(actor=world.city.worker_a, budget=b)
    r = Client().get(reverse("participation:results", args=[b.pk]))
    text = r.content.decode()
    assert "均等份额法" in text and "没有得票,不入选。" in text and "费用不超过剩余资金,入选。" in text
    pb = Client().get(reverse("participation:export_pb", args=[b.pk]))
    assert pb.status_code == 200 and pb.content.decode().startswith("META") and "VOTES" in pb.content.decode()


def test_staff_pages_review_moderate_and_are_scoped(world: World, city: Any) -> None:
    staff = as_user(city.worker_a)
    assert "中华社区2026年度公益金" in staff.get(reverse("participation:home")).content.decode()
    assert staff.get(reverse("participation:manage", args=[world.budget.pk])).status_code == 200
    assert as_user(city.worker_b).get(reverse("participation:manage", args=[world.budget.pk])).status_code == 404
    assert as_user(world.voter).get(reverse("participation:home")).status_code == 403
    c = services.comment_add(actor=world.voter, proposal=world.proposals[0], body="这是广告")
    r = staff.post(reverse("participation:manage_act", args=[world.budget.pk, "hide"]), {"comment": c.pk, "reason": "广告"})
    assert r.status_code == 302 and Comment.objects.get(pk=c.pk).is_hidden
    page = Client().get(reverse("participation:proposal", args=[world.proposals[0].pk])).content.decode()
    assert "该评论已被隐藏,理由:广告" in page and "这是广告" not in page
    r = staff.post(reverse("participation:manage_act", args=[world.budget.pk, "advance"]), {"to": Phase.TALLYING})
    world.budget.refresh_from_db()
    assert world.budget.phase == Phase.TALLYING
    staff.post(reverse("participation:manage_act", args=[world.budget.pk, "tally"]))
    assert world.budget.tallies.count() == 2


def test_propose_page_and_project_pages(city: Any, housing: Any) -> None:
    from .conftest import make_budget

    budget = make_budget(city)
    author = resident(housing.unit_a)
    client = as_user(author)
    r = client.post(reverse("participation:propose", args=[budget.pk]), {"title": "小区门口装路灯", "description": "晚上太黑", "cost": "abc"})
    assert "请输入金额" in r.content.decode()
    r = client.post(reverse("participation:propose", args=[budget.pk]), {"title": "小区门口装路灯", "description": "晚上太黑", "cost": "12000", "lat": "26.2", "lon": "106.1"})
    proposal = budget.proposals.get()
    assert r.status_code == 302 and proposal.estimated_cost_fen == 12000_00
    budget = services.budget_advance(actor=city.worker_a, budget=budget)
    services.proposal_review(actor=city.worker_a, proposal=proposal, feasible=True, cost_fen=10000_00)
    budget = services.budget_advance(actor=city.worker_a, budget=budget)
    voting.ballot_cast(actor=author, budget=budget, proposal_ids=[proposal.pk])
    budget = services.budget_advance(actor=city.worker_a, budget=budget)
    tally.tally_run(actor=city.worker_a, budget=budget)
    budget = services.budget_advance(actor=city.worker_a, budget=budget)
    assert budget.proposals.get().state == ProposalState.SELECTED
    project = Project.objects.get()
    staff = as_user(city.worker_a)
    staff.post(reverse("participation:project_manage", args=[project.pk]), {"act": "update", "status": "under_way", "progress": "40", "contractor": "贵州筑安建设有限公司"})
    staff.post(reverse("participation:project_manage", args=[project.pk]), {"act": "spending", "amount": "12000", "spent_on": "2026-06-01", "description": "灯杆与安装"})
    project.refresh_from_db()
    assert project.progress == 40 and project.spent_fen == 12000_00 and project.flags.count() == 1
    page = Client().get(reverse("participation:project", args=[project.pk])).content.decode()
    assert "超支" in page and "贵州筑安建设有限公司" in page and "40%" in page
    client.post(reverse("participation:project", args=[project.pk]), {"act": "supervise"})
    client.post(reverse("participation:project", args=[project.pk]), {"act": "observe", "text": "灯杆已立好"})
    assert "灯杆已立好" in Client().get(reverse("participation:project", args=[project.pk])).content.decode()
    assert as_user(city.worker_b).get(reverse("participation:project_manage", args=[project.pk])).status_code == 404
