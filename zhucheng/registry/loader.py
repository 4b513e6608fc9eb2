"""Bulk loading of persons (``load_registry``): CSV or Parquet → collection standard → staging → set-based insert.

Two passes, one transaction:

1. **Check and stage.** The file is read in chunks (pyarrow for CSV, DuckDB for Parquet), every
   row is checked by ``standard.clean_import_batch`` (rows breaking the standard go to the reject
   list with row, field and reason), identifiers are reduced to their keyed hashes, and the keys
   and place columns go into a temporary staging table (``COPY`` on PostgreSQL, batched
   ``executemany`` on SQLite). Cleaned rows are spilled to a temporary Arrow file (uncompressed:
   written and read back at memory speed).
2. **Resolve and insert.** One set-based query over the staging table finds, per row: a repeat of
   an earlier row of the file (rejected), a person already registered (skipped: loading the same
   file twice creates nothing), an unknown grid or housing unit (rejected); the rest get their
   grid and unit. Only those rows are encrypted and inserted (persons, their current residence,
   their employment) with ``COPY`` / ``executemany``, under primary keys reserved in one block.
   The five-knowns flags of the touched units are recomputed and one ``registry.load`` audit
   event sums the load up.

Without ``commit`` the transaction is rolled back at the end (a dry run that still writes the
reject file). Columns are listed in ``standard_batch.IMPORT_COLUMNS``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from zhucheng.core.audit import audit_record

from . import bulk, completeness, standard
from .errors import RegistryError
from .models import Employment, HousingUnit, Person, Residence, Source
from .standard_batch import HEADER_ALIASES

CHUNK_ROWS = 50_000  # small enough that checking, hashing, encrypting and sending overlap
DEFER_MIN_ROWS = 100_000
BULK_TABLES = ("registry_person", "registry_residence", "registry_employment", "registry_housingunit")
STAGE = "registry_load_stage"
UNITS = "registry_load_units"


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""


@dataclass
class LoadReport:
    """What a load did (or, in a dry run, would do)."""

    path: str
    rows: int = 0
    inserted: int = 0
    existing: int = 0
    rejected_rows: int = 0
    residences: int = 0
    employments: int = 0
    fast_rows: int = 0
    committed: bool = False
    seconds: float = 0.0
    reject_path: str = ""
    rejects: list[standard.Violation] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


# --- reading --------------------------------------------------------------------------------------


def _sniff_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM), else GB18030 (what spreadsheets in China often save)."""
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the sample's end
            return "gb18030"
    return "utf8"


def read_chunks(path: Path, chunk_rows: int = CHUNK_ROWS) -> Iterator[pa.Table]:
    """The file as Arrow tables of string columns, header names mapped to import column names."""
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        import duckdb

        con = duckdb.connect()
        reader: Any = con.read_parquet(str(path)).to_arrow_reader(chunk_rows)
        for batch in reader:
            yield _rename(pa.Table.from_batches([batch]))
        con.close()
        return
    if suffix not in (".csv", ".txt"):
        raise RegistryError(_("只能导入 CSV 或 Parquet 文件。"), code="file_type", field="file")
    encoding = _sniff_encoding(path)
    with pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(encoding=encoding, block_size=8 << 20),
        convert_options=pacsv.ConvertOptions(column_types=_all_strings(path, encoding), strings_can_be_null=False),
    ) as reader:
        pending: list[pa.RecordBatch] = []
        size = 0
        for batch in reader:
            pending.append(batch)
            size += batch.num_rows
            if size >= chunk_rows:
                yield _rename(pa.Table.from_batches(pending))
                pending, size = [], 0
        if pending:
            yield _rename(pa.Table.from_batches(pending))


def _all_strings(path: Path, encoding: str) -> dict[str, pa.DataType]:
    with path.open("r", encoding="utf-8-sig" if encoding == "utf8" else encoding, newline="") as fh:
        names = next(csv.reader(fh), [])
    return {name: pa.string() for name in names}


def _rename(table: pa.Table) -> pa.Table:
    names = [HEADER_ALIASES.get(str(n).strip(), str(n).strip()) for n in table.column_names]
    table = table.rename_columns(names)
    if "name" not in names:
        raise RegistryError(_("文件缺少“姓名”(name)列。"), code="missing_column", field="name")
    return table


