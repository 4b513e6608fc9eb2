"""Likely duplicates (疑似重复): earlier appeals on the same matter, suggested to staff at intake.

Two signals, both looking back ``WINDOW_DAYS`` (90) days before the appeal's ``submitted_at``
— the span the issue gives for "the same petitioner on the same matter", used for the nearby
signal too so one window explains both; older matters are reopened or reviewed, not merged:

* **same petitioner** — the same ``petitioner_key`` (keyed hash of the first phone); scored
  ``0.4`` plus ``0.3`` for the same category plus ``0.3 ×`` text similarity, so a frequent
  petitioner's unrelated matter is shown but ranked low;
* **similar nearby** — same category (the confirmed one, else the classifier's suggestion),
  point within ``RADIUS_M`` (300 m, haversine) and text similarity ≥ ``threshold()``
  (``ZHUCHENG_DUPLICATE_TEXT_THRESHOLD``, default 0.3); scored by the similarity, a little
  less the farther away. Appeals without a point only get the first signal.

Cost is bounded: at most two indexed queries (plain statements, no ORM compile per submission) — (petitioner_key, submitted_at), and the
expression index ``appeal_dup_place`` on (COALESCE(category, suggested_category), lat, lon,
submitted_at) with the lat/lon bounding box in SQL — each reading at most ``MAX_COMPARED`` of
the newest rows and only the columns compared; merged appeals and the appeal itself are left
out. ``appeal_submit`` runs the search before it takes the code counter and audit locks.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import connections, router

from .models import Appeal, Status

__all__ = ["Candidate", "find_candidates", "haversine_m", "ngrams", "text_similarity", "threshold"]

WINDOW_DAYS = 90
RADIUS_M = 300.0
MAX_RESULTS = 5
MAX_COMPARED = 200  # rows read per signal; the newest are the likeliest repeats
TEXT_CHARS = 1500  # the opening of a long letter says what it is about
EARTH_RADIUS_M = 6_371_008.8
DEFAULT_THRESHOLD = 0.3

_NOT_WORD = re.compile(r"[\W_]+")


# What the comparison reads of an earlier appeal (the long text fields are the bulk of a row).
_COMPARED_FIELDS = (
    "id",
    "code",
    "status",
    "title",
    "description",
    "lat",
    "lon",
    "submitted_at",
    "category_id",
    "suggested_category_id",
)


@dataclass
class Candidate:
    other: Appeal
    score: float
    reason: str  # "same_petitioner" | "similar_nearby"


def threshold() -> float:
    return float(getattr(settings, "ZHUCHENG_DUPLICATE_TEXT_THRESHOLD", DEFAULT_THRESHOLD))


def _normalise(text: str) -> str:
    # Full-width letters and digits to ASCII, case folded; punctuation and spaces carry no meaning here.
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text or "").lower())


def ngrams(text: str) -> frozenset[str]:
    """Character bigrams and trigrams of the normalised text (Chinese has no spaces to split on)."""
    s = _normalise(text)[:TEXT_CHARS]
    if len(s) < 2:
        return frozenset([s]) if s else frozenset()
    grams = {s[i : i + 2] for i in range(len(s) - 1)}
    grams.update(s[i : i + 3] for i in range(len(s) - 2))
    return frozenset(grams)


@lru_cache(maxsize=2048)
def _known_ngrams(text: str) -> frozenset[str]:
    """``ngrams`` of an earlier appeal's text, kept per process: the appeals of a hot spot (one broken
    street light, reported by many) are compared with every new report there. Keyed by the text
    itself, so an edited appeal is simply a new entry; 2,048 entries hold a few tens of megabytes."""
    return ngrams(text)


def _cosine(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))


def text_similarity(a: str, b: str) -> float:
    """Cosine similarity (0–1) of the two texts' character bigram+trigram sets."""
    return _cosine(ngrams(a), ngrams(b))


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _joined(title: str, description: str) -> str:
    """What the text comparison reads of an appeal: its title and description."""
    return f"{title}\n{description}"


def _text(appeal: Appeal) -> str:
    return _joined(appeal.title, appeal.description)


# The same columns in the model's field order, as ``Model.from_db`` takes them; read as tuples, and
# only the few candidates returned become model instances (a hot spot yields 200 rows per search).
_ROW_FIELDS = [f.attname for f in Appeal._meta.concrete_fields if f.attname in _COMPARED_FIELDS]
_AT = {name: i for i, name in enumerate(_ROW_FIELDS)}


def _row_text(row: tuple[Any, ...]) -> str:
    return _joined(row[_AT["title"]], row[_AT["description"]])


