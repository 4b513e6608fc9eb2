"""Benchmark 群众点菜 voting: a community of 50,000 voters casting ballots over 40 projects through the
service (``participation.voting.ballot_cast``, concurrent clients), beside a raw-SQL INSERT baseline of
the same rows with the same clients in the same run; then the tally by both rules (CONSUL greedy and
the Method of Equal Shares via pabutools) over all the ballots.

Run from the repository root:
``./zc bench participation [--voters 50000] [--clients 8] [--mode processes|threads] [--database-url URL]``.

Clients are processes by default (forked, each with its own database connection), as production runs
several gunicorn worker processes; ``--mode threads`` runs them as threads of one process instead, as
earlier versions of this bench did (bound by one GIL, so that measures the interpreter more than the
service; ``--threads N`` is kept as a shorthand for ``--clients N --mode threads``). The output says which.
It works in its own database (the name must contain "bench"; default
``postgres://postgres@127.0.0.1:5432/zhucheng_bench_participation``, created and migrated when missing;
SQLite only with ``--allow-sqlite``). The first run creates a community with the voters (registry people
with a current residence, each linked to a resident account); every run opens a new budget in voting.
Targets (issue 8): ≥ 300 ballots/s on PostgreSQL through the service, tally ≤ 2 s.

What one service ballot does: the request's user row (as the session middleware loads it), then in one
transaction the budget with its community under a shared row lock, the eligibility check against the
registry (person, age, current residence in the community), the ballot rule check, then the register
row (the unique constraint that refuses double votes), the ballot and its choices in one statement.
No audit row per ballot (secrecy: closing the vote audits the register's digest; the bench counts
``participation.vote`` events to show there are none). The raw baseline inserts only the register,
ballot and choice rows, one transaction per ballot.

Before the clock starts the bench runs ``VACUUM ANALYZE`` and ``CHECKPOINT``, so that the set-up's
own writes (a new database, 50,000 accounts, people and residences) are not flushed during the vote.
While the clients cast, ``StandInAutoanalyze`` does what autovacuum would when the server runs
without it (this machine's PostgreSQL has ``autovacuum = off``): without it the first run on a new
database measured 208–254 ballots/s, falling from 450/s to 190/s as the ballot table grew, because
every client's foreign-key check on the ballot table had been planned for an empty table (a
sequential scan; found with ``perf``). ``./zc manage check --deploy`` warns about such a server
(``core.W001``). Django runs with ``DEBUG`` off (``DJANGO_DEBUG=0``), as in production.

The ballots are drawn as before (unchanged): each voter approves 1–6 projects (uniform), drawn with
Zipf-like popularity (weight 1/rank^0.8) and kept within the budget; about half the ballots are
distinct (25,788 of 50,000), so grouping identical ballots alone does not make the count cheap.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import random
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/zhucheng_bench_participation"
SQLITE_URL = f"sqlite:///{ROOT / 'var' / 'zhucheng_bench_participation.sqlite3'}"
COMMUNITY_CODE = "990901001"
PROJECTS = 40


def _guard(url: str, allow_sqlite: bool) -> None:
    if url.startswith("sqlite"):
        if not allow_sqlite:
            sys.exit("bench participation: refusing SQLite without --allow-sqlite")
        if "bench" not in Path(urlparse(url).path).name:
            sys.exit("bench participation: the SQLite file name must contain 'bench'")
        return
    if "bench" not in urlparse(url).path:
        sys.exit("bench participation: the database name must contain 'bench'")


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
    os.environ.setdefault("DJANGO_DEBUG", "0")  # as in production: no in-memory query log
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0, skip_checks=True)


def _rect(lon0: float, lat0: float, lon1: float, lat1: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]]}


def _community(voters: int) -> Any:
    """The bench community with ``voters`` adults living in it, each with a resident account."""
    from datetime import date

    from django.db import transaction

    from zhucheng.accounts.models import AccountKind, User
    from zhucheng.places.models import OrgUnit
    from zhucheng.places.services import unit_create
    from zhucheng.registry.models import Building, HousingUnit, Person, Residence

    community = OrgUnit.objects.filter(code=COMMUNITY_CODE).first()
    if community is None:
        city = unit_create(actor=None, code="9909", name="基准市", kind="city", parent=None, boundary=_rect(106.0, 26.0, 107.0, 27.0))
        district = unit_create(actor=None, code="990901", name="基准区", kind="district", parent=city, boundary=_rect(106.0, 26.0, 106.5, 26.5))
        community = unit_create(actor=None, code=COMMUNITY_CODE, name="基准社区", kind="community", parent=district, boundary=_rect(106.0, 26.0, 106.5, 26.5))
        unit_create(actor=None, code=COMMUNITY_CODE + "001", name="第1网格", kind="grid", parent=community, boundary=_rect(106.0, 26.0, 106.5, 26.5))
    grid = OrgUnit.objects.get(code=COMMUNITY_CODE + "001")
    have = Person.objects.filter(unit=grid).count()
    if have >= voters:
        return community
    t0 = time.perf_counter()
    rng = random.Random(8)
    with transaction.atomic():
        buildings = list(Building.objects.filter(grid=grid))
        if not buildings:
            buildings = Building.objects.bulk_create(
                [Building(door_plate=f"基准路{i + 1}号", address=f"基准路{i + 1}号", grid=grid) for i in range(100)]
            )
        units = list(HousingUnit.objects.filter(grid=grid))
        if not units:
            units = HousingUnit.objects.bulk_create(
                [HousingUnit(building=b, grid=grid, number=f"{f}单元{r:02d}") for b in buildings for f in range(1, 3) for r in range(1, 101)]
            )
        batch = 5000
        for start in range(have, voters, batch):
            n = min(batch, voters - start)
            users = User.objects.bulk_create(
                [User(username=f"bench{start + i:06d}", kind=AccountKind.RESIDENT, display_name=f"居民{start + i}", password="!") for i in range(n)]  # noqa: S106
            )
            persons = Person.objects.bulk_create(
                [
                    Person(
                        name=f"居民{start + i}", id_number=f"9909011970{start + i:08d}", sex="F" if i % 2 else "M",
                        birth_date=date(1940 + rng.randint(0, 60), rng.randint(1, 12), rng.randint(1, 28)), unit=grid, user=u,
                    )
                    for i, u in enumerate(users)
                ]
            )
            Residence.objects.bulk_create(
                [Residence(person=p, housing_unit=units[(start + i) % len(units)], kind="permanent", from_date=date(2010, 1, 1)) for i, p in enumerate(persons)]
            )
    print(f"created {voters - have:,} voters in {time.perf_counter() - t0:.1f} s", flush=True)
    return community


def _budget(community: Any, label: str) -> Any:
    """A new budget in voting with 40 feasible proposals (knapsack, 4 million yuan)."""
    from django.db.models import Max

    from zhucheng.participation import services
    from zhucheng.participation.models import Budget

    year = (Budget.objects.filter(unit=community).aggregate(m=Max("year"))["m"] or 2000) + 1
    budget = services.budget_create(actor=None, unit=community, year=year, title=f"基准社区{year}({label})", amount_fen=4_000_000_00)
    rng = random.Random(year)
    proposals = [
        services.proposal_submit(actor=None, budget=budget, title=f"项目{i + 1}", description="基准", estimated_cost_fen=rng.randint(5, 80) * 10_000_00, on_behalf_of="基准")
        for i in range(PROJECTS)
    ]
    budget = services.budget_advance(actor=None, budget=budget)
    for p in proposals:
        services.proposal_review(actor=None, proposal=p, feasible=True, cost_fen=p.estimated_cost_fen)
    return services.budget_advance(actor=None, budget=budget)


def _ballots(budget: Any, voters: int) -> list[list[int]]:
    """Each voter's choice: popular projects first (Zipf-like), 1–6 projects that fit the budget."""
    from zhucheng.participation.models import Proposal

    rows = list(Proposal.objects.filter(budget=budget).order_by("number").values_list("pk", "cost_fen"))
    weights = [1.0 / (i + 1) ** 0.8 for i in range(len(rows))]
    rng = random.Random(50)
    out = []
    for _ in range(voters):
        want = rng.randint(1, 6)
        picked: list[int] = []
        total = 0
        for idx in rng.choices(range(len(rows)), weights=weights, k=want * 2):
            pk, cost = rows[idx]
            if pk in picked or total + cost > budget.amount_fen:
                continue
            picked.append(pk)
            total += cost
            if len(picked) >= want:
                break
        out.append(picked or [rows[0][0]])
    return out