# --- the staging table ----------------------------------------------------------------------------

_STAGE_COLUMNS = ("row", "key", "id_hash", "doc_type", "doc_hash", "grid_code", "door_plate", "unit_number")


def _create_stage() -> None:
    text = 'TEXT COLLATE "C"' if bulk.is_postgres() else "TEXT"
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cur.execute(
            f"CREATE TEMPORARY TABLE {STAGE} (row BIGINT PRIMARY KEY, key {text} NOT NULL, id_hash {text} NOT NULL, "
            f"doc_type {text} NOT NULL, doc_hash {text} NOT NULL, grid_code {text} NOT NULL, door_plate {text} NOT NULL, "
            f"unit_number {text} NOT NULL)"
        )


def _drop_temp() -> None:
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cur.execute(f"DROP TABLE IF EXISTS {UNITS}")


# Per staged row: its status and, for rows to insert, the person's unit and the housing unit.
# A key seen at an earlier row is a repeat; a key already registered is skipped, not rejected.
# Joins, not EXISTS inside the CASE: the planner can hash-join millions of rows, and it can use the
# partial unique indexes only where the query repeats their predicate (NOT (… = '')).
_PLAN_SQL = f"""
SELECT s.row,
       CASE WHEN f.first_row <> s.row THEN 'dup'
            WHEN pi.id IS NOT NULL OR pd.id IS NOT NULL THEN 'existing'
            WHEN s.door_plate <> '' AND hu.id IS NULL THEN 'unknown_unit'
            WHEN s.door_plate = '' AND g.id IS NULL THEN 'unknown_grid'
            ELSE 'ok' END AS status,
       COALESCE(hu.grid_id, g.id, 0) AS unit_id,
       COALESCE(hu.id, 0) AS housing_unit_id,
       f.first_row
FROM {STAGE} s
JOIN (SELECT key, MIN(row) AS first_row FROM {STAGE} GROUP BY key) f ON f.key = s.key
LEFT JOIN registry_person pi ON s.id_hash <> '' AND pi.id_number_hash = s.id_hash AND NOT (pi.id_number_hash = '')
LEFT JOIN registry_person pd ON s.doc_hash <> '' AND pd.doc_type = s.doc_type AND pd.doc_number_hash = s.doc_hash
                             AND NOT (pd.doc_number_hash = '')
LEFT JOIN places_orgunit g ON s.door_plate = '' AND g.code = s.grid_code AND g.kind = 'grid'
LEFT JOIN registry_building b ON s.door_plate <> '' AND b.door_plate = s.door_plate
LEFT JOIN registry_housingunit hu ON hu.building_id = b.id AND hu.number = s.unit_number
"""  # noqa: S608 - table names are constants


_PLAN_GROUP = 65_536  # plan rows per aggregated text: a few hundred round trips for millions of rows
_PLAN_TEXT_SQL = f"""
SELECT string_agg(concat_ws(',', row, status, unit_id, housing_unit_id, first_row), E'\\n')
FROM ({_PLAN_SQL}) p GROUP BY row / %s
"""  # noqa: S608 - constants only


def _plan() -> pa.Table:
    """Columns row, status, unit_id, housing_unit_id, first_row for every staged row, by row."""
    schema = pa.schema(
        [
            ("row", pa.int64()),
            ("status", pa.string()),
            ("unit_id", pa.int64()),
            ("housing_unit_id", pa.int64()),
            ("first_row", pa.int64()),
        ]
    )
    if bulk.is_postgres():
        # One CSV text per block of rows rather than one COPY message per row: reading millions of
        # messages one by one costs Python more than the query costs the database.
        with connection.cursor() as cur:
            cur.execute(_PLAN_TEXT_SQL, [_PLAN_GROUP])
            texts = [r[0] for r in cur.fetchall()]
        if not texts:
            return schema.empty_table()
        plan = pacsv.read_csv(
            io.BytesIO("\n".join(texts).encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=schema.names),
            convert_options=pacsv.ConvertOptions(column_types=dict(zip(schema.names, schema.types, strict=True))),
        )
        return plan.sort_by("row")  # sorted here: cheaper than sorting wide rows in the database
    with connection.cursor() as cur:
        cur.execute(f"{_PLAN_SQL} ORDER BY s.row")
        rows = cur.fetchall()
    return pa.Table.from_pylist([dict(zip(schema.names, r, strict=True)) for r in rows], schema=schema)


