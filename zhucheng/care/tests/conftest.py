"""Care fixtures on top of the root ``city``: categories (one sensitive), a questionnaire, registry persons in
both communities, a grid worker granted nothing, a community worker granted the sensitive category, and helpers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from zhucheng.accounts.models import User
from zhucheng.care import services
from zhucheng.care.models import CareCategory, Enrolment, Questionnaire, Sensitivity
from zhucheng.places.models import Role
from zhucheng.registry.models import Person

QUESTIONS = [
    {"text": "是否独居", "choices": [["否", 0], ["是", 3]]},
    {"text": "生活能否自理", "choices": [["完全自理", 0], ["部分自理", 3], ["不能自理", 6]]},
    {"text": "近一个月是否有家人探望", "choices": [["有", 0], ["没有", 2]]},
]


@dataclass
class Care:
    city: Any
    elderly: CareCategory
    mental: CareCategory
    questionnaire: Questionnaire
    old_a: Person
    child_a: Person
    adult_a: Person
    old_b: Person
    granted: User  # community worker in community A, granted the sensitive category by a leader


def person(name: str, unit: Any, birth: date, n: int, sex: str = "F") -> Person:
    from zhucheng.registry.generate import make_id_number

    return Person.objects.create(name=name, id_number=make_id_number("520102", birth, n), sex=sex, birth_date=birth, unit=unit)


def consent(**kw: Any) -> services.ConsentInput:
    base = {"given_by": "self", "given_on": timezone.localdate(), "form": "written", "withdrawal_method": "致电社区居委会 0851-85551234 或当面告知网格员"}
    base.update(kw)
    return services.ConsentInput(**base)


def guardian_consent(**kw: Any) -> services.ConsentInput:
    return consent(given_by="guardian", guardian_name="王大山", guardian_relation="祖父", guardian_phone="13912340000", **kw)


@pytest.fixture
def care(city: Any) -> Care:
    from zhucheng.places.services import membership_grant

    q = Questionnaire.objects.create(code="ELD", name="老年人需求评估", medium_from=3, high_from=7, questions=QUESTIONS)
    elderly = CareCategory.objects.create(code="empty_nest", name="空巢老人", questionnaire=q, interval_high=7, interval_medium=15, interval_low=30)
    mental = CareCategory.objects.create(code="mental", name="严重精神障碍患者", sensitivity=Sensitivity.SENSITIVE, questionnaire=q)
    today = timezone.localdate()
    old_a = person("李奶奶", city.grid_a, date(1940, 3, 1), 1)
    child_a = person("王小明", city.grid_a, today.replace(year=today.year - 9), 2, "M")
    adult_a = person("赵某某", city.grid_a, date(1980, 5, 5), 3, "M")
    old_b = person("陈爷爷", city.grid_b, date(1938, 1, 1), 4, "M")
    granted = User.objects.create(username="granted_a", display_name="孙专干", phone="13800000011")
    membership_grant(actor=None, user=granted, role=Role.COMMUNITY_STAFF, unit=city.community_a)
    services.grant_create(actor=None, category=mental, unit=city.community_a, user=granted, reason="社区精防专干")
    return Care(city, elderly, mental, q, old_a, child_a, adult_a, old_b, granted)


def enrol(care: Care, who: Person | None = None, category: CareCategory | None = None, actor: Any = None, **kw: Any) -> Enrolment:
    who = who or care.old_a
    on = kw.get("enrolled_on") or timezone.localdate()
    args: dict[str, Any] = {"consent": consent(given_on=on), "carer": care.city.grid_worker_a if who.unit_id == care.city.grid_a.pk else care.city.worker_b}
    args.update(kw)
    return services.enrolment_create(actor=actor, person=who, category=category or care.elderly, **args)


def days_ago(n: int) -> date:
    return timezone.localdate() - timedelta(days=n)


def as_user(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client
