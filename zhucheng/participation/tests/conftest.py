"""Participation fixtures on top of the root ``city``: housing in each community, resident accounts
linked to registry persons living there, and a budget of 中华社区 with feasible proposals."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client

from zhucheng.accounts.models import AccountKind, User
from zhucheng.participation import services
from zhucheng.participation.models import Budget, Phase, Proposal, VotingRule
from zhucheng.registry.models import Building, HousingUnit, Person, Residence, ResidenceKind

_seq = itertools.count(1)


@dataclass
class Housing:
    unit_a: HousingUnit
    unit_b: HousingUnit


@pytest.fixture
def housing(city: Any) -> Housing:
    ba = Building.objects.create(door_plate="中华北路8号", address="中华北路8号", grid=city.grid_a, lat=26.2, lon=106.1)
    bb = Building.objects.create(door_plate="威清路2号", address="威清路2号", grid=city.grid_b, lat=26.2, lon=106.3)
    return Housing(
        HousingUnit.objects.create(building=ba, grid=city.grid_a, number="1单元101"),
        HousingUnit.objects.create(building=bb, grid=city.grid_b, number="1单元101"),
    )


def resident(
    unit: HousingUnit | None,
    *,
    name: str = "",
    birth: date = date(1960, 5, 1),
    kind: str = ResidenceKind.PERMANENT,
    since: date | None = None,
    linked: bool = True,
    phone: str = "",
) -> User:
    """A resident account, linked (or not) to a registry person living (or not) in ``unit``."""
    n = next(_seq)
    phone = phone or f"139{n:08d}"
    user = User.objects.create(username=f"r{phone}", kind=AccountKind.RESIDENT, display_name=name or f"居民{n}", phone=phone)
    if not linked:
        return user
    grid = unit.grid if unit is not None else None
    if grid is None:
        from zhucheng.places.models import OrgUnit

        grid = OrgUnit.objects.filter(kind="grid").first()
    person = Person.objects.create(
        name=name or f"居民{n}", id_number=f"5201021960{n:08d}", sex="F", birth_date=birth, unit=grid, user=user, phone=phone
    )
    if unit is not None:
        Residence.objects.create(person=person, housing_unit=unit, kind=kind, from_date=since or date(2015, 1, 1))
    return user


@dataclass
class World:
    city: Any
    housing: Housing
    budget: Budget
    proposals: list[Proposal]
    voter: User


def make_budget(city: Any, **kw: Any) -> Budget:
    args: dict[str, Any] = {"unit": city.community_a, "year": 2026, "title": "中华社区2026年度公益金", "amount_fen": 100_000_00}
    args.update(kw)
    if "headings" not in kw:  # 40/30/30 of whatever the amount is (the headings may not exceed it)
        amount = args["amount_fen"]
        args["headings"] = [("道路", amount * 4 // 10), ("绿化", amount * 3 // 10), ("养老服务", amount * 3 // 10)]
    return services.budget_create(actor=city.worker_a, **args)


def to_phase(budget: Budget, phase: str, actor: Any) -> Budget:
    while budget.phase != phase:
        budget = services.budget_advance(actor=actor, budget=budget)
    return budget


@pytest.fixture
def world(city: Any, housing: Housing) -> World:
    """A budget of 1,000 yuan in voting with four feasible proposals (costs 600, 500, 300, 100 yuan)."""
    budget = make_budget(city, amount_fen=1000_00, voting_rule=VotingRule.KNAPSACK)
    proposals = []
    for title, cost in (("修缮3栋楼道", 600_00), ("增设休闲座椅", 500_00), ("老年食堂添置餐桌", 300_00), ("安装路灯", 100_00)):
        author = resident(housing.unit_a)
        proposals.append(services.proposal_submit(actor=author, budget=budget, title=title, description=f"{title}的说明", estimated_cost_fen=cost))
    budget = to_phase(budget, Phase.REVIEWING, city.worker_a)
    for p in proposals:
        services.proposal_review(actor=city.worker_a, proposal=p, feasible=True, cost_fen=p.estimated_cost_fen)
    budget = to_phase(budget, Phase.VOTING, city.worker_a)
    voter = resident(housing.unit_a, name="李秀英")
    return World(city, housing, budget, [Proposal.objects.get(pk=p.pk) for p in proposals], voter)


def ids(*proposals: Proposal) -> list[int]:
    return [p.pk for p in proposals]


def as_user(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def today() -> date:
    return date.today()


def days(n: int) -> date:
    return date.today() + timedelta(days=n)
