"""Boundaries and point location: validate GeoJSON boundaries, and find the unit a point lies in.

``validate_boundary`` is the one gate every boundary passes before it is stored (services,
the import command). ``locate`` answers "which grid is this point in" from an in-memory
``shapely.STRtree`` over all active units with a boundary, built once per process and
rebuilt after ``invalidate_locator()`` (called by the ``OrgUnit`` save/delete signals).

The locator rule, in one place:

* a point on a boundary edge or vertex counts as inside (``covers``, not ``contains``);
* of all active units covering the point, the deepest wins (a grid before its community);
* among equally deep units (a point exactly on the edge shared by two grids) the one with
  the smallest ``code`` wins, so the answer never depends on load or query order.

``Locator`` needs no database, so benchmarks and tests can build one from plain tuples.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from shapely.errors import GEOSException
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

if TYPE_CHECKING:
    from .models import OrgUnit

logger = logging.getLogger(__name__)

__all__ = [
    "BoundaryError",
    "Locator",
    "invalidate_locator",
    "locate",
    "locate_many",
    "locate_unit_id",
    "locator",
    "validate_boundary",
]

POLYGON_TYPES = ("Polygon", "MultiPolygon")


# --------------------------------------------------------------------------- validation


class BoundaryError(Exception):
    """A refused boundary: ``reason`` is the translated message, ``code`` a stable key for callers."""

    def __init__(self, reason: str, code: str = "invalid") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code

    def __str__(self) -> str:
        return self.reason


def _is_number(value: Any) -> bool:
    # bool is an int subclass, but ``true`` is never a coordinate
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _ring_name(polygon_index: int | None, ring_index: int) -> str:
    ring = _("外环") if ring_index == 0 else _("第 %(n)d 个内环") % {"n": ring_index}
    if polygon_index is None:
        return ring
    return _("第 %(n)d 个多边形的%(ring)s") % {"n": polygon_index + 1, "ring": ring}


def _check_ring(ring: Any, polygon_index: int | None, ring_index: int) -> None:
    where = _ring_name(polygon_index, ring_index)
    if not isinstance(ring, (list, tuple)):
        raise BoundaryError(_("%(where)s不是坐标列表。") % {"where": where}, "bad_coordinates")
    for pos_index, position in enumerate(ring):
        if not isinstance(position, (list, tuple)) or len(position) not in (2, 3) or not all(_is_number(v) for v in position):
            raise BoundaryError(
                _("%(where)s的第 %(n)d 个点不是 [经度, 纬度] 数值对:%(value)s") % {"where": where, "n": pos_index + 1, "value": _short(position)},
                "bad_coordinates",
            )
        lon, lat = position[0], position[1]
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            hint = _("请确认坐标顺序为 [经度, 纬度]。") if (-90 <= lon <= 90 and -180 <= lat <= 180) else ""
            raise BoundaryError(
                _("%(where)s的第 %(n)d 个点 [%(lon)s, %(lat)s] 超出经纬度范围(经度 -180~180,纬度 -90~90)。%(hint)s")
                % {"where": where, "n": pos_index + 1, "lon": lon, "lat": lat, "hint": hint},
                "out_of_range",
            )
    if len(ring) < 4:
        raise BoundaryError(
            _("%(where)s只有 %(count)d 个点;一个环至少需要 4 个点(首尾两点相同)。") % {"where": where, "count": len(ring)},
            "too_few_points",
        )
    if list(ring[0][:2]) != list(ring[-1][:2]):
        raise BoundaryError(
            _("%(where)s没有闭合:首点 %(first)s 与末点 %(last)s 不同。") % {"where": where, "first": _short(ring[0]), "last": _short(ring[-1])},
            "ring_not_closed",
        )


def _check_polygon(rings: Any, polygon_index: int | None) -> None:
    if not isinstance(rings, (list, tuple)):
        raise BoundaryError(_("多边形的坐标不是环的列表。"), "bad_coordinates")
    if not rings or (isinstance(rings[0], (list, tuple)) and not rings[0]):
        raise BoundaryError(_("边界为空:没有任何坐标。"), "empty")
    for ring_index, ring in enumerate(rings):
        _check_ring(ring, polygon_index, ring_index)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# GEOS reasons look like "Self-intersection[106.71 26.58]"; the point locates the problem.
_REASON_RE = re.compile(r"^(?P<kind>[^\[]+?)\s*(?:\[(?P<x>\S+)\s+(?P<y>\S+)(?:\s+\S+)?\])?$")


def _explain_invalid(reason: str, multi: bool) -> BoundaryError:
    match = _REASON_RE.match(reason.strip())
    kind = (match.group("kind") if match else reason).strip().lower()
    at = ""
    if match and match.group("x") is not None:
        at = _("位置约在 经度 %(lon)s、纬度 %(lat)s。") % {"lon": match.group("x"), "lat": match.group("y")}
    if "self-intersection" in kind:
        if multi:
            message = _("边界自相交(边与边交叉,或多面中的多边形相互重叠)。%(at)s")
        else:
            message = _("边界自相交(边与边交叉,例如“8”字形)。%(at)s")
        return BoundaryError(message % {"at": at}, "self_intersection")
    known = {
        "hole lies outside shell": (_("内环(洞)位于外环之外。%(at)s"), "hole_outside_shell"),
        "nested holes": (_("内环(洞)相互嵌套。%(at)s"), "nested_holes"),
        "interior is disconnected": (_("内环把多边形内部分割成了不连通的部分。%(at)s"), "disconnected_interior"),
        "nested shells": (_("多面中的一个多边形套在另一个里面。%(at)s"), "nested_shells"),
        "duplicate rings": (_("存在重复的环。%(at)s"), "duplicate_rings"),
        "too few points in geometry component": (_("去掉重复点后,环上的不同点不足 3 个。%(at)s"), "too_few_points"),
        "ring is not closed": (_("环没有闭合。%(at)s"), "ring_not_closed"),
        "invalid coordinate": (_("坐标无效。%(at)s"), "bad_coordinates"),
    }
    if kind in known:
        message, code = known[kind]
        return BoundaryError(message % {"at": at}, code)
    return BoundaryError(_("边界无效:%(detail)s。%(at)s") % {"detail": kind, "at": at}, "invalid")


def validate_boundary(geojson: Any) -> BaseGeometry:
    """Check a GeoJSON Polygon/MultiPolygon (or a Feature holding one) and return it as a 2-D shapely geometry.

    Coordinates are GeoJSON order ``[lon, lat]``. Raises ``BoundaryError`` naming the exact
    problem (which ring, which point, where a self-intersection is).
    """
    if not isinstance(geojson, dict):
        raise BoundaryError(_("边界必须是 GeoJSON 对象,而不是 %(type)s。") % {"type": type(geojson).__name__}, "not_object")
    if geojson.get("type") == "Feature":
        geojson = geojson.get("geometry")
        if not isinstance(geojson, dict):
            raise BoundaryError(_("要素(Feature)没有几何对象(geometry)。"), "not_object")
    gtype = geojson.get("type")
    if gtype not in POLYGON_TYPES:
        raise BoundaryError(
            _("边界类型必须是 Polygon 或 MultiPolygon,收到的是 %(type)s。") % {"type": _short(gtype) if gtype is not None else _("(缺少 type)")},
            "wrong_type",
        )
    coords = geojson.get("coordinates")
    if coords is None or not isinstance(coords, (list, tuple)):
        raise BoundaryError(_("缺少坐标(coordinates),或坐标不是列表。"), "bad_coordinates")
    if gtype == "Polygon":
        _check_polygon(coords, None)
    else:
        if not coords:
            raise BoundaryError(_("边界为空:没有任何坐标。"), "empty")
        for polygon_index, rings in enumerate(coords):
            _check_polygon(rings, polygon_index)

    try:
        geom = shapely.force_2d(shape({"type": gtype, "coordinates": coords}))
    except (ValueError, TypeError, GEOSException) as exc:
        raise BoundaryError(_("无法解析边界坐标:%(detail)s") % {"detail": exc}, "bad_coordinates") from exc
    if geom.is_empty:
        raise BoundaryError(_("边界为空:没有任何坐标。"), "empty")
    # A ring whose points are all on one line (or all the same) encloses nothing: say so
    # rather than GEOS's "self-intersection", which would send the user looking for a crossing.
    if geom.convex_hull.area == 0:
        raise BoundaryError(_("边界面积为零:所有点在一条直线上或重合。"), "zero_area")
    reason = shapely.is_valid_reason(geom)
    if reason != "Valid Geometry":
        raise _explain_invalid(reason, multi=gtype == "MultiPolygon")
    if geom.area <= 0:  # a valid polygon always has area; kept as a guard, not an expected path
        raise BoundaryError(_("边界面积为零。"), "zero_area")
    return geom


# --------------------------------------------------------------------------- location


Region = tuple[int, int, str, BaseGeometry]  # (unit_id, depth, code, geometry)

_CHUNK = 250_000  # points per bulk step: bounds the memory of Point objects and index pairs


class Locator:
    """Point-in-polygon index over a fixed set of regions (built once, read by many threads).

    Regions are stored in preference order (deepest first, then smallest code), so a tree
    index *is* the rank and "the preferred covering region" is the smallest matching index.
    Candidates come from an STRtree bounding-box query; they are confirmed with
    ``intersects_xy`` on *prepared* polygons, which for a point means "covers" (interior or
    boundary). That is the same answer as ``query(points, predicate="covered_by")`` but
    faster: GEOS prepares the query geometry, a point, where we want the polygons prepared.
    """

    def __init__(self, regions: Iterable[Region]) -> None:
        rows = [r for r in regions if r[3] is not None and not r[3].is_empty]
        rows.sort(key=lambda r: (-r[1], r[2], r[0]))
        self.size = len(rows)
        self._ids = np.array([r[0] for r in rows], dtype=np.int64)
        self._geoms = np.array([r[3] for r in rows], dtype=object)
        shapely.prepare(self._geoms)
        if self.size:
            # GEOS builds a prepared polygon's point index lazily on first use, and shapely runs
            # predicates without the GIL; warming every index here, before the locator is shared,
            # keeps concurrent first queries from racing on that lazy build (libgeos/geos#825).
            bounds = shapely.bounds(self._geoms)
            shapely.intersects_xy(self._geoms, (bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2)
        self._tree = shapely.STRtree(self._geoms)

    def __len__(self) -> int:
        return self.size

    def locate_unit_id(self, lat: float, lon: float) -> int | None:
        """The preferred unit id covering (lat, lon), or None."""
        if not self.size or not (math.isfinite(lat) and math.isfinite(lon)):
            return None
        candidates = self._tree.query(shapely.Point(lon, lat))
        if not len(candidates):
            return None
        candidates.sort()
        hits = shapely.intersects_xy(self._geoms[candidates], lon, lat)
        first = int(np.argmax(hits))
        return int(self._ids[candidates[first]]) if hits[first] else None

    def locate_ids(self, lats: Any, lons: Any) -> np.ndarray:
        """Bulk lookup: an int64 array of unit ids, ``-1`` where no unit covers the point."""
        lats = np.asarray(lats, dtype=np.float64).ravel()
        lons = np.asarray(lons, dtype=np.float64).ravel()
        if lats.shape != lons.shape:
            raise ValueError("lats and lons must have the same length")
        out = np.full(lats.shape[0], -1, dtype=np.int64)
        if not self.size:
            return out
        ids_or_none = np.append(self._ids, -1)  # rank ``size`` means "no match"
        for start in range(0, lats.shape[0], _CHUNK):
            x = lons[start : start + _CHUNK]
            y = lats[start : start + _CHUNK]
            points = shapely.points(x, y)  # NaN coordinates give points that match nothing
            point_idx, tree_idx = self._tree.query(points)
            hit = shapely.intersects_xy(self._geoms[tree_idx], x[point_idx], y[point_idx])
            best = np.full(x.shape[0], self.size, dtype=np.int64)
            np.minimum.at(best, point_idx[hit], tree_idx[hit])
            out[start : start + x.shape[0]] = ids_or_none[best]
        return out

    def locate_many(self, lats: Any, lons: Any) -> list[int | None]:
        """Bulk lookup as a list: the unit id for each point, or None."""
        ids = self.locate_ids(lats, lons)
        return [None if v < 0 else v for v in ids.tolist()]


# Process-wide cache. One build at a time (``_build_lock``); ``_state_lock`` only guards the
# two globals, so an invalidation never waits for a build. The generation counter stops a
# build that raced with an invalidation from installing a locator made from older data.
_build_lock = threading.Lock()
_state_lock = threading.Lock()
_locator: Locator | None = None
_generation = 0


def _load_regions() -> list[Region]:
    from .models import OrgUnit

    regions: list[Region] = []
    rows = (
        OrgUnit.objects.filter(is_active=True, boundary__isnull=False)
        .order_by()
        .values_list("id", "depth", "code", "boundary")
    )
    for unit_id, depth, code, boundary in rows.iterator(chunk_size=2000):
        try:
            geom = shapely.force_2d(shape(boundary))
        except (ValueError, TypeError, KeyError, AttributeError, GEOSException, IndexError):
            # Stored boundaries passed validate_boundary; a broken legacy row must not take location down.
            logger.warning("places.geo: unit %s has an unreadable boundary; skipped by the locator", unit_id)
            continue
        if geom.geom_type in POLYGON_TYPES and not geom.is_empty:
            regions.append((unit_id, depth, code, geom))
    return regions


def locator() -> Locator:
    """The process-wide locator, built from the database on first use after an invalidation."""
    current = _locator
    if current is not None:
        return current
    with _build_lock:
        with _state_lock:
            if _locator is not None:
                return _locator
            generation = _generation
        built = Locator(_load_regions())
        _install(built, generation)
        return built


def _install(built: Locator, generation: int) -> None:
    global _locator
    with _state_lock:
        if generation == _generation:
            _locator = built


def _forget() -> None:
    global _locator, _generation
    with _state_lock:
        _generation += 1
        _locator = None
        _units.clear()


# The units ``locate`` has returned (without their boundaries), kept as long as the locator is:
# any change to a unit forgets both, so a located point costs no query once its unit was read.
_units: dict[int, Any] = {}


def invalidate_locator() -> None:
    """Forget the cached STRtree; the next ``locate`` rebuilds it.

    Called at save time and again when the surrounding transaction commits: a rebuild by
    another thread in between would have read the old, still-committed boundaries.
    """
    _forget()
    from django.db import connection, transaction

    try:
        in_transaction = connection.in_atomic_block
    except ImproperlyConfigured:  # no Django settings (bench/): no transaction to follow
        return
    if in_transaction:
        transaction.on_commit(_forget)


def locate_unit_id(lat: float, lon: float) -> int | None:
    """Id of the deepest active unit whose boundary covers (lat, lon), or None."""
    return locator().locate_unit_id(lat, lon)


def locate(lat: float, lon: float) -> OrgUnit | None:
    """The deepest active unit whose boundary covers (lat, lon) (ties: smallest code), or None."""
    from .models import OrgUnit

    generation = _generation
    unit_id = locate_unit_id(lat, lon)
    if unit_id is None:
        return None
    unit = _units.get(unit_id)
    if unit is None:
        # The boundary is what was just searched; reading the polygon again would be most of the row.
        unit = OrgUnit.objects.defer("boundary").filter(pk=unit_id).first()
        if unit is not None and generation == _generation:
            _units[unit_id] = unit
    return unit


def locate_many(lats: Sequence[float] | np.ndarray, lons: Sequence[float] | np.ndarray) -> list[int | None]:
    """Vectorised ``locate_unit_id`` for many points (numpy arrays or sequences)."""
    return locator().locate_many(lats, lons)
