"""Demo seeder for places: the city of 贵阳市 as the reference counts it, with tiled boundaries, and 28 departments.

10 districts/counties, 93 communities, 75 townships, 532 residents' committees, 913 villages
(the reference's numbers, exactly), and grids under every committee and village: 1–3 each
for ``small`` (about 3,000), 4–12 each for ``full`` (about 10,000).

Boundaries are rectangles: the ten district rectangles tile the city box (hand-placed, see
``data/guiyang.py``), and each unit's children tile it by recursive binary splitting in
proportion to their weights, so siblings never overlap and children cover their parent.
Communities and committees are placed on the side nearer the city centre, townships and
villages outside. Rows go in with ``bulk_create`` level by level (``path``/``depth`` set here,
since ``bulk_create`` skips ``OrgUnit.save()``) and one ``places.seed`` audit event sums it up.

Left in ``ctx.shared``: ``places.city`` (the city unit), ``places.departments`` (code →
Department), ``places.dispatch_centre``, ``places.demo_units`` (``district``, ``community``,
``community2``, ``grid`` → OrgUnit, the units the demo logins work in).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q

from zhucheng.core.audit import audit_record
from zhucheng.core.demo import DemoContext

from . import geo
from .data import guiyang as data
from .models import PATH_SEP, Department, OrgUnit, OrgUnitKind

ORDER = 10

# Where the demo logins work (codes follow from the data lists: 南明区's first two communities).
DEMO_DISTRICT_CODE = "520102"  # 南明区
DEMO_COMMUNITY_CODE = "520102001"  # 新华社区
DEMO_COMMUNITY2_CODE = "520102002"  # 中南社区
DEMO_GRID_CODE = "520102001001001"  # 新华社区's first committee, first grid
DEMO_DEPARTMENT_CODE = "D03"  # 市住房和城乡建设局

# Grids per committee / village, by size (inclusive ranges).
GRIDS_PER_UNIT: dict[str, dict[str, tuple[int, int]]] = {
    "small": {OrgUnitKind.RESIDENTS_COMMITTEE: (2, 3), OrgUnitKind.VILLAGE: (1, 3)},
    "full": {OrgUnitKind.RESIDENTS_COMMITTEE: (6, 12), OrgUnitKind.VILLAGE: (4, 8)},
}
# Suburban communities that still have villages (the rest of the 913 sit under townships).
VILLAGES_UNDER_COMMUNITIES = 60
# Committees at a township seat: a town (镇) has two, a rural township (乡) one.
RC_PER_TOWN, RC_PER_XIANG = 2, 1
# Code blocks inside a parent, as in the national division codes: villages start at 201.
VILLAGE_CODE_BASE = 200
TOWN_CODE_BASE, XIANG_CODE_BASE = 100, 200
BATCH = 1000

Rect = tuple[float, float, float, float]  # lon0, lat0, lon1, lat1
# A degree of longitude is shorter than a degree of latitude here; cut along the longer side in km.
_LON_SCALE = math.cos(math.radians(data.CITY_CENTRE[1]))


@dataclass
class Node:
    code: str
    name: str
    kind: str
    path: str
    depth: int
    weight: float = 1.0
    rect: Rect = (0.0, 0.0, 0.0, 0.0)
    children: list[Node] = field(default_factory=list)

    def add(self, code: str, name: str, kind: str, weight: float = 1.0) -> Node:
        child = Node(code, name, kind, f"{self.path}{code}{PATH_SEP}", self.depth + 1, weight)
        self.children.append(child)
        return child


# --- geometry ---------------------------------------------------------------------------


def apportion(total: int, weights: list[float], minimum: int = 0) -> list[int]:
    """Split ``total`` into integers proportional to ``weights``, each ≥ ``minimum`` (largest remainder)."""
    rest = total - minimum * len(weights)
    if rest < 0:
        raise ValueError("total too small for the minimum")
    wsum = sum(weights)
    quotas = [w / wsum * rest for w in weights]
    counts = [math.floor(q) for q in quotas]
    leftover = rest - sum(counts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - counts[i]), i))
    for i in by_remainder[:leftover]:
        counts[i] += 1
    return [c + minimum for c in counts]


def partition(rect: Rect, weights: list[float], anchor: tuple[float, float]) -> list[Rect]:
    """Tile ``rect`` with one rectangle per weight, areas proportional, in input order.

    Recursive halving: split the list where the weight is closest to half, cut the longer
    side in that ratio, and put the first half on the side nearer ``anchor``. Both sides of
    a cut use the same float, so neighbours share edges exactly (and after rounding).
    """
    if len(weights) == 1:
        return [rect]
    total = sum(weights)
    prefix, k, best = 0.0, 1, math.inf
    running = 0.0
    for i, w in enumerate(weights[:-1], start=1):
        running += w
        if abs(running - total / 2) < best:
            best, k, prefix = abs(running - total / 2), i, running
    frac = prefix / total
    x0, y0, x1, y1 = rect
    if (x1 - x0) * _LON_SCALE >= (y1 - y0):
        if anchor[0] >= (x0 + x1) / 2:  # first group on the east side
            cut = x1 - (x1 - x0) * frac
            first, second = (cut, y0, x1, y1), (x0, y0, cut, y1)
        else:
            cut = x0 + (x1 - x0) * frac
            first, second = (x0, y0, cut, y1), (cut, y0, x1, y1)
    elif anchor[1] >= (y0 + y1) / 2:  # first group on the north side
        cut = y1 - (y1 - y0) * frac
        first, second = (x0, cut, x1, y1), (x0, y0, x1, cut)
    else:
        cut = y0 + (y1 - y0) * frac
        first, second = (x0, y0, x1, cut), (x0, cut, x1, y1)
    return partition(first, weights[:k], anchor) + partition(second, weights[k:], anchor)


def polygon(rect: Rect) -> dict[str, Any]:
    """GeoJSON Polygon of a rectangle: [lon, lat], counter-clockwise, closed, 6 decimals."""
    x0, y0, x1, y1 = (round(v, 6) for v in rect)
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def centre(rect: Rect) -> tuple[float, float]:
    """(lat, lon) of the rectangle's centre."""
    return round((rect[1] + rect[3]) / 2, 6), round((rect[0] + rect[2]) / 2, 6)


