"""Small builders for registry tests, on top of the root ``city`` fixture (grid_a in community_a, grid_b in community_b)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from zhucheng.registry import services
from zhucheng.registry.generate import make_id_number
from zhucheng.registry.models import Building, HousingUnit, Person

# Points inside the fixture's grids (grid_a: lon 106.0–106.25, grid_b: lon 106.25–106.5; lat 26.0–26.5).
POINT_A = (26.2, 106.1)
POINT_B = (26.2, 106.4)
_seq = itertools.count(1)


def today() -> date:
    return timezone.localdate()


def id_number(born: date = date(1990, 3, 7), *, male: bool = True, region: str = "520102") -> str:
    """A fresh valid ID number (a new sequence each call)."""
    n = next(_seq) % 500
    return make_id_number(region, born, n * 2 + (1 if male else 0))


def building(where: str = "a", *, plate: str | None = None, actor: Any = None) -> Building:
    lat, lon = POINT_A if where == "a" else POINT_B
    plate = plate or f"测试路{next(_seq)}号"
    return services.building_register(actor=actor, door_plate=plate, address=f"南明区{plate}", lat=lat, lon=lon, name="翠微花园")


def unit(where: str = "a", *, number: str = "1单元101", b: Building | None = None) -> HousingUnit:
    return services.housing_unit_add(actor=None, building=b or building(where), number=number)


def person(
    home: HousingUnit,
    *,
    name: str = "王小明",
    born: date = date(1990, 3, 7),
    male: bool = True,
    kind: str = "permanent",
    since: date | None = None,
    actor: Any = None,
    **extra: Any,
) -> Person:
    data = {"name": name, "id_number": id_number(born, male=male), "phone": "13800138000", **extra}
    return services.person_register(
        actor=actor, data=data, housing_unit=home, residence_kind=kind, from_date=since or today() - timedelta(days=400)
    )
