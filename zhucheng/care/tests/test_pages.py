"""The care pages: the carer's list, enrolment, the visit form, overdue lists, referrals, export, API and metrics;
above all, a user without the sensitive grant learns nothing of a sensitive enrolment from any of them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from zhucheng.care import services
from zhucheng.care.models import Enrolment, Visit
from zhucheng.core.models import AuditEvent

from .conftest import as_user, days_ago, enrol

pytestmark = pytest.mark.django_db

SENSITIVE_NAME = "严重精神障碍患者"


@pytest.fixture
def sensitive(care: Any) -> Enrolment:
    """赵某某 enrolled in the sensitive category by the granted worker, long overdue, with a visit, a service and a referral."""
    e = enrol(care, care.adult_a, care.mental, actor=None, carer=care.city.grid_worker_a, enrolled_on=days_ago(60),
              situation="服药依从性差，需定期随访")
    services.visit_record(actor=None, enrolment=e, visited_on=days_ago(50), kind="home", situation="情绪稳定", needs="需要低保复核",
                          refer_to=care.city.department, referral_note="低保复核")
    services.service_record(actor=None, enrolment=e, kind="subsidy", description="监护补贴", provider="区民政局", delivered_on=days_ago(40), amount_fen=50_000)
    return e


def _pages(care: Any, e: Enrolment) -> list[str]:
    return [
        reverse("care:home"),
        reverse("care:enrolment_list"),
        reverse("care:enrolment_list") + "?state=&q=赵",
        reverse("care:enrolment_list") + f"?category={care.mental.pk}&state=",
        reverse("care:enrolment_export") + "?state=",
        reverse("care:enrolment_api") + "?state=",
        reverse("care:enrolment_api") + f"?category={care.mental.pk}",
        reverse("care:person_enrolments_api", args=[care.adult_a.pk]),
        reverse("care:overdue"),
        reverse("care:overdue") + f"?unit={care.city.grid_a.pk}",
        reverse("care:referrals") + "?all=1",
        reverse("care:metrics"),
        reverse("care:person_pick") + "?q=赵",
        reverse("care:enrol", args=[care.adult_a.pk]),
    ]


def _body(response: Any) -> str:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode("utf-8")
    return response.content.decode("utf-8")


@pytest.mark.parametrize("who", ["grid_worker_a", "worker_a", "supervisor", "handler"])
def test_no_page_search_export_or_api_reveals_a_sensitive_enrolment(care: Any, sensitive: Enrolment, who: str) -> None:
    user = getattr(care.city, who)
    client = as_user(user)
    for url in _pages(care, sensitive):
        response = client.get(url)
        assert response.status_code in (200, 404), url
        body = _body(response)
        if "metrics" not in url:
            assert SENSITIVE_NAME not in body, url
        assert "服药依从性差" not in body and "监护补贴" not in body, url
        # The registry search may show the person; a department sees whom a referral asks it to help
        # (name and the referral's words, never the category); other care pages never show the person.
        if "person_pick" not in url and "/enrol/" not in url and not (who == "handler" and "referrals" in url):
            assert "赵某某" not in body, url
    for name in ("care:enrolment_detail", "care:visit_new"):
        hidden = client.get(reverse(name, args=[sensitive.pk]))
        missing = client.get(reverse(name, args=[999_999]))
        assert hidden.status_code == missing.status_code == 404
    assert client.post(reverse("care:enrolment_act", args=[sensitive.pk, "withdraw"]), {"via": "x", "confirm": "on"}).status_code == 404
    api = json.loads(client.get(reverse("care:enrolment_api") + "?state=").content)
    assert all(r["id"] != sensitive.pk for r in api["results"])
    assert not AuditEvent.objects.filter(act="care.read_sensitive", actor=user).exists()


def test_registry_person_page_does_not_reveal_the_category(care: Any, sensitive: Enrolment) -> None:
    try:
        url = reverse("registry:person_detail", args=[care.adult_a.pk])
    except NoReverseMatch:
        pytest.skip("the registry person page is not mounted yet")
    for user in (care.city.worker_a, care.city.grid_worker_a):
        response = as_user(user).get(url)
        assert response.status_code == 200
        body = response.content.decode()
        assert "赵某某" in body and SENSITIVE_NAME not in body and "服药依从性差" not in body


def test_granted_user_sees_it_and_every_read_is_audited(care: Any, sensitive: Enrolment) -> None:
    client = as_user(care.granted)
    before = AuditEvent.objects.filter(act="care.read_sensitive").count()
    page = client.get(reverse("care:enrolment_detail", args=[sensitive.pk]))
    assert page.status_code == 200 and SENSITIVE_NAME in page.content.decode() and "服药依从性差" in page.content.decode()
    assert "赵某某" in client.get(reverse("care:enrolment_list") + "?state=").content.decode()
    assert "赵某某" in _body(client.get(reverse("care:enrolment_export") + "?state="))
    events = AuditEvent.objects.filter(act="care.read_sensitive", object_id=str(sensitive.pk), actor=care.granted)
    assert events.count() - before >= 3


def test_metrics_show_sensitive_categories_only_suppressed(care: Any, sensitive: Enrolment) -> None:
    body = as_user(care.city.worker_a).get(reverse("care:metrics")).content.decode()
    assert SENSITIVE_NAME in body  # the column exists for everyone …
    assert "&lt;5" in body  # … with its count suppressed


def test_enrol_page_requires_consent(care: Any) -> None:
    client = as_user(care.city.worker_a)
    url = reverse("care:enrol", args=[care.old_a.pk])
    base = {"category": care.elderly.pk, "carer": care.city.grid_worker_a.pk, "form": "written", "given_on": timezone.localdate().isoformat(),
            "withdrawal_method": "致电居委会"}
    response = client.post(url, base)  # no "given_by"
    assert response.status_code == 200 and not Enrolment.objects.exists()
    response = client.post(url, {**base, "given_by": "self"})
    assert response.status_code == 302
    e = Enrolment.objects.get()
    assert response["Location"] == reverse("care:enrolment_detail", args=[e.pk])
    assert SENSITIVE_NAME not in client.get(url).content.decode()  # an ungranted user cannot even pick it


def test_visit_form_on_a_phone_raises_an_appeal(care: Any) -> None:
    e = enrol(care, actor=None, enrolled_on=days_ago(45))
    client = as_user(care.city.grid_worker_a)
    home = client.get(reverse("care:home")).content.decode()
    assert "李奶奶" in home and reverse("care:visit_new", args=[e.pk]) in home
    response = client.post(reverse("care:visit_new", args=[e.pk]), {
        "visited_on": timezone.localdate().isoformat(), "kind": "home", "situation": "老人独居，行动不便", "needs": "楼道灯坏了，晚上看不见",
        "raise_appeal": "on", "appeal_title": "楼道灯损坏",
    })
    assert response.status_code == 302
    v = Visit.objects.get()
    assert v.appeal is not None and v.appeal.title == "楼道灯损坏"
    assert "李奶奶" not in client.get(reverse("care:home")).content.decode().split("七天内到期")[0]


def test_withdraw_through_the_page(care: Any) -> None:
    e = enrol(care, actor=None)
    client = as_user(care.city.worker_a)
    response = client.post(reverse("care:enrolment_act", args=[e.pk, "withdraw"]), {"via": "本人来电", "confirm": "on"})
    assert response.status_code == 302
    assert client.get(reverse("care:enrolment_detail", args=[e.pk])).status_code == 404
    assert "李奶奶" not in client.get(reverse("care:enrolment_list") + "?state=").content.decode()


def test_other_community_sees_nothing(care: Any) -> None:
    e = enrol(care, actor=None)
    client = as_user(care.city.worker_b)
    assert client.get(reverse("care:enrolment_detail", args=[e.pk])).status_code == 404
    assert "李奶奶" not in client.get(reverse("care:enrolment_list")).content.decode()
    assert "李奶奶" not in _body(client.get(reverse("care:enrolment_export")))


def test_pages_render(care: Any, sensitive: Enrolment) -> None:
    client = as_user(care.granted)
    for name in ("care:home", "care:enrolment_list", "care:overdue", "care:referrals", "care:metrics", "care:point_list", "care:home_list",
                 "care:pairing_list", "care:homeless_list", "care:person_pick"):
        assert client.get(reverse(name)).status_code == 200, name
    assert client.get(reverse("care:visit_new", args=[sensitive.pk])).status_code == 200


def test_list_pages_do_not_query_per_row(care: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .conftest import person

    client = as_user(care.city.worker_a)
    enrol(care, actor=None, enrolled_on=days_ago(90))

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            for name in ("care:enrolment_list", "care:overdue"):
                assert client.get(reverse(name)).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for i in range(6):
        enrol(care, person(f"老人{i}", care.city.grid_a, care.old_a.birth_date, 40 + i), actor=None, enrolled_on=days_ago(90))
    assert count() == few
