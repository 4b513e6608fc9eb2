"""Bulk loading: a deliberately broken CSV gives the right reject file, good rows land encrypted with
their residence and job, loading twice adds nothing, a dry run writes nothing, Parquet and GB18030 work."""

from __future__ import annotations

import csv
from datetime import date
from io import StringIO
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import call_command

from zhucheng.core.crypto import keyed_hash
from zhucheng.core.models import AuditEvent
from zhucheng.registry import services
from zhucheng.registry.loader import load_file
from zhucheng.registry.models import Employment, HousingUnit, Person, Residence

from . import factories as f

pytestmark = pytest.mark.django_db

HEADER = ["姓名", "公民身份号码", "phone", "sex", "birth_date", "grid_code", "门牌", "室号", "人口类别", "入住日期", "employer", "occupation", "doc_type", "doc_number", "nationality"]


@pytest.fixture
def rows(city):  # type: ignore[no-untyped-def]
    b = services.building_register(actor=None, door_plate="新华路8号", address="南明区新华路8号", lat=26.2, lon=106.1)
    services.housing_unit_add(actor=None, building=b, number="1单元101")
    ok1, ok2, ok3 = (f.id_number(date(1980 + i, 1, 2)) for i in range(3))
    grid = city.grid_a.code
    return [
        ["王小明", ok1, "13800138000", "", "", grid, "", "", "", "", "", "", "", "", ""],  # 2 ok, grid only
        ["李芳", ok2, "", "", "", "", "新华路8号", "1单元101", "流动人口", "2024-03-01", "贵阳某公司", "会计", "", "", ""],  # 3 ok, home + job
        ["张三", ok3[:-1] + ("1" if ok3[-1] != "1" else "2"), "", "", "", grid, "", "", "", "", "", "", "", "", ""],  # 4 bad check digit
        ["赵四", ok3, "", "", "1999-01-01", grid, "", "", "", "", "", "", "", "", ""],  # 5 birth date differs from the ID
        ["王小明", ok1, "", "", "", grid, "", "", "", "", "", "", "", "", ""],  # 6 repeats row 2
        ["钱五", f.id_number(date(1975, 5, 5)), "", "", "", "9999", "", "", "", "", "", "", "", "", ""],  # 7 unknown grid
        ["孙六", f.id_number(date(1976, 6, 6)), "", "", "", "", "新华路9号", "101", "permanent", "2020-01-01", "", "", "", "", ""],  # 8 unknown unit
        ["JOHN SMITH", "", "", "M", "1980-01-01", grid, "", "", "", "", "", "", "passport", "E1234567", "英国"],  # 9 ok, passport
        ["", f.id_number(), "12345", "", "", grid, "", "", "", "", "", "", "", "", ""],  # 10 no name, bad phone
        ["周七", ok3, "", "", "", grid, "", "", "", "", "贵阳某公司", "", "", "", ""],  # 11 employer without occupation
    ]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def read_rejects(path: str) -> list[tuple[str, str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [(r["row"], r["field"], r["code"]) for r in csv.DictReader(fh)]


@pytest.mark.parametrize("defer", [None, True], ids=["indexes-kept", "indexes-rebuilt"])
def test_broken_csv_gives_the_reject_file_and_loads_the_rest(city, rows, tmp_path: Path, defer: bool | None) -> None:
    source = write_csv(tmp_path / "people.csv", rows)
    report = load_file(source, commit=True, reject_path=tmp_path / "rejects.csv", defer_constraints=defer)
    assert (report.rows, report.inserted, report.existing, report.rejected_rows) == (10, 3, 0, 7)
    assert read_rejects(report.reject_path) == [
        ("4", "id_number", "id_checksum"),
        ("5", "birth_date", "id_birth_mismatch"),
        ("6", "id_number", "duplicate_in_file"),
        ("7", "grid_code", "unknown_grid"),
        ("8", "door_plate", "unknown_housing_unit"),
        ("10", "name", "required"),
        ("10", "phone", "phone_format"),
        ("11", "occupation", "required"),
    ]
    with open(report.reject_path, encoding="utf-8-sig") as fh:
        text = fh.read()
    assert "文件中第 2 行已有同一证件号码" in text and "网格编码“9999”不存在或不是网格" in text and "The grid code '9999'" in text
    wang = Person.objects.get(id_number_hash=keyed_hash(rows[0][1]))
    assert (wang.name, wang.id_number, wang.phone, wang.sex, wang.birth_date, wang.unit_id, wang.source) == (
        "王小明", rows[0][1], "13800138000", "M", date(1980, 1, 2), city.grid_a.pk, "import",
    )  # fmt: skip
    li = Person.objects.get(name="李芳")
    home = Residence.objects.get(person=li)
    assert (home.kind, home.from_date, home.housing_unit.number, li.unit_id) == ("migrant", date(2024, 3, 1), "1单元101", city.grid_a.pk)
    assert Employment.objects.get(person=li).occupation == "会计"
    assert HousingUnit.objects.get(pk=home.housing_unit_id).known_occupants
    smith = Person.objects.get(doc_type="passport")
    assert (smith.doc_number, smith.nationality, smith.id_number) == ("E1234567", "英国", "")
    assert AuditEvent.objects.filter(act="registry.load", reason__contains="inserted=3").count() == 1


def test_loading_twice_creates_nothing_new(city, rows, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "people.csv", rows)
    load_file(source, commit=True)
    counts = (Person.objects.count(), Residence.objects.count(), Employment.objects.count())
    again = load_file(source, commit=True)
    assert (again.inserted, again.existing) == (0, 3)
    assert (Person.objects.count(), Residence.objects.count(), Employment.objects.count()) == counts


def test_a_dry_run_writes_nothing_but_the_reject_file(city, rows, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "people.csv", rows)
    report = load_file(source, commit=False, reject_path=tmp_path / "r.csv")
    assert report.inserted == 3 and not report.committed
    assert Person.objects.count() == 0 and not AuditEvent.objects.filter(act="registry.load").exists()
    assert len(read_rejects(str(tmp_path / "r.csv"))) == 8


def test_parquet_and_gb18030(city, rows, tmp_path: Path) -> None:
    columns = ["name", "id_number", "phone", "sex", "birth_date", "grid_code", "door_plate", "unit_number", "residence_kind", "from_date", "employer", "occupation", "doc_type", "doc_number", "nationality"]
    table = pa.table({c: pa.array([r[i] for r in rows[:3]], pa.string()) for i, c in enumerate(columns)})
    pq.write_table(table, tmp_path / "p.parquet")
    report = load_file(tmp_path / "p.parquet", commit=True)
    assert (report.inserted, [v.row for v in report.rejects]) == (2, [3])  # Parquet rows number from 1
    gbk = write_csv(tmp_path / "gbk.csv", rows[7:8], encoding="gb18030")
    assert load_file(gbk, commit=True).inserted == 1


def test_the_command(city, rows, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "people.csv", rows)
    out = StringIO()
    call_command("load_registry", str(source), "--dry-run", "--no-progress", stdout=out)
    assert "新增 3 人" in out.getvalue() and "试运行" in out.getvalue()
    assert Person.objects.count() == 0 and (tmp_path / "people.csv.rejects.csv").exists()
    out = StringIO()
    call_command("load_registry", str(source), "--no-progress", stdout=out)  # loading is the default
    assert "新增 3 人" in out.getvalue() and "退回 7 行" in out.getvalue() and "试运行" not in out.getvalue()
    assert Person.objects.count() == 3
    out = StringIO()
    call_command("load_registry", str(source), "--commit", "--no-progress", stdout=out)  # the old flag still works
    assert "新增 0 人" in out.getvalue() and "已登记跳过 3 人" in out.getvalue()
    assert Person.objects.count() == 3