# --- the load -------------------------------------------------------------------------------------


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _progress(total: int | None, desc: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="行", unit_scale=True, disable=not enabled, mininterval=1.0)


def _natural_keys(good: pa.Table, id_hashes: pa.Array, doc_hashes: pa.Array) -> pa.Array:
    """The natural key of each cleaned row: the ID number's hash, else document type and hash."""
    by_doc = pc.binary_join_element_wise(good.column("doc_type").combine_chunks(), doc_hashes, ":")
    return pc.if_else(pc.not_equal(id_hashes, ""), id_hashes, by_doc)


def load_file(
    path: str | Path,
    *,
    actor: Any = None,
    commit: bool = False,
    reject_path: str | Path | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: bool = False,
    today: date | None = None,
    on_stage: Callable[[str, float], None] | None = None,
    defer_constraints: bool | None = None,
) -> LoadReport:
    """Load persons from a CSV or Parquet file (see the module docstring); returns what happened.

    ``defer_constraints``: drop the tables' indexes and constraints during the insert and build them
    again after (PostgreSQL). By default that happens when at least 100,000 persons are added and
    at least half as many as are already registered, since a rebuild costs in proportion to the
    whole table while growing indexes row by row costs in proportion to the new rows.
    """
    path = Path(path)
    today = today or timezone.localdate()
    report = LoadReport(path=str(path), reject_path=str(reject_path or f"{path}.rejects.csv"))
    started = time.perf_counter()
    mark = started

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        report.timings[name] = now - mark
        if on_stage:
            on_stage(name, now - mark)
        mark = now

    with tempfile.TemporaryDirectory(prefix="zc-load-") as tmp:
        spill = os.path.join(tmp, "clean.arrow")
        try:
            with transaction.atomic():
                if bulk.is_postgres():
                    with connection.cursor() as cur:
                        cur.execute("SET LOCAL work_mem = '256MB'")
                        cur.execute("SET LOCAL synchronous_commit = off")
                _create_stage()
                with bulk.crypto_pool(_rows_hint(path)) as pool:
                    _pass_one(path, spill, report, chunk_rows, progress, today, pool)
                    lap("check_and_stage")
                    bulk.analyze(STAGE)
                    plan = _plan()
                    lap("resolve")
                    _pass_two(spill, plan, report, progress, defer_constraints, lap, pool, chunk_rows)
                _finish(report, actor, path)
                lap("finish")
                _drop_temp()
                if not commit:
                    raise _DryRun()
                report.committed = True
        except _DryRun:
            _drop_temp_quietly()
    _write_rejects(report)
    report.seconds = time.perf_counter() - started
    return report


def _drop_temp_quietly() -> None:
    try:
        _drop_temp()
    except Exception:  # noqa: S110 - the rolled-back transaction took the temp tables with it
        pass


def _rows_hint(path: Path) -> int:
    """About how many rows the file has (Parquet: exactly), to decide on worker processes."""
    if path.suffix.lower() in (".parquet", ".pq"):
        return int(pq.ParquetFile(path).metadata.num_rows)
    return path.stat().st_size // 150  # a person's line is 150 to 250 bytes


PIPELINE = 2  # chunks whose hashing or encryption runs ahead in the workers


