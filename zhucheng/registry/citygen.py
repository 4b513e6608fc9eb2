"""The synthetic population of the demo city: buildings with door plates, housing units, families,
residences (with some history), households, rentals, jobs, permits — as Arrow tables, vectorised.

Built for any number of persons (a few thousand in two communities, 6.48 million in the whole
city) with the reference's proportions: 27.24 % migrants (流动人口), about 2.4 million housing
units per 6.48 million people, 90 % of units occupied. Families share a unit: the head, a spouse,
children, sometimes a parent; registered families form a household (户), migrant families rent
from a registered landlord. A few gaps are left on purpose (an unknown arrival date, employment
status or care needs, a vacant unit nobody confirmed) so the five-knowns rollup has something
to show. ``write(plan)`` inserts everything with ``bulk.write_table`` under reserved id blocks
and computes the five-knowns flags in numpy, the same rules ``completeness`` applies in SQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
from django.utils import timezone

from zhucheng.places.models import OrgUnit, OrgUnitKind

from . import bulk, generate
from .models import (
    Building,
    Employment,
    Household,
    HouseholdMember,
    HousingUnit,
    Person,
    PointsApplication,
    Residence,
    ResidencePermit,
    Tenancy,
)

UNITS_PER_PERSON = 2.4 / 6.48
MIGRANT_SHARE = 0.2724
OCCUPIED_SHARE = 0.90
PERSON_CHUNK = 500_000
_URBAN_SIZES = np.array([12, 18, 24, 30, 36, 48, 60, 72, 90, 120])
_RURAL_SIZES = np.array([1, 1, 1, 1, 2, 2, 3])
_FAMILY_SIZES = np.array([1, 2, 3, 4, 5, 6])
_FAMILY_P = np.array([0.14, 0.24, 0.26, 0.18, 0.11, 0.07])
_ESTATE_HEADS = ("翠微", "金桥", "花果", "阳光", "锦绣", "富源", "龙湾", "中天", "世纪", "碧桂", "保利", "万科", "宏福", "嘉禾", "和谐", "幸福")
_ESTATE_TAILS = ("花园", "小区", "苑", "家园", "新村", "公寓", "名城", "雅居")
_CARE_TEXT = {
    "elderly_alone": "独居老人,需定期探访",
    "elderly": "高龄老人,行动不便",
    "disabled": "残疾,需要帮扶",
    "none": "",
}


@dataclass(frozen=True)
class GridInfo:
    id: int
    code: str
    district_code: str
    district_name: str
    parent_name: str
    rural: bool
    rect: tuple[float, float, float, float]


def grids_under(root: OrgUnit) -> list[GridInfo]:
    """Every grid in ``root``'s subtree with what the generator needs (district, village or not, rectangle)."""
    rows = list(OrgUnit.objects.filter(path__startswith=root.path).values("id", "code", "name", "kind", "path", "parent_id", "boundary", "lat", "lon"))
    by_id = {r["id"]: r for r in rows}
    districts = {[c for c in r["path"].split("/") if c][1] for r in rows if r["path"].count("/") > 2}
    name_of = dict(OrgUnit.objects.filter(code__in=districts).values_list("code", "name"))
    out = []
    for r in rows:
        if r["kind"] != OrgUnitKind.GRID:
            continue
        codes = [c for c in r["path"].split("/") if c]
        district = codes[1] if len(codes) > 1 else codes[0]
        parent = by_id.get(r["parent_id"], r)
        out.append(
            GridInfo(r["id"], r["code"], district, name_of.get(district, ""), parent["name"], parent["kind"] == OrgUnitKind.VILLAGE, _rect(r))
        )
    return sorted(out, key=lambda g: g.code)


def _rect(row: Any) -> tuple[float, float, float, float]:
    boundary = row.get("boundary") or {}
    coords: list[Any] = []
    stack = [boundary.get("coordinates", [])]
    while stack:
        item = stack.pop()
        if item and isinstance(item[0], (int, float)):
            coords.append(item)
        elif isinstance(item, list):
            stack.extend(item)
    if not coords:
        lat, lon = row.get("lat") or 26.58, row.get("lon") or 106.71
        return (lon - 0.001, lat - 0.001, lon + 0.001, lat + 0.001)
    lons = [c[0] for c in coords]
    lats = [c[1] for c in coords]
    return (min(lons), min(lats), max(lons), max(lats))


def _cumcount(groups: np.ndarray) -> np.ndarray:
    """Position of each element within its group (groups need not be sorted)."""
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    starts = np.r_[0, np.flatnonzero(sorted_groups[1:] != sorted_groups[:-1]) + 1]
    counts = np.diff(np.r_[starts, len(groups)])
    ranks_sorted = np.arange(len(groups)) - np.repeat(starts, counts)
    out = np.empty(len(groups), dtype=np.int64)
    out[order] = ranks_sorted
    return out


def _text(values: Any) -> pa.Array:
    """A string column straight from a numpy unicode array (no list of Python strings in between)."""
    arr = np.asarray(values)
    return pa.array(arr if arr.dtype.kind == "U" else arr.astype(str), pa.string())


def _const(value: str, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, pa.string()), n) if hasattr(pa, "repeat") else pa.array([value] * n, pa.string())


