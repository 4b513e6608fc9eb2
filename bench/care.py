"""Benchmark care at scale: the overdue-visit lists and the metrics over 100,000 enrolments, each beside
hand-written SQL doing the same work in the same run (results compared).

Run from the repository root: ``./zc bench care [--enrolments 100000] [--database-url URL]``. It works in its
own database, never the development one: the name must contain "bench" (default
``postgres://postgres@127.0.0.1:5432/zhucheng_bench_care``, created and migrated when missing; SQLite only
with ``--allow-sqlite``). The first run builds a city of 2 districts × 10 communities × 10 grids, one grid
worker per grid, registry persons, enrolments in seven categories (two sensitive) with plans and two visits
each; later runs reuse them.

(a) ``selectors.overdue_for_carer`` (one grid worker's list) and ``selectors.overdue_in`` (a city-wide
    worker's first page and count, sensitive categories filtered out) against raw SQL;
(b) ``selectors.overdue_by_carer`` for the city against one GROUP BY;
(c) ``metrics.enrolled_by_category_and_unit`` (per district) and ``metrics.visits_on_time`` against raw SQL.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/zhucheng_bench_care"
SQLITE_URL = f"sqlite:///{ROOT / 'var' / 'zhucheng_bench_care.sqlite3'}"


def _guard(url: str, allow_sqlite: bool) -> None:
    if url.startswith("sqlite"):
        if not allow_sqlite:
            sys.exit("bench care: refusing SQLite without --allow-sqlite")
        if "bench" not in Path(urlparse(url).path).name:
            sys.exit("bench care: the SQLite file name must contain 'bench'")
        return
    if "bench" not in urlparse(url).path:
        sys.exit("bench care: the database name must contain 'bench'")


def _create_pg_database(url: str) -> None:
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def _setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhucheng.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0, skip_checks=True)


def _build(n: int) -> None:
    """City, staff, persons, enrolments (with consent, plan, two visits each). Skipped when already there."""
    from django.db import transaction
    from django.utils import timezone

    from zhucheng.accounts.models import User
    from zhucheng.care.models import CareCategory, CarePlan, Consent, Enrolment, Visit
    from zhucheng.places.models import Membership, OrgUnit, Role
    from zhucheng.registry.models import Person

    if Enrolment.objects.count() >= n:
        return
    t0 = time.perf_counter()
    rng = random.Random(7)
    today = timezone.localdate()
    with transaction.atomic():
        city, _ = OrgUnit.objects.get_or_create(code="8801", defaults={"name": "基准市", "kind": "city"})
        grids = []
        for d in range(2):
            district, _ = OrgUnit.objects.get_or_create(code=f"8801{d:02d}", defaults={"name": f"基准区{d}", "kind": "district", "parent": city})
            for c in range(10):
                community, _ = OrgUnit.objects.get_or_create(code=f"{district.code}{c:03d}", defaults={"name": f"社区{d}-{c}", "kind": "community", "parent": district})
                for g in range(10):
                    grid, _ = OrgUnit.objects.get_or_create(code=f"{community.code}{g:03d}", defaults={"name": f"网格{d}-{c}-{g}", "kind": "grid", "parent": community})
                    grids.append(grid)
        workers = []
        for grid in grids:
            u, created = User.objects.get_or_create(username=f"bench_grid_{grid.code}", defaults={"display_name": f"网格员{grid.code[-5:]}"})
            if created:
                Membership.objects.create(user=u, role=Role.GRID_WORKER, unit=grid)
            workers.append(u)
        boss, created = User.objects.get_or_create(username="bench_city", defaults={"display_name": "市级专干"})
        if created:
            Membership.objects.create(user=boss, role=Role.COMMUNITY_STAFF, unit=city)
        cats = []
        for i, (code, sens) in enumerate((("empty_nest", "ordinary"), ("left_behind_child", "ordinary"), ("left_behind_woman", "ordinary"), ("disabled", "ordinary"),
                                          ("poor", "ordinary"), ("mental", "sensitive"), ("hiv", "sensitive"))):
            cat, _ = CareCategory.objects.get_or_create(code=code, defaults={"name": code, "sensitivity": sens, "order": i})
            cats.append(cat)
        existing = Person.objects.filter(unit__path__startswith=city.path).count()
        persons = [
            Person(name=f"基准{i}", id_number=f"8801{i:014d}", sex="F" if i % 2 else "M", birth_date=date(1940 + i % 60, 1 + i % 12, 1 + i % 28), unit=grids[i % len(grids)])
            for i in range(existing, n)
        ]
        Person.objects.bulk_create(persons, batch_size=5000)
        people = list(Person.objects.filter(unit__path__startswith=city.path).values_list("pk", "unit_id").order_by("pk")[:n])
        worker_of = {g.pk: w for g, w in zip(grids, workers, strict=True)}
        enrolments = []
        for i, (pk, unit_id) in enumerate(people):
            start = today - timedelta(days=rng.randrange(30, 700))
            cat = cats[rng.choices(range(7), weights=[40, 20, 10, 12, 10, 5, 3])[0]]
            enrolments.append(Enrolment(person_id=pk, category=cat, unit_id=unit_id, enrolled_on=start, carer=worker_of[unit_id],
                                        risk_level=rng.choice(["low", "medium", "high"]), review_on=start + timedelta(days=180),
                                        state="active" if i % 20 else "ended"))
        Enrolment.objects.bulk_create(enrolments, batch_size=5000)
        consents, plans, visits = [], [], []
        for e in enrolments:
            consents.append(Consent(enrolment=e, given_by="self", given_on=e.enrolled_on, form="written", withdrawal_method="致电居委会"))
            interval = {"high": 7, "medium": 15, "low": 30}[e.risk_level]
            v1 = e.enrolled_on + timedelta(days=interval + rng.randrange(-2, 6))
            v2 = v1 + timedelta(days=interval + rng.randrange(-2, 6))
            last = None
            for day, due in ((v1, e.enrolled_on + timedelta(days=interval)), (v2, v1 + timedelta(days=interval))):
                if day < today:
                    visits.append(Visit(enrolment=e, visited_on=day, due_on=due, kind="home", situation="基准走访"))
                    last = day
            nxt = (last or e.enrolled_on) + timedelta(days=interval)
            if rng.random() < 0.7:  # most plans have been kept up to date by later visits
                nxt = today + timedelta(days=rng.randrange(-5, 30))
            plans.append(CarePlan(enrolment=e, interval_days=interval, last_visit_on=last, next_due_on=nxt))
        Consent.objects.bulk_create(consents, batch_size=5000)
        CarePlan.objects.bulk_create(plans, batch_size=5000)
        Visit.objects.bulk_create(visits, batch_size=5000)
    print(f"built {len(enrolments):,} enrolments, {len(visits):,} visits in {time.perf_counter() - t0:.1f} s")


def _time(fn: Callable[[], Any], repeat: int = 5) -> tuple[float, Any]:
    result = fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000, result


def _sql(query: str, params: list[Any]) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(query, params)
        return [tuple(r) for r in cur.fetchall()]


def run(repeat: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from zhucheng.accounts.models import User
    from zhucheng.care import access, metrics, selectors
    from zhucheng.places.models import OrgUnit
    from zhucheng.places.selectors import forget_scope

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:  # fresh statistics, as autovacuum would have after a bulk load
            cur.execute("ANALYZE")
    today = timezone.localdate()
    city = OrgUnit.objects.get(code="8801")
    worker = User.objects.filter(username__startswith="bench_grid_").order_by("username").first()
    assert worker is not None, "run the build first"
    boss = User.objects.get(username="bench_city")
    rows: list[tuple[str, float, float]] = []

    def fresh(u: Any) -> Any:
        forget_scope(u)
        access.forget(u)
        return u

    # (a) one carer's overdue list
    orm_ms, orm = _time(lambda: [e.pk for e in selectors.overdue_for_carer(fresh(worker), on=today)[:100]], repeat)
    sql_ms, raw = _time(lambda: [r[0] for r in _sql(
        "SELECT e.id FROM care_enrolment e JOIN care_careplan p ON p.enrolment_id = e.id JOIN care_carecategory c ON c.id = e.category_id "
        "JOIN places_orgunit u ON u.id = e.unit_id WHERE e.carer_id = %s AND e.state = 'active' AND p.next_due_on < %s "
        "AND c.sensitivity = 'ordinary' AND u.path LIKE %s ORDER BY p.next_due_on, e.id LIMIT 100",
        [worker.pk, today, OrgUnit.objects.get(memberships__user=worker).path + "%"])], repeat)
    assert orm == raw, "overdue_for_carer differs from SQL"
    rows.append(("overdue_for_carer (100 rows)", orm_ms, sql_ms))

    # (a') city-wide page and count
    def orm_city() -> tuple[int, list[int]]:
        qs = selectors.overdue_in(fresh(boss), unit=city, on=today)
        return qs.count(), [e.pk for e in qs[:50]]

    base = ("FROM care_enrolment e JOIN care_careplan p ON p.enrolment_id = e.id JOIN care_carecategory c ON c.id = e.category_id "
            "JOIN places_orgunit u ON u.id = e.unit_id WHERE e.state = 'active' AND p.next_due_on < %s AND c.sensitivity = 'ordinary' AND u.path LIKE %s")

    def sql_city() -> tuple[int, list[int]]:
        n = _sql("SELECT count(*) " + base, [today, city.path + "%"])[0][0]
        return n, [r[0] for r in _sql("SELECT e.id " + base + " ORDER BY p.next_due_on, e.id LIMIT 50", [today, city.path + "%"])]

    orm_ms, orm = _time(orm_city, repeat)
    sql_ms, raw = _time(sql_city, repeat)
    assert orm == raw, "overdue_in differs from SQL"
    rows.append((f"overdue_in city: count ({orm[0]:,}) + first page", orm_ms, sql_ms))

    # (b) per carer
    orm_ms, orm = _time(lambda: sorted((r.key, r.active, r.overdue) for r in selectors.overdue_by_carer(fresh(boss), unit=city, on=today)), repeat)
    sql_ms, raw = _time(lambda: sorted(_sql(
        "SELECT e.carer_id, count(*), count(*) FILTER (WHERE p.next_due_on < %s) " + base.replace("AND p.next_due_on < %s ", "") + " GROUP BY e.carer_id"
        if _vendor() == "postgresql" else
        "SELECT e.carer_id, count(*), sum(CASE WHEN p.next_due_on < %s THEN 1 ELSE 0 END) " + base.replace("AND p.next_due_on < %s ", "") + " GROUP BY e.carer_id",
        [today, city.path + "%"])), repeat)
    assert orm == raw, "overdue_by_carer differs from SQL"
    rows.append((f"overdue_by_carer ({len(orm)} carers)", orm_ms, sql_ms))

    # (c) metrics
    def orm_enrolled() -> list[tuple[str, list[Any]]]:
        return metrics.enrolled_by_category_and_unit(fresh(boss), root=city).rows

    def sql_enrolled() -> list[tuple[str, list[Any]]]:
        got = _sql(
            "SELECT d.name, e.category_id, count(*) FROM care_enrolment e JOIN places_orgunit u ON u.id = e.unit_id "
            "JOIN places_orgunit d ON u.path LIKE d.path || '%%' AND d.parent_id = %s WHERE e.state = 'active' GROUP BY d.name, e.category_id",
            [city.pk])
        cats = list(metrics._categories())
        out = []
        for d in OrgUnit.objects.filter(parent=city).order_by("code"):
            counts = {c: n for name, c, n in got if name == d.name}
            out.append((d.name, [metrics.cell(counts.get(c.pk, 0), c.is_sensitive) for c in cats]))
        return out

    orm_ms, orm = _time(orm_enrolled, repeat)
    sql_ms, raw = _time(sql_enrolled, repeat)
    assert orm == raw, "enrolled_by_category_and_unit differs from SQL"
    rows.append(("metrics.enrolled_by_category_and_unit", orm_ms, sql_ms))

    start, end = today - timedelta(days=365), today + timedelta(days=1)
    orm_ms, orm = _time(lambda: [(r.category.pk, r.visits, r.on_time) for r in metrics.visits_on_time(fresh(boss), root=city, date_from=start, date_to=end, on=today)], repeat)

    def sql_visits() -> list[tuple[int, Any, Any]]:
        got = {c: (n, ok) for c, n, ok in _sql(
            "SELECT e.category_id, count(*), sum(CASE WHEN v.visited_on <= v.due_on THEN 1 ELSE 0 END) FROM care_visit v "
            "JOIN care_enrolment e ON e.id = v.enrolment_id JOIN places_orgunit u ON u.id = e.unit_id "
            "WHERE v.visited_on >= %s AND v.visited_on < %s AND u.path LIKE %s GROUP BY e.category_id", [start, end, city.path + "%"])}
        return [(c.pk, metrics.cell(got.get(c.pk, (0, 0))[0], c.is_sensitive), metrics.cell(got.get(c.pk, (0, 0))[1], c.is_sensitive)) for c in metrics._categories()]

    sql_ms, raw = _time(sql_visits, repeat)
    assert orm == raw, "visits_on_time differs from SQL"
    rows.append(("metrics.visits_on_time (last year)", orm_ms, sql_ms))

    print(f"\n{'measure':<48} {'selector ms':>12} {'raw SQL ms':>12} {'ratio':>7}")
    for name, a, b in rows:
        print(f"{name:<48} {a:>12.1f} {b:>12.1f} {a / b if b else float('nan'):>7.2f}")


def _vendor() -> str:
    from django.db import connection

    return connection.vendor


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--allow-sqlite", action="store_true")
    parser.add_argument("--enrolments", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    url = args.database_url or (SQLITE_URL if args.allow_sqlite else DEFAULT_URL)
    _guard(url, args.allow_sqlite)
    if url.startswith("postgres"):
        _create_pg_database(url)
    _setup(url)
    _build(args.enrolments)
    from django.db import connection

    print(f"database: {connection.vendor}; enrolments: {args.enrolments:,}")
    run(args.repeat)


if __name__ == "__main__":
    main()
