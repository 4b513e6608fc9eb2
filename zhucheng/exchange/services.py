"""Every write of the exchange: receive a file, validate it row by row, link it, decide reviews.

The life of a batch (交换批次): ``batch_receive`` (the file is stored once: its hash is unique per
feed) → ``batch_validate`` (every row cleaned by the collection standard; bad rows quarantined as
``RowIssue``s with row, field and reason; good rows staged as ``SourceRecord``s, a row already
received on the feed is skipped by its key) → ``batch_link`` (staged records linked against the
registry with ``exchange.linkage``: at or above the profile's *certain* threshold the record is
merged into the person, between *possible* and *certain* it waits in the clerical queue, below it
a new person is registered through ``registry.services.person_register``). ``batch_process`` runs
the two steps (the Celery task and the command call it). Reviews: ``review_decide``.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhucheng.core.audit import audit_record
from zhucheng.core.context import acting_user
from zhucheng.core.crypto import fernet, keyed_hash
from zhucheng.places.models import OrgUnit, OrgUnitKind
from zhucheng.registry import services as registry_services
from zhucheng.registry.errors import RegistryError
from zhucheng.registry.models import Person

from . import feeds, merge
from .errors import ExchangeError
from .models import (
    BatchState,
    Feed,
    ImportBatch,
    MergeVia,
    RecordState,
    ReviewItem,
    ReviewState,
    RowIssue,
    SourceRecord,
)
from .permissions import require_operate, require_review

ProgressFn = Callable[[int, int], None]
CHUNK = 500
LINK_CHUNK = 50_000
MAX_REVIEW_CANDIDATES = 3


# --- receiving and validating ---------------------------------------------------------------------



def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def batch_receive(*, actor: Any, feed: Feed, file_name: str, data: bytes) -> ImportBatch:
    """接收: store a file on a feed as a new batch; the same file twice is refused (``duplicate_file``)."""
    require_operate(actor, feed)
    if not data:
        raise ExchangeError(_("文件是空的。"), code="required", field="file")
    digest = file_digest(data)
    existing = ImportBatch.objects.filter(feed=feed, file_sha256=digest).first()
    if existing is not None:
        raise ExchangeError(
            _("该文件已于 %(at)s 接收(批次 %(id)s),不再重复导入。") % {"at": timezone.localtime(existing.received_at).strftime("%Y-%m-%d %H:%M"), "id": existing.pk},
            code="duplicate_file",
            field="file",
            extra=existing,
        )
    try:
        with transaction.atomic():
            batch = ImportBatch(feed=feed, file_name=file_name[:200], file_sha256=digest, received_at=timezone.now(), created_by=acting_user(actor))
            # Department files hold ID numbers: kept encrypted at rest (Fernet, the keys of core.crypto).
            batch.upload.save(f"{feed.code}-{digest[:12]}.{feed.file_format}.enc", ContentFile(fernet().encrypt(data)), save=False)
            batch.save()
    except IntegrityError as exc:  # the same file arriving twice at once
        raise ExchangeError(_("该文件已经接收,不再重复导入。"), code="duplicate_file", field="file") from exc
    audit_record(actor=actor, act="exchange.batch_receive", obj=batch, changed_fields=["file"], reason=f"{feed.code} {file_name}")
    return batch


def _progress(batch: ImportBatch, done: int, total: int) -> None:
    ImportBatch.objects.filter(pk=batch.pk).update(progress_done=done, progress_total=total)
    batch.progress_done, batch.progress_total = done, total


def _issue_rows(batch: ImportBatch, issues: Iterable[feeds.Issue]) -> list[RowIssue]:
    return [
        RowIssue(
            batch=batch,
            row=i.row,
            field=i.field,
            column=i.column[:100],
            code=i.code,
            message=i.message,
            raw=json.dumps(dict(i.raw), ensure_ascii=False) if i.raw else "",
        )
        for i in issues
    ]


def _fail(batch: ImportBatch, exc: ExchangeError) -> ImportBatch:
    issues = []
    if exc.code == "missing_column" and exc.extra:
        issues = [feeds.Issue(0, target, "missing_column", _("缺少列“%(c)s”(%(f)s)。") % {"c": column, "f": target}, column) for column, target in exc.extra]
    else:
        issues = [feeds.Issue(exc.row or 0, exc.field, exc.code, exc.message)]
    with transaction.atomic():
        RowIssue.objects.bulk_create(_issue_rows(batch, issues))
        batch.state = BatchState.FAILED
        batch.failure = exc.message
        batch.validated_at = timezone.now()
        batch.save(update_fields=["state", "failure", "validated_at", "updated_at"])
    audit_record(actor=None, act="exchange.batch_fail", obj=batch, changed_fields=["state"], reason=f"{exc.code}: {exc.message}"[:500])
    return batch


def _unit_for(cleaned: dict[str, Any], feed: Feed, grids: dict[str, OrgUnit]) -> OrgUnit:
    return grids.get(cleaned.get("grid_code") or "", feed.unit)


def _grids(codes: set[str]) -> dict[str, OrgUnit]:
    codes.discard("")
    return {u.code: u for u in OrgUnit.objects.filter(code__in=codes, kind=OrgUnitKind.GRID)} if codes else {}


def batch_validate(batch: ImportBatch, *, progress: ProgressFn | None = None) -> ImportBatch:
    """校验: quarantine bad rows, stage good ones (a row key already received on the feed is skipped)."""
    batch = ImportBatch.objects.select_related("feed", "feed__unit").get(pk=batch.pk)
    if batch.state != BatchState.RECEIVED:
        return batch
    ImportBatch.objects.filter(pk=batch.pk).update(state=BatchState.VALIDATING)
    feed = batch.feed
    with batch.upload.open("rb") as fh:
        data = fernet().decrypt(fh.read())
    try:
        content = feeds.read_file(feed, data)
    except ExchangeError as exc:
        return _fail(batch, exc)

    def report(done: int, total: int) -> None:
        _progress(batch, done, total)
        if progress is not None:
            progress(done, total)

    checked = feeds.validate(feed, content, progress=report)
    grids = _grids({g.cleaned.get("grid_code", "") for g in checked.good})
    now = timezone.now()
    duplicates = staged = 0
    issues = checked.issues
    for start in range(0, max(len(issues), 1), CHUNK * 4):
        RowIssue.objects.bulk_create(_issue_rows(batch, issues[start : start + CHUNK * 4]))
    for start in range(0, len(checked.good), CHUNK):
        chunk = checked.good[start : start + CHUNK]
        with transaction.atomic():
            known = set(SourceRecord.objects.filter(feed=feed, row_key__in=[g.key for g in chunk]).values_list("row_key", flat=True))
            fresh = [g for g in chunk if g.key not in known]
            SourceRecord.objects.bulk_create(
                [
                    SourceRecord(
                        feed=feed,
                        batch=batch,
                        row=g.row,
                        row_key=g.key,
                        raw_json=json.dumps(g.raw, ensure_ascii=False),
                        cleaned_json=json.dumps(g.cleaned, ensure_ascii=False),
                        name=g.cleaned.get("name", "")[:60],
                        received_at=now,
                        unit=_unit_for(g.cleaned, feed, grids),
                    )
                    for g in fresh
                ],
                ignore_conflicts=True,
            )
            duplicates += len(chunk) - len(fresh)
            staged += len(fresh)
    batch.received = checked.received
    batch.rejected = checked.rejected_rows
    batch.duplicates = duplicates
    batch.staged = SourceRecord.objects.filter(batch=batch).count()
    batch.state = BatchState.VALIDATED
    batch.validated_at = timezone.now()
    batch.save(update_fields=["received", "rejected", "duplicates", "staged", "state", "validated_at", "updated_at"])
    audit_record(
        actor=None,
        act="exchange.batch_validate",
        obj=batch,
        changed_fields=["state"],
        reason=f"received={batch.received} rejected={batch.rejected} duplicates={duplicates} staged={batch.staged}",
    )
    return batch


# --- linking --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    person_id: int
    match_weight: float
    match_probability: float


def record_rows(records: Sequence[SourceRecord]) -> list[dict[str, Any]]:
    """Staged records as rows of the engine's person frame (the columns of ``linkage.person_frame``;
    identifiers only as keyed hashes)."""
    rows = []
    for r in records:
        c = r.cleaned
        rows.append(
            {
                "unique_id": _uid("r", r.pk),
                "id_hash": keyed_hash(c["id_number"]) if c.get("id_number") else None,
                "full_name": c.get("name") or None,
                "surname": None,  # the engine splits the full name itself, as for registry persons
                "given_name": None,
                "birth_date": c.get("birth_date") or None,
                "sex": c.get("sex") or None,
                "phone_hash": keyed_hash(c["phone"]) if c.get("phone") else None,
                "address": c.get("address") or None,
            }
        )
    return rows


def record_frame(records: Sequence[SourceRecord]) -> Any:
    import pandas as pd

    return pd.DataFrame(record_rows(records), columns=["unique_id", "id_hash", "full_name", "surname", "given_name", "birth_date", "sex", "phone_hash", "address"])


REGISTRY_FIELDS = ("id", "id_number_hash", "name", "birth_date", "sex", "phone_hash")


def candidate_persons(records: Sequence[SourceRecord] | None = None) -> list[Person]:
    """The registry persons a feed is linked against: all of them but those merged into another.

    The whole registry, not a prefiltered subset: the engine's term-frequency adjustment (王伟 is
    common, 筑昀 rare) is computed over the frames it is given, and a subset chosen because its
    names match would make every name look common. The feed is compared with the registry
    (``predict_between``), never the registry with itself.
    """
    gone = merge.absorbed_ids()
    return [p for p in Person.objects.only(*REGISTRY_FIELDS).order_by("pk").iterator(chunk_size=20_000) if p.pk not in gone]


def _uid(kind: str, pk: int) -> str:
    return f"{kind}{pk}"


def persons_frame(persons: Sequence[Person]) -> Any:
    """Registry persons as the engine's frame, their ids prefixed ``p`` (records are ``r``)."""
    from . import linkage

    frame = linkage.person_frame(persons)
    frame["unique_id"] = [_uid("p", int(v)) for v in frame["unique_id"]]
    return frame