# --- the city as a tree -----------------------------------------------------------------


def _names(
    rng: random.Random,
    count: int,
    prefixes: tuple[str, ...],
    suffixes: tuple[str, ...],
    ending: str,
    reserved: tuple[str, ...],
    used: set[str],
) -> list[str]:
    """``count`` names "<prefix><suffix><ending>", the article's ``reserved`` ones first, unique in ``used``."""
    names = [n for n in reserved if n not in used][:count]
    used.update(names)
    if len(used) + count - len(names) > len(prefixes) * len(suffixes) // 2:
        raise ValueError("not enough name combinations left for this district")
    while len(names) < count:
        p, s = rng.choice(prefixes), rng.choice(suffixes)
        name = f"{p}{s}{ending}"
        if p != s and name not in used:
            names.append(name)
            used.add(name)
    return names


def build_city(rng: random.Random, size: str) -> Node:
    """The whole demo city in memory, with every unit's rectangle; the database is not touched."""
    # Grid counts use their own stream, so small and full differ only in the grids.
    grid_rng = random.Random(rng.getrandbits(64))
    grid_range = GRIDS_PER_UNIT["full" if size == "city" else size]
    city = Node(data.CITY_CODE, data.CITY_NAME, OrgUnitKind.CITY, f"{PATH_SEP}{data.CITY_CODE}{PATH_SEP}", 0)
    city.rect = data.CITY_BOX

    # Second level: communities and townships, with the count of committees and villages each gets.
    seconds: list[tuple[data.District, Node, tuple[str, str]]] = []  # (district, unit, parent key)
    for d in data.DISTRICTS:
        district = city.add(d.code, d.name, OrgUnitKind.DISTRICT)
        district.rect = d.box
        for i, name in enumerate(d.communities, start=1):
            seconds.append((d, district.add(f"{d.code}{i:03d}", name, OrgUnitKind.COMMUNITY), (d.name, name)))
        towns = xiangs = 0
        for name in d.townships:
            if name.endswith("镇"):
                towns += 1
                number = TOWN_CODE_BASE + towns
            else:
                xiangs += 1
                number = XIANG_CODE_BASE + xiangs
            seconds.append((d, district.add(f"{d.code}{number:03d}", name, OrgUnitKind.TOWNSHIP), (d.name, name)))

    communities = [(d, n) for d, n, _ in seconds if n.kind == OrgUnitKind.COMMUNITY]
    townships = [(d, n) for d, n, _ in seconds if n.kind == OrgUnitKind.TOWNSHIP]
    rc_count: dict[str, int] = {}
    village_count: dict[str, int] = {n.code: 0 for _, n in communities}
    for _, n in townships:
        rc_count[n.code] = RC_PER_TOWN if n.name.endswith("镇") else RC_PER_XIANG
    rc_left = data.EXPECTED["residents_committee"] - sum(rc_count.values())
    for (_, n), c in zip(communities, apportion(rc_left, [rng.uniform(0.6, 1.4) for _ in communities], minimum=2), strict=True):
        rc_count[n.code] = c
    fringe = [n for d, n in communities if not d.urban_core]
    for n, c in zip(fringe, apportion(VILLAGES_UNDER_COMMUNITIES, [rng.uniform(0.2, 1.8) for _ in fringe]), strict=True):
        village_count[n.code] = c
    v_left = data.EXPECTED["village"] - VILLAGES_UNDER_COMMUNITIES
    for (_, n), c in zip(townships, apportion(v_left, [rng.uniform(0.6, 1.4) for _ in townships], minimum=4), strict=True):
        village_count[n.code] = c

    # Third and fourth levels: committees and villages, then their grids.
    used_by_district: dict[str, set[str]] = {}
    for d, unit, key in seconds:
        used = used_by_district.setdefault(d.code, set())
        n_rc, n_v = rc_count[unit.code], village_count[unit.code]
        if n_rc >= VILLAGE_CODE_BASE or n_v > 999 - VILLAGE_CODE_BASE:
            raise ValueError(f"too many children under {unit.code} for the code blocks")
        rc_names = _names(
            rng, n_rc, data.RC_PREFIXES, data.RC_SUFFIXES, "居委会", data.NAMED_RESIDENTS_COMMITTEES.get(key, ()), used
        )
        v_names = _names(rng, n_v, data.VILLAGE_PREFIXES, data.VILLAGE_SUFFIXES, "村", data.NAMED_VILLAGES.get(key, ()), used)
        lower: list[Node] = []
        for i, name in enumerate(rc_names, start=1):
            lower.append(unit.add(f"{unit.code}{i:03d}", name, OrgUnitKind.RESIDENTS_COMMITTEE, rng.uniform(0.7, 1.3)))
        for i, name in enumerate(v_names, start=1):
            lower.append(
                unit.add(f"{unit.code}{VILLAGE_CODE_BASE + i:03d}", name, OrgUnitKind.VILLAGE, 3 * rng.uniform(0.7, 1.3))
            )
        # A community is dense and small on the map; a township's area grows with its villages.
        if unit.kind == OrgUnitKind.COMMUNITY:
            unit.weight = 0.5 + 0.15 * n_rc + 0.6 * n_v
        else:
            unit.weight = 2.0 + 0.2 * n_rc + 0.5 * n_v
        for leaf in lower:
            low, high = grid_range[leaf.kind]
            for g in range(1, grid_rng.randint(low, high) + 1):
                leaf.add(f"{leaf.code}{g:03d}", f"第{g}网格", OrgUnitKind.GRID, grid_rng.uniform(0.7, 1.3))

    _place(city)
    return city


