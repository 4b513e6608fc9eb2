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
import os
import struct
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.db import connection

from zhucheng.core.crypto import normalise_identifier

if TYPE_CHECKING:
    import pyarrow as pa

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


def _fernet_keys() -> tuple[bytes, bytes]:
    key = base64.urlsafe_b64decode(settings.ZHUCHENG_KEYS[0])
    return key[:16], key[16:]


def encrypt_many(values: Sequence[str]) -> list[str]:
    """Fernet tokens for ``values`` under the current (first) key; empty values stay empty."""
    signing_key, encryption_key = _fernet_keys()
    sign = hmac_sha256(signing_key)
    out = [""] * len(values)
    groups: dict[int, list[tuple[int, bytes]]] = {}
    for i, value in enumerate(values):
        if value:
            data = str(value).encode("utf-8")
            groups.setdefault(len(data) // 16 + 1, []).append((i, data))
    header = _VERSION + struct.pack(">Q", int(time.time()))
    # ECB here is the building block of CBC below, never used on its own (each block is chained).
    encryptor = Cipher(algorithms.AES(encryption_key), modes.ECB()).encryptor()  # noqa: S305
    for blocks, items in groups.items():
        m = len(items)
        width = blocks * 16
        padded = b"".join(d + bytes([width - len(d)]) * (width - len(d)) for _, d in items)
        plain = np.frombuffer(padded, dtype=np.uint8).reshape(m, width)
        iv = np.frombuffer(os.urandom(16 * m), dtype=np.uint8).reshape(m, 16)
        body = np.empty((m, len(header) + 16 + width), dtype=np.uint8)
        body[:, : len(header)] = np.frombuffer(header, dtype=np.uint8)
        body[:, len(header) : len(header) + 16] = iv
        previous = iv
        start = len(header) + 16
        for b in range(blocks):
            mixed = np.bitwise_xor(plain[:, b * 16 : (b + 1) * 16], previous)
            cipher_block = np.frombuffer(encryptor.update(mixed.tobytes()), dtype=np.uint8).reshape(m, 16)
            body[:, start + b * 16 : start + (b + 1) * 16] = cipher_block
            previous = cipher_block
        raw = body.tobytes()
        size = body.shape[1]
        encode = base64.urlsafe_b64encode
        for k, (i, _) in enumerate(items):
            token = raw[k * size : (k + 1) * size]
            out[i] = encode(token + sign(token)).decode("ascii")
    return out


def hash_many(values: Sequence[str]) -> list[str]:
    """``core.crypto.keyed_hash`` of each value ("" for empty values)."""
    mac = hmac_sha256(settings.ZHUCHENG_HASH_KEY.encode("utf-8"))
    return [mac(normalise_identifier(v).encode("utf-8")).hex() if v else "" for v in values]


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