def _pass_one(path: Path, spill: str, report: LoadReport, chunk_rows: int, progress: bool, today: date, pool: Any) -> None:
    """Check each chunk here while the workers hash the identifiers of the chunks before it."""
    writer: pa.ipc.RecordBatchFileWriter | None = None
    first_row = 1 if path.suffix.lower() in (".parquet", ".pq") else 2  # CSV rows count the header line
    bar = _progress(
        pq.ParquetFile(path).metadata.num_rows if path.suffix.lower() in (".parquet", ".pq") else None, _("检查"), progress
    )
    keys = bulk.Keys.from_settings()
    pending: deque[tuple[pa.Table, int, Future[dict[str, pa.Array]]]] = deque()

    def stage(good: pa.Table, rows: int, job: Future[dict[str, pa.Array]]) -> None:
        nonlocal writer
        hashes = job.result()
        id_hashes, doc_hashes = hashes["id_number_hash"], hashes["doc_number_hash"]
        staged = pa.table(
            {
                "row": good.column("row"),
                "key": _natural_keys(good, id_hashes, doc_hashes),
                "id_hash": id_hashes,
                "doc_type": good.column("doc_type"),
                "doc_hash": doc_hashes,
                "grid_code": good.column("grid_code"),
                "door_plate": good.column("door_plate"),
                "unit_number": good.column("unit_number"),
            }
        )
        bulk.write_table(STAGE, staged)
        good = good.append_column("id_hash", id_hashes).append_column("doc_hash", doc_hashes)
        if writer is None:
            writer = pa.ipc.new_file(spill, good.schema)
        writer.write_table(good)
        bar.update(rows)

    try:
        for chunk in read_chunks(path, chunk_rows):
            result = standard.clean_import_batch(chunk, first_row=first_row, today=today)
            first_row += chunk.num_rows
            report.rows += chunk.num_rows
            report.fast_rows += result.fast_rows
            report.rejects.extend(result.rejects)
            good = result.table
            if not good.num_rows:
                bar.update(chunk.num_rows)
                continue
            ids = {
                "id_number": good.column("id_number").combine_chunks(),
                "doc_number": good.column("doc_number").combine_chunks(),
            }
            pending.append((good, chunk.num_rows, bulk.submit_crypto(pool, keys, {}, ids)))
            while len(pending) > PIPELINE:
                stage(*pending.popleft())
        while pending:
            stage(*pending.popleft())
    finally:
        for _good, _rows, job in pending:
            job.cancel()
        bar.close()
        if writer is not None:
            writer.close()
    if writer is None:  # nothing passed the standard: an empty spill keeps pass two simple
        from .standard_batch import CLEAN_COLUMNS

        empty = pa.table({c: pa.array([], pa.string()) for c in (*CLEAN_COLUMNS, "id_hash", "doc_hash")})
        with pa.ipc.new_file(spill, empty.schema) as out:
            out.write_table(empty)


def _pass_two(
    spill: str,
    plan: pa.Table,
    report: LoadReport,
    progress: bool,
    defer: bool | None,
    lap: Callable[[str], None],
    pool: Any,
    chunk_rows: int,
) -> None:
    status = plan.column("status").to_numpy(zero_copy_only=False)
    plan_rows = plan.column("row").to_numpy()
    for code in ("dup", "unknown_unit", "unknown_grid"):
        idx = np.flatnonzero(status == code)
        if not len(idx):
            continue
        rows = plan_rows[idx].tolist()
        firsts = plan.column("first_row").to_numpy()[idx].tolist()
        places = _staged_places(rows) if code != "dup" else {}
        for row, first in zip(rows, firsts, strict=True):
            if code == "dup":
                report.rejects.append(standard.violation("id_number", "duplicate_in_file", row=row, other_value=str(first)))
            elif code == "unknown_unit":
                plate, number = places[row][1], places[row][2]
                report.rejects.append(
                    standard.violation("door_plate", "unknown_housing_unit", row=row, value=f"{plate} {number}")
                )
            else:
                report.rejects.append(standard.violation("grid_code", "unknown_grid", row=row, value=places[row][0]))
    report.existing = int((status == "existing").sum())
    ok = status == "ok"
    count = int(ok.sum())
    if not count:
        return
    if defer is None:
        defer = count >= DEFER_MIN_ROWS and count >= Person.objects.count() // 2
    with bulk.constraints_deferred(*BULK_TABLES, enabled=defer):
        _insert_planned(spill, plan, ok, count, report, progress, lap, pool, chunk_rows)
    lap("build_indexes")