def _run_chunk(fn: Any, chunk: list[Any]) -> list[str]:
    errors: list[str] = []
    for item in chunk:
        try:
            fn(item)
        except Exception as exc:  # noqa: BLE001 — counted and reported
            errors.append(f"{type(exc).__name__}: {exc}")
    return errors


def _run_threads(threads: int, work: list[Any], fn: Any) -> tuple[float, list[str]]:
    from django.db import connections

    errors: list[str] = []
    chunks = [work[i::threads] for i in range(threads)]
    barrier = threading.Barrier(threads + 1)

    def run(chunk: list[Any]) -> None:
        try:
            barrier.wait()
            errors.extend(_run_chunk(fn, chunk))
        finally:
            connections.close_all()

    pool = [threading.Thread(target=run, args=(c,)) for c in chunks]
    for t in pool:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in pool:
        t.join()
    return time.perf_counter() - t0, errors


def _process_main(fn: Any, chunk: list[Any], barrier: Any, out: Any) -> None:
    from django.db import connections

    connections.close_all()  # never share the parent's connection: each client opens its own
    try:
        barrier.wait()
        errors = _run_chunk(fn, chunk)
    finally:
        connections.close_all()
    out.put(errors)


def _run_processes(processes: int, work: list[Any], fn: Any) -> tuple[float, list[str]]:
    """``processes`` forked clients (Django already set up), each with its own connection; the clock
    runs from the moment all of them are ready to the last one's end."""
    from django.db import connections

    ctx = multiprocessing.get_context("fork")
    connections.close_all()
    chunks = [work[i::processes] for i in range(processes)]
    barrier = ctx.Barrier(processes + 1)
    out = ctx.Queue()
    pool = [ctx.Process(target=_process_main, args=(fn, c, barrier, out)) for c in chunks]
    for proc in pool:
        proc.start()
    barrier.wait()
    t0 = time.perf_counter()
    errors: list[str] = []
    for _ in pool:
        errors.extend(out.get())
    seconds = time.perf_counter() - t0
    for proc in pool:
        proc.join()
        if proc.exitcode:
            errors.append(f"client process exited with {proc.exitcode}")
    return seconds, errors