def _link(
    profile: Any, records: Sequence[SourceRecord], persons: Sequence[Person], registry: Any = None
) -> tuple[dict[int, list[Candidate]], Any, Any]:
    """Candidates per record: the feed (right) linked incrementally against the registry (left)."""
    from . import linkage

    left = persons_frame(persons) if registry is None else registry
    right = record_frame(records)
    out: dict[int, list[Candidate]] = defaultdict(list)
    if not len(persons) or not len(records):
        return out, left, right
    pairs = linkage.link(profile, left, right)
    for row in pairs.itertuples(index=False):
        a, b = str(row.left_id), str(row.right_id)
        person_uid, record_uid = (a, b) if a.startswith("p") else (b, a)
        out[int(record_uid[1:])].append(Candidate(int(person_uid[1:]), float(row.match_weight), float(row.match_probability)))
    for cands in out.values():
        cands.sort(key=lambda c: -c.match_probability)
    return out, left, right


def _isna(v: Any) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(v)) if not isinstance(v, list | tuple | dict) else False
    except (TypeError, ValueError):
        return False


def waterfall(profile: Any, left: dict[str, Any], right: dict[str, Any]) -> list[dict[str, Any]]:
    """The engine's per-comparison contributions, JSON-safe, each with the profile's Chinese description."""
    from . import linkage

    settings = getattr(profile, "settings", None) or {}
    described = {
        str(c.get("output_column_name")): str(c.get("comparison_description") or "")
        for c in settings.get("comparisons", [])
        if isinstance(c, dict)
    }
    rows = []
    for r in linkage.explain(profile, left, right):
        name = str(r.get("comparison", ""))
        base = name[3:] if name.startswith("tf_") else name
        rows.append(
            {
                "comparison": name,
                "label": described.get(base) or name,
                "level": str(r.get("level", "")),
                "match_weight": round(float(r.get("match_weight") or 0.0), 3),
                "agreed": bool(r.get("agreed")),
            }
        )
    return rows