def _insert_planned(
    spill: str,
    plan: pa.Table,
    ok: np.ndarray,
    count: int,
    report: LoadReport,
    progress: bool,
    lap: Callable[[str], None],
    pool: Any,
    chunk_rows: int,
) -> None:
    """Insert the rows planned ``ok``: the workers encrypt the chunks ahead of the one being sent."""
    plan_rows = plan.column("row").to_numpy()
    ok_rows = plan_rows[ok]
    unit_ids = plan.column("unit_id").to_numpy()[ok]
    hu_ids = plan.column("housing_unit_id").to_numpy()[ok]
    first_person = bulk.reserve_ids(Person._meta.db_table, count)
    with_home = int((hu_ids > 0).sum())
    first_residence = bulk.reserve_ids(Residence._meta.db_table, with_home) if with_home else 0
    now = timezone.now()
    keys = bulk.Keys.from_settings()
    state = {"person": first_person, "residence": first_residence, "job": 0}
    bar = _progress(count, _("写入"), progress)

    def chunks() -> Iterator[tuple[pa.Table, np.ndarray]]:
        with pa.OSFile(spill, "rb") as source:  # read, not mapped: chunks outlive the file's closing
            batches = pa.ipc.open_file(source)
            for i in range(batches.num_record_batches):
                yield from _planned(pa.Table.from_batches([batches.get_batch(i)]).combine_chunks())

    def _planned(good: pa.Table) -> Iterator[tuple[pa.Table, np.ndarray]]:
        if good.num_rows:
            rows = good.column("row").to_numpy()
            pos = np.minimum(np.searchsorted(ok_rows, rows), len(ok_rows) - 1)
            keep = ok_rows[pos] == rows
            if keep.any():
                yield good.filter(pa.array(keep)), pos[keep]

    def write(good: pa.Table, where: np.ndarray, job: Future[dict[str, pa.Array]]) -> None:
        n = good.num_rows
        person_ids = np.arange(state["person"], state["person"] + n, dtype=np.int64)
        state["person"] += n
        _write_persons(good, person_ids, unit_ids[where], now, job.result())
        homes = hu_ids[where]
        has_home = homes > 0
        if has_home.any():
            k = int(has_home.sum())
            ids = np.arange(state["residence"], state["residence"] + k)
            _write_residences(good.filter(pa.array(has_home)), person_ids[has_home], homes[has_home], ids, now)
            state["residence"] += k
            report.residences += k
        has_job = pc.not_equal(good.column("employer"), "").to_numpy(zero_copy_only=False)
        if has_job.any():
            k = int(has_job.sum())
            if not state["job"]:
                state["job"] = bulk.reserve_ids(Employment._meta.db_table, count)
            _write_jobs(good.filter(pa.array(has_job)), person_ids[has_job], np.arange(state["job"], state["job"] + k), now)
            state["job"] += k
            report.employments += k
        report.inserted += n
        bar.update(n)

    pending: deque[tuple[pa.Table, np.ndarray, Future[dict[str, pa.Array]]]] = deque()
    try:
        for good, where in chunks():
            plain = {name: good.column(name).combine_chunks() for name in ("id_number", "doc_number", "phone")}
            pending.append((good, where, bulk.submit_crypto(pool, keys, plain, {"phone": plain["phone"]})))
            while len(pending) > PIPELINE:
                write(*pending.popleft())
        while pending:
            write(*pending.popleft())
    finally:
        for _good, _where, job in pending:
            job.cancel()
        bar.close()
    lap("insert")
    touched = np.unique(hu_ids[hu_ids > 0])
    if len(touched):
        with connection.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {UNITS}")
            cur.execute(f"CREATE TEMPORARY TABLE {UNITS} (id BIGINT PRIMARY KEY)")
        bulk.write_table(UNITS, pa.table({"id": pa.array(touched)}))
        units = HousingUnit.objects.filter(pk__in=RawSQL(f"SELECT id FROM {UNITS}", []))  # noqa: S608, S611 - a fixed statement
        units.exclude(vacant_confirmed_on=None).update(vacant_confirmed_on=None)
        completeness.refresh_units_bulk(f"SELECT id FROM {UNITS}")  # noqa: S608 - a fixed statement
    lap("five_knowns")


def _staged_places(rows: list[int]) -> dict[int, tuple[str, str, str]]:
    """(grid code, door plate, unit number) of some staged rows, for the reasons of their rejection."""
    out: dict[int, tuple[str, str, str]] = {}
    with connection.cursor() as cur:
        for start in range(0, len(rows), 500):
            part = rows[start : start + 500]
            marks = ", ".join(["%s"] * len(part))
            cur.execute(f"SELECT row, grid_code, door_plate, unit_number FROM {STAGE} WHERE row IN ({marks})", part)  # noqa: S608
            out.update({r[0]: (r[1], r[2], r[3]) for r in cur.fetchall()})
    return out


