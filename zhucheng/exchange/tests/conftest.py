"""Exchange fixtures on top of the root ``city``: a 公安 feed (CSV, UTF-8), registry persons in grid A
and grid B, file builders, valid ID numbers, and ``fake_linkage`` — a stand-in engine (exact ID →
certain, same name and birth date → possible) so the exchange's side is tested apart from splink.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from zhucheng.exchange.models import Feed
from zhucheng.registry import services as registry_services
from zhucheng.registry.models import Person

MAPPING = {"姓名": "name", "身份证号码": "id_number", "性别": "sex", "出生日期": "birth_date", "联系电话": "phone", "住址": "address", "网格编码": "grid_code"}
HEADER = list(MAPPING)
_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]


def make_id(born: date, seq: int, *, region: str = "520102", male: bool = True) -> str:
    """A valid 18-digit resident ID number (region 520102 = 贵阳市南明区)."""
    seq3 = seq % 1000
    if (seq3 % 2 == 1) != male:
        seq3 = (seq3 + 1) % 1000
    body = f"{region}{born:%Y%m%d}{seq3:03d}"
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, _WEIGHTS, strict=True)) % 11]
    return body + check


def bad_check(number: str) -> str:
    last = number[-1]
    return number[:-1] + ("0" if last != "0" else "1")


def csv_bytes(rows: list[dict[str, str]], *, header: list[str] | None = None, encoding: str = "utf-8") -> bytes:
    header = header or HEADER
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(h, "") for h in header])
    return buf.getvalue().encode(encoding)


def jsonl_bytes(rows: list[dict[str, str]]) -> bytes:
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode("utf-8")


def xlsx_bytes(rows: list[dict[str, str]], header: list[str] | None = None) -> bytes:
    from openpyxl import Workbook

    header = header or HEADER
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for r in rows:
        sheet.append([r.get(h, "") for h in header])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def row(name: str, id_number: str, *, phone: str = "", address: str = "", grid: str = "", sex: str = "", born: str = "") -> dict[str, str]:
    return {"姓名": name, "身份证号码": id_number, "性别": sex, "出生日期": born, "联系电话": phone, "住址": address, "网格编码": grid}


@dataclass
class Ex:
    city: Any
    feed: Feed
    zhang: Person  # grid A, with an ID, no phone
    li: Person  # grid B
    wang: Person  # grid A


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def register(city: Any, name: str, id_number: str, unit: Any, **extra: Any) -> Person:
    return registry_services.person_register(actor=None, data={"name": name, "id_number": id_number, **extra}, unit=unit)


@pytest.fixture
def ex(city: Any) -> Ex:
    feed = Feed.objects.create(
        code="gaj-hj", name="公安户籍人口", department=city.department, mapping=MAPPING, schedule="每日 02:00", unit=city.grid_a
    )
    zhang = register(city, "张伟", make_id(date(1985, 3, 7), 11), city.grid_a)
    li = register(city, "李娜", make_id(date(1990, 11, 2), 22, male=False), city.grid_b, phone="13912340000")
    wang = register(city, "王芳", make_id(date(1978, 6, 5), 33, male=False), city.grid_a)
    return Ex(city, feed, zhang, li, wang)


class FakeProfile(SimpleNamespace):
    pass


def _fake_person_frame(persons: Any) -> Any:
    import pandas as pd

    rows = [
        {
            "unique_id": p.pk,
            "id_hash": p.id_number_hash or None,
            "full_name": p.name,
            "surname": p.name[:1],
            "given_name": p.name[1:],
            "birth_date": p.birth_date.isoformat() if p.birth_date else None,
            "sex": p.sex or None,
            "phone_hash": p.phone_hash or None,
            "address": None,
        }
        for p in persons
    ]
    return pd.DataFrame(rows, columns=["unique_id", "id_hash", "full_name", "surname", "given_name", "birth_date", "sex", "phone_hash", "address"])


def _fake_link(profile: Any, left: Any, right: Any) -> Any:
    import pandas as pd

    out = []
    for lrow in left.to_dict("records"):
        for rrow in right.to_dict("records"):
            if lrow["id_hash"] and lrow["id_hash"] == rrow["id_hash"]:
                out.append((lrow["unique_id"], rrow["unique_id"], 14.0, 0.9999))
            elif lrow["full_name"] == rrow["full_name"] and lrow["birth_date"] and lrow["birth_date"] == rrow["birth_date"]:
                out.append((lrow["unique_id"], rrow["unique_id"], 3.0, 0.8))
    return pd.DataFrame(out, columns=["left_id", "right_id", "match_weight", "match_probability"])


def _fake_explain(profile: Any, left: dict[str, Any], right: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for col, weight in (("id_hash", 8.0), ("full_name", 4.0), ("birth_date", 3.0), ("phone_hash", 2.0)):
        agreed = bool(left.get(col)) and left.get(col) == right.get(col)
        rows.append({"comparison": col, "level": "exact" if agreed else "else", "match_weight": weight if agreed else -1.0, "agreed": agreed})
    return rows


@pytest.fixture
def fake_linkage(monkeypatch: Any) -> Any:
    from zhucheng.exchange import linkage

    profile = FakeProfile(name="person", thresholds=SimpleNamespace(certain=0.95, possible=0.5))
    monkeypatch.setattr(linkage, "load_profile", lambda name: profile, raising=False)
    monkeypatch.setattr(linkage, "link", _fake_link, raising=False)
    monkeypatch.setattr(linkage, "explain", _fake_explain, raising=False)
    monkeypatch.setattr(linkage, "person_frame", _fake_person_frame, raising=False)
    return profile


def run(feed: Feed, data: bytes, name: str = "feed.csv") -> Any:
    from zhucheng.exchange import services

    batch = services.batch_receive(actor=None, feed=feed, file_name=name, data=data)
    return services.batch_process(batch)