def _run_clients(mode: str, clients: int, work: list[Any], fn: Any) -> tuple[float, list[str]]:
    return (_run_processes if mode == "processes" else _run_threads)(clients, work, fn)


class StandInAutoanalyze:
    """While the clients cast: what autovacuum's ANALYZE would do, when this server runs without it.

    A PostgreSQL server in service runs autovacuum, which analyses a table once 50 rows plus 10 % of
    it have changed since the last time (``autovacuum_analyze_threshold`` and ``_scale_factor``, the
    defaults). A server with ``autovacuum = off`` never does, and the vote then measures stale
    statistics: the ballot tables are empty when the first ballots are cast, every client's cached
    plan for the foreign-key check on ``participation_ballot`` (``WHERE id = $1``, planned for an empty
    table) becomes a sequential scan, and each cast scans every ballot before it — 254 ballots/s over
    50,000 ballots, falling from about 450/s to 190/s as the table grows. This thread checks the same
    rule every second and runs the same ANALYZE; it does nothing when autovacuum is on.
    """

    TABLES = ("participation_voterregister", "participation_ballot", "participation_ballotchoice")

    def __init__(self) -> None:
        from django.db import connection

        self.analyses = 0
        self.active = False
        self.failed: Exception | None = None
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SHOW autovacuum")
                self.active = cur.fetchone()[0] == "off"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> StandInAutoanalyze:
        if self.active:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.active:
            self._thread.join()
        if self.failed is not None:
            raise RuntimeError("the stand-in ANALYZE thread failed") from self.failed

    def _run(self) -> None:
        try:
            self._analyse_while_running()
        except Exception as exc:  # noqa: BLE001 — handed to the main thread, which raises it
            self.failed = exc

    def _analyse_while_running(self) -> None:
        import psycopg
        from django.db import connection

        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        with psycopg.connect(**params, autocommit=True) as conn:
            while not self._stop.wait(1.0):
                due = conn.execute(
                    "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
                    "WHERE s.relname = ANY(%s) AND n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0)",
                    [list(self.TABLES)],
                ).fetchall()
                for (table,) in due:
                    conn.execute(f"ANALYZE {table}")  # the name comes from TABLES
                    self.analyses += 1