# Both searches as plain statements: they run on every submission, and compiling two ORM querysets
# cost as much as running them. The nearby one uses ``appeal_dup_place`` through the same COALESCE
# expression as ``models.duplicate_category``; ``exclude(status=merged)`` is ``<>`` (status is never NULL).
_TABLE = Appeal._meta.db_table
_COLUMNS = ", ".join(f.column for f in Appeal._meta.concrete_fields if f.attname in _COMPARED_FIELDS)  # _ROW_FIELDS' order
_COMMON = "submitted_at >= %s AND submitted_at <= %s AND status <> %s AND id <> %s"
_NEWEST = f"ORDER BY submitted_at DESC, id DESC LIMIT {MAX_COMPARED}"
_SAME_PETITIONER_SQL = f"SELECT {_COLUMNS} FROM {_TABLE} WHERE {_COMMON} AND petitioner_key = %s {_NEWEST}"  # noqa: S608
_NEARBY_SQL = (
    f"SELECT {_COLUMNS} FROM {_TABLE} WHERE {_COMMON} AND COALESCE(category_id, suggested_category_id) = %s"  # noqa: S608
    f" AND lat BETWEEN %s AND %s AND lon BETWEEN %s AND %s {_NEWEST}"
)


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """The rows of one search, with ``submitted_at`` as an aware datetime on every database."""
    connection = connections[router.db_for_read(Appeal)]
    field = Appeal._meta.get_field("submitted_at")
    column = field.get_col(_TABLE)
    converters = connection.ops.get_db_converters(column) + field.get_db_converters(connection)  # type: ignore[attr-defined]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not converters:
        return rows
    at = _AT["submitted_at"]
    converted = []
    for row in rows:
        value = row[at]
        for convert in converters:
            value = convert(value, column, connection)
        converted.append((*row[:at], value, *row[at + 1 :]))
    return converted


def find_candidates(appeal: Appeal) -> list[Candidate]:
    """At most ``MAX_RESULTS`` earlier appeals that are likely the same matter, best first."""
    since = appeal.submitted_at - timedelta(days=WINDOW_DAYS)
    connection = connections[router.db_for_read(Appeal)]
    adapt = connection.ops.adapt_datetimefield_value
    common = [adapt(since), adapt(appeal.submitted_at), Status.MERGED.value, appeal.pk if appeal.pk is not None else -1]
    grams = ngrams(_text(appeal))
    category_id = appeal.category_id or appeal.suggested_category_id
    best: dict[int, tuple[float, str, tuple[Any, ...]]] = {}
    pk_at, lat_at, lon_at = _AT["id"], _AT["lat"], _AT["lon"]

    def offer(row: tuple[Any, ...], score: float, reason: str) -> None:
        held = best.get(row[pk_at])
        if held is None or score > held[0]:
            best[row[pk_at]] = (score, reason, row)

    if appeal.petitioner_key:
        for row in _rows(_SAME_PETITIONER_SQL, [*common, appeal.petitioner_key]):
            other_category = row[_AT["category_id"]] or row[_AT["suggested_category_id"]]
            same_category = category_id is not None and other_category == category_id
            sim = _cosine(grams, _known_ngrams(_row_text(row)))
            offer(row, round(min(1.0, 0.4 + 0.3 * same_category + 0.3 * sim), 4), "same_petitioner")

    if category_id is not None and appeal.lat is not None and appeal.lon is not None:
        lat, lon = appeal.lat, appeal.lon
        dlat = math.degrees(RADIUS_M / EARTH_RADIUS_M)
        dlon = dlat / max(math.cos(math.radians(lat)), 1e-6)
        # An unconfirmed appeal still counts in the category the classifier gave it.
        nearby = _rows(_NEARBY_SQL, [*common, category_id, lat - dlat, lat + dlat, lon - dlon, lon + dlon])
        limit = threshold()
        for row in nearby:
            if row[lat_at] is None or row[lon_at] is None:
                continue
            distance = haversine_m(lat, lon, row[lat_at], row[lon_at])
            if distance > RADIUS_M:
                continue
            sim = _cosine(grams, _known_ngrams(_row_text(row)))
            if sim < limit:
                continue
            offer(row, round(sim * (1 - 0.2 * distance / RADIUS_M), 4), "similar_nearby")

    at = _AT["submitted_at"]
    ranked = sorted(best.values(), key=lambda c: (-c[0], -c[2][at].timestamp(), -c[2][pk_at]))
    return [Candidate(Appeal.from_db(connection.alias, _ROW_FIELDS, row), score, reason) for score, reason, row in ranked[:MAX_RESULTS]]