def review_explain(item: ReviewItem, *, profile_name: str = "person") -> list[dict[str, Any]]:
    """The item's waterfall (which comparisons agreed, how much each weighed), computed once and kept."""
    from . import linkage

    if item.waterfall:
        return list(item.waterfall)
    profile = linkage.load_profile(profile_name)
    right = persons_frame([item.person]).to_dict("records")[0]
    if item.record is not None:
        left = record_frame([item.record]).to_dict("records")[0]
    else:
        assert item.other_person is not None
        left = persons_frame([item.other_person]).to_dict("records")[0]
    rows = waterfall(profile, {k: (None if _isna(v) else v) for k, v in left.items()}, {k: (None if _isna(v) else v) for k, v in right.items()})
    ReviewItem.objects.filter(pk=item.pk).update(waterfall=rows)
    item.waterfall = rows
    return rows


def _register_new(record: SourceRecord, feed: Feed) -> Person | None:
    """A record without a match becomes a new registry person (or is attached when its ID is already registered)."""
    c = record.cleaned
    if not (c.get("id_number") or c.get("doc_number")):
        return None
    data = {k: c.get(k) or "" for k in registry_services.PERSON_FIELDS}
    try:
        person = registry_services.person_register(
            actor=None, data=data, unit=record.unit, reason=_("数据交换新建:%(feed)s 批次 %(batch)s 第 %(row)s 行") % {"feed": feed.name, "batch": record.batch_id, "row": record.row}
        )
    except RegistryError as exc:
        if exc.code != "duplicate":
            raise
        key = keyed_hash(c["id_number"]) if c.get("id_number") else None
        existing = (
            Person.objects.filter(id_number_hash=key).first()
            if key
            else Person.objects.filter(doc_type=c.get("doc_type"), doc_number_hash=keyed_hash(c["doc_number"])).first()
        )
        if existing is None:
            raise
        merge.attach(actor=None, record=record, person=existing, via=MergeVia.ID_EXACT)
        return existing
    SourceRecord.objects.filter(pk=record.pk).update(person=person, state=RecordState.NEW, linked_at=timezone.now())
    record.person, record.state = person, RecordState.NEW
    merge.record_new_person(record, person)
    return person


