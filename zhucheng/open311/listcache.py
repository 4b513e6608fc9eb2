"""The public request list, kept per database snapshot (公开诉求列表缓存): same snapshot, same answer.

``GET requests.{fmt}`` is public, the same for every client, and costly at city scale (up to
1,000 requests per answer). On PostgreSQL a statement sees exactly the rows its snapshot makes
visible, and ``pg_current_snapshot()`` names that snapshot (``xmin:xmax:in-progress xids``,
64-bit ids that never repeat). Any commit anywhere on the server, and any new writing
transaction, changes it. So an answer rendered under one snapshot is still the right answer
for every later request that reads the same snapshot, whatever the writer was: there is no
invalidation to forget. The key also holds the database, the format, the language and the
normalised query (the default window is whole seconds, see ``params.window``).

Bypassed (rendered every time): on SQLite; inside a transaction (``ATOMIC_REQUESTS``, tests)
or one that has written, whose own rows the snapshot does not name; when a client sends
``Cache-Control: no-cache``; and when ``ZHUCHENG_OPEN311_LIST_CACHE_MB`` is 0.

The entries live in each worker process (a bounded LRU by bytes), so nothing is shared or
serialised; every answer carries a strong ``ETag`` and ``If-None-Match`` gets a 304.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from django.conf import settings
from django.db import connections


@dataclass(frozen=True)
class Entry:
    body: bytes
    etag: str


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def snapshot(using: str = "default") -> str | None:
    """The name of the snapshot the next statement on ``using`` will see, or None when it cannot be cached."""
    connection = connections[using]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_snapshot()::text, pg_current_xact_id_if_assigned() IS NULL")
        row = cursor.fetchone()
    if row is None or not row[1]:
        return None
    return f"{connection.settings_dict.get('HOST') or ''}:{connection.settings_dict.get('PORT') or ''}/{connection.settings_dict['NAME']}@{row[0]}"


class SnapshotCache:
    """A thread-safe LRU of rendered answers, bounded in bytes; concurrent misses of one key render once."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._rendering: dict[Hashable, threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.hits += 1
            return entry

    def put(self, key: Hashable, entry: Entry) -> None:
        size = len(entry.body)
        if size > self.max_bytes // 4:
            return  # one answer may not push out most of the others
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._entries[key] = entry
            self._bytes += size
            while self._bytes > self.max_bytes and self._entries:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped.body)

    def get_or_render(self, key: Hashable, render: Callable[[], bytes]) -> Entry:
        entry = self.get(key)
        if entry is not None:
            return entry
        with self._lock:
            gate = self._rendering.setdefault(key, threading.Lock())
        try:
            with gate:  # a second thread missing the same key waits for the first one's answer
                entry = self.get(key)
                if entry is None:
                    with self._lock:
                        self.misses += 1
                    body = render()
                    entry = Entry(body, etag_of(body))
                    self.put(key, entry)
        finally:
            with self._lock:
                self._rendering.pop(key, None)
        return entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


_cache: SnapshotCache | None = None
_cache_lock = threading.Lock()


def list_cache() -> SnapshotCache | None:
    """This process's cache, or None when ``ZHUCHENG_OPEN311_LIST_CACHE_MB`` is 0."""
    global _cache
    megabytes = int(getattr(settings, "ZHUCHENG_OPEN311_LIST_CACHE_MB", 32) or 0)
    if megabytes <= 0:
        return None
    with _cache_lock:
        if _cache is None or _cache.max_bytes != megabytes * 1024 * 1024:
            _cache = SnapshotCache(megabytes * 1024 * 1024)
        return _cache


def answer(key: tuple[Hashable, ...], render: Callable[[], bytes], *, no_cache: bool = False) -> Entry:
    """The rendered answer for ``key`` (the query, format and language) under the current snapshot."""
    cache = None if no_cache else list_cache()
    name = snapshot() if cache is not None else None
    if cache is None or name is None:
        body = render()
        return Entry(body, etag_of(body))
    return cache.get_or_render((name, *key), render)