def _write_persons(good: pa.Table, ids: np.ndarray, unit_ids: np.ndarray, now: Any, secret: dict[str, pa.Array]) -> None:
    """``secret``: the tokens of id_number, doc_number and phone, and phone_hash (``bulk.crypto_columns``)."""
    n = good.num_rows
    blank = pa.repeat(pa.scalar("", pa.string()), n)
    stamp = pa.repeat(pa.scalar(now, pa.timestamp("us", tz="UTC")), n)
    table = pa.table(
        {
            "id": pa.array(ids),
            "created_at": stamp,
            "updated_at": stamp,
            "name": good.column("name"),
            "doc_type": good.column("doc_type"),
            "id_number": secret["id_number"],
            "id_number_hash": good.column("id_hash"),
            "doc_number": secret["doc_number"],
            "doc_number_hash": good.column("doc_hash"),
            "phone": secret["phone"],
            "phone_hash": secret["phone_hash"],
            "sex": good.column("sex"),
            "birth_date": good.column("birth_date"),
            "ethnicity": good.column("ethnicity"),
            "nationality": good.column("nationality"),
            "hukou_place": good.column("hukou_place"),
            "education": good.column("education"),
            "employment_status": good.column("employment_status"),
            "care_needs": blank,
            "unit_id": pa.array(unit_ids),
            "source": pa.repeat(pa.scalar(Source.IMPORT.value, pa.string()), n),
        }
    )
    bulk.write_table(Person._meta.db_table, table)


def _write_residences(good: pa.Table, person_ids: np.ndarray, homes: np.ndarray, ids: np.ndarray, now: Any) -> None:
    n = good.num_rows
    blank = pa.array([""] * n, pa.string())
    table = pa.table(
        {
            "id": pa.array(ids),
            "person_id": pa.array(person_ids),
            "housing_unit_id": pa.array(homes),
            "kind": good.column("residence_kind"),
            "is_primary": pa.array([True] * n),
            "from_date": good.column("from_date"),
            "ended_reason": blank,
            "arrived_from": blank,
            "departed_to": blank,
            "is_void": pa.array([False] * n),
            "void_reason": blank,
            "source": pa.array([Source.IMPORT] * n, pa.string()),
            "created_at": pa.array([now] * n, pa.timestamp("us", tz="UTC")),
        }
    )
    bulk.write_table(Residence._meta.db_table, table)


def _write_jobs(good: pa.Table, person_ids: np.ndarray, ids: np.ndarray, now: Any) -> None:
    n = good.num_rows
    table = pa.table(
        {
            "id": pa.array(ids),
            "person_id": pa.array(person_ids),
            "employer": good.column("employer"),
            "employer_code": pa.array([""] * n, pa.string()),
            "occupation": good.column("occupation"),
            "from_date": good.column("employment_from"),
            "source": pa.array([Source.IMPORT] * n, pa.string()),
            "created_at": pa.array([now] * n, pa.timestamp("us", tz="UTC")),
        }
    )
    bulk.write_table(Employment._meta.db_table, table)


def _finish(report: LoadReport, actor: Any, path: Path) -> None:
    report.rejects.sort(key=lambda v: (v.row or 0, v.field))
    report.rejected_rows = len({v.row for v in report.rejects})
    bulk.analyze(Person._meta.db_table, Residence._meta.db_table, Employment._meta.db_table)
    audit_record(
        actor=actor,
        act="registry.load",
        changed_fields=["persons", "residences", "employments"],
        reason=(
            f"file={path.name}; sha256={_file_sha256(path)}; rows={report.rows}; inserted={report.inserted}; "
            f"existing={report.existing}; rejected_rows={report.rejected_rows}"
        ),
    )


def _write_rejects(report: LoadReport) -> None:
    """The reject file: one line per broken rule (row, field, code, reason in Chinese and English)."""
    with open(report.reject_path, "w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["row", "field", "code", "reason", "reason_en"])
        for v in report.rejects:
            out.writerow([v.row, v.field, v.code, v.message_zh, v.message_en])
