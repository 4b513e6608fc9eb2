"""The five knowns (五个清楚) of every housing unit, and their rollup per grid, community or district.

A housing unit's five items are known when:

* **door plate** — its building has a door plate and the unit a number;
* **occupants** — someone lives there now (a current residence), or a visit confirmed it empty;
* **occupations** — occupants known, and every current occupant's employment status is recorded;
* **arrivals and departures** — occupants known, and every stay at the unit (past or present) has
  an arrival date (a departure is recorded by the move-out itself);
* **care needs** — occupants known, and every current occupant's care needs have been asked.

The flags are stored on ``HousingUnit`` and recomputed, set-based, by ``refresh_units`` after
every event that can change them (services call it; loaders and seeders call it once for all the
units they touched), so the rollup is a single aggregate over one indexed table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from zhucheng.places.models import OrgUnit

from .models import Building, HousingUnit, Residence

ITEMS: tuple[tuple[str, Any], ...] = (
    ("door_plate", _("门牌清楚")),
    ("occupants", _("人员清楚")),
    ("occupations", _("职业清楚")),
    ("moves", _("来去清楚")),
    ("care", _("关爱需求清楚")),
)
KEYS = tuple(key for key, _label in ITEMS)
_ALL_KNOWN = Q(known_door_plate=True, known_occupants=True, known_occupations=True, known_moves=True, known_care=True)


def _flag_expressions() -> dict[str, Any]:
    current = Residence.objects.filter(housing_unit=OuterRef("pk"), to_date__isnull=True, is_void=False)
    occupants = Exists(current) | Q(vacant_confirmed_on__isnull=False)
    return {
        "known_door_plate": Exists(Building.objects.filter(pk=OuterRef("building_id")).exclude(door_plate="")) & ~Q(number=""),
        "known_occupants": occupants,
        "known_occupations": occupants & ~Exists(current.filter(person__employment_status="")),
        "known_moves": occupants
        & ~Exists(Residence.objects.filter(housing_unit=OuterRef("pk"), is_void=False, from_date__isnull=True)),
        "known_care": occupants & ~Exists(current.filter(person__care_needs_known_at__isnull=True)),
    }


def refresh_units(units: Iterable[int] | QuerySet[HousingUnit] | None = None) -> int:
    """Recompute the five flags of the given housing units (ids or a queryset; all when None)."""
    if units is None:
        qs = HousingUnit.objects.all()
    elif isinstance(units, QuerySet):
        qs = HousingUnit.objects.filter(pk__in=units.values("pk"))
    else:
        ids = sorted({int(pk) for pk in units})
        if not ids:
            return 0
        qs = HousingUnit.objects.filter(pk__in=ids)
    return qs.update(**_flag_expressions())


# The same rules as ``_flag_expressions``, grouped instead of correlated: one pass over the residences
# of all the units named by ``{source}`` (a subquery of ids), for loads that touch millions of units.
# Only rows whose flags change are written, so re-running it on unchanged data writes nothing.
_BULK_SQL = """
UPDATE registry_housingunit
SET known_door_plate = known.door_plate, known_occupants = known.occupants, known_occupations = known.occupations,
    known_moves = known.moves, known_care = known.care
FROM (
    WITH touched AS ({source}),
    cur AS (
        SELECT r.housing_unit_id AS unit_id,
               MAX(CASE WHEN p.employment_status = '' THEN 1 ELSE 0 END) AS job_unknown,
               MAX(CASE WHEN p.care_needs_known_at IS NULL THEN 1 ELSE 0 END) AS care_unknown
        FROM registry_residence r JOIN registry_person p ON p.id = r.person_id
        WHERE r.to_date IS NULL AND NOT r.is_void AND r.housing_unit_id IN (SELECT id FROM touched)
        GROUP BY r.housing_unit_id
    ),
    undated AS (
        SELECT DISTINCT housing_unit_id AS unit_id FROM registry_residence
        WHERE from_date IS NULL AND NOT is_void AND housing_unit_id IN (SELECT id FROM touched)
    )
    SELECT h.id,
           (b.door_plate <> '' AND h.number <> '') AS door_plate,
           (c.unit_id IS NOT NULL OR h.vacant_confirmed_on IS NOT NULL) AS occupants,
           (c.unit_id IS NOT NULL OR h.vacant_confirmed_on IS NOT NULL) AND COALESCE(c.job_unknown, 0) = 0 AS occupations,
           (c.unit_id IS NOT NULL OR h.vacant_confirmed_on IS NOT NULL) AND u.unit_id IS NULL AS moves,
           (c.unit_id IS NOT NULL OR h.vacant_confirmed_on IS NOT NULL) AND COALESCE(c.care_unknown, 0) = 0 AS care
    FROM registry_housingunit h
    JOIN registry_building b ON b.id = h.building_id
    LEFT JOIN cur c ON c.unit_id = h.id
    LEFT JOIN undated u ON u.unit_id = h.id
    WHERE h.id IN (SELECT id FROM touched)
) AS known
WHERE registry_housingunit.id = known.id
  AND (registry_housingunit.known_door_plate <> known.door_plate OR registry_housingunit.known_occupants <> known.occupants
       OR registry_housingunit.known_occupations <> known.occupations OR registry_housingunit.known_moves <> known.moves
       OR registry_housingunit.known_care <> known.care)
