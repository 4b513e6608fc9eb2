"""Boundary validation and point location (places.geo)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import shapely

from zhucheng.places import geo, services
from zhucheng.places.models import OrgUnit

# Two grids side by side inside one community, around Guiyang (lon 106.70–106.72, lat 26.57–26.59).
# The grids only cover the southern half, so the northern half belongs to the community alone.
W, MID, E = 106.70, 106.71, 106.72
S, GRID_N, N = 26.57, 26.58, 26.59


def square(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


@pytest.fixture(autouse=True)
def fresh_locator():
    # Test transactions roll back without post_delete signals, so no locator may outlive a test.
    geo.invalidate_locator()
    yield
    geo.invalidate_locator()


@pytest.fixture
def tree(db) -> dict[str, OrgUnit]:
    city = services.unit_create(actor=None, code="5201", name="贵阳市", kind="city", parent=None)
    district = services.unit_create(actor=None, code="520102", name="南明区", kind="district", parent=city)
    community = services.unit_create(
        actor=None, code="520102001", name="花果园社区", kind="community", parent=district, boundary=square(W, S, E, N)
    )
    committee = services.unit_create(actor=None, code="520102001001", name="第一居委会", kind="residents_committee", parent=community)
    # Created east first so that "smallest code wins" is not just "first created wins".
    g2 = services.unit_create(
        actor=None, code="520102001001002", name="二网格", kind="grid", parent=committee, boundary=square(MID, S, E, GRID_N)
    )
    g1 = services.unit_create(
        actor=None, code="520102001001001", name="一网格", kind="grid", parent=committee, boundary=square(W, S, MID, GRID_N)
    )
    return {"community": community, "g1": g1, "g2": g2}


# ----------------------------------------------------------------------------- validation


def test_valid_polygon_is_returned_as_shapely_geometry() -> None:
    geom = geo.validate_boundary(square(W, S, E, N))
    assert geom.geom_type == "Polygon"
    assert geom.area == pytest.approx((E - W) * (N - S))
    assert geom.covers(shapely.Point(106.71, 26.58))


def test_valid_multipolygon_and_feature_wrapper() -> None:
    multi = {
        "type": "MultiPolygon",
        "coordinates": [square(W, S, MID, GRID_N)["coordinates"], square(106.73, S, 106.74, GRID_N)["coordinates"]],
    }
    geom = geo.validate_boundary(multi)
    assert geom.geom_type == "MultiPolygon" and len(geom.geoms) == 2
    feature = geo.validate_boundary({"type": "Feature", "properties": {}, "geometry": square(W, S, E, N)})
    assert feature.geom_type == "Polygon"


def test_polygon_with_hole_is_valid() -> None:
    shell = square(W, S, E, N)["coordinates"][0]
    hole = [[106.705, 26.575], [106.706, 26.575], [106.706, 26.576], [106.705, 26.575]]
    geom = geo.validate_boundary({"type": "Polygon", "coordinates": [shell, hole]})
    assert not geom.covers(shapely.Point(106.7058, 26.5752))


def test_bow_tie_is_rejected_as_self_intersection_at_the_crossing() -> None:
    bow_tie = {"type": "Polygon", "coordinates": [[[W, S], [E, N], [E, S], [W, N], [W, S]]]}
    with pytest.raises(geo.BoundaryError) as err:
        geo.validate_boundary(bow_tie)
    assert err.value.code == "self_intersection"
    assert "自相交" in err.value.reason
    # The crossing of the two diagonals is at the centre (106.71, 26.58): the message names it.
    assert "106.71" in err.value.reason and "26.58" in err.value.reason
    assert str(err.value) == err.value.reason


def test_overlapping_multipolygon_is_rejected() -> None:
    multi = {"type": "MultiPolygon", "coordinates": [square(W, S, MID, N)["coordinates"], square(106.705, S, E, N)["coordinates"]]}
    with pytest.raises(geo.BoundaryError) as err:
        geo.validate_boundary(multi)
    assert err.value.code == "self_intersection"


@pytest.mark.parametrize(
    "boundary",
    [
        {"type": "Polygon", "coordinates": []},
        {"type": "Polygon", "coordinates": [[]]},
        {"type": "MultiPolygon", "coordinates": []},
    ],
)
def test_empty_shapes_are_rejected(boundary: dict[str, Any]) -> None:
    with pytest.raises(geo.BoundaryError) as err:
        geo.validate_boundary(boundary)
    assert err.value.code == "empty"
    assert "为空" in err.value.reason


def test_unclosed_ring_is_rejected() -> None:
    ring = square(W, S, E, N)["coordinates"][0][:-1]  # four corners, last != first
    with pytest.raises(geo.BoundaryError) as err:
        geo.validate_boundary({"type": "Polygon", "coordinates": [ring]})
    assert err.value.code == "ring_not_closed"
    assert "闭合" in err.value.reason


def test_ring_with_too_few_points_is_rejected() -> None:
    with pytest.raises(geo.BoundaryError) as err:
        geo.validate_boundary({"type": "Polygon", "coordinates": [[[W, S], [E, S], [W, S]]]})
    assert err.value.code == "too_few_points"
    assert "3 个点" in err.value.reason


def test_collinear_ring_is_rejected_as_zero_area() -> None:
    with pytest.raises(geo.BoundaryError) as err:
        geo.validate_boundary({"type": "Polygon", "coordinates": [[[W, S], [MID, S], [E, S], [W, S]]]})
    assert err.value.code == "zero_area"


@pytest.mark.parametrize(
    "boundary",
    [
        {"type": "Point", "coordinates": [W, S]},
        {"type": "LineString", "coordinates": [[W, S], [E, N]]},
        {"type": "FeatureCollection", "features": []},
        {"coordinates": []},
    ],
)
def test_wrong_geometry_types_are_rejected(boundary: dict[str, Any]) -> None:
    with pytest.raises(geo.BoundaryError) as err:
        geo.validate_boundary(boundary)
    assert err.value.code == "wrong_type"
    assert "Polygon" in err.value.reason


@pytest.mark.parametrize("value", [None, "POLYGON((0 0, 1 0, 1 1, 0 0))", [[0, 0]]])
def test_non_objects_are_rejected(value: Any) -> None:
    with pytest.raises(geo.BoundaryError) as err:
        geo.validate_boundary(value)
    assert err.value.code == "not_object"


@pytest.mark.parametrize(
    "ring",
    [
        [[W, S], [E, S], ["106.72", N], [W, S]],
        [[W, S], [E, S], [E, None], [W, S]],
        [[W, S], [E, S], [E], [W, S]],
        [[W, S], [E, S], [E, float("nan")], [W, S]],
        [[W, S], [E, S], [True, N], [W, S]],
    ],
)
def test_malformed_coordinates_are_rejected(ring: list[Any]) -> None:
    with pytest.raises(geo.BoundaryError) as err:
        geo.validate_boundary({"type": "Polygon", "coordinates": [ring]})
    assert err.value.code == "bad_coordinates"
    assert "第 3 个点" in err.value.reason


def test_out_of_range_coordinates_are_rejected_with_order_hint() -> None:
    # [lat, lon] instead of [lon, lat]: 106.7 is not a latitude.
    swapped = {"type": "Polygon", "coordinates": [[[S, W], [S, E], [N, E], [N, W], [S, W]]]}
    with pytest.raises(geo.BoundaryError) as err:
        geo.validate_boundary(swapped)
    assert err.value.code == "out_of_range"
    assert "[经度, 纬度]" in err.value.reason
    with pytest.raises(geo.BoundaryError) as err:
        geo.validate_boundary(square(179.5, 0, 181, 1))
    assert err.value.code == "out_of_range"


def test_unit_create_refuses_an_invalid_boundary(db) -> None:
    city = services.unit_create(actor=None, code="5201", name="贵阳市", kind="city", parent=None)
    with pytest.raises(geo.BoundaryError):
        services.unit_create(
            actor=None, code="520102", name="南明区", kind="district", parent=city,
            boundary={"type": "Polygon", "coordinates": [[[W, S], [E, N], [E, S], [W, N], [W, S]]]},
        )
    assert not OrgUnit.objects.filter(code="520102").exists()


# ----------------------------------------------------------------------------- location


def test_point_inside_a_grid_returns_the_grid_not_its_community(tree: dict[str, OrgUnit]) -> None:
    assert geo.locate(26.575, 106.705) == tree["g1"]
    assert geo.locate(26.575, 106.715) == tree["g2"]
    assert geo.locate_unit_id(26.575, 106.715) == tree["g2"].pk


def test_point_in_community_outside_every_grid_returns_the_community(tree: dict[str, OrgUnit]) -> None:
    assert geo.locate(26.585, 106.705) == tree["community"]


def test_point_outside_every_boundary_returns_none(tree: dict[str, OrgUnit]) -> None:
    assert geo.locate(26.60, 106.705) is None
    assert geo.locate(0.0, 0.0) is None
    assert geo.locate_unit_id(float("nan"), 106.705) is None


def test_point_on_shared_edge_goes_to_the_smallest_code(tree: dict[str, OrgUnit]) -> None:
    # (26.575, 106.71) is on the edge shared by both grids; g1 has the smaller code.
    assert tree["g1"].code < tree["g2"].code
    assert [geo.locate(26.575, MID) for _ in range(3)] == [tree["g1"]] * 3
    # The same answer whatever order the regions are given in.
    regions = [
        (tree[k].pk, tree[k].depth, tree[k].code, geo.validate_boundary(tree[k].boundary)) for k in ("g2", "community", "g1")
    ]
    assert geo.Locator(regions).locate_unit_id(26.575, MID) == tree["g1"].pk
    assert geo.Locator(list(reversed(regions))).locate_unit_id(26.575, MID) == tree["g1"].pk


def test_point_on_a_vertex_counts_as_inside(tree: dict[str, OrgUnit]) -> None:
    assert geo.locate(S, W) == tree["g1"]  # outer corner of g1 and of the community
    assert geo.locate(S, E) == tree["g2"]  # outer corner of g2
    assert geo.locate(GRID_N, MID) == tree["g1"]  # corner shared by both grids
    assert geo.locate(N, E) == tree["community"]  # community corner, no grid there


def test_inactive_units_are_not_located(tree: dict[str, OrgUnit]) -> None:
    services.unit_update(actor=None, unit=tree["g1"], is_active=False)
    assert geo.locate(26.575, 106.705) == tree["community"]


def test_locator_is_cached_and_rebuilt_after_a_boundary_change(tree: dict[str, OrgUnit]) -> None:
    first = geo.locator()
    assert geo.locator() is first
    assert geo.locate(26.585, 106.715) == tree["community"]

    # Move g2 north: the point now lies in g2, and the old place in no grid.
    services.unit_update(actor=None, unit=tree["g2"], boundary=square(MID, GRID_N, E, N))
    assert geo.locator() is not first
    assert geo.locate(26.585, 106.715) == tree["g2"]
    assert geo.locate(26.575, 106.715) == tree["community"]


def test_new_unit_is_located_after_creation(tree: dict[str, OrgUnit]) -> None:
    assert geo.locate(26.605, 106.705) is None
    committee = tree["g1"].parent
    g3 = services.unit_create(
        actor=None, code="520102001001003", name="三网格", kind="grid", parent=committee, boundary=square(W, N, MID, 26.61)
    )
    assert geo.locate(26.605, 106.705) == g3


def test_locate_many_agrees_with_single_point_locate(tree: dict[str, OrgUnit]) -> None:
    rng = np.random.default_rng(7)
    lats = rng.uniform(S - 0.01, N + 0.01, 500)
    lons = rng.uniform(W - 0.01, E + 0.01, 500)
    lats[:3] = [26.575, S, 26.60]
    lons[:3] = [MID, W, 106.705]
    bulk = geo.locate_many(lats, lons)
    assert bulk == [geo.locate_unit_id(a, b) for a, b in zip(lats, lons, strict=True)]
    assert bulk[:3] == [tree["g1"].pk, tree["g1"].pk, None]
    found = set(bulk)
    assert {tree["g1"].pk, tree["g2"].pk, tree["community"].pk, None} <= found


def test_locator_without_database_prefers_depth_then_code() -> None:
    big = shapely.box(0, 0, 10, 10)
    left, right = shapely.box(0, 0, 5, 10), shapely.box(5, 0, 10, 10)
    locator = geo.Locator([(1, 2, "C", big), (3, 4, "B", right), (2, 4, "A", left)])
    assert len(locator) == 3
    assert locator.locate_unit_id(5, 2) == 2  # inside left, deeper than big
    assert locator.locate_unit_id(5, 7) == 3
    assert locator.locate_unit_id(5, 5) == 2  # shared edge: code "A" < "B"
    assert locator.locate_unit_id(11, 5) is None
    ids = locator.locate_ids(np.array([5.0, 5.0, 5.0, 11.0]), np.array([2.0, 7.0, 5.0, 5.0]))
    assert ids.tolist() == [2, 3, 2, -1]
    assert geo.Locator([]).locate_many([1.0], [1.0]) == [None]


def test_concurrent_first_use_builds_the_locator_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    calls: list[int] = []

    def slow_load() -> list[geo.Region]:
        calls.append(1)
        time.sleep(0.05)  # long enough for every thread to arrive while the build runs
        return [(1, 4, "A", shapely.box(0, 0, 1, 1))]

    monkeypatch.setattr(geo, "_load_regions", slow_load)
    results: list[geo.Locator] = []
    threads = [threading.Thread(target=lambda: results.append(geo.locator())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len(results) == 8 and all(r is results[0] for r in results)
    assert results[0].locate_unit_id(0.5, 0.5) == 1


def test_build_that_raced_with_an_invalidation_is_not_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def load_while_someone_saves() -> list[geo.Region]:
        calls.append(1)
        if len(calls) == 1:
            geo.invalidate_locator()  # a boundary saved while the old rows were being read
        return [(1, 4, "A", shapely.box(0, 0, 1, 1))]

    monkeypatch.setattr(geo, "_load_regions", load_while_someone_saves)
    first = geo.locator()
    second = geo.locator()
    assert first is not second and len(calls) == 2
    assert geo.locator() is second and len(calls) == 2


def test_concurrent_bulk_queries_agree_with_a_sequential_run() -> None:
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(3)
    cells = [(i * 10 + j, 4, f"G{i:02d}{j:02d}", shapely.box(j, i, j + 1, i + 1)) for i in range(10) for j in range(10)]
    lats, lons = rng.uniform(-0.5, 10.5, 20_000), rng.uniform(-0.5, 10.5, 20_000)
    expected = geo.Locator(cells).locate_ids(lats, lons)
    fresh = geo.Locator(cells)  # first queries on it run in parallel
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: fresh.locate_ids(lats, lons), range(8)))
    assert all(np.array_equal(r, expected) for r in results)