@dataclass
class LinkCounts:
    matched: int = 0
    new: int = 0
    queued: int = 0
    auto_merged: int = 0
    held: int = 0


def _safe_to_merge(record: SourceRecord, person: Person) -> bool:
    """A merge without a human needs more than a high score: the ID numbers agree, or, when one side
    has none, the names agree exactly. Twins share birth date, address and phone; their given names
    may differ by one character and one of their records may lack the ID — those go to review."""
    c = record.cleaned
    if c.get("id_number") and person.id_number_hash:
        return keyed_hash(c["id_number"]) == person.id_number_hash
    return (c.get("name") or "").strip() == (person.name or "").strip()


def _settle(profile: Any, record: SourceRecord, cands: list[Candidate], persons: dict[int, Person], counts: LinkCounts) -> None:
    certain, possible = float(profile.thresholds.certain), float(profile.thresholds.possible)
    best = cands[0] if cands else None
    if best is not None:
        SourceRecord.objects.filter(pk=record.pk).update(match_probability=best.match_probability, match_weight=best.match_weight)
        record.match_probability, record.match_weight = best.match_probability, best.match_weight
    if best is not None and best.match_probability >= certain and _safe_to_merge(record, persons[best.person_id]):
        counts.matched += 1
        counts.auto_merged += 1
        merge.attach(actor=None, record=record, person=persons[best.person_id], via=MergeVia.AUTO, probability=best.match_probability)
        runner_up = next((c for c in cands[1:] if c.person_id != best.person_id and c.match_probability >= certain), None)
        if runner_up is not None:
            # The record fits two registry persons for certain: the registry itself may hold a duplicate.
            a, b = persons[best.person_id], persons[runner_up.person_id]
            ReviewItem.objects.get_or_create(
                record=None,
                person=a,
                other_person=b,
                state=ReviewState.PENDING,
                defaults={"match_probability": runner_up.match_probability, "match_weight": runner_up.match_weight},
            )
        return
    band = [c for c in cands if c.match_probability >= possible][:MAX_REVIEW_CANDIDATES]
    if band:
        counts.matched += 1
        counts.queued += 1
        for c in band:
            # The waterfall is drawn when a reviewer first opens the item (``review_explain``).
            ReviewItem.objects.get_or_create(
                record=record, person=persons[c.person_id], defaults={"match_probability": c.match_probability, "match_weight": c.match_weight}
            )
        SourceRecord.objects.filter(pk=record.pk).update(state=RecordState.REVIEW, linked_at=timezone.now())
        return
    person = _register_new(record, record.feed)
    if person is None:
        counts.held += 1
        SourceRecord.objects.filter(pk=record.pk).update(state=RecordState.HELD, linked_at=timezone.now())
    elif record.state == RecordState.NEW:
        counts.new += 1
    else:
        counts.matched += 1