def bench_service(community: Any, voters: int, clients: int, mode: str) -> dict[str, Any]:
    from zhucheng.accounts.models import User
    from zhucheng.core.models import AuditEvent
    from zhucheng.participation import voting
    from zhucheng.participation.models import Ballot, VoterRegister

    budget = _budget(community, "service")
    choices = _ballots(budget, voters)
    user_ids = list(User.objects.filter(username__startswith="bench").order_by("username").values_list("pk", flat=True)[:voters])
    work = list(zip(user_ids, choices, strict=True))

    def cast(item: tuple[int, list[int]]) -> None:
        user = User.objects.get(pk=item[0])
        voting.ballot_cast(actor=user, budget=budget, proposal_ids=item[1])

    audited_before = AuditEvent.objects.filter(act="participation.vote").count()
    with StandInAutoanalyze() as analyser:
        seconds, errors = _run_clients(mode, clients, work, cast)
    audited = AuditEvent.objects.filter(act="participation.vote").count() - audited_before
    # A second ballot from a sample of voters must be refused by the register.
    again = 0
    for uid, picks in work[:200]:
        try:
            voting.ballot_cast(actor=User.objects.get(pk=uid), budget=budget, proposal_ids=picks)
        except voting.ParticipationError:
            again += 1
    return {
        "budget": budget, "seconds": seconds, "errors": errors, "ballots": Ballot.objects.filter(budget=budget).count(),
        "register": VoterRegister.objects.filter(budget=budget).count(), "refused_again": again, "choices": choices,
        "audited": audited, "analyses": analyser.analyses if analyser.active else None,
    }


def bench_raw(community: Any, voters: int, clients: int, mode: str, choices: list[list[int]]) -> dict[str, Any]:
    """The same rows by hand: register, ballot and choices in one transaction per ballot."""
    import hashlib

    from django.db import connection, transaction
    from django.utils import timezone

    from zhucheng.participation.models import Ballot, Proposal
    from zhucheng.registry.models import Person

    budget = _budget(community, "raw")
    numbers = {p.number: p.pk for p in Proposal.objects.filter(budget=budget)}
    old_numbers = dict(Proposal.objects.filter(pk__in={pk for c in choices for pk in c}).values_list("pk", "number"))
    persons = list(Person.objects.filter(unit__code=COMMUNITY_CODE + "001").order_by("id").values_list("pk", flat=True)[:voters])
    work = [(pid, [numbers[old_numbers[pk]] for pk in picks]) for pid, picks in zip(persons, choices, strict=True)]
    vendor = connection.vendor

    def insert(item: tuple[int, list[int]]) -> None:
        pid, picks = item
        bid = uuid.uuid4()
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                "INSERT INTO participation_voterregister (budget_id, person_id, channel, voted_at, notify) VALUES (%s, %s, 'online', %s, %s)",
                [budget.pk, pid, timezone.now(), True],
            )
            cur.execute(
                "INSERT INTO participation_ballot (id, budget_id, channel, receipt_hash) VALUES (%s, %s, 'online', %s)",
                [bid if vendor == "postgresql" else bid.hex, budget.pk, hashlib.sha256(bid.bytes).hexdigest()],
            )
            cur.executemany(
                "INSERT INTO participation_ballotchoice (ballot_id, proposal_id) VALUES (%s, %s)",
                [[bid if vendor == "postgresql" else bid.hex, pk] for pk in picks],
            )

    with StandInAutoanalyze():
        seconds, errors = _run_clients(mode, clients, work, insert)
    return {"budget": budget, "seconds": seconds, "errors": errors, "ballots": Ballot.objects.filter(budget=budget).count()}