"""


def refresh_units_bulk(source_sql: str) -> int:
    """``refresh_units`` for many units at once: ``source_sql`` selects their ids (a column named ``id``)."""
    with connection.cursor() as cursor:
        cursor.execute(_BULK_SQL.format(source=source_sql))
        return int(cursor.rowcount)


def compute_flags(unit: HousingUnit) -> dict[str, bool]:
    """The five items of one unit computed afresh from the records (what ``refresh_units`` stores)."""
    row = HousingUnit.objects.filter(pk=unit.pk).annotate(**{f"_{k}": v for k, v in _flag_expressions().items()}).values(
        *(f"_known_{key}" for key in KEYS)
    )[0]
    return {key: bool(row[f"_known_{key}"]) for key in KEYS}


def unit_flags(unit: HousingUnit) -> dict[str, bool]:
    """The stored five items of one unit."""
    return {key: bool(getattr(unit, f"known_{key}")) for key in KEYS}


@dataclass
class Completeness:
    """Counts of housing units and of units with each item known, for one grid or a larger unit."""

    unit_id: int | None
    units: int = 0
    known: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KEYS, 0))
    complete: int = 0
    unit: OrgUnit | None = None

    def rate(self, key: str) -> float:
        """Share of units with ``key`` known (``complete`` for all five), 0..1; 0 for no units."""
        if not self.units:
            return 0.0
        return (self.complete if key == "complete" else self.known[key]) / self.units

    def add(self, other: Completeness) -> None:
        self.units += other.units
        self.complete += other.complete
        for key in KEYS:
            self.known[key] += other.known[key]


def _aggregate(qs: QuerySet[HousingUnit]) -> dict[str, Any]:
    return {
        "units": Count("id"),
        "complete": Count("id", filter=_ALL_KNOWN),
        **{key: Count("id", filter=Q(**{f"known_{key}": True})) for key in KEYS},
    }


def completeness_by_grid(root: OrgUnit | None = None) -> dict[int, Completeness]:
    """Completeness of every grid (unit id → counts) under ``root``, or in the whole city; one query."""
    qs = HousingUnit.objects.all()
    if root is not None:
        grid_ids = OrgUnit.objects.filter(path__startswith=root.path).values("pk")
        qs = qs.filter(grid_id__in=grid_ids)
    out: dict[int, Completeness] = {}
    for row in qs.values("grid_id").annotate(**_aggregate(qs)).order_by():
        out[row["grid_id"]] = Completeness(
            unit_id=row["grid_id"],
            units=row["units"],
            complete=row["complete"],
            known={key: row[key] for key in KEYS},
        )
    return out


def completeness_of(unit: OrgUnit) -> Completeness:
    """Completeness of one unit's whole subtree (a grid, a community, a district or the city)."""
    total = Completeness(unit_id=unit.pk, unit=unit)
    for row in completeness_by_grid(unit).values():
        total.add(row)
    return total


def completeness_of_children(unit: OrgUnit) -> list[Completeness]:
    """One row per child unit of ``unit`` (grids of a committee, communities of a district …), by code."""
    children = list(unit.children.order_by("code"))
    rows = {c.pk: Completeness(unit_id=c.pk, unit=c) for c in children}
    if not children:
        return []
    by_grid = completeness_by_grid(unit)
    paths = dict(OrgUnit.objects.filter(pk__in=by_grid.keys()).values_list("pk", "path"))
    for grid_id, counts in by_grid.items():
        path = paths.get(grid_id, "")
        for child in children:
            if path.startswith(child.path):
                rows[child.pk].add(counts)
                break
    return [rows[c.pk] for c in children]
