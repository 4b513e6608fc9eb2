"""Benchmark mediation on a city-sized database: the coverage board and the metrics for the whole city,
each beside hand-written SQL doing the same work, and session booking throughput.

Run from the repository root: ``./zc bench mediation [--scale 5] [--database-url URL]``. It works in
its own database, never the development one: the name must contain "bench" (default
``postgres://postgres@127.0.0.1:5432/zhucheng_bench_mediation``, created and migrated when missing;
SQLite only with ``--allow-sqlite``). The first run loads the full demo city (10,000+ grids, two
months of screening rounds) and the mediation seeder's disputes, then doubles the disputes (with
their parties, agreements and terms) ``--scale`` times in SQL; later runs reuse them.

(a) ``selectors.coverage_board`` + ``coverage_totals`` for the whole city this month, against one
    raw GROUP BY; results compared row by row;
(b) ``metrics.metrics`` for the whole city over the last year by committee and by district, against
    raw SQL (PostgreSQL ``percentile_cont`` for the median); results compared;
(c) ``services.session_schedule`` bookings per second, one client; then several threads booking the
    same slots of one room at once (every slot must be taken exactly once).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/zhucheng_bench_mediation"
SQLITE_URL = f"sqlite:///{ROOT / 'var' / 'zhucheng_bench_mediation.sqlite3'}"


def _guard(url: str, allow_sqlite: bool) -> None:
    if url.startswith("sqlite"):
        if not allow_sqlite:
            sys.exit("bench mediation: refusing SQLite without --allow-sqlite")
        if "bench" not in Path(urlparse(url).path).name:
            sys.exit("bench mediation: the SQLite file name must contain 'bench'")
        return
    if "bench" not in urlparse(url).path:
        sys.exit("bench mediation: the database name must contain 'bench'")


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


class _Out:
    def write(self, msg: str = "", style_func: Any = None, ending: str | None = None) -> None:
        pass


def _seed() -> None:
    from zhucheng.core import demo, notify
    from zhucheng.mediation.models import Committee

    if Committee.objects.exists():
        return
    t0 = time.perf_counter()
    wanted = ("zhucheng.places.demo", "zhucheng.accounts.demo", "zhucheng.mediation.demo")
    with notify.muted():
        demo.run(size="full", stdout=_Out(), seeders=[s for s in demo.discover() if s.module in wanted])
    print(f"seeded the full demo city and its mediation data in {time.perf_counter() - t0:.1f} s", flush=True)


def _scale(times: int) -> None:
    """Double the disputes (and their parties, agreements, terms) ``times`` times, in SQL."""
    from django.db import connection, transaction

    from zhucheng.mediation.models import Dispute

    for _ in range(times):
        t0 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SELECT COALESCE(MAX(id), 0) FROM mediation_dispute")
            shift = cur.fetchone()[0]
            cols = [f.column for f in Dispute._meta.concrete_fields if f.column not in ("id", "code", "appeal_id")]
            collist = ", ".join(cols)
            cur.execute(
                f"INSERT INTO mediation_dispute (id, code, appeal_id, {collist}) "
                f"SELECT id + %s, 'B' || CAST(id + %s AS TEXT), NULL, {collist} FROM mediation_dispute",
                [shift, shift],
            )
            cur.execute(
                "INSERT INTO mediation_party (dispute_id, side, name, is_organisation, id_number, id_number_hash, phone, phone_hash, "
                "address, representative_name, representative_role, representative_phone) "
                "SELECT dispute_id + %s, side, name, is_organisation, id_number, id_number_hash, phone, phone_hash, address, "
                "representative_name, representative_role, representative_phone FROM mediation_party WHERE dispute_id <= %s",
                [shift, shift],
            )
            cur.execute("SELECT COALESCE(MAX(id), 0) FROM mediation_agreement")
            ashift = cur.fetchone()[0]
            cur.execute(
                "INSERT INTO mediation_agreement (id, dispute_id, number, facts, signed_on, state, pdf, pdf_sha256, created_by_id, "
                "judicial_requested_on, judicial_court, created_at, updated_at) "
                "SELECT id + %s, dispute_id + %s, 'B' || CAST(id + %s AS TEXT), facts, signed_on, state, '', '', NULL, NULL, '', created_at, updated_at "
                "FROM mediation_agreement WHERE id <= %s",
                [ashift, shift, ashift, ashift],
            )
            cur.execute(
                "INSERT INTO mediation_agreementterm (agreement_id, seq, text, obligor_id, amount_fen, due_on, result, check_opened_at, "
                "checked_at, checked_by_id, check_note) SELECT agreement_id + %s, seq, text, NULL, amount_fen, due_on, result, "
                "check_opened_at, checked_at, NULL, check_note FROM mediation_agreementterm WHERE agreement_id <= %s",
                [ashift, ashift],
            )
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                for table in ("mediation_dispute", "mediation_party", "mediation_agreement", "mediation_agreementterm"):
                    cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
                    cur.execute(f"ANALYZE {table}")
        print(f"  doubled to {Dispute.objects.count():,} disputes in {time.perf_counter() - t0:.1f} s", flush=True)


def _timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


# --- (a) coverage board -------------------------------------------------------------------------------


def bench_coverage(runs: int) -> dict[str, Any]:
    from django.db import connection

    from zhucheng.accounts.models import User
    from zhucheng.mediation import screening, selectors

    admin = User.objects.get(username="admin")
    month = screening.month_start()

    def orm() -> dict[int, tuple[int, int, int, int]]:
        rows = {r.unit_id: (r.total, r.pending, r.found, r.none_found) for r in selectors.coverage_board(admin, month)}
        selectors.coverage_totals(admin, month)
        return rows

    def raw() -> dict[int, tuple[int, int, int, int]]:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT r.unit_id, COUNT(g.id), SUM(CASE WHEN g.state = 'pending' THEN 1 ELSE 0 END), "
                "SUM(CASE WHEN g.state = 'found' THEN 1 ELSE 0 END), SUM(CASE WHEN g.state = 'none_found' THEN 1 ELSE 0 END) "
                "FROM mediation_screeninground r LEFT JOIN mediation_gridreport g ON g.round_id = r.id "
                "WHERE r.month = %s GROUP BY r.unit_id",
                [month],
            )
            rows = {u: (int(t), int(p or 0), int(f or 0), int(n or 0)) for u, t, p, f, n in cur.fetchall()}
            cur.execute("SELECT COUNT(*), SUM(CASE WHEN g.state = 'pending' THEN 1 ELSE 0 END) FROM mediation_gridreport g "
                        "JOIN mediation_screeninground r ON r.id = g.round_id WHERE r.month = %s", [month])
            cur.fetchone()
            return rows

    t_orm, a = _timed(orm, runs)
    t_raw, b = _timed(raw, runs)
    assert a == b, "coverage board differs from raw SQL"
    return {"orm": t_orm, "raw": t_raw, "rounds": len(a), "grids": sum(v[0] for v in a.values())}


# --- (b) metrics --------------------------------------------------------------------------------------


RAW_PG = {
    "received": "SELECT {key}, COUNT(*) FROM mediation_dispute d {join} WHERE d.received_at >= %s AND d.received_at < %s GROUP BY 1",
    "agreed": "SELECT {key}, COUNT(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM d.agreed_at - d.received_at)) / 86400 "
    "FROM mediation_dispute d {join} WHERE d.agreed_at >= %s AND d.agreed_at < %s GROUP BY 1",
    "failed": "SELECT {key}, COUNT(*) FROM mediation_dispute d {join} WHERE d.status = 'failed' AND d.concluded_at >= %s AND d.concluded_at < %s GROUP BY 1",
    "terms": "SELECT {key}, SUM(CASE WHEN t.result = 'fulfilled' THEN 1 ELSE 0 END), SUM(CASE WHEN t.result = 'breached' THEN 1 ELSE 0 END) "
    "FROM mediation_agreementterm t JOIN mediation_agreement a ON a.id = t.agreement_id JOIN mediation_dispute d ON d.id = a.dispute_id {join} "
    "WHERE t.due_on >= %s AND t.due_on < %s AND t.result IN ('fulfilled', 'breached') GROUP BY 1",
}


def _raw_metrics(by: str, start: datetime, end: datetime, d0: date, d1: date) -> dict[Any, tuple[int, int, int, float | None, int, int]]:
    from django.db import connection

    if by == "committee":
        key, join = "d.committee_id", ""
    else:  # district: the second code of the unit's path
        key, join = "split_part(u.path, '/', 3)", "JOIN places_orgunit u ON u.id = d.unit_id"
    out: dict[Any, list[Any]] = {}
    with connection.cursor() as cur:
        for name, sql in RAW_PG.items():
            params = [d0, d1] if name == "terms" else [start, end]
            cur.execute(sql.format(key=key, join=join), params)
            for row in cur.fetchall():
                r = out.setdefault(row[0], [0, 0, 0, None, 0, 0])
                if name == "received":
                    r[0] = row[1]
                elif name == "agreed":
                    r[1], r[3] = row[1], round(float(row[2]), 1)
                elif name == "failed":
                    r[2] = row[1]
                else:
                    r[4], r[5] = int(row[1] or 0), int(row[2] or 0)
    return {k: tuple(v) for k, v in out.items()}  # type: ignore[misc]


def bench_metrics(runs: int) -> list[dict[str, Any]]:
    from django.db import connection
    from django.utils import timezone

    from zhucheng.accounts.models import User
    from zhucheng.mediation import metrics
    from zhucheng.places.models import OrgUnit

    admin = User.objects.get(username="admin")
    city = OrgUnit.objects.get(parent__isnull=True)
    d1 = timezone.localdate() + timedelta(days=1)
    d0 = d1 - timedelta(days=365)
    tz = timezone.get_current_timezone()
    start, end = datetime.combine(d0, dtime.min, tzinfo=tz), datetime.combine(d1, dtime.min, tzinfo=tz)
    codes = dict(OrgUnit.objects.filter(parent=city).values_list("pk", "code"))
    results = []
    for by in ("committee", "unit"):
        t_orm, rows = _timed(lambda by=by: metrics.metrics(admin, date_from=d0, date_to=d1, by=by, root=city if by == "unit" else None), runs)
        result: dict[str, Any] = {"by": by, "orm": t_orm, "groups": len(rows), "received": sum(r.received for r in rows)}
        if connection.vendor == "postgresql":
            t_raw, raw = _timed(lambda by=by: _raw_metrics(by, start, end, d0, d1), runs)
            for r in rows:
                k = codes.get(r.key) if by == "unit" else r.key
                if k not in raw:
                    continue
                want = (r.received, r.agreed, r.mediated - r.agreed, r.median_days, r.fulfilled, r.breached)
                got = raw[k]
                assert want[:3] == got[:3] and want[4:] == got[4:], (by, k, want, got)
                assert want[3] is None or got[3] is None or abs(want[3] - got[3]) < 0.15, (by, k, want[3], got[3])
            result["raw"] = t_raw
        results.append(result)
    return results


# --- (c) booking ---------------------------------------------------------------------------------------


def _slots(start_monday: date, weeks: int) -> list[tuple[datetime, datetime]]:
    from django.utils import timezone

    out = []
    for w in range(weeks):
        for d in range(5):
            day = start_monday + timedelta(days=7 * w + d)
            for hour in (9, 10, 11, 14, 15, 16):
                s = timezone.make_aware(datetime.combine(day, dtime(hour)))
                out.append((s, s + timedelta(minutes=50)))
    return out


def bench_booking(n: int, threads: int) -> dict[str, Any]:
    from django.db import connections, transaction
    from django.utils import timezone

    from zhucheng.mediation import services
    from zhucheng.mediation.errors import MediationError
    from zhucheng.mediation.models import Affiliation, Dispute, DisputeStatus, Mediator, Room, Session

    today = timezone.localdate()
    monday = today + timedelta(days=7 - today.weekday() + 7 * 60)  # far ahead: the seeded sessions never collide
    rooms = list(Room.objects.filter(is_active=True).order_by("code"))
    staff = {m.unit_id: m for m in Mediator.objects.filter(affiliation=Affiliation.STAFF, is_active=True)}
    pairs = [(r, staff[r.unit_id]) for r in rooms if r.unit_id in staff]
    disputes = list(Dispute.objects.filter(status=DisputeStatus.MEDIATING).order_by("pk")[: len(pairs)])
    slots = _slots(monday, weeks=max(1, n // (len(pairs) * 30) + 1))
    plan = [(pairs[i % len(pairs)], disputes[i % len(disputes)], slots[i // len(pairs)]) for i in range(n)]
    Session.objects.filter(starts_at__gte=timezone.make_aware(datetime.combine(monday, dtime.min))).delete()
    t0 = time.perf_counter()
    for (room, mediator), dispute, (s, e) in plan:
        services.session_schedule(actor=None, dispute=dispute, room=room, mediator=mediator, starts_at=s, ends_at=e, remind=False)
    single = n / (time.perf_counter() - t0)

    # Contention: every thread tries every slot of one room, in its own order; each slot is taken once.
    (room, mediator), dispute = pairs[0], disputes[0]
    contested = _slots(monday + timedelta(weeks=20), weeks=2)
    results: list[str] = []
    lock = threading.Lock()

    def worker(seed: int) -> None:
        order = contested[:]
        random.Random(seed).shuffle(order)
        mine = []
        for s, e in order:
            try:
                with transaction.atomic():
                    services.session_schedule(actor=None, dispute=dispute, room=room, mediator=mediator, starts_at=s, ends_at=e, remind=False)
                mine.append("ok")
            except MediationError as exc:
                mine.append(exc.code)
        with lock:
            results.extend(mine)
        connections.close_all()

    t0 = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    took = time.perf_counter() - t0
    ok = results.count("ok")
    assert ok == len(contested), f"{ok} bookings for {len(contested)} slots"
    assert set(results) <= {"ok", "double_booked"}, set(results)
    return {"single": single, "n": n, "attempts": len(results), "attempts_per_s": len(results) / took, "ok": ok, "slots": len(contested), "threads": threads}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--allow-sqlite", action="store_true")
    parser.add_argument("--scale", type=int, default=5, help="double the seeded disputes this many times (5 → ×32)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--bookings", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    url = args.database_url or (SQLITE_URL if args.allow_sqlite else DEFAULT_URL)
    _guard(url, args.allow_sqlite)
    if url.startswith("postgres"):
        _create_pg_database(url)
    t0 = time.perf_counter()
    _setup(url)
    _seed()
    from django.db import connection

    from zhucheng.mediation.models import Dispute, GridReport

    if not Dispute.objects.filter(code__startswith="B").exists() and args.scale:
        _scale(args.scale)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")  # bulk-loaded tables: the planner needs fresh statistics
    print(f"database ready in {time.perf_counter() - t0:.1f} s", flush=True)
    cov = bench_coverage(args.runs)
    met = bench_metrics(args.runs)
    book = bench_booking(args.bookings, args.threads)
    with connection.cursor() as cur:
        cur.execute("SELECT version()" if connection.vendor == "postgresql" else "SELECT sqlite_version()")
        version = str(cur.fetchone()[0]).split(" on ")[0]
    print()
    print(f"zhucheng bench mediation — {version}, {Dispute.objects.count():,} disputes, {GridReport.objects.count():,} grid reports, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"{'measure':58} {'selector/service':>17} {'raw SQL':>10} {'ratio':>7}")
    print(f"{'coverage board, whole city, this month (' + str(cov['rounds']) + ' rounds, ' + format(cov['grids'], ',') + ' grids)':58} "
          f"{cov['orm'] * 1000:>14.1f} ms {cov['raw'] * 1000:>7.1f} ms {cov['orm'] / cov['raw']:>6.2f}×")
    for m in met:
        label = f"metrics by {m['by']}, whole city, one year ({m['groups']} groups, {m['received']:,} received)"
        raw = f"{m['raw'] * 1000:>7.1f} ms {m['orm'] / m['raw']:>6.2f}×" if "raw" in m else f"{'—':>10} {'—':>7}"
        print(f"{label:58} {m['orm'] * 1000:>14.1f} ms {raw}")
    print(f"{'session_schedule, 1 client, ' + str(book['n']) + ' bookings':58} {book['single']:>11.0f} /s")
    print(f"{'contended: ' + str(book['threads']) + ' threads × ' + str(book['slots']) + ' same slots of one room':58} "
          f"{book['attempts_per_s']:>11.0f} /s   ({book['ok']} taken once each, {book['attempts'] - book['ok']} refused)")


if __name__ == "__main__":
    main()
