"""Bulk writing for loaders, seeders and benchmarks: batch encryption and hashing, COPY, id blocks.

``encrypt_many`` produces standard Fernet tokens (``core.crypto.decrypt`` reads them) for many
values at once: AES-CBC is computed block column by block column over all messages through one
AES-ECB context (CBC is ECB of each plaintext block XOR the previous ciphertext block), which is
several times faster than one ``Fernet.encrypt`` per value. ``hash_many`` gives exactly
``core.crypto.keyed_hash``. ``write_table`` sends an Arrow table to PostgreSQL with ``COPY`` (CSV)
and to SQLite with batched ``executemany``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import struct
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.db import connection

from zhucheng.core import crypto
from zhucheng.core.crypto import normalise_identifier

if TYPE_CHECKING:
    import pyarrow as pa

logger = logging.getLogger(__name__)
_VERSION = b"\x80"
SQLITE_BATCH = 2000
COPY_CHUNK = 1 << 22  # bytes per write() into COPY
COPY_ROWS = 200_000  # rows turned into CSV at a time


def hmac_sha256(key: bytes) -> Any:
    """HMAC-SHA256 with the key's pads hashed once (RFC 2104): the same digest as ``hmac.digest``,
    twice as fast per message, which matters for millions of short messages."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    padded = key.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))

    def mac(message: bytes, inner_copy: Any = inner.copy, outer_copy: Any = outer.copy) -> bytes:
        h = inner_copy()
        h.update(message)
        o = outer_copy()
        o.update(h.digest())
        return o.digest()  # type: ignore[no-any-return]

    return mac


@dataclass(frozen=True)
class Keys:
    """The keys the batch functions use, read from settings as ``core.crypto`` reads them, so that
    a worker process without Django settings can use them (never logged: ``repr`` hides them)."""

    signing: bytes = field(repr=False)
    encryption: bytes = field(repr=False)
    hashing: bytes = field(repr=False)

    @classmethod
    def from_settings(cls) -> Keys:
        signing, encryption = crypto.newest_key_parts()
        return cls(signing, encryption, crypto.hash_key())


def encrypt_many(values: Sequence[str]) -> list[str]:
    """Fernet tokens for ``values`` under the current (first) key; empty values stay empty."""
    import pyarrow as pa

    return encrypt_arrow(pa.array([str(v) if v else "" for v in values], pa.string())).to_pylist()  # type: ignore[no-any-return]


def hash_many(values: Sequence[str]) -> list[str]:
    """``core.crypto.keyed_hash`` of each value ("" for empty values)."""
    import pyarrow as pa

    return hash_arrow(pa.array([str(v) if v else "" for v in values], pa.string())).to_pylist()  # type: ignore[no-any-return]


def _utf8_parts(values: pa.Array) -> tuple[np.ndarray, np.ndarray, bytes]:
    """(start offsets, lengths, data) of a string array, nulls read as empty."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = values.cast(pa.string())
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = pc.fill_null(values, "")
    width = np.int64 if pa.types.is_large_string(values.type) else np.int32
    offsets = np.frombuffer(values.buffers()[1], dtype=width)[values.offset : values.offset + len(values) + 1].astype(np.int64)
    data = values.buffers()[2]
    first, last = (int(offsets[0]), int(offsets[-1])) if len(offsets) else (0, 0)
    # bytes, not a memoryview: slicing bytes and hashing the slice is faster than hashing a view
    text = data.slice(first, last - first).to_pybytes() if data is not None and last > first else b""
    return offsets[:-1] - first, np.diff(offsets), text


def _strings_from_matrix(matrix: np.ndarray) -> pa.Array:
    """An Arrow string array, one value per row of an ASCII byte matrix."""
    import pyarrow as pa

    m, w = matrix.shape
    offsets = np.arange(0, (m + 1) * w, w, dtype=np.int32) if m else np.zeros(1, np.int32)
    return pa.Array.from_buffers(
        pa.string(), m, [None, pa.py_buffer(offsets.tobytes()), pa.py_buffer(np.ascontiguousarray(matrix).tobytes())]
    )


def _place(n: int, parts: list[tuple[np.ndarray, pa.Array]]) -> pa.Array:
    """An array of ``n`` strings: each part's values at its positions, "" everywhere else."""
    import pyarrow as pa

    if not parts:
        return pa.repeat(pa.scalar("", pa.string()), n)
    pool = pa.concat_arrays([a for _, a in parts] + [pa.array([""], pa.string())])
    index = np.full(n, len(pool) - 1, dtype=np.int64)
    start = 0
    for where, array in parts:
        index[where] = np.arange(start, start + len(array))
        start += len(array)
    return pool.take(pa.array(index))


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_URLSAFE = bytes.maketrans(b"+/", b"-_")
_ALNUM = r"^[0-9A-Za-z]*$"


