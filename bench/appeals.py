"""Benchmark the appeals app on a city-sized database: intake, the department inbox and the metrics.

Run from the repository root: ``./zc bench appeals [--appeals 1000000] [--database-url URL]``
(``--appeals 20000`` for a quick run). It works in its own database, never the development one:
the database name must contain "bench" (default ``postgres://postgres@127.0.0.1:5432/zhucheng_bench``,
created and migrated when missing); SQLite only with ``--allow-sqlite``. The first run loads the
demo city and generates the appeals with COPY (one department, 住建局 D03, holding
``--dept-open`` open appeals); later runs reuse them (``--regenerate`` starts again). Then, each
beside raw SQL doing the same work in the same run:

(a) submit throughput through ``services.appeal_submit`` (validation, code, grid, classifier,
    deadline, duplicates, event, audit) against the equivalent INSERTs written by hand;
(b) the department inbox, ``selectors.inbox_for(handler, tab="department")[:50]``, p50/p95;
(c) ``metrics.metrics_for`` for one district-year against ``metrics.metrics_raw_sql``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/zhucheng_bench"
SQLITE_URL = f"sqlite:///{ROOT / 'var' / 'zhucheng_bench.sqlite3'}"
TARGETS = {"submit": 200.0, "inbox_p95_ms": 150.0, "metrics_ms": 300.0}
YEARS = 3  # generated appeals span the last three years
CHUNK = 50_000


# --- the database: dedicated, created and migrated here ---------------------------------------------


def _guard(url: str, allow_sqlite: bool) -> None:
    if url.startswith("sqlite"):
        if not allow_sqlite:
            sys.exit("bench appeals: refusing SQLite (the benchmark is for PostgreSQL); pass --allow-sqlite to run it anyway")
        path = Path(urlparse(url).path)
        if path.resolve() == (ROOT / "var" / "zhucheng.sqlite3").resolve() or "bench" not in path.name:
            sys.exit(f"bench appeals: {path} is not a bench database (its name must contain 'bench')")
        return
    name = urlparse(url).path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"bench appeals: database {name!r} is not a bench database (its name must contain 'bench')")


def _create_pg_database(url: str) -> None:
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def _setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhucheng.settings")
    os.environ.setdefault("DJANGO_DEBUG", "0")  # as in production: no in-memory query log
    import django

    django.setup()
    import logging

    from django.conf import settings
    from django.core.management import call_command

    # The console "SMS" of each submission (and Celery's eager trace of it) would bury the figures.
    for name in ("zhucheng.notify", "celery", "kombu"):
        logging.getLogger(name).setLevel(logging.ERROR)

    # The bench trains its own router model; the development model stays as it is.
    settings.ZHUCHENG_ROUTER_MODEL = str(Path(settings.VAR_DIR) / "bench" / "router.joblib")
    call_command("migrate", interactive=False, verbosity=0, skip_checks=True)


# --- fixtures: the demo city, staff, the router ------------------------------------------------------


class _Out:
    def write(self, msg: str = "", style_func: Any = None, ending: str | None = None) -> None:
        pass


def _city() -> dict[str, Any]:
    from zhucheng.accounts.models import User
    from zhucheng.core import demo
    from zhucheng.places.models import Department, Membership, OrgUnit, Role
    from zhucheng.places.services import membership_grant

    if not OrgUnit.objects.filter(code="5201").exists():
        seeders = [s for s in demo.discover() if s.module in ("zhucheng.places.demo", "zhucheng.accounts.demo")]
        demo.run(size="small", stdout=_Out(), seeders=seeders)
    d03 = Department.objects.get(code="D03")
    users = {}
    for username, role, unit_code, dept in (
        ("bench_handler", Role.DEPARTMENT_HANDLER, None, d03),
        ("bench_desk", Role.COMMUNITY_STAFF, "520102", None),
    ):
        user, _ = User.objects.get_or_create(username=username, defaults={"display_name": username})
        unit = OrgUnit.objects.get(code=unit_code) if unit_code else None
        if not Membership.objects.filter(user=user, role=role, unit=unit, department=dept, is_active=True).exists():
            membership_grant(actor=None, user=user, role=role, unit=unit, department=dept)
        users[username] = user
    return {"d03": d03, **users}


def _train_router() -> None:
    from zhucheng.appeals import classifier
    from zhucheng.appeals.data.training import generate

    if classifier.model_path().exists():
        return
    texts = generate(3000, 11)
    classifier.train(texts=[t.text for t in texts], labels=[t.category for t in texts], folds=3)
    classifier.clear_cache()


# --- generating the appeals ------------------------------------------------------------------------


class _Writer:
    """Rows into a table: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self) -> None:
        from django.db import connection

        self.connection = connection
        self.pg = connection.vendor == "postgresql"

    @staticmethod
    def _text(value: Any) -> str:
        if value is None:
            return "\\N"
        if value is True:
            return "t"
        if value is False:
            return "f"
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, str):
            return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
        return str(value)

    def write(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        n = 0
        batch: list[Sequence[Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= CHUNK:
                n += self._flush(table, columns, batch)
                batch = []
        if batch:
            n += self._flush(table, columns, batch)
        return n

    def _flush(self, table: str, columns: Sequence[str], batch: list[Sequence[Any]]) -> int:
        cols = ", ".join(columns)
        with self.connection.cursor() as cur:
            if self.pg:
                text = self._text
                with cur.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    copy.write("".join("\t".join([text(v) for v in row]) + "\n" for row in batch))
            else:
                ops = self.connection.ops
                adapted = [
                    [ops.adapt_datetimefield_value(v) if isinstance(v, datetime) else v for v in row] for row in batch
                ]
                marks = ", ".join(["%s"] * len(columns))
                cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", adapted)
        return len(batch)


def _generate(n: int, dept_open: int, fx: dict[str, Any], seed: int = 20260101) -> dict[str, int]:
    """``n`` appeals over the last YEARS years with their assignments, replies, ratings and supervisions."""
    import random

    import numpy as np
    from django.db import connection, transaction

    from zhucheng.appeals.data.categories import DEFAULT_DEPARTMENT
    from zhucheng.appeals.data.training import generate
    from zhucheng.appeals.intake import CODE_PREFIX
    from zhucheng.appeals.models import (
        OPEN_STATUSES,
        Appeal,
        Assignment,
        Category,
        CodeSequence,
        Feedback,
        Reply,
        Status,
        Supervision,
    )
    from zhucheng.core.crypto import keyed_hash
    from zhucheng.places.models import Department, OrgUnit

    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    start = now - timedelta(days=365 * YEARS)
    grids = list(OrgUnit.objects.filter(kind="grid").values_list("id", "lat", "lon"))
    leaves = {c.code: c for c in Category.objects.filter(parent__isnull=False)}
    depts = {d.code: d.pk for d in Department.objects.all()}
    d03 = fx["d03"].pk
    texts = generate(5000, seed)
    phones = [keyed_hash(f"13{k:09d}") for k in rng.sample(range(10**9), 100_000)]
    base_id = (Appeal.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    stamps = np.sort(nrng.uniform(start.timestamp(), (now - timedelta(hours=1)).timestamp(), n))
    open_rows = set(nrng.choice(n, size=min(dept_open, n), replace=False).tolist())
    per_year: dict[int, int] = {}
    for year, last in CodeSequence.objects.values_list("year", "last"):
        per_year[year] = last

    appeals: list[tuple[Any, ...]] = []
    assignments: list[tuple[Any, ...]] = []
    replies: list[tuple[Any, ...]] = []
    feedback: list[tuple[Any, ...]] = []
    supervisions: list[tuple[Any, ...]] = []
    hour = timedelta(hours=1)
    day = timedelta(days=1)
    for i in range(n):
        pk = base_id + i
        t = texts[i % len(texts)]
        cat = leaves[t.category]
        gid, glat, glon = grids[rng.randrange(len(grids))]
        submitted = datetime.fromtimestamp(float(stamps[i]), UTC)
        year = (submitted + timedelta(hours=8)).year
        per_year[year] = per_year.get(year, 0) + 1
        code = f"{CODE_PREFIX}{year}-{per_year[year]:07d}"
        register_due = submitted + day
        reg_time = submitted + hour * rng.uniform(0.1, 30)
        registered: datetime | None = reg_time
        reply_due = reg_time + 7 * day
        dept = d03 if i in open_rows else depts[DEFAULT_DEPARTMENT[t.category]]
        age_days = (now - submitted).days
        if i in open_rows:
            status = rng.choices((Status.ASSIGNED, Status.IN_PROGRESS, Status.UNDER_REVIEW), (35, 60, 5))[0]
        elif age_days < 14:
            status = rng.choice(OPEN_STATUSES + (Status.REPLIED, Status.FEEDBACK))
        else:
            status = rng.choices(
                (Status.CLOSED, Status.DECLINED, Status.MERGED, Status.IN_PROGRESS, Status.FEEDBACK),
                (92, 3, 1.5, 2.5, 1),
            )[0]
        replied: datetime | None = None
        closed: datetime | None = None
        due: datetime | None = None
        resolved: bool | None = None
        if status == Status.SUBMITTED:
            registered, dept, due = None, None, register_due
        elif status == Status.REGISTERED:
            dept, due = None, reply_due
        elif status in (Status.DECLINED, Status.MERGED):
            registered, dept, closed = None, None, submitted + hour * rng.uniform(1, 40)
        elif status in (Status.ASSIGNED, Status.IN_PROGRESS):
            due = reply_due
        if status in (Status.REPLIED, Status.FEEDBACK, Status.CLOSED, Status.UNDER_REVIEW):
            replied = reg_time + day * rng.uniform(0.5, 9)
            on_time = replied <= reply_due
            outcome = rng.choices(("support", "explain", "not_support"), (62, 30, 8))[0]
            replies.append((pk, dept, outcome, "经核实，已按规定处理。", None, replied, on_time))
            rating = None
            if status == Status.FEEDBACK or (status in (Status.CLOSED, Status.UNDER_REVIEW) and rng.random() < 0.75):
                rating = rng.choices(("satisfied", "basic", "unsatisfied"), (72, 18, 10))[0]
                feedback.append((pk, None, dept, rating, "", "", None, replied + day))
            if status == Status.CLOSED:
                closed = replied + day * rng.uniform(1, 6)
                resolved = rating != "unsatisfied" if rating else outcome != "not_support"
            if status == Status.UNDER_REVIEW:
                due = replied + 30 * day
        if dept is not None:
            state = "done" if status == Status.CLOSED else "active"
            assignments.append((pk, dept, None, "lead", state, reg_time + hour, None, "", None, "", None, None, "", closed))
            if rng.random() < 0.02:  # an assisting department (sometimes 住建局: the inbox's EXISTS branch)
                other = d03 if rng.random() < 0.3 else depts[rng.choice(list(DEFAULT_DEPARTMENT.values()))]
                assignments.append((pk, other, None, "assist", state, reg_time + hour, None, "", None, "", None, None, "", closed))
        if registered is not None and rng.random() < 0.045:
            kind = "leader" if rng.random() < 0.35 else "supervision"
            supervisions.append((pk, kind, None, "陈卫东" if kind == "leader" else "", "请按期办结。", reg_time + 2 * day,
                                 reg_time + 5 * day, closed, False))
        appeals.append((
            pk, code, "appeal" if rng.random() < 0.85 else "petition", "hotline", "normal", t.title, t.description,
            cat.pk, cat.pk, 0.9, None, t.address, glat, glon, gid, gid, dept, False, 1, status, submitted, None, None,
            phones[rng.randrange(len(phones))], registered, "", "", reg_time + hour if dept else None, replied, closed,
            resolved, register_due, reply_due if registered else None, due, None, "", None, None, None, False, None, "",
            1, submitted, submitted,
        ))
    columns: dict[type[Any], list[str]] = {
        Appeal: ["id", "code", "kind", "channel", "urgency", "title", "description", "category_id", "suggested_category_id",
                 "suggested_score", "category_confirmed_by_id", "address", "lat", "lon", "grid_id", "unit_id", "department_id",
                 "is_collective", "headcount", "status", "submitted_at", "submitted_by_id", "resident_id", "petitioner_key",
                 "registered_at", "decline_reason", "decline_route", "assigned_at", "replied_at", "closed_at", "resolved",
                 "register_due", "reply_due", "due_at", "paused_at", "pause_reason", "reminded_at", "escalated_at",
                 "repeat_of_id", "is_final", "client_token", "source_ref", "version", "created_at", "updated_at"],
        Assignment: ["appeal_id", "department_id", "unit_id", "role", "state", "assigned_at", "assigned_by_id", "instructions",
                     "objection_due", "objection_reason", "objected_at", "decided_at", "decision_note", "ended_at"],
        Reply: ["appeal_id", "department_id", "outcome", "text", "by_id", "created_at", "on_time"],
        Feedback: ["appeal_id", "reply_id", "department_id", "department_rating", "centre_rating", "comment", "by_id",
                   "created_at"],
        Supervision: ["appeal_id", "kind", "by_id", "leader_name", "instructions", "created_at", "due_at", "closed_at",
                      "is_escalation"],
    }
    writer = _Writer()
    counts: dict[str, int] = {}
    with transaction.atomic():
        for model, rows in ((Appeal, appeals), (Assignment, assignments), (Reply, replies), (Feedback, feedback),
                            (Supervision, supervisions)):
            cols, stream = _complete(model, columns[model], rows)
            counts[model._meta.model_name or ""] = writer.write(model._meta.db_table, cols, stream)
        for year, last in per_year.items():
            CodeSequence.objects.update_or_create(year=year, defaults={"last": last})
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                for model in columns:
                    table = model._meta.db_table
                    cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return counts


def _complete(model: Any, cols: list[str], rows: list[tuple[Any, ...]]) -> tuple[list[str], Iterable[tuple[Any, ...]]]:
    """Columns the table gained since this file was written get their model default (the same in every row)."""
    from django.db import connection

    with connection.cursor() as cur:
        present = [c.name for c in connection.introspection.get_table_description(cur, model._meta.db_table)]
    missing = [c for c in cols if c not in present]
    if missing:
        raise SystemExit(f"bench appeals: {model._meta.db_table} has no column(s) {missing}: update bench/appeals.py")
    by_column = {f.column: f for f in model._meta.concrete_fields}
    extra = [c for c in present if c not in cols and c != "id"]
    defaults = tuple(None if by_column[c].null else by_column[c].get_default() for c in extra)
    assert not rows or len(rows[0]) == len(cols), f"{model.__name__}: {len(rows[0])} values for {len(cols)} columns"
    if not extra:
        return cols, rows
    return cols + extra, (row + defaults for row in rows)


# --- measuring ---------------------------------------------------------------------------------------


def _timed(fn: Callable[[], Any], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _one(cur: Any) -> Any:
    row = cur.fetchone()
    assert row is not None
    return row[0]


def _submit_inputs(count: int, seed: int) -> list[dict[str, Any]]:
    import random

    from zhucheng.appeals.data.training import generate
    from zhucheng.places.models import OrgUnit

    rng = random.Random(seed)
    grids = list(OrgUnit.objects.filter(kind="grid", path__startswith="/5201/520102/").values_list("boundary", flat=True))
    out = []
    for k, t in enumerate(generate(count, seed)):
        ring = rng.choice(grids)["coordinates"][0]  # type: ignore[index]
        xs, ys = [p[0] for p in ring], [p[1] for p in ring]
        lon = rng.uniform(min(xs) + 0.2 * (max(xs) - min(xs)), max(xs) - 0.2 * (max(xs) - min(xs)))
        lat = rng.uniform(min(ys) + 0.2 * (max(ys) - min(ys)), max(ys) - 0.2 * (max(ys) - min(ys)))
        out.append({"title": t.title, "description": t.description, "address": t.address, "lat": round(lat, 6),
                    "lon": round(lon, 6), "phone": f"19{seed % 10}{k:08d}"})
    return out


def _service_submits(inputs: list[dict[str, Any]], desk_id: int) -> None:
    from zhucheng.accounts.models import User
    from zhucheng.appeals import services

    desk = User.objects.get(pk=desk_id)
    for x in inputs:
        services.appeal_submit(actor=desk, channel="hotline", title=x["title"], description=x["description"],
                               address=x["address"], lat=x["lat"], lon=x["lon"],
                               petitioners=[services.PetitionerInput(name="张先生", phone=x["phone"])])


def _raw_submits(inputs: list[dict[str, Any]], desk_id: int) -> None:
    """The rows appeal_submit writes, by hand and in its order: appeal (placeholder code), petitioner, timeline
    event, chained audit row, then the code counter and the appeal's code."""
    from django.db import connection, transaction
    from django.utils import timezone

    from zhucheng.appeals.intake import CODE_PREFIX
    from zhucheng.core.audit import _LOCK_KEY, GENESIS, compute_hash
    from zhucheng.core.models import AuditEvent

    year = timezone.localtime().year
    for x in inputs:
        with transaction.atomic(), connection.cursor() as cur:
            code = "~" + uuid.uuid4().hex[:19]  # the service's placeholder, replaced before the commit
            now = timezone.now()
            cur.execute(
                "INSERT INTO appeals_appeal (code, kind, channel, urgency, title, description, address, lat, lon, grid_id,"
                " unit_id, is_collective, headcount, status, submitted_at, submitted_by_id, petitioner_key, decline_reason,"
                " decline_route, register_due, due_at, pause_reason, is_final, source_ref, version, created_at, updated_at,"
                " suggestion_model) VALUES (%s, 'appeal', 'hotline', 'normal', %s, %s, %s, %s, %s, %s, %s, false, 1,"
                " 'submitted', %s, %s, %s, '', '', %s, %s, '', false, '', 1, %s, %s, '') RETURNING id",
                [code, x["title"], x["description"], x["address"], x["lat"], x["lon"], x["grid_id"], x["grid_id"], now,
                 desk_id, x["key"], x["due"], x["due"], now, now],
            )
            pk = _one(cur)
            cur.execute(
                "INSERT INTO appeals_petitioner (appeal_id, name, phone, phone_hash, id_number, id_number_hash, address,"
                " is_anonymous, is_primary) VALUES (%s, '张先生', %s, %s, '', '', '', false, true)",
                [pk, x["token"], x["key"]],
            )
            cur.execute(
                "INSERT INTO appeals_appealevent (appeal_id, act, actor_id, actor_label, from_status, to_status, note,"
                " is_public, at) VALUES (%s, 'submit', %s, 'bench_desk', '', 'submitted', '热线电话', true, %s)",
                [pk, desk_id, now],
            )
            if connection.vendor == "postgresql":
                cur.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
            cur.execute("SELECT hash FROM core_auditevent ORDER BY id DESC LIMIT 1")
            last = cur.fetchone()
            event = AuditEvent(occurred_at=now, actor_id=desk_id, actor_label="bench_desk", act="appeals.submit",
                               object_type="appeals.appeal", object_id=str(pk), changed_fields=["status"], reason="",
                               request_id="", ip=None, prev_hash=last[0] if last else GENESIS)
            cur.execute(
                "INSERT INTO core_auditevent (occurred_at, actor_id, actor_label, act, object_type, object_id, changed_fields,"
                " reason, request_id, ip, prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, '', '', NULL, %s, %s)",
                [now, desk_id, "bench_desk", event.act, event.object_type, event.object_id, '["status"]', event.prev_hash,
                 compute_hash(event)],
            )
            # As the service: the code counter last, so its row lock is held only to the commit.
            cur.execute("UPDATE appeals_codesequence SET last = last + 1 WHERE year = %s RETURNING last", [year])
            cur.execute("UPDATE appeals_appeal SET code = %s WHERE id = %s", [f"{CODE_PREFIX}{year}-{_one(cur):07d}", pk])


def _worker(fn: Callable[[list[dict[str, Any]], int], None], warm: list[dict[str, Any]], work: list[dict[str, Any]],
            desk_id: int, barrier: Any) -> None:
    fn(warm, desk_id)  # classifier, locator, calendar and policies loaded in this process
    barrier.wait()
    fn(work, desk_id)


def _rate(fn: Callable[[list[dict[str, Any]], int], None], inputs: list[dict[str, Any]], desk_id: int, clients: int) -> float:
    """Appeals per second with ``clients`` processes submitting at once (each its own connection)."""
    import multiprocessing

    from django.db import connections

    warm, work = inputs[: 10 * clients], inputs[10 * clients :]
    if clients == 1:
        fn(warm, desk_id)
        t0 = time.perf_counter()
        fn(work, desk_id)
        return len(work) / (time.perf_counter() - t0)
    connections.close_all()  # never share a connection with the children
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(clients + 1)
    procs = [
        ctx.Process(target=_worker, args=(fn, warm[k::clients], work[k::clients], desk_id, barrier)) for k in range(clients)
    ]
    for p in procs:
        p.start()
    barrier.wait()
    t0 = time.perf_counter()
    for p in procs:
        p.join()
    took = time.perf_counter() - t0
    if any(p.exitcode for p in procs):
        raise SystemExit("bench appeals: a submitting process failed")
    return len(work) / took


def bench_submit(count: int, clients: int, fx: dict[str, Any]) -> tuple[float, float]:
    """Appeals per second through the service, and through the equivalent hand-written INSERTs."""
    from zhucheng.appeals import deadlines, services
    from zhucheng.core.crypto import encrypt, keyed_hash

    seed = int(time.time()) % 10_000
    desk = fx["bench_desk"]
    inputs = _submit_inputs(count + 10 * clients, seed)
    service_rate = _rate(_service_submits, inputs, desk.pk, clients)
    sample = services.appeal_submit(actor=desk, channel="hotline", title="基准", description="基准测试用的诉求内容，用于取得网格与期限。",
                                    lat=inputs[0]["lat"], lon=inputs[0]["lon"],
                                    petitioners=[services.PetitionerInput(phone="19900000000")]).appeal
    for k, x in enumerate(inputs):  # what the service computes is given to the raw INSERTs ready-made
        phone = f"18{seed % 10}{k:08d}"
        x.update(grid_id=sample.grid_id, token=encrypt(phone), key=keyed_hash(phone),
                 due=deadlines.register_due(sample, sample.submitted_at))
    raw_rate = _rate(_raw_submits, inputs, desk.pk, clients)
    return service_rate, raw_rate


INBOX_SQL = """
SELECT a.id, a.code, a.kind, a.channel, a.urgency, a.title, a.status, a.submitted_at, a.due_at, a.paused_at, a.address,
       u.name, g.name, d.name, c.name, cp.name
FROM appeals_appeal a
JOIN places_orgunit u ON u.id = a.unit_id
LEFT JOIN places_orgunit g ON g.id = a.grid_id
LEFT JOIN places_department d ON d.id = a.department_id
LEFT JOIN appeals_category c ON c.id = a.category_id
LEFT JOIN appeals_category cp ON cp.id = c.parent_id
WHERE a.status IN ('submitted', 'registered', 'assigned', 'in_progress', 'under_review')
  AND (a.department_id = %s OR EXISTS (SELECT 1 FROM appeals_assignment s WHERE s.appeal_id = a.id
       AND s.department_id = %s AND s.role = 'assist' AND s.state = 'active'))
ORDER BY a.due_at ASC NULLS LAST, a.submitted_at DESC, a.id DESC
LIMIT 50
"""


def bench_inbox(runs: int, fx: dict[str, Any]) -> tuple[list[float], list[float], int]:
    from django.db import connection

    from zhucheng.appeals.models import OPEN_STATUSES, Appeal
    from zhucheng.appeals.selectors import inbox_for
    from zhucheng.places.selectors import forget_scope

    handler, dept = fx["bench_handler"], fx["d03"].pk
    open_count = Appeal.objects.filter(department_id=dept, status__in=OPEN_STATUSES).count()

    def orm() -> None:
        forget_scope(handler)  # a request starts without the scope: its membership query is part of the page
        rows = list(inbox_for(handler, tab="department")[:50])
        assert len(rows) == 50

    def raw() -> None:
        with connection.cursor() as cur:
            cur.execute("SELECT department_id FROM places_membership WHERE user_id = %s AND is_active", [handler.pk])
            cur.fetchall()
            cur.execute(INBOX_SQL, [dept, dept])
            assert len(cur.fetchall()) == 50

    _timed(orm, 5), _timed(raw, 5)
    return _timed(orm, runs), _timed(raw, runs), open_count


def bench_metrics(runs: int) -> tuple[list[float], list[float], str, int]:
    from zhucheng.accounts.models import User
    from zhucheng.appeals.metrics import metrics_for, metrics_raw_sql, year_period
    from zhucheng.appeals.models import Appeal
    from zhucheng.places.models import Membership, OrgUnit, Role
    from zhucheng.places.services import membership_grant

    year = datetime.now(UTC).year - 1
    start, end = year_period(year)
    in_year = Appeal.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
    districts = OrgUnit.objects.filter(kind="district")
    district = max(districts, key=lambda d: in_year.filter(unit__path__startswith=d.path).count())
    user, _ = User.objects.get_or_create(username="bench_supervisor", defaults={"display_name": "bench_supervisor"})
    if not Membership.objects.filter(user=user, unit=district, role=Role.SUPERVISOR, is_active=True).exists():
        membership_grant(actor=None, user=user, role=Role.SUPERVISOR, unit=district)
    now = datetime.now(UTC)
    orm_result = metrics_for(user, unit=district, start=start, end=end, now=now)
    raw_result = metrics_raw_sql(user, unit=district, start=start, end=end, now=now)
    assert orm_result.total == raw_result.total, "the ORM and the raw SQL disagree"
    orm = _timed(lambda: metrics_for(user, unit=district, start=start, end=end, now=now), runs)
    raw = _timed(lambda: metrics_raw_sql(user, unit=district, start=start, end=end, now=now), runs)
    return orm, raw, f"{district.name} {year}", orm_result.total.received


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appeals", type=int, default=1_000_000, help="appeals in the database (generated once)")
    parser.add_argument("--database-url", default="", help=f"default {DEFAULT_URL} (or {SQLITE_URL} with --allow-sqlite)")
    parser.add_argument("--allow-sqlite", action="store_true")
    parser.add_argument("--dept-open", type=int, default=50_000, help="open appeals of 住建局 (D03), the inbox measured")
    parser.add_argument("--submits", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4, help="processes submitting at once (besides the 1-client run)")
    parser.add_argument("--inbox-runs", type=int, default=200)
    parser.add_argument("--metrics-runs", type=int, default=7)
    parser.add_argument("--regenerate", action="store_true", help="delete the generated appeals and generate them again")
    args = parser.parse_args()
    url = args.database_url or (SQLITE_URL if args.allow_sqlite else DEFAULT_URL)
    _guard(url, args.allow_sqlite)
    if url.startswith("postgres"):
        _create_pg_database(url)
    t0 = time.perf_counter()
    _setup(url)
    from django.db import connection

    from zhucheng.appeals.models import Appeal

    fx = _city()
    _train_router()
    print(f"database ready in {time.perf_counter() - t0:.1f} s", flush=True)
    have = Appeal.objects.count()
    if args.regenerate and have:
        with connection.cursor() as cur:
            tables = ("appeals_feedback", "appeals_reply", "appeals_supervision", "appeals_assignment", "appeals_appealevent",
                      "appeals_petitioner", "appeals_duplicatecandidate", "appeals_categorydecision", "appeals_appeal")
            for table in tables:
                cur.execute(f"DELETE FROM {table}")
            cur.execute("DELETE FROM appeals_codesequence")
        have = 0
    if have < args.appeals * 0.98:
        t0 = time.perf_counter()
        dept_open = min(args.dept_open, (args.appeals - have) // 2)
        counts = _generate(args.appeals - have, dept_open, fx)
        took = time.perf_counter() - t0
        print(f"generated {counts} in {took:.1f} s ({sum(counts.values()) / took:,.0f} rows/s)", flush=True)
    else:
        print(f"reusing {have:,} appeals (--regenerate to start again)", flush=True)
    n = Appeal.objects.count()
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            # Flush the generation's (or an earlier run's) dirty pages now: a checkpoint running during
            # the submits competes with their commits for the disk (every commit waits for the WAL).
            cur.execute("CHECKPOINT")

    load_before = os.getloadavg()[0]
    rate1, raw1 = bench_submit(args.submits, 1, fx)
    rate, raw_rate = bench_submit(args.submits, args.clients, fx) if args.clients > 1 else (rate1, raw1)
    inbox, inbox_raw, dept_open_now = bench_inbox(args.inbox_runs, fx)
    met, met_raw, which, received = bench_metrics(args.metrics_runs)

    engine = connection.vendor
    with connection.cursor() as cur:
        cur.execute("SELECT version()" if engine == "postgresql" else "SELECT sqlite_version()")
        version = str(_one(cur)).split(" on ")[0]
        if engine == "postgresql":
            cur.execute("SHOW jit")
            version += f" (jit={_one(cur)})"
    print()
    print(f"zhucheng bench appeals — {version}, {n:,} appeals, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"  inbox: 住建局 with {dept_open_now:,} open appeals; metrics: {which} ({received:,} appeals)")
    print(f"  load average during the run: {load_before:.1f} → {os.getloadavg()[0]:.1f} (other work on the machine slows every figure)")
    rows = [
        ("submit, 1 client (appeals/s)", f"{rate1:,.0f}", f"{raw1:,.0f}", rate1 / raw1, "", None),
        (f"submit, {args.clients} clients (appeals/s)", f"{rate:,.0f}", f"{raw_rate:,.0f}", rate / raw_rate,
         f"≥ {TARGETS['submit']:.0f}", rate >= TARGETS["submit"]),
        ("inbox p50 (ms)", f"{_p(inbox, 0.5):.1f}", f"{_p(inbox_raw, 0.5):.1f}", _p(inbox, 0.5) / _p(inbox_raw, 0.5), "", None),
        ("inbox p95 (ms)", f"{_p(inbox, 0.95):.1f}", f"{_p(inbox_raw, 0.95):.1f}", _p(inbox, 0.95) / _p(inbox_raw, 0.95),
         f"≤ {TARGETS['inbox_p95_ms']:.0f}", _p(inbox, 0.95) <= TARGETS["inbox_p95_ms"]),
        ("metrics, district-year (ms, best)", f"{min(met):.1f}", f"{min(met_raw):.1f}", min(met) / min(met_raw), "", None),
        ("metrics, district-year (ms, median)", f"{statistics.median(met):.1f}", f"{statistics.median(met_raw):.1f}",
         statistics.median(met) / statistics.median(met_raw), f"≤ {TARGETS['metrics_ms']:.0f}",
         statistics.median(met) <= TARGETS["metrics_ms"]),
    ]
    print(f"  {'measure':<38}{'service/ORM':>12}{'raw SQL':>10}{'ratio':>8}  {'target':<10}met")
    for name, ours, raw, ratio, target, ok in rows:
        mark = "" if ok is None else ("yes" if ok else "NO")
        print(f"  {name:<38}{ours:>12}{raw:>10}{ratio:>8.2f}  {target:<10}{mark}")
    print("  (ratio: service/ORM ÷ raw SQL for times; for throughput, service ÷ raw — higher is better there)")


if __name__ == "__main__":
    main()
