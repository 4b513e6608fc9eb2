"""Mediation fixtures on top of the root ``city``: a committee, a room in each community, mediators
(one with the login ``mediator_a``, a volunteer of the harmony association without one), and
helpers for disputes and booking times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from zhucheng.accounts.models import User
from zhucheng.mediation import services
from zhucheng.mediation.models import Affiliation, Committee, Dispute, DisputeField, Mediator, Room
from zhucheng.places.models import Role

ID_A = "520102199003071234"
PHONE_A = "13912345678"
ID_B = "52010219851111002X"
PHONE_B = "13687654321"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def sms(settings: Any) -> list[tuple[str, str]]:
    """SMS sent through ``core.notify`` (delivered after commit, so use django_capture_on_commit_callbacks)."""
    from zhucheng.accounts.sms import MemorySmsBackend

    settings.ZHUCHENG_NOTIFY_CHANNELS = ["sms"]
    settings.ZHUCHENG_SMS_BACKEND = "zhucheng.accounts.sms.MemorySmsBackend"
    MemorySmsBackend.outbox.clear()
    yield MemorySmsBackend.outbox
    MemorySmsBackend.outbox.clear()


@dataclass
class World:
    city: Any
    committee: Committee
    room_a: Room
    room_a2: Room
    room_b: Room
    mediator_user: User
    mediator_a: Mediator
    volunteer_a: Mediator
    mediator_b: Mediator


@pytest.fixture
def world(city: Any) -> World:
    from zhucheng.places.services import membership_grant

    committee = Committee.objects.create(code="LAB", name="劳动争议人民调解委员会", field=DisputeField.LABOUR, unit=city.city)
    Committee.objects.create(code="NBR", name="物业及邻里纠纷人民调解委员会", field=DisputeField.NEIGHBOURS, unit=city.city)
    every_day = {"open_days": "1234567", "opens_at": time(8, 0), "closes_at": time(20, 0)}
    room_a = Room.objects.create(code="RA", name="中华社区调解室", unit=city.community_a, committee=committee, address="中华北路1号", **every_day)
    room_a2 = Room.objects.create(code="RA2", name="中华社区第二调解室", unit=city.community_a, address="中华北路3号", **every_day)
    room_b = Room.objects.create(code="RB", name="威清社区调解室", unit=city.community_b, address="威清路2号", **every_day)
    user = User.objects.create(username="mediator_a", display_name="杨调解", phone="13800000009")
    membership_grant(actor=None, user=user, role=Role.MEDIATOR, unit=city.community_a)
    mediator_a = Mediator.objects.create(
        user=user, name="杨调解", unit=city.community_a, committee=committee, fields=",labour,neighbours,", phone="13800000009"
    )
    volunteer_a = Mediator.objects.create(
        name="吴志愿", unit=city.community_a, affiliation=Affiliation.HARMONY, fields=",family,", languages="普通话、布依语"
    )
    mediator_b = Mediator.objects.create(name="郑调解", unit=city.community_b, fields=",labour,")
    return World(city, committee, room_a, room_a2, room_b, user, mediator_a, volunteer_a, mediator_b)


def parties() -> list[services.PartyInput]:
    return [
        services.PartyInput(name="张三", side="applicant", phone=PHONE_A, id_number=ID_A, address="中华北路8号"),
        services.PartyInput(
            name="某某建筑公司", side="respondent", phone=PHONE_B, id_number=ID_B, is_organisation=True,
            representative_name="李律师", representative_role="委托代理人", representative_phone="13511112222",
        ),
    ]


def make_dispute(world: World, *, unit: Any = None, actor: Any = None, assign: bool = True, **kw: Any) -> Dispute:
    args: dict[str, Any] = {
        "title": "拖欠工资纠纷",
        "facts": "张三在某某建筑公司工地务工三个月，公司拖欠工资 12000 元未付。",
        "unit": unit or world.city.grid_a,
        "parties": parties(),
        "field": DisputeField.LABOUR,
        "amount_fen": 1_200_000,
        "room": world.room_a,
    }
    args.update(kw)
    dispute = services.dispute_create(actor=actor or world.city.worker_a, **args)
    if assign:
        dispute = services.dispute_assign(actor=world.city.worker_a, dispute=dispute, mediator=world.mediator_a)
    return dispute


def at(days: int, hour: int, minute: int = 0) -> datetime:
    """Local time ``days`` from today at hour:minute (aware)."""
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def next_weekday(weekday: int) -> date:
    """The next date (after today) with this ISO weekday index (0 = Monday)."""
    today = timezone.localdate()
    ahead = (weekday - today.weekday()) % 7 or 7
    return today + timedelta(days=ahead)


def as_user(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client