def _place(node: Node) -> None:
    """Give every descendant of ``node`` its rectangle (the districts' are fixed in the data)."""
    if not node.children:
        return
    if node.kind != OrgUnitKind.CITY:
        rects = partition(node.rect, [c.weight for c in node.children], data.CITY_CENTRE)
        for child, rect in zip(node.children, rects, strict=True):
            child.rect = rect
    for child in node.children:
        _place(child)


def levels(city: Node) -> list[list[Node]]:
    """The tree breadth-first, one list per depth (city first)."""
    out: list[list[Node]] = [[city]]
    while True:
        nxt = [c for n in out[-1] for c in n.children]
        if not nxt:
            return out
        out.append(nxt)


# --- writing it -------------------------------------------------------------------------


def _unit(node: Node, parent_id: int | None) -> OrgUnit:
    lat, lon = centre(node.rect)
    return OrgUnit(
        code=node.code,
        name=node.name,
        kind=node.kind,
        parent_id=parent_id,
        path=node.path,
        depth=node.depth,
        boundary=polygon(node.rect),
        lat=lat,
        lon=lon,
    )


def _insert(city: Node) -> OrgUnit:
    """Write the tree level by level; parents' ids are read back after each level."""
    tree = levels(city)
    root = _unit(city, None)
    root.save()
    ids = {root.code: root.pk}
    for depth, nodes in enumerate(tree[1:], start=1):
        parent_of = {c.code: p.code for p in tree[depth - 1] for c in p.children}
        OrgUnit.objects.bulk_create([_unit(n, ids[parent_of[n.code]]) for n in nodes], batch_size=BATCH)
        if depth < len(tree) - 1:
            ids.update(OrgUnit.objects.filter(depth=depth, path__startswith=root.path).values_list("code", "pk"))
    return root


