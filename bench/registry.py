"""Benchmark the registry on PostgreSQL: bulk loading against a bare COPY of the same file, exact ID
lookup, name search within a district, and the five-knowns completeness of every grid.

Run from the repository root: ``./zc bench registry [--persons N] [--quick] [--db NAME] [--keep]``.

It works in its own database (``zhucheng_bench_registry`` unless ``--db``), dropped and created at
the start and dropped at the end unless ``--keep``: never the development database. The server is
``DATABASE_URL_PG`` (default ``postgres://postgres@127.0.0.1:5432/postgres``), as ``./zc test`` uses.

Steps: the demo city (10,173 grids) and logins → buildings and housing units for N persons (2.4
million units for 6.48 million people) → a CSV of the N persons in ``load_registry``'s format →
a bare ``COPY`` of that file into an all-text table with no index (the baseline) → ``load_registry``
of the same file (check every row against the collection standard, stage, resolve, encrypt,
insert persons, residences and jobs, build the indexes, refresh the five knowns) → exact ID
lookups (a city leader), name searches (a district supervisor), completeness of every grid.
Prints a table; targets are those of issue 5.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

TARGETS = {"ratio": 0.5, "id_p95_ms": 5.0, "name_p95_ms": 100.0, "completeness_s": 2.0}


class Quiet:
    def write(self, msg: str = "", style_func: Any = None, ending: Any = None) -> None:
        pass


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def make_database(base: str, name: str) -> str:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.rsplit("/", 1)[0] + "/" + name


def drop_database(base: str, name: str) -> None:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def percentile_ms(samples: list[float], q: float) -> float:
    return float(np.percentile(np.array(samples) * 1000, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=6_500_000, help="persons in the file (default 6,500,000)")
    parser.add_argument("--quick", action="store_true", help="200,000 persons")
    parser.add_argument("--db", default="zhucheng_bench_registry", help="the benchmark's own database (dropped and created)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--seed", type=int, default=20141114)
    parser.add_argument("--lookups", type=int, default=1000)
    parser.add_argument("--searches", type=int, default=300)
    args = parser.parse_args()
    persons = 200_000 if args.quick else args.persons
    if args.db in ("zhucheng", "postgres", "template0", "template1"):
        parser.error("choose a database of the benchmark's own")
    base = os.environ.get("DATABASE_URL_PG", "postgres://postgres@127.0.0.1:5432/postgres")
    url = make_database(base, args.db)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhucheng.settings")
    import django

    django.setup()
    try:
        run(args, persons)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(base, args.db)


def copy_from_file(raw: Any, statement: str, path: Path) -> None:
    """Feed a file to ``COPY … FROM STDIN`` on a psycopg cursor, 4 MB at a time."""
    with path.open("rb") as fh, raw.copy(statement) as copy:
        for block in iter(lambda: fh.read(1 << 22), b""):
            copy.write(block)


FLOOR_TABLES = ("registry_person", "registry_residence", "registry_employment")


def finished_rows_copy(tmp: Path) -> dict[str, Any]:
    """The least any loader of this file must do in the database: write the rows it produced.

    The persons, residences and jobs ``load_registry`` wrote are exported (binary ``COPY``, not
    timed) and then, timed, copied into empty tables of the same columns and put under the same
    indexes, built after the data as the loader does. Nothing is read, checked, resolved or
    encrypted, no foreign key is checked and the five knowns are not refreshed, so this is a floor:
    no loader that writes these tables can be faster on this machine. Each index's build time is
    returned too.
    """
    from django.db import connection, transaction

    files, indexes = {}, []
    with connection.cursor() as cur:
        raw: Any = cur.cursor
        for table in FLOOR_TABLES:
            files[table] = tmp / f"{table}.bin"
            with (
                files[table].open("wb") as out,
                raw.copy(f"COPY (SELECT * FROM {table} WHERE source = 'import') TO STDOUT (FORMAT binary)") as copy,
            ):
                for block in copy:
                    out.write(block)
            cur.execute(f"DROP TABLE IF EXISTS bench_floor_{table}")
            cur.execute(f"CREATE TABLE bench_floor_{table} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
            cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = %s", [table])
            for name, definition in cur.fetchall():
                head, _, tail = definition.partition(f" ON public.{table} ")
                indexes.append(
                    (name, head.replace(f" INDEX {name}", f" INDEX bench_floor_{name}") + f" ON bench_floor_{table} " + tail)
                )
    builds: dict[str, float] = {}
    with transaction.atomic(), connection.cursor() as cur:
        raw = cur.cursor
        cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
        t0 = time.perf_counter()
        for table in FLOOR_TABLES:
            copy_from_file(raw, f"COPY bench_floor_{table} FROM STDIN (FORMAT binary)", files[table])
        t_copy = time.perf_counter() - t0
        for name, definition in indexes:
            t = time.perf_counter()
            cur.execute(definition)
            builds[name] = time.perf_counter() - t
    with connection.cursor() as cur:
        for table in FLOOR_TABLES:
            cur.execute(f"DROP TABLE bench_floor_{table}")
            files[table].unlink()
    return {"copy": t_copy, "indexes": sum(builds.values()), "builds": builds}


def run(args: argparse.Namespace, persons: int) -> None:
    import pyarrow.csv as pacsv
    from django.core.management import call_command
    from django.db import connection, transaction

    from zhucheng.accounts.models import User
    from zhucheng.core import demo
    from zhucheng.places.models import OrgUnit
    from zhucheng.registry import bulk, citygen, completeness, loader, selectors

    say(f"database {connection.settings_dict['NAME']}: migrate, demo city (full) and logins")
    call_command("migrate", verbosity=0, skip_checks=True)
    demo.run(size="full", stdout=Quiet(), seeders=[s for s in demo.discover() if s.app_label in ("places", "accounts")])
    city = OrgUnit.objects.get(code="5201")
    grids = citygen.grids_under(city)
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    gen = citygen.CityGenerator(rng, grids, persons)
    gen.housing()
    gen.population()
    with transaction.atomic(), bulk.constraints_deferred("registry_building", "registry_housingunit"):
        bulk.write_table("registry_building", gen.plan.tables["registry_building"])
        bulk.write_table("registry_housingunit", gen.vacant_units_table())
    bulk.analyze("registry_building", "registry_housingunit")
    say(
        f"{len(grids):,} grids, {gen.plan.counts['buildings']:,} buildings, {gen.n_units:,} housing units ({time.perf_counter() - t0:.0f} s)"
    )

    with tempfile.TemporaryDirectory(prefix="zc-bench-") as tmp:
        path = Path(tmp) / "persons.csv"
        table = gen.import_table()
        pacsv.write_csv(table, path, pacsv.WriteOptions(include_header=True, quoting_style="needed"))
        size_mb = path.stat().st_size / 1e6
        say(f"persons file: {table.num_rows:,} rows, {size_mb:,.0f} MB")
        columns = table.column_names
        del table

        # Baseline: the same file into a plain all-text table, nothing checked, nothing encrypted.
        with connection.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS bench_bare")
            cur.execute("CREATE TABLE bench_bare (" + ", ".join(f'"{c}" text' for c in columns) + ")")
        t0 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cur:
            copy_from_file(cur.cursor, "COPY bench_bare FROM STDIN WITH (FORMAT csv, HEADER true)", path)
        t_copy = time.perf_counter() - t0
        say(f"bare COPY: {persons / t_copy:,.0f} rows/s ({t_copy:.1f} s)")
        with connection.cursor() as cur:
            cur.execute("DROP TABLE bench_bare")

        t0 = time.perf_counter()
        report = loader.load_file(
            path, commit=True, progress=True, on_stage=lambda name, s: say(f"  load stage {name}: {s:.1f} s")
        )
        t_load = time.perf_counter() - t0
        say(
            f"load_registry: {report.inserted:,} inserted, {report.rejected_rows:,} rejected, {persons / t_load:,.0f} rows/s ({t_load:.1f} s)"
        )
        ids = gen.plain["id_number"]
        names = gen.plain["name"]
        floor = finished_rows_copy(Path(tmp))
        say(
            f"finished rows alone: COPY {floor['copy']:.1f} s, indexes {floor['indexes']:.1f} s "
            f"({persons / (floor['copy'] + floor['indexes']):,.0f} rows/s)"
        )

    # Queries are measured in the steady state autovacuum reaches a minute later: visibility map
    # set, and statistics for every table (the demo city's units were bulk-created, never analysed).
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("VACUUM (ANALYZE) registry_housingunit")
        cur.execute("VACUUM (ANALYZE) registry_person")
        cur.execute("ANALYZE")
    t_vacuum = time.perf_counter() - t0

    leader = User.objects.get(username="leader")
    supervisor = User.objects.get(username="supervisor")  # 南明区
    district = OrgUnit.objects.get(code="520102")
    sample = np.random.default_rng(7)

    picks = sample.choice(len(ids), size=min(args.lookups, len(ids)), replace=False)
    for i in picks[:50]:  # warm-up
        selectors.person_find_by_id_number(leader, str(ids[i]))
    id_times, found = [], 0
    for i in picks:
        t = time.perf_counter()
        person = selectors.person_find_by_id_number(leader, str(ids[i]))
        id_times.append(time.perf_counter() - t)
        found += person is not None and person.name == names[i]

    in_district = np.flatnonzero(
        np.array([grids[g].district_code == "520102" for g in gen.unit_grid_index[gen.p["unit"]].tolist()])
    )
    queries = [str(names[i]) for i in sample.choice(in_district, size=args.searches * 2 // 3, replace=False)]
    queries += [str(names[i])[:2] for i in sample.choice(in_district, size=args.searches // 3, replace=False)]
    for q in queries[:30]:
        selectors.persons_search_name(supervisor, q)
    name_times, hits = [], 0
    for q in queries:
        t = time.perf_counter()
        result = selectors.persons_search_name(supervisor, q)
        name_times.append(time.perf_counter() - t)
        hits += bool(result)
    assert all(p.unit.path.startswith(district.path) for p in selectors.persons_search_name(supervisor, queries[0]))

    comp_times = []
    for _ in range(3):
        t = time.perf_counter()
        rows = completeness.completeness_by_grid()
        comp_times.append(time.perf_counter() - t)
    total = sum(r.units for r in rows.values())
    complete = sum(r.complete for r in rows.values())

    ratio = (persons / t_load) / (persons / t_copy)
    id_p95, name_p95 = percentile_ms(id_times, 95), percentile_ms(name_times, 95)
    print()
    print(f"registry benchmark: {persons:,} persons, {gen.n_units:,} housing units, {len(grids):,} grids, file {size_mb:,.0f} MB")
    header = f"{'measure':<44}{'figure':>18}{'target':>14}"
    print(header)
    print("-" * len(header))
    print(f"{'bare COPY of the file (rows/s)':<44}{persons / t_copy:>18,.0f}{'':>14}")
    print(f"{'load_registry (rows/s)':<44}{persons / t_load:>18,.0f}{'':>14}")
    print(f"{'load / COPY':<44}{ratio:>18.2f}{'>= ' + str(TARGETS['ratio']):>14}")
    t_floor = floor["copy"] + floor["indexes"]
    print(f"{'finished rows alone (rows/s), see below':<44}{persons / t_floor:>18,.0f}{'':>14}")
    print(f"{'finished rows alone / COPY: the ceiling':<44}{t_copy / t_floor:>18.2f}{'':>14}")
    print(f"{'exact ID lookup p50 / p95 (ms)':<44}{percentile_ms(id_times, 50):>9.2f} / {id_p95:>6.2f}{'<= 5':>14}")
    print(
        f"{'name search in a district p50 / p95 (ms)':<44}{percentile_ms(name_times, 50):>9.2f} / {name_p95:>6.2f}{'<= 100':>14}"
    )
    print(f"{'completeness of every grid (s, best of 3)':<44}{min(comp_times):>18.2f}{'<= 2':>14}")
    print()
    print(
        "load stages (s): "
        + ", ".join(f"{k} {v:.1f}" for k, v in report.timings.items())
        + f"; VACUUM and ANALYZE afterwards {t_vacuum:.1f}"
    )
    slowest = sorted(floor["builds"].items(), key=lambda kv: -kv[1])[:4]
    print(
        f"finished rows alone: COPY of persons, residences and jobs {floor['copy']:.1f} s, {len(floor['builds'])} indexes {floor['indexes']:.1f} s "
        "(" + ", ".join(f"{k} {v:.1f}" for k, v in slowest) + ")"
    )
    print(f"rows checked on the fast path: {report.fast_rows:,} of {report.rows:,}; rejected {report.rejected_rows:,}")
    print(f"ID lookups: {found} of {len(picks)} found the right person; name searches: {hits} of {len(queries)} found someone")
    print(
        f"completeness: {len(rows):,} grids, {total:,} units, {complete:,} with all five known ({complete / max(total, 1):.1%})"
    )


if __name__ == "__main__":
    main()
