"""群众点菜 in a real browser, on a phone: a resident opens the public budget page (map, proposals), votes
through the check step, receives a receipt code and verifies it; a neighbour from another community is
told why they cannot vote. The console stays clean (a CSP violation would show there). Screenshots land
in var/screenshots/."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password

from zhucheng.accounts.models import User
from zhucheng.accounts.services import resident_username
from zhucheng.participation.models import Ballot, VoterRegister
from zhucheng.participation.tests.conftest import World, housing, resident, world  # noqa: F401 — fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"
PHONE = "13966660001"


def _account(user: User, phone: str) -> None:
    User.objects.filter(pk=user.pk).update(username=resident_username(phone), phone=phone, password=make_password(PASSWORD))


def _resident_log_in(session: Any, phone: str) -> None:
    session.goto("/accounts/resident/login/")
    page = session.page
    page.fill("#id_phone", phone)
    page.fill("#id_password", PASSWORD)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/resident/$"))


def test_resident_votes_on_a_phone_with_a_check_step_and_verifies_the_receipt(phone: Any, world: World) -> None:  # noqa: F811
    voter = User.objects.get(pk=world.voter.pk)
    voter.phone = PHONE
    voter.username = resident_username(PHONE)
    voter.password = make_password(PASSWORD)
    voter.save()
    session = phone
    page = session.page
    # The public page needs no login: phases, proposals and the map of the community.
    session.goto(f"/participation/b/{world.budget.pk}/")
    assert "居民投票" in page.locator(".pb-phases [aria-current=step]").inner_text()
    assert page.locator(".pb-card").count() >= 4
    page.wait_for_selector("#pb-map .leaflet-interactive", timeout=10_000)
    session.screenshot("participation_budget_phone")
    _resident_log_in(session, PHONE)
    session.goto(f"/participation/b/{world.budget.pk}/vote/")
    page.check(f"#pick-{world.proposals[0].pk}")
    page.check(f"#pick-{world.proposals[1].pk}")
    assert "1,100.00" in page.locator("#pb-total-value").inner_text()  # the running total says it is over
    page.click("#pb-ballot button[type=submit]")
    assert "超过了预算" in page.locator(".form-errors").inner_text()
    assert not Ballot.objects.exists()
    page.uncheck(f"#pick-{world.proposals[1].pk}")
    page.check(f"#pick-{world.proposals[3].pk}")
    page.click("#pb-ballot button[type=submit]")
    assert page.locator("h1").inner_text() == "核对选票"
    assert "700.00" in page.locator("#pb-check-total").inner_text()
    session.screenshot("participation_vote_check_phone")
    page.get_by_role("button", name="确认投票").click()
    receipt = page.locator("#pb-receipt").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", receipt)
    session.screenshot("participation_vote_done_phone")
    assert Ballot.objects.count() == 1 and VoterRegister.objects.count() == 1
    session.goto(f"/participation/b/{world.budget.pk}/verify/")
    page.fill("#id_receipt", receipt)
    page.click("form.form-stack button[type=submit]")
    text = page.locator(".notice").inner_text()
    assert "找到了您的选票" in text and "修缮3栋楼道" in text and "安装路灯" in text
    session.assert_no_errors()


def test_resident_of_another_community_is_told_why(phone: Any, world: World) -> None:  # noqa: F811
    outsider = resident(world.housing.unit_b)
    _account(outsider, "13966660002")
    _resident_log_in(phone, "13966660002")
    phone.goto(f"/participation/b/{world.budget.pk}/vote/")
    assert "只有本社区的居民可以参与" in phone.page.locator(".notice--warning").inner_text()
    phone.screenshot("participation_vote_refused_phone")
    phone.assert_no_errors()