def registry_snapshot() -> tuple[list[Person], Any]:
    """The registry persons and their engine frame (to link several batches against one snapshot)."""
    persons = candidate_persons()
    return persons, persons_frame(persons)


def batch_link(
    batch: ImportBatch,
    *,
    progress: ProgressFn | None = None,
    profile_name: str = "person",
    registry: tuple[list[Person], Any] | None = None,
) -> ImportBatch:
    """比对: link the batch's staged records to the registry (``predict_between``: feed × registry only).

    ``registry``: a snapshot from ``registry_snapshot`` to reuse (persons registered since are not in it).
    """
    from . import linkage

    batch = ImportBatch.objects.select_related("feed").get(pk=batch.pk)
    if batch.state != BatchState.VALIDATED:
        return batch
    ImportBatch.objects.filter(pk=batch.pk).update(state=BatchState.LINKING)
    profile = linkage.load_profile(profile_name)
    records = list(SourceRecord.objects.filter(batch=batch, state=RecordState.STAGED).select_related("feed", "unit").order_by("row"))
    counts = LinkCounts()
    total = len(records)
    persons_list, registry_frame = registry if registry is not None else registry_snapshot()
    persons = {p.pk: p for p in persons_list}
    for start in range(0, total, LINK_CHUNK):
        chunk = records[start : start + LINK_CHUNK]
        cands, _registry, _feed = _link(profile, chunk, persons_list, registry_frame)
        for i, record in enumerate(chunk, start=start + 1):
            with transaction.atomic():
                _settle(profile, record, cands.get(record.pk, []), persons, counts)
            if i % 100 == 0 or i == total:
                _progress(batch, i, total)
                if progress is not None:
                    progress(i, total)
    batch.matched, batch.new, batch.queued, batch.auto_merged, batch.held = counts.matched, counts.new, counts.queued, counts.auto_merged, counts.held
    batch.state = BatchState.REVIEW if counts.queued else BatchState.DONE
    batch.linked_at = timezone.now()
    batch.save(update_fields=["matched", "new", "queued", "auto_merged", "held", "state", "linked_at", "updated_at"])
    audit_record(
        actor=None,
        act="exchange.batch_link",
        obj=batch,
        changed_fields=["state"],
        reason=f"matched={counts.matched} new={counts.new} queued={counts.queued} merged={counts.auto_merged} held={counts.held}",
    )
    return batch