def _seed_departments(ctx: DemoContext, rng: random.Random) -> dict[str, Department]:
    """The 28 city departments, found by code or name so an existing one is reused, never doubled."""
    out: dict[str, Department] = {}
    created = 0
    for code, name, short, dispatch in data.DEPARTMENTS:
        dept = Department.objects.filter(Q(code=code) | Q(name=name)).first()
        if dept is None:
            phone = "12345" if dispatch else f"0851-8{rng.randrange(5_000_000, 9_000_000)}"
            dept = Department.objects.create(code=code, name=name, short_name=short, is_dispatch_centre=dispatch, phone=phone)
            created += 1
        out[code] = dept
    ctx.log(f"市直部门 {len(out)} 个(新建 {created} 个)")
    return out


def seed(ctx: DemoContext) -> None:
    # Departments draw from their own stream, so the city is the same whether or not they existed.
    departments = _seed_departments(ctx, random.Random(ctx.rng.getrandbits(64)))
    city_unit = OrgUnit.objects.filter(code=data.CITY_CODE).first()
    if city_unit is None:
        tree = build_city(ctx.rng, ctx.size)
        city_unit = _insert(tree)
        geo.invalidate_locator()  # bulk_create sends no post_save signals
        counts = dict(
            OrgUnit.objects.filter(path__startswith=city_unit.path).values_list("kind").annotate(n=Count("id")).order_by()
        )
        summary = ", ".join(f"{kind}={counts.get(kind, 0)}" for kind in OrgUnitKind.values)
        audit_record(
            actor=None,
            act="places.seed",
            obj=city_unit,
            changed_fields=["code", "name", "kind", "parent", "boundary"],
            reason=f"demo city size={ctx.size}: {summary}; departments={len(departments)}",
        )
        ctx.log(f"{city_unit.name}: {summary}")
    else:
        ctx.log(f"{city_unit.name} 已存在,跳过区划生成")
    demo_units = {
        key: OrgUnit.objects.get(code=code)
        for key, code in (
            ("district", DEMO_DISTRICT_CODE),
            ("community", DEMO_COMMUNITY_CODE),
            ("community2", DEMO_COMMUNITY2_CODE),
            ("grid", DEMO_GRID_CODE),
        )
    }
    ctx.shared["places.city"] = city_unit
    ctx.shared["places.departments"] = departments
    ctx.shared["places.dispatch_centre"] = next(d for d in departments.values() if d.is_dispatch_centre)
    ctx.shared["places.demo_units"] = demo_units