def _s(values: np.ndarray) -> np.ndarray:
    return values.astype(str)


def _cat(*parts: Any) -> np.ndarray:
    out = np.asarray(parts[0]).astype(str)
    for p in parts[1:]:
        out = np.char.add(out, np.asarray(p).astype(str))
    return out


@dataclass
class Plan:
    """Everything generated, as Arrow tables keyed by database table, plus facts the seeder reuses."""

    # A table, or a function producing it chunk by chunk (persons, whose encryption is done per chunk).
    tables: dict[str, pa.Table | Callable[[], Iterator[pa.Table]]] = field(default_factory=dict)
    person_ids: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    counts: dict[str, int] = field(default_factory=dict)


class CityGenerator:
    """Generate ``persons`` people in ``grids`` (ids for every row are reserved as tables are built)."""

    def __init__(self, rng: np.random.Generator, grids: Sequence[GridInfo], persons: int, *, today: date | None = None) -> None:
        if not grids:
            raise ValueError("no grids to place people in")
        self.rng = rng
        self.grids = list(grids)
        self.persons = persons
        self.today = today or timezone.localdate()
        self.now = timezone.now()
        self.plan = Plan()

    # --- housing ----------------------------------------------------------------------------------

    def housing(self) -> None:
        rng, grids = self.rng, self.grids
        n_units = max(int(round(self.persons * UNITS_PER_PERSON)), 1)
        share = np.array([generate.GUIYANG_DISTRICTS.get(g.district_code, 0.05) for g in grids])
        per_district = {d: sum(1 for g in grids if g.district_code == d) for d in {g.district_code for g in grids}}
        weights = share / np.array([per_district[g.district_code] for g in grids]) * np.array([0.45 if g.rural else 1.0 for g in grids])
        units_per_grid = rng.multinomial(n_units, weights / weights.sum())
        b_grid: list[np.ndarray] = []
        b_size: list[np.ndarray] = []
        for gi, (g, units) in enumerate(zip(grids, units_per_grid.tolist(), strict=True)):
            if units == 0:
                continue
            pool = _RURAL_SIZES if g.rural else _URBAN_SIZES
            sizes = pool[rng.integers(0, len(pool), size=units // int(pool.min()) + 1)]
            total = np.cumsum(sizes)
            k = int(np.searchsorted(total, units)) + 1
            sizes = sizes[:k].copy()
            sizes[-1] -= int(total[k - 1]) - units
            b_grid.append(np.full(k, gi))
            b_size.append(sizes)
        grid_of_b = np.concatenate(b_grid)
        size_of_b = np.concatenate(b_size)
        n_b = len(grid_of_b)
        rural_b = np.array([grids[i].rural for i in grid_of_b.tolist()])
        # Streets: urban grids get two or three streets of their district; a village's groups act as its streets.
        street_of_grid: list[list[str]] = []
        by_district: dict[str, list[int]] = {}
        for gi, g in enumerate(grids):
            by_district.setdefault(g.district_code, []).append(gi)
        for district, members in by_district.items():
            streets = generate.street_names(rng, district, 3 * len(members))
            for pos, gi in enumerate(members):
                street_of_grid.append([])
                if grids[gi].rural:
                    street_of_grid[-1] = [f"{grids[gi].parent_name}{k}组" for k in range(1, 7)]
                else:
                    street_of_grid[-1] = streets[3 * pos : 3 * pos + 2 + int(rng.integers(0, 2))]
        # street_of_grid was appended district by district: index it back by grid position.
        order = [gi for members in by_district.values() for gi in members]
        streets_by_grid = {gi: street_of_grid[i] for i, gi in enumerate(order)}
        street = np.array([streets_by_grid[gi][int(rng.integers(0, len(streets_by_grid[gi])))] for gi in grid_of_b.tolist()])
        district_name = np.array([grids[gi].district_name for gi in grid_of_b.tolist()])
        number = _cumcount(np.unique(_cat(district_name, street), return_inverse=True)[1]) + 1
        plate = _cat(district_name, street, number, "号")
        estate_idx = rng.integers(0, len(_ESTATE_HEADS) * len(_ESTATE_TAILS), size=len(grids))
        estate = np.array([_ESTATE_HEADS[i // len(_ESTATE_TAILS)] + _ESTATE_TAILS[i % len(_ESTATE_TAILS)] for i in estate_idx.tolist()])
        building_no = _cumcount(grid_of_b) + 1
        name = np.where(rural_b, "", _cat(estate[grid_of_b], building_no, "栋"))
        address = _cat("贵阳市", plate, name)
        rect = np.array([grids[gi].rect for gi in grid_of_b.tolist()])
        w, h = rect[:, 2] - rect[:, 0], rect[:, 3] - rect[:, 1]
        lon = rect[:, 0] + w * (0.1 + 0.8 * rng.random(n_b))
        lat = rect[:, 1] + h * (0.1 + 0.8 * rng.random(n_b))
        b_first = bulk.reserve_ids(Building._meta.db_table, n_b)
        b_ids = np.arange(b_first, b_first + n_b, dtype=np.int64)
        grid_ids = np.array([g.id for g in grids], dtype=np.int64)
        stamp = pa.array([self.now] * n_b, pa.timestamp("us", tz="UTC"))
        floors = np.where(rural_b, rng.integers(1, 4, size=n_b), np.ceil(np.minimum(size_of_b, 36) / 2)).astype(np.int64)
        self.plan.tables[Building._meta.db_table] = pa.table(
            {
                "id": b_ids,
                "created_at": stamp,
                "updated_at": stamp,
                "door_plate": _text(plate),
                "address": _text(address),
                "name": _text(name),
                "kind": _text(np.where(rural_b, "rural_house", np.where(rng.random(n_b) < 0.1, "mixed", "residential"))),
                "floors": floors,
                "lat": np.round(lat, 6),
                "lon": np.round(lon, 6),
                "grid_id": grid_ids[grid_of_b],
            }
        )
        # Housing units: "e单元fkk" in town (two per floor, 36 per entrance), "n号房" in villages.
        unit_b = np.repeat(np.arange(n_b), size_of_b)
        j = np.arange(len(unit_b)) - np.repeat(np.cumsum(size_of_b) - size_of_b, size_of_b)
        jj = j % 36
        urban_number = _cat(j // 36 + 1, "单元", jj // 2 + 1, np.char.zfill(_s(jj % 2 + 1), 2))
        rural_u = rural_b[unit_b]
        self.unit_building = unit_b
        self.unit_grid_index = grid_of_b[unit_b]
        self.unit_grid = grid_ids[self.unit_grid_index]
        self.unit_label = _cat(plate[unit_b], " ", np.where(rural_u, _cat(j + 1, "号房"), urban_number))
        self.unit_number = np.where(rural_u, _cat(j + 1, "号房"), urban_number)
        self.unit_rural = rural_u
        self.n_units = len(unit_b)
        first = bulk.reserve_ids(HousingUnit._meta.db_table, self.n_units)
        self.unit_ids = np.arange(first, first + self.n_units, dtype=np.int64)
        self.building_ids = b_ids
        self.plan.counts.update(buildings=n_b, housing_units=self.n_units)

    # --- people -----------------------------------------------------------------------------------

    def population(self) -> None:
        """Families in units and every plain personal value (``self.plain``): nothing encrypted, no ids yet."""
        rng, n_target, today = self.rng, self.persons, self.today
        occupied = rng.random(self.n_units) < OCCUPIED_SHARE
        units = np.flatnonzero(occupied)
        sizes = _FAMILY_SIZES[rng.choice(len(_FAMILY_SIZES), size=len(units), p=_FAMILY_P)]
        total = np.cumsum(sizes)
        if total[-1] >= n_target:
            k = int(np.searchsorted(total, n_target)) + 1
            units, sizes = units[:k], sizes[:k].copy()
            sizes[-1] -= int(total[k - 1]) - n_target
        else:
            np.add.at(sizes, rng.integers(0, len(sizes), size=n_target - int(total[-1])), 1)
        n_fam = len(units)
        # Migrants live mostly in town: half the urban rate in villages, scaled so the total is MIGRANT_SHARE.
        leaning = np.where(self.unit_rural[units], 0.5, 1.0)
        migrant_fam = rng.random(n_fam) < MIGRANT_SHARE * leaning * sizes.sum() / (leaning * sizes).sum()
        fam = np.repeat(np.arange(n_fam), sizes)
        pos = np.arange(len(fam)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        n = len(fam)
        migrant = migrant_fam[fam]
        role = np.where(pos == 0, "head", np.where(pos == 1, "spouse", np.where(pos >= 5, "parent", "child")))
        # Ages in days: the head from the adult pyramid, the rest relative to the head.
        year = 365.25
        head_age = np.where(
            migrant_fam,
            rng.integers(int(20 * year), int(55 * year), size=n_fam),
            self._bounded(generate.ages(rng, n_fam, migrant=False), int(24 * year), int(92 * year)),
        )
        h = head_age[fam]
        age = h.copy()
        spouse = role == "spouse"
        age[spouse] = self._bounded(h[spouse] + rng.integers(int(-5 * year), int(3 * year), size=int(spouse.sum())), int(20 * year), int(100 * year))
        child = role == "child"
        span = np.clip(h[child] - int(20 * year), int(0.1 * year), int(35 * year))
        age[child] = (rng.random(int(child.sum())) * span).astype(np.int64)
        parent = role == "parent"
        age[parent] = self._bounded(h[parent] + rng.integers(int(22 * year), int(35 * year), size=int(parent.sum())), int(40 * year), int(100 * year))
        head_male = rng.random(n_fam) < 0.7
        male = np.where(role == "head", head_male[fam], np.where(spouse, ~head_male[fam], rng.random(n) < 0.51))
        born = generate.birth_dates(today, age)
        region_fam = np.where(
            migrant_fam,
            generate.sample_regions(rng, n_fam, generate.MIGRANT_ORIGINS),
            np.array([self.grids[i].district_code for i in self.unit_grid_index[units].tolist()]),
        )
        moved_in_city = (~migrant_fam) & (rng.random(n_fam) < 0.15)  # registered elsewhere in Guiyang
        region_fam[moved_in_city] = generate.sample_regions(rng, int(moved_in_city.sum()), generate.GUIYANG_DISTRICTS)
        region = region_fam[fam]
        # Half the spouses were born elsewhere (another county of Guiyang, or of the migrants' home regions).
        spouse_other = spouse & (rng.random(n) < 0.5)
        k = int(spouse_other.sum())
        region[spouse_other] = np.where(
            migrant[spouse_other],
            generate.sample_regions(rng, k, generate.MIGRANT_ORIGINS),
            generate.sample_regions(rng, k, generate.GUIYANG_DISTRICTS),
        )
        ids = generate.id_numbers(rng, region, born, male)
        surname, given = generate.name_parts(rng, male)
        heads = np.r_[0, np.cumsum(sizes)[:-1]]
        kids = child & head_male[fam]  # children take the father's surname
        surname[kids] = surname[heads][fam[kids]]
        full = np.char.add(surname, given)
        age_years = age // 365
        phone = generate.phones(rng, n)
        phone[(age_years < 16) | ((age_years >= 75) & (rng.random(n) < 0.4))] = ""
        hukou = np.array([generate.region_name(r) for r in region.tolist()])
        ethnicity = generate.choose(rng, generate.ETHNICITY_SHARES, n_fam)[fam]
        ethnicity[spouse] = generate.choose(rng, generate.ETHNICITY_SHARES, int(spouse.sum()))
        education = generate.educations(rng, age_years)
        status = generate.employment_statuses(rng, age_years)
        alone = sizes[fam] == 1
        care = np.full(n, "none", dtype="U16")
        care[(age_years >= 80)] = "elderly"
        care[(age_years >= 70) & alone] = "elderly_alone"
        care[status == "unable"] = "disabled"
        care_known = rng.random(n) < 0.93
        care_text = np.array([_CARE_TEXT[c] for c in care.tolist()])
        care_text[~care_known] = ""
        care_date = np.datetime64(today, "D") - rng.integers(0, 700, size=n).astype("timedelta64[D]")
        # Arrival at the current home: registered families over decades, migrants in recent years.
        fam_since_days = np.where(migrant_fam, (rng.exponential(2.2, size=n_fam) * year).astype(np.int64) + 30, rng.integers(0, int(30 * year), size=n_fam))
        since = np.maximum(np.datetime64(today, "D") - fam_since_days[fam].astype("timedelta64[D]"), born)
        unknown_arrival = (~migrant) & (rng.random(n) < 0.03)
        self.p = {
            "fam": fam, "pos": pos, "role": role, "migrant": migrant, "age_years": age_years, "born": born, "male": male,
            "status": status, "since": since, "unknown_arrival": unknown_arrival, "unit": units[fam],
            "education": education, "care_known": care_known,
        }  # fmt: skip
        self.plain = {
            "name": full, "id_number": ids, "phone": phone, "ethnicity": ethnicity, "hukou_place": hukou,
            "care_needs": care_text, "care_date": care_date,
        }  # fmt: skip
        self.fam = {"units": units, "sizes": sizes, "migrant": migrant_fam}
        self.occupied = np.zeros(self.n_units, dtype=bool)
        self.occupied[units] = True

    def people(self) -> None:
        """The population with ids, encrypted identifiers, residences, households, rentals, jobs and permits."""
        self.population()
        p, n = self.p, len(self.p["fam"])
        first = bulk.reserve_ids(Person._meta.db_table, n)
        person_ids = np.arange(first, first + n, dtype=np.int64)
        p["ids"] = person_ids
        self.fam["head"] = person_ids[np.r_[0, np.cumsum(self.fam["sizes"])[:-1]]]
        self.plan.tables[Person._meta.db_table] = self._person_chunks
        self.plan.person_ids = person_ids
        self.plan.counts.update(persons=n, migrants=int(p["migrant"].sum()))
        self._residences()
        self._households()
        self._units_and_rentals()
        self._jobs_and_permits()

    def _person_chunks(self) -> Iterator[pa.Table]:
        """The person rows, a chunk at a time (identifiers are encrypted chunk by chunk to bound memory)."""
        p, q = self.p, self.plain
        for start in range(0, len(p["ids"]), PERSON_CHUNK):
            part = slice(start, start + PERSON_CHUNK)
            n = len(p["ids"][part])
            ids, phones = q["id_number"][part].tolist(), q["phone"][part].tolist()
            blank = _const("", n)
            stamp = pa.array([self.now] * n, pa.timestamp("us", tz="UTC"))
            yield pa.table(
                {
                    "id": p["ids"][part],
                    "created_at": stamp,
                    "updated_at": stamp,
                    "name": _text(q["name"][part]),
                    "doc_type": _const("resident_id", n),
                    "id_number": pa.array(bulk.encrypt_many(ids), pa.string()),
                    "id_number_hash": pa.array(bulk.hash_many(ids), pa.string()),
                    "doc_number": blank,
                    "doc_number_hash": blank,
                    "phone": pa.array(bulk.encrypt_many(phones), pa.string()),
                    "phone_hash": pa.array(bulk.hash_many(phones), pa.string()),
                    "sex": _text(np.where(p["male"][part], "M", "F")),
                    "birth_date": pa.array(p["born"][part].astype("datetime64[D]")),
                    "ethnicity": _text(q["ethnicity"][part]),
                    "nationality": _const("中国", n),
                    "hukou_place": _text(q["hukou_place"][part]),
                    "education": _text(p["education"][part]),
                    "employment_status": _text(p["status"][part]),
                    "care_needs": _text(q["care_needs"][part]),
                    "care_needs_known_at": pa.array(np.where(p["care_known"][part], q["care_date"][part], np.datetime64("NaT")).astype("datetime64[D]")),
                    "unit_id": self.unit_grid[p["unit"][part]],
                    "source": _const("demo", n),
                }
            )

    def _bounded(self, days: np.ndarray, low: int, high: int) -> np.ndarray:
        """Ages kept within [low, high]: values outside are redrawn in the first/last three years of the range.

        (Clipping would pile thousands onto one birthday, more than one county's ID sequence numbers allow.)"""
        out = days.copy()
        below, above = out < low, out > high
        out[below] = low + self.rng.integers(0, 3 * 365, size=int(below.sum()))
        out[above] = high - self.rng.integers(0, 3 * 365, size=int(above.sum()))
        return out

    def _residences(self) -> None:
        rng, p = self.rng, self.p
        n = len(p["ids"])
        kind = np.where(p["migrant"], "migrant", "permanent")
        # One stay in ten had an earlier home in the city (a different unit), ended the day they moved.
        had_before = (rng.random(n) < 0.10) & (p["since"] - p["born"] > np.timedelta64(800, "D"))
        before_unit = rng.integers(0, self.n_units, size=n)
        before_unit = np.where(before_unit == p["unit"], (before_unit + 1) % self.n_units, before_unit)
        k = int(had_before.sum())
        gap = rng.integers(365, 3650, size=k).astype("timedelta64[D]")
        before_from = np.maximum(p["since"][had_before] - gap, p["born"][had_before])
        n_res = n + k
        first = bulk.reserve_ids(Residence._meta.db_table, n_res)
        from_date = p["since"].astype("datetime64[D]").copy()
        from_nat = np.where(p["unknown_arrival"], np.datetime64("NaT"), from_date).astype("datetime64[D]")
        arrived = np.where(had_before, self.unit_label[before_unit], np.where(p["migrant"], "外省市/外县", ""))
        table_now = pa.table(
            {
                "person_id": p["ids"],
                "housing_unit_id": self.unit_ids[p["unit"]],
                "kind": _text(kind),
                "from_date": pa.array(from_nat),
                "to_date": pa.nulls(n, pa.date32()),
                "ended_reason": _const("", n),
                "arrived_from": _text(arrived),
                "departed_to": _const("", n),
            }
        )
        table_before = pa.table(
            {
                "person_id": p["ids"][had_before],
                "housing_unit_id": self.unit_ids[before_unit[had_before]],
                "kind": _text(kind[had_before]),
                "from_date": pa.array(before_from.astype("datetime64[D]")),
                "to_date": pa.array(from_date[had_before]),
                "ended_reason": _const("moved", k),
                "arrived_from": _const("", k),
                "departed_to": _text(self.unit_label[p["unit"][had_before]]),
            }
        )
        both = pa.concat_tables([table_now, table_before])
        self.plan.tables[Residence._meta.db_table] = both.append_column("id", pa.array(np.arange(first, first + n_res, dtype=np.int64))).append_column(
            "is_primary", pa.array([True] * n_res)
        ).append_column("is_void", pa.array([False] * n_res)).append_column("void_reason", _const("", n_res)).append_column(
            "source", _const("demo", n_res)
        ).append_column("created_at", pa.array([self.now] * n_res, pa.timestamp("us", tz="UTC")))
        self.before_units = before_unit[had_before]
        self.plan.counts["residences"] = n_res

    def _households(self) -> None:
        p, f = self.p, self.fam
        registered = np.flatnonzero(~f["migrant"])
        n_h = len(registered)
        first = bulk.reserve_ids(Household._meta.db_table, n_h)
        h_ids = np.arange(first, first + n_h, dtype=np.int64)
        h_of_fam = np.full(len(f["units"]), -1, dtype=np.int64)
        h_of_fam[registered] = h_ids
        grid = self.unit_grid[f["units"][registered]]
        codes = np.array([g.district_code for g in self.grids])[self.unit_grid_index[f["units"][registered]]]
        formed = p["since"][np.r_[0, np.cumsum(f["sizes"])[:-1]]][registered].astype("datetime64[D]")
        stamp = pa.array([self.now] * n_h, pa.timestamp("us", tz="UTC"))
        self.plan.tables[Household._meta.db_table] = pa.table(
            {
                "id": h_ids,
                "created_at": stamp,
                "updated_at": stamp,
                "number": _text(_cat(codes, np.char.zfill(_s(h_ids), 10))),
                "kind": _const("family", n_h),
                "housing_unit_id": self.unit_ids[f["units"][registered]],
                "unit_id": grid,
                "formed_on": pa.array(formed),
                "dissolved_reason": _const("", n_h),
            }
        )
        member = ~p["migrant"]
        hh = h_of_fam[p["fam"][member]]
        rel = p["role"][member]
        joined = np.maximum(p["since"][member], p["born"][member]).astype("datetime64[D]")
        m = int(member.sum())
        first_m = bulk.reserve_ids(HouseholdMember._meta.db_table, m)
        self.plan.tables[HouseholdMember._meta.db_table] = pa.table(
            {
                "id": np.arange(first_m, first_m + m, dtype=np.int64),
                "household_id": hh,
                "person_id": p["ids"][member],
                "relation": _text(rel),
                "from_date": pa.array(joined),
                "end_reason": _const("", m),
            }
        )
        self.plan.counts.update(households=n_h, household_members=m)

    def _units_and_rentals(self) -> None:
        rng, p, f, today = self.rng, self.p, self.fam, self.today
        n_u = self.n_units
        owner = np.full(n_u, -1, dtype=np.int64)
        registered_heads = f["head"][~f["migrant"]]
        owner[f["units"][~f["migrant"]]] = registered_heads
        # Migrant families rent from a registered head living elsewhere (or from a company).
        rent_units = f["units"][f["migrant"]]
        landlords = registered_heads[rng.integers(0, max(len(registered_heads), 1), size=len(rent_units))] if len(registered_heads) else np.full(len(rent_units), -1)
        company = rng.random(len(rent_units)) < 0.08
        landlords = np.where(company, -1, landlords)
        owner[rent_units] = landlords
        vacant = ~self.occupied
        confirmed = vacant & (rng.random(n_u) < 0.6)
        confirmed_on = np.where(confirmed, np.datetime64(today, "D") - rng.integers(0, 365, size=n_u).astype("timedelta64[D]"), np.datetime64("NaT"))
        self.vacant_confirmed = confirmed
        use = np.where(rng.random(n_u) < 0.02, "business", "residence")
        area = np.round(np.where(self.unit_rural, rng.uniform(80, 220, n_u), rng.uniform(45, 145, n_u)), 1)
        stamp = pa.array([self.now] * n_u, pa.timestamp("us", tz="UTC"))
        self._unit_columns = {
            "id": self.unit_ids,
            "created_at": stamp,
            "updated_at": stamp,
            "building_id": self.building_ids[self.unit_building],
            "grid_id": self.unit_grid,
            "number": _text(self.unit_number),
            "use": _text(use),
            "area_m2": area,
            "owner_id": pa.array(np.where(owner >= 0, owner, 0), mask=owner < 0),
            "owner_name": _text(np.where((owner < 0) & np.isin(np.arange(n_u), rent_units), "贵阳安居房屋租赁有限公司", "")),
            "vacant_confirmed_on": pa.array(confirmed_on.astype("datetime64[D]")),
        }
        # Tenancies: the family's current contract, started within the last year (or when they came).
        n_t = len(rent_units)
        first = bulk.reserve_ids(Tenancy._meta.db_table, n_t)
        t_ids = np.arange(first, first + n_t, dtype=np.int64)
        heads_since = p["since"][np.r_[0, np.cumsum(f["sizes"])[:-1]]][f["migrant"]]
        start = np.maximum(heads_since, np.datetime64(today, "D") - rng.integers(0, 365, size=n_t).astype("timedelta64[D]"))
        term = np.where(rng.random(n_t) < 0.7, 365, np.where(rng.random(n_t) < 0.66, 730, 183))
        end = start + term.astype("timedelta64[D]")
        stamp_t = pa.array([self.now] * n_t, pa.timestamp("us", tz="UTC"))
        self.plan.tables[Tenancy._meta.db_table] = pa.table(
            {
                "id": t_ids,
                "created_at": stamp_t,
                "updated_at": stamp_t,
                "housing_unit_id": self.unit_ids[rent_units],
                "landlord_id": pa.array(np.where(landlords >= 0, landlords, 0), mask=landlords < 0),
                "landlord_name": _text(np.where(landlords < 0, "贵阳安居房屋租赁有限公司", "")),
                "start_date": pa.array(start.astype("datetime64[D]")),
                "end_date": pa.array(end.astype("datetime64[D]")),
                "use": _const("residence", n_t),
                "rent_fen": (rng.integers(600, 3500, size=n_t) * 100).astype(np.int64),
                "end_reason": _const("", n_t),
            }
        )
        tenancy_of_fam = np.full(len(f["units"]), -1, dtype=np.int64)
        tenancy_of_fam[np.flatnonzero(f["migrant"])] = t_ids
        adult_tenant = p["migrant"] & (p["age_years"] >= 18)
        k = int(adult_tenant.sum())
        first_tt = bulk.reserve_ids(f"{Tenancy._meta.db_table}_tenants", k)
        self.plan.tables[f"{Tenancy._meta.db_table}_tenants"] = pa.table(
            {"id": np.arange(first_tt, first_tt + k, dtype=np.int64), "tenancy_id": tenancy_of_fam[p["fam"][adult_tenant]], "person_id": p["ids"][adult_tenant]}
        )
        self.tenant = adult_tenant
        self.plan.counts.update(tenancies=n_t, tenants=k)

    def _jobs_and_permits(self) -> None:
        rng, p, today = self.rng, self.p, self.today
        employed = p["status"] == "employed"
        k = int(employed.sum())
        first = bulk.reserve_ids(Employment._meta.db_table, k)
        working_days = np.clip(p["age_years"][employed] - 18, 0, 20) * 365
        started = np.datetime64(today, "D") - (rng.random(k) * working_days).astype("timedelta64[D]")
        self.plan.tables[Employment._meta.db_table] = pa.table(
            {
                "id": np.arange(first, first + k, dtype=np.int64),
                "person_id": p["ids"][employed],
                "employer": _text(generate.employers(rng, k)),
                "employer_code": _const("", k),
                "occupation": _text(generate.occupations(rng, k)),
                "from_date": pa.array(started.astype("datetime64[D]")),
                "source": _const("demo", k),
                "created_at": pa.array([self.now] * k, pa.timestamp("us", tz="UTC")),
            }
        )
        # Permits: most eligible migrants (half a year here, and a job or a rental) hold one, in every state.
        half_year = np.datetime64(today - timedelta(days=183), "D")
        eligible = p["migrant"] & (p["age_years"] >= 16) & (p["since"] <= half_year) & (employed | self.tenant) & ~p["unknown_arrival"]
        holders = np.flatnonzero(eligible & (rng.random(len(eligible)) < 0.75))
        m = len(holders)
        state = np.array(["issued", "expired", "applied", "revoked", "refused"])[rng.choice(5, size=m, p=[0.73, 0.12, 0.06, 0.05, 0.04])]
        issued_on = np.datetime64(today, "D") - rng.integers(0, 365, size=m).astype("timedelta64[D]")
        issued_on = np.maximum(issued_on, p["since"][holders] + np.timedelta64(183, "D"))
        expired = state == "expired"
        issued_on[expired] -= rng.integers(365, 800, size=int(expired.sum())).astype("timedelta64[D]")
        valid_until = issued_on + np.timedelta64(364, "D")
        applied_on = issued_on - rng.integers(5, 30, size=m).astype("timedelta64[D]")
        pending = state == "applied"
        applied_on[pending] = np.datetime64(today, "D") - rng.integers(0, 20, size=int(pending.sum())).astype("timedelta64[D]")
        had_card = np.isin(state, ["issued", "expired", "revoked"])
        closed = np.where(expired, valid_until, np.where(np.isin(state, ["revoked", "refused"]), np.datetime64(today, "D") - np.timedelta64(10, "D"), np.datetime64("NaT")))
        first_p = bulk.reserve_ids(ResidencePermit._meta.db_table, m)
        ids = np.arange(first_p, first_p + m, dtype=np.int64)
        years = issued_on.astype("datetime64[Y]").astype(np.int64) + 1970
        number = np.where(had_card, _cat("JZZ", years, np.char.zfill(_s(ids), 8)), "")
        reason = np.select([state == "revoked", state == "refused"], ["已离开本市,注销居住证", "不符合居住半年以上条件"], "")
        stamp = pa.array([self.now] * m, pa.timestamp("us", tz="UTC"))
        self.plan.tables[ResidencePermit._meta.db_table] = pa.table(
            {
                "id": ids,
                "created_at": stamp,
                "updated_at": stamp,
                "person_id": p["ids"][holders],
                "kind": _const("residence_permit", m),
                "state": _text(state),
                "number": pa.array(number.tolist(), pa.string(), mask=~had_card),
                "housing_unit_id": self.unit_ids[p["unit"][holders]],
                "applied_on": pa.array(applied_on.astype("datetime64[D]")),
                "issued_on": pa.array(np.where(had_card, issued_on, np.datetime64("NaT")).astype("datetime64[D]")),
                "valid_until": pa.array(np.where(had_card, valid_until, np.datetime64("NaT")).astype("datetime64[D]")),
                "renewed_count": np.where(had_card, np.clip((issued_on - applied_on).astype(np.int64) // 365, 0, 5), 0).astype(np.int64),
                "closed_on": pa.array(closed.astype("datetime64[D]")),
                "reason": _text(reason),
            }
        )
        self.permit_holders = p["ids"][holders[state == "issued"]]
        self.plan.counts["permits"] = m
        # The five knowns of every unit, as completeness.refresh_units would compute them.
        occ = self.occupied | self.vacant_confirmed
        unknown_job = np.zeros(self.n_units, dtype=bool)
        np.logical_or.at(unknown_job, p["unit"], p["status"] == "")
        unknown_care = np.zeros(self.n_units, dtype=bool)
        np.logical_or.at(unknown_care, p["unit"], ~p["care_known"])
        unknown_move = np.zeros(self.n_units, dtype=bool)
        np.logical_or.at(unknown_move, p["unit"], p["unknown_arrival"])
        self._unit_columns.update(
            known_door_plate=np.ones(self.n_units, dtype=bool),
            known_occupants=occ,
            known_occupations=occ & ~unknown_job,
            known_moves=occ & ~unknown_move,
            known_care=occ & ~unknown_care,
        )
        self.plan.tables[HousingUnit._meta.db_table] = pa.table(self._unit_columns)

    def vacant_units_table(self) -> pa.Table:
        """The housing units with nothing known yet but their door plates (for loading people into them)."""
        n_u = self.n_units
        stamp = pa.array([self.now] * n_u, pa.timestamp("us", tz="UTC"))
        no = np.zeros(n_u, dtype=bool)
        return pa.table(
            {
                "id": self.unit_ids,
                "created_at": stamp,
                "updated_at": stamp,
                "building_id": self.building_ids[self.unit_building],
                "grid_id": self.unit_grid,
                "number": _text(self.unit_number),
                "use": _const("residence", n_u),
                "owner_name": _const("", n_u),
                "known_door_plate": np.ones(n_u, dtype=bool),
                "known_occupants": no,
                "known_occupations": no,
                "known_moves": no,
                "known_care": no,
            }
        )

    def import_table(self) -> pa.Table:
        """The population in ``load_registry``'s file format (plain values, as a department would export them)."""
        p, q = self.p, self.plain
        n = len(p["fam"])
        buildings: Any = self.plan.tables[Building._meta.db_table]
        plate = buildings.column("door_plate").to_numpy(zero_copy_only=False)
        unit = p["unit"]
        employed = p["status"] == "employed"
        employer = np.full(n, "", dtype=object)
        occupation = np.full(n, "", dtype=object)
        employer[employed] = generate.employers(self.rng, int(employed.sum()))
        occupation[employed] = generate.occupations(self.rng, int(employed.sum()))
        since = np.where(p["unknown_arrival"], np.datetime64(self.today, "D"), p["since"]).astype("datetime64[D]")

        def text(values: Any) -> pa.Array:
            return _text(values)

        return pa.table(
            {
                "name": text(q["name"]),
                "id_number": text(q["id_number"]),
                "phone": text(q["phone"]),
                "sex": text(np.where(p["male"], "男", "女")),
                "birth_date": text(p["born"].astype("datetime64[D]")),
                "ethnicity": text(q["ethnicity"]),
                "hukou_place": text(q["hukou_place"]),
                "education": text(p["education"]),
                "employment_status": text(p["status"]),
                "door_plate": text(plate[self.unit_building[unit]]),
                "unit_number": text(self.unit_number[unit]),
                "residence_kind": text(np.where(p["migrant"], "migrant", "permanent")),
                "from_date": text(since),
                "employer": _text(employer),
                "occupation": _text(occupation),
            }
        )

    def points(self, year: int, count: int, *, facts_seed: int = 0) -> pa.Table:
        """``count`` points applications for ``year`` from issued-permit holders (claimed facts only)."""
        rng = np.random.default_rng(facts_seed or int(self.rng.integers(1, 2**31)))
        count = min(count, len(self.permit_holders))
        who = rng.choice(self.permit_holders, size=count, replace=False)
        facts = [
            json.dumps(
                {
                    "insurance_years": int(rng.integers(0, 12)),
                    "skill": str(rng.choice(["", "", "中级工", "高级工", "技师"])),
                    "awards": ["city"] if rng.random() < 0.1 else [],
                    "deductions": ["交通违法"] if rng.random() < 0.05 else [],
                },
                ensure_ascii=False,
            )
            for _ in range(count)
        ]
        first = bulk.reserve_ids(PointsApplication._meta.db_table, count)
        stamp = pa.array([self.now] * count, pa.timestamp("us", tz="UTC"))
        submitted = date(year, 3, 1) if year < self.today.year else self.today - timedelta(days=7)
        return pa.table(
            {
                "id": np.arange(first, first + count, dtype=np.int64),
                "created_at": stamp,
                "updated_at": stamp,
                "person_id": who,
                "year": np.full(count, year, dtype=np.int64),
                "facts": pa.array(facts, pa.string()),
                "state": _const("submitted", count),
                "breakdown": pa.array(["[]"] * count, pa.string()),
                "decision_reasons": _const("", count),
                "submitted_on": pa.array([submitted] * count, pa.date32()),
            }
        )


# Insert order: a row's foreign keys point at rows already written.
WRITE_ORDER = (
    Building._meta.db_table,
    Person._meta.db_table,
    HousingUnit._meta.db_table,
    Household._meta.db_table,
    HouseholdMember._meta.db_table,
    Residence._meta.db_table,
    Tenancy._meta.db_table,
    f"{Tenancy._meta.db_table}_tenants",
    Employment._meta.db_table,
    ResidencePermit._meta.db_table,
    PointsApplication._meta.db_table,
)


def write(plan: Plan, log: Any = None) -> dict[str, int]:
    """Insert every generated table (COPY on PostgreSQL), in foreign-key order; returns rows per table."""
    import time

    written: dict[str, int] = {}
    names = [n for n in WRITE_ORDER if n in plan.tables]
    # Into empty tables (a new city), indexes are built once at the end rather than grown row by row.
    empty = bulk.is_postgres() and Person.objects.count() < plan.counts.get("persons", 0)
    with bulk.constraints_deferred(*names, enabled=empty) as dropped:
        for name in names:
            t0 = time.perf_counter()
            data = plan.tables[name]
            written[name] = bulk.write_table(name, data() if callable(data) else data)
            if log:
                log(f"{name}: {written[name]:,} 行,{time.perf_counter() - t0:.1f} 秒")
        t0 = time.perf_counter()
    if log and dropped:
        log(f"重建索引和约束 {dropped} 个,{time.perf_counter() - t0:.1f} 秒")
    bulk.analyze(*written)
    return written