def batch_process(batch: ImportBatch, *, progress: ProgressFn | None = None) -> ImportBatch:
    """Validate then link (what the Celery task and ``exchange_run --commit`` do)."""
    batch = batch_validate(batch, progress=progress)
    if batch.state == BatchState.VALIDATED:
        batch = batch_link(batch, progress=progress)
    return batch


def batch_refresh_state(batch: ImportBatch) -> None:
    """A batch waiting for review is done once none of its records waits any more."""
    if batch.state == BatchState.REVIEW and not SourceRecord.objects.filter(batch=batch, state=RecordState.REVIEW).exists():
        ImportBatch.objects.filter(pk=batch.pk).update(state=BatchState.DONE, updated_at=timezone.now())


# --- clerical review ------------------------------------------------------------------------------


@transaction.atomic
def review_decide(*, actor: Any, item: ReviewItem, accept: bool, note: str = "") -> ReviewItem:
    """复核: accept (the record is merged into the person, or the two persons merged) or reject.

    Rejecting a record's last candidate registers it as a new person (held when it has no ID).
    Decisions are kept with the match probability (they give the precision at each threshold).
    """
    item = ReviewItem.objects.select_for_update(of=("self",)).select_related("person", "person__unit", "record", "record__feed", "other_person").get(pk=item.pk)
    require_review(actor, item.person.unit)
    if item.state != ReviewState.PENDING:
        raise ExchangeError(_("该比对结果已经复核。"), code="already_decided", field="state")
    now = timezone.now()
    item.state = ReviewState.ACCEPTED if accept else ReviewState.REJECTED
    item.decided_by = acting_user(actor)
    item.decided_at = now
    item.note = note.strip()[:200]
    item.save(update_fields=["state", "decided_by", "decided_at", "note", "updated_at"])
    record = item.record
    if record is not None:
        siblings = ReviewItem.objects.filter(record=record, state=ReviewState.PENDING).exclude(pk=item.pk)
        if accept:
            merge.attach(actor=actor, record=record, person=item.person, via=MergeVia.REVIEW, review=item, probability=item.match_probability)
            siblings.update(state=ReviewState.REJECTED, decided_by=acting_user(actor), decided_at=now, note=_("已确认为其他候选人员"))
        elif not siblings.exists():
            record.refresh_from_db()
            if _register_new(record, record.feed) is None:
                SourceRecord.objects.filter(pk=record.pk).update(state=RecordState.HELD)
        batch_refresh_state(record.batch)
    elif accept and item.other_person is not None:
        merge.person_merge(actor=actor, survivor=item.person, absorbed=item.other_person, via=MergeVia.REVIEW, review=item)
    audit_record(actor=actor, act="exchange.review_decide", obj=item, changed_fields=["state"], reason=("accept" if accept else "reject") + (f": {item.note}" if item.note else ""))
    return item


def review_suggest_pair(*, person: Person, other: Person, match_probability: float, match_weight: float, waterfall_rows: list[dict[str, Any]]) -> ReviewItem:
    """Queue two registry persons as a possible duplicate (the registry's own duplicates)."""
    item, _created = ReviewItem.objects.get_or_create(
        record=None,
        person=person,
        other_person=other,
        state=ReviewState.PENDING,
        defaults={"match_probability": match_probability, "match_weight": match_weight, "waterfall": waterfall_rows},
    )
    return item


def days_ago(n: int) -> date:
    return timezone.localdate() - timedelta(days=n)