def _hex_matrix(digests: bytes, size: int) -> np.ndarray:
    raw = np.frombuffer(digests, dtype=np.uint8).reshape(-1, size)
    out = np.empty((raw.shape[0], size * 2), dtype=np.uint8)
    out[:, 0::2] = _HEX[raw >> 4]
    out[:, 1::2] = _HEX[raw & 15]
    return out


def hash_arrow(values: pa.Array | pa.ChunkedArray, keys: Keys | None = None) -> pa.Array:
    """``core.crypto.keyed_hash`` of each value of a string array ("" for empty ones).

    Plain ASCII letters and digits (every ID number and phone the fast path passes) are normalised
    by upper-casing them in Arrow; anything else goes through ``normalise_identifier`` itself."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = pc.fill_null(values.cast(pa.string()), "")
    n = len(values)
    plain = pc.match_substring_regex(values, _ALNUM).to_numpy(zero_copy_only=False)
    if not plain.all():
        odd = np.flatnonzero(~plain)
        fixed = [normalise_identifier(v) for v in values.take(pa.array(odd)).to_pylist()]
        values = _place(
            n, [(np.flatnonzero(plain), pc.utf8_upper(values.filter(pa.array(plain)))), (odd, pa.array(fixed, pa.string()))]
        )
    else:
        values = pc.utf8_upper(values)
    starts, lengths, data = _utf8_parts(values)
    keep = np.flatnonzero(lengths > 0) if n else np.zeros(0, np.int64)
    if not len(keep):
        return _place(n, [])
    mac = hmac_sha256(keys.hashing if keys else crypto.hash_key())
    ends = starts + lengths
    digests = b"".join([mac(data[a:b]) for a, b in zip(starts[keep].tolist(), ends[keep].tolist(), strict=True)])
    return _place(n, [(keep, _strings_from_matrix(_hex_matrix(digests, 32)))])


def _b64_rows(rows: np.ndarray) -> np.ndarray:
    """urlsafe base64 (padded) of each row of a byte matrix, as a matrix of ASCII characters."""
    m, width = rows.shape
    padded_width = -(-width // 3) * 3
    buffer = np.zeros((m, padded_width), dtype=np.uint8)
    buffer[:, :width] = rows
    text = base64.b64encode(buffer.tobytes()).translate(_URLSAFE)
    out = np.frombuffer(text, dtype=np.uint8).reshape(m, padded_width // 3 * 4).copy()
    missing = padded_width - width  # the zero bytes added: their characters become "="
    if missing:
        out[:, -missing:] = ord("=")
    return out


def encrypt_arrow(values: pa.Array | pa.ChunkedArray, keys: Keys | None = None) -> pa.Array:
    """Fernet tokens (standard, ``core.crypto.decrypt`` reads them) for a string array under the
    current (first) key; empty values stay empty.

    Messages are grouped by padded length; padding, CBC chaining (block column by block column
    through one AES-ECB context), the HMAC input and base64 are done on byte matrices, leaving only
    one HMAC call per message in Python."""
    n = len(values)
    starts, lengths, data = _utf8_parts(values)
    if not n or not (lengths > 0).any():
        return _place(n, [])
    signing_key, encryption_key = (keys.signing, keys.encryption) if keys else crypto.newest_key_parts()
    sign = hmac_sha256(signing_key)
    raw_data = np.frombuffer(data, dtype=np.uint8) if len(data) else np.zeros(1, np.uint8)
    header = np.frombuffer(_VERSION + struct.pack(">Q", int(time.time())), dtype=np.uint8)
    # ECB here is the building block of CBC below, never used on its own (each block is chained).
    encryptor = Cipher(algorithms.AES(encryption_key), modes.ECB()).encryptor()  # noqa: S305
    blocks_of = np.where(lengths > 0, lengths // 16 + 1, 0)
    parts: list[tuple[np.ndarray, pa.Array]] = []
    for blocks in np.unique(blocks_of[blocks_of > 0]).tolist():
        where = np.flatnonzero(blocks_of == blocks)
        m, width = len(where), blocks * 16
        column = np.arange(width)
        size = lengths[where][:, None]
        gather = np.minimum(starts[where][:, None] + column[None, :], len(raw_data) - 1)
        plain = np.where(column[None, :] < size, raw_data[gather], (width - size).astype(np.uint8)).astype(np.uint8)  # PKCS7
        iv = np.frombuffer(os.urandom(16 * m), dtype=np.uint8).reshape(m, 16)
        start = len(header) + 16
        body = np.empty((m, start + width + 32), dtype=np.uint8)
        body[:, : len(header)] = header
        body[:, len(header) : start] = iv
        previous = iv
        for b in range(blocks):
            mixed = np.bitwise_xor(plain[:, b * 16 : (b + 1) * 16], previous)
            cipher_block = np.frombuffer(encryptor.update(mixed.tobytes()), dtype=np.uint8).reshape(m, 16)
            body[:, start + b * 16 : start + (b + 1) * 16] = cipher_block
            previous = cipher_block
        signed = start + width
        raw = np.ascontiguousarray(body[:, :signed]).tobytes()
        macs = b"".join([sign(raw[k : k + signed]) for k in range(0, m * signed, signed)])
        body[:, signed:] = np.frombuffer(macs, dtype=np.uint8).reshape(m, 32)
        parts.append((where, _strings_from_matrix(_b64_rows(body))))
    return _place(n, parts)


def crypto_columns(keys: Keys, encrypt: dict[str, pa.Array], hashed: dict[str, pa.Array]) -> dict[str, pa.Array]:
    """Tokens (``name``) and keyed hashes (``name_hash``) of some columns: the work a worker does."""
    out = {name: encrypt_arrow(values, keys) for name, values in encrypt.items()}
    out.update({f"{name}_hash": hash_arrow(values, keys) for name, values in hashed.items()})
    return out


PARALLEL_MIN_ROWS = 100_000
WORKERS = 2


class CryptoPool:
    """Worker processes for ``crypto_columns``, started in the background: ``submit`` waits for
    the first worker only when the first job is handed over, and falls back to this process when
    none could start."""

    def __init__(self, workers: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.executor: Executor | None = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
        self._started: Future[int] | None = self.executor.submit(int)

    def submit(self, keys: Keys, encrypt: dict[str, pa.Array], hashed: dict[str, pa.Array]) -> Future[dict[str, pa.Array]]:
        if self._started is not None:
            started, self._started = self._started, None
            try:
                started.result(timeout=120)  # a worker cannot start where __main__ is not guarded
            except Exception:  # BrokenProcessPool, a timeout: the work is done here instead
                logger.warning("bulk: worker processes did not start; encrypting in this process", exc_info=True)
                self.close(wait=False)
        if self.executor is None:
            return submit_crypto(None, keys, encrypt, hashed)
        return self.executor.submit(crypto_columns, keys, encrypt, hashed)

    def close(self, wait: bool = True) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=wait, cancel_futures=True)
            self.executor = None


@contextmanager
def crypto_pool(rows: int) -> Iterator[CryptoPool | None]:
    """Worker processes for ``crypto_columns`` when ``rows`` is large enough to repay starting them
    (about a second), else None: the caller computes in its own process.

    Encryption and hashing are one HMAC call per value in Python, so threads would queue on the
    GIL; processes run them beside the database (which works in its own process meanwhile) while
    this process reads, checks and sends. "spawn": a worker shares nothing with Django, in
    particular not the database connection.
    """
    if rows < PARALLEL_MIN_ROWS or WORKERS < 1:
        yield None
        return
    pool = CryptoPool(WORKERS)
    try:
        yield pool
    finally:
        pool.close()


def submit_crypto(
    pool: CryptoPool | None, keys: Keys, encrypt: dict[str, pa.Array], hashed: dict[str, pa.Array]
) -> Future[dict[str, pa.Array]]:
    """``crypto_columns`` in a worker (or here, at once, without a pool), as a future."""
    if pool is not None:
        return pool.submit(keys, encrypt, hashed)
    done: Future[dict[str, pa.Array]] = Future()
    done.set_result(crypto_columns(keys, encrypt, hashed))
    return done


# --- writing --------------------------------------------------------------------------------------


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def arrow_csv(table: pa.Table) -> bytes:
    """CSV without a header as ``COPY … (FORMAT csv)`` reads it: strings quoted ("" is empty, nothing is NULL)."""
    import pyarrow.csv as pacsv

    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return buffer.getvalue()


def write_table(db_table: str, data: pa.Table | Iterable[pa.Table]) -> int:
    """Insert every row of ``data`` (a table, or tables produced one after another) and return the count.

    Columns are named as ``db_table``'s. On PostgreSQL one ``COPY`` is fed slice by slice, the
    next slice's CSV made by a helper thread while the current one is sent, so neither the CSV of
    millions of rows is ever whole in memory nor does the database wait for Python.
    """
    tables: Iterable[Any] = [data] if isinstance(data, pa_table_type()) else data
    if is_postgres():
        return _copy_tables(db_table, tables)
    total = 0
    with connection.cursor() as cursor:
        for table in tables:
            if table.num_rows == 0:
                continue
            columns = ", ".join(quote(c) for c in table.column_names)
            marks = ", ".join(["%s"] * table.num_columns)
            sql = f"INSERT INTO {quote(db_table)} ({columns}) VALUES ({marks})"  # noqa: S608 - names are ours, values bound
            for batch in table.to_batches(SQLITE_BATCH):
                cursor.executemany(sql, list(zip(*(col.to_pylist() for col in batch.columns), strict=True)))
            total += table.num_rows
    return total


def pa_table_type() -> type:
    import pyarrow as pa

    return pa.Table


def _slices(tables: Iterable[pa.Table]) -> Iterator[pa.Table]:
    for table in tables:
        for start in range(0, table.num_rows, COPY_ROWS):
            yield table.slice(start, COPY_ROWS)


def _copy_tables(db_table: str, tables: Iterable[pa.Table]) -> int:
    from concurrent.futures import ThreadPoolExecutor

    slices = _slices(tables)
    first = next(slices, None)
    if first is None:
        return 0
    columns = ", ".join(quote(c) for c in first.column_names)
    total = 0
    with connection.cursor() as cursor, ThreadPoolExecutor(max_workers=1) as pool:
        raw: Any = cursor.cursor  # the psycopg cursor behind Django's wrapper
        with raw.copy(f"COPY {quote(db_table)} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy:
            current: pa.Table | None = first
            pending = pool.submit(arrow_csv, first)
            while current is not None:
                payload = pending.result()
                total += current.num_rows
                current = next(slices, None)
                if current is not None:
                    pending = pool.submit(arrow_csv, current)
                for start in range(0, len(payload), COPY_CHUNK):
                    copy.write(payload[start : start + COPY_CHUNK])
    return total


_sqlite_next: dict[str, int] = {}


def reserve_ids(db_table: str, count: int) -> int:
    """The first of ``count`` consecutive primary keys nobody else will be given (PostgreSQL: a sequence block)."""
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [db_table])
            sequence = cursor.fetchone()[0]
            # Lock the sequence's block: nextval then move it on by count-1 under an advisory lock.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [sequence])
            cursor.execute("SELECT nextval(%s)", [sequence])
            first = int(cursor.fetchone()[0])
            cursor.execute("SELECT setval(%s, %s)", [sequence, first + max(count, 1) - 1])
            return first
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {quote(db_table)}")  # noqa: S608
        # Blocks reserved but not yet written are remembered, so two reservations never overlap.
        first = max(int(cursor.fetchone()[0]), _sqlite_next.get(db_table, 0))
        _sqlite_next[db_table] = first + max(count, 1)
        return first


def analyze(*db_tables: str) -> None:
    """Refresh planner statistics after a bulk load (PostgreSQL)."""
    if not is_postgres():
        return
    with connection.cursor() as cursor:
        for name in db_tables:
            cursor.execute(f"ANALYZE {quote(name)}")


_INDEXES = """
SELECT c.relname, pg_get_indexdef(x.indexrelid), x.indisunique
FROM pg_index x
JOIN pg_class c ON c.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
WHERE t.relname = ANY(%s) AND t.relnamespace = current_schema()::regnamespace AND NOT x.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.contype IN ('p', 'u', 'x'))
"""
_CONSTRAINTS = """
SELECT t.relname, k.conname, pg_get_constraintdef(k.oid), k.contype
FROM pg_constraint k
JOIN pg_class t ON t.oid = k.conrelid
WHERE t.relname = ANY(%s) AND t.relnamespace = current_schema()::regnamespace AND k.contype IN ('u', 'f')
"""


@contextmanager
def constraints_deferred(*db_tables: str, enabled: bool = True) -> Iterator[int]:
    """Drop the tables' indexes (all but primary keys), unique and foreign-key constraints, and put
    them back on leaving (PostgreSQL); yields how many were dropped.

    Building an index once over millions of new rows is several times faster than growing it row
    by row (a trigram index, or a unique index on random hashes larger than the buffer cache, most
    of all), and one validating join per foreign key replaces a trigger call per row. Nothing is
    lost: putting a unique constraint back fails, and rolls the whole load back, if the new rows
    broke it. Inside a transaction the tables stay locked against other sessions until it ends.
    """
    if not enabled or not is_postgres():
        yield 0
        return
    tables = list(db_tables)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # fire pending checks: ALTER TABLE refuses to run before them
        cursor.execute(_CONSTRAINTS, [tables])
        constraints = cursor.fetchall()
        for table, name, _definition, _kind in sorted(constraints, key=lambda c: c[3] != "f"):  # foreign keys first
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        cursor.execute(_INDEXES, [tables])
        indexes = cursor.fetchall()
        for name, _definition, _unique in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    yield len(constraints) + len(indexes)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for table, name, definition, kind in constraints:
            if kind == "u":
                cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
        for _name, definition, _unique in sorted(indexes, key=lambda i: not i[2]):  # unique ones first
            cursor.execute(definition)
        for table, name, definition, kind in constraints:
            if kind == "f":
                cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