def bench_tally(budget: Any, runs: int, check_mes: bool) -> dict[str, Any]:
    from zhucheng.participation import services, tally
    from zhucheng.participation.models import Phase

    if budget.phase == Phase.VOTING:
        budget = services.budget_advance(actor=None, budget=budget)
    candidates = tally.candidates_of(budget)
    t0 = time.perf_counter()
    grouped = tally.ballots_of(budget)
    load = time.perf_counter() - t0
    greedy_t, mes_t, full_t = [], [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        g, _steps = tally.greedy(budget.amount_fen, candidates)
        greedy_t.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        m, _steps = tally.equal_shares(budget.amount_fen, candidates, grouped)
        mes_t.append(time.perf_counter() - t0)
    for _ in range(max(1, runs // 2)):
        t0 = time.perf_counter()
        result = tally.tally_run(actor=None, budget=budget)
        full_t.append(time.perf_counter() - t0)
    unreduced = None
    if check_mes:  # pabutools on every distinct ballot as cast: the same winners, in the same order?
        t0 = time.perf_counter()
        plain, _steps = tally.equal_shares(budget.amount_fen, candidates, grouped, reduce=False)
        unreduced = (plain == m and plain == result.mes.winners, time.perf_counter() - t0)
    return {
        "load": load, "greedy": min(greedy_t), "mes": min(mes_t), "full": min(full_t), "distinct": len(grouped),
        "ballots": sum(grouped.values()), "greedy_winners": len(g), "unreduced": unreduced,
        "reduced": len(tally.mes_profile(budget.amount_fen, candidates, grouped)), "mes_winners": len(m), "same": set(g) == set(result.greedy.winners),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--allow-sqlite", action="store_true")
    parser.add_argument("--voters", type=int, default=50_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--mode", choices=("processes", "threads"), default="processes")
    parser.add_argument("--threads", type=int, default=0, help="shorthand for --clients N --mode threads")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--check-mes", action="store_true", help="also run pabutools on the unreduced profile and compare")
    args = parser.parse_args()
    if args.threads:
        args.clients, args.mode = args.threads, "threads"
    clients = f"{args.clients} client {args.mode}"
    url = args.database_url or (SQLITE_URL if args.allow_sqlite else DEFAULT_URL)
    _guard(url, args.allow_sqlite)
    if url.startswith("postgres"):
        _create_pg_database(url)
    _setup(url)
    from django.db import connection

    from zhucheng.core.notify import muted

    with muted():
        community = _community(args.voters)
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("VACUUM ANALYZE")
                cur.execute("CHECKPOINT")  # flush the set-up's writes before the clock starts
        print(f"casting {args.voters:,} ballots through the service with {clients} …", flush=True)
        svc = bench_service(community, args.voters, args.clients, args.mode)
        print(f"  {svc['seconds']:.1f} s, {len(svc['errors'])} errors{': ' + svc['errors'][0] if svc['errors'] else ''}", flush=True)
        print(f"inserting the same ballots with raw SQL, {clients} …", flush=True)
        raw = bench_raw(community, args.voters, args.clients, args.mode, svc["choices"])
        print(f"  {raw['seconds']:.1f} s, {len(raw['errors'])} errors", flush=True)
        t = bench_tally(svc["budget"], args.runs, args.check_mes)
    with connection.cursor() as cur:
        cur.execute("SELECT version()" if connection.vendor == "postgresql" else "SELECT sqlite_version()")
        version = str(cur.fetchone()[0]).split(" on ")[0]
    svc_rate = svc["ballots"] / svc["seconds"]
    raw_rate = raw["ballots"] / raw["seconds"]
    print()
    print(f"zhucheng bench participation — {version}, {args.voters:,} voters, {PROJECTS} projects, {clients}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"{'measure':62} {'service':>12} {'raw SQL':>12} {'ratio':>7}")
    print(f"{'ballots per second (service: + eligibility, rule check)':62} {svc_rate:>10.0f}/s {raw_rate:>10.0f}/s {raw_rate / svc_rate:>6.2f}×")
    print(f"{'ballots stored / register rows / second ballots refused':62} {svc['ballots']:>12,} {svc['register']:>12,} {svc['refused_again']:>5}/200")
    print(f"{'audit events participation.vote written':62} {svc['audited']:>12,}")
    if svc["analyses"] is not None:
        print(f"{'server runs autovacuum = off; stand-in ANALYZE runs during the casts':62} {svc['analyses']:>12,}")
    print(f"{'tally: load ballots (' + format(t['ballots'], ',') + ' ballots, ' + format(t['distinct'], ',') + ' distinct)':62} {t['load'] * 1000:>9.0f} ms")
    print(f"{'tally: CONSUL greedy (' + str(t['greedy_winners']) + ' funded)':62} {t['greedy'] * 1000:>9.1f} ms")
    print(f"{'tally: Method of Equal Shares via pabutools (' + str(t['mes_winners']) + ' funded, ' + format(t['reduced'], ',') + ' ballots after reduction)':62} {t['mes'] * 1000:>9.0f} ms")
    if t["unreduced"] is not None:
        same, secs = t["unreduced"]
        print(f"{'  check: pabutools on the unreduced profile, same winners: ' + ('yes' if same else 'NO'):62} {secs * 1000:>9.0f} ms")
    print(f"{'tally_run: both rules, from the database, steps saved':62} {t['full'] * 1000:>9.0f} ms")
    print(f"targets: ≥ 300 ballots/s → {'met' if svc_rate >= 300 else 'NOT met'}; tally ≤ 2 s → {'met' if t['full'] <= 2 else 'NOT met'}")


if __name__ == "__main__":
    main()
