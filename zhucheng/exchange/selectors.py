"""Reads of the exchange, scoped: feeds and batches (the sending department's handlers, staff over
the feed's unit), the review queue (staff over the candidate person's unit), side-by-side pairs,
precision from decisions, and a person's provenance. Missing and forbidden look the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from zhucheng.core.audit import audit_record
from zhucheng.core.crypto import keyed_hash
from zhucheng.core.masking import mask_id_number, mask_phone
from zhucheng.places.selectors import get_scoped, scoped
from zhucheng.registry.models import DocType, Education, EmploymentStatus, Person, Sex

from .models import (
    Feed,
    FieldProvenance,
    ImportBatch,
    MergeEvent,
    RecordState,
    ReviewItem,
    ReviewState,
    RowIssue,
    SourceRecord,
)

# --- feeds and batches ----------------------------------------------------------------------------


def feeds_for(user: Any) -> QuerySet[Feed]:
    return scoped(Feed.objects.select_related("department", "unit"), user).order_by("department__code", "code")


def feed_get_for_user(user: Any, pk: Any) -> Feed:
    return get_scoped(Feed.objects.select_related("department", "unit"), user, pk)


def batches_for(user: Any) -> QuerySet[ImportBatch]:
    return scoped(ImportBatch.objects.select_related("feed", "feed__department"), user).order_by("-received_at", "-id")


def batch_get_for_user(user: Any, pk: Any) -> ImportBatch:
    return get_scoped(ImportBatch.objects.select_related("feed", "feed__department", "created_by"), user, pk)


@dataclass(frozen=True)
class BatchSummary:
    """Per batch: received, rejected, matched, new, queued for review (now / at linking), merged."""

    received: int
    rejected: int
    duplicates: int
    staged: int
    matched: int
    new: int
    queued_at_link: int
    pending: int
    merged: int
    held: int
    unmerged: int


def batch_summary(batch: ImportBatch) -> BatchSummary:
    states = dict(SourceRecord.objects.filter(batch=batch).order_by().values_list("state").annotate(n=Count("id")))
    merged = MergeEvent.objects.filter(record__batch=batch, undone_at__isnull=True).count()
    return BatchSummary(
        received=batch.received,
        rejected=batch.rejected,
        duplicates=batch.duplicates,
        staged=batch.staged,
        matched=batch.matched,
        new=states.get(RecordState.NEW, 0),
        queued_at_link=batch.queued,
        pending=states.get(RecordState.REVIEW, 0),
        merged=merged,
        held=states.get(RecordState.HELD, 0),
        unmerged=states.get(RecordState.UNMERGED, 0),
    )


def batch_issues(batch: ImportBatch) -> QuerySet[RowIssue]:
    return RowIssue.objects.filter(batch=batch).order_by("row", "id")


def batch_reasons(batch: ImportBatch) -> list[dict[str, Any]]:
    """Rejection reasons of a batch, most frequent first: code, one message, rows."""
    rows = list(RowIssue.objects.filter(batch=batch).order_by().values("code", "field").annotate(n=Count("id")).order_by("-n", "code"))
    for r in rows:
        r["message"] = RowIssue.objects.filter(batch=batch, code=r["code"], field=r["field"]).values_list("message", flat=True).first() or ""
    return rows


# --- review ---------------------------------------------------------------------------------------


def review_queue(user: Any) -> QuerySet[ReviewItem]:
    """Pending possible matches whose candidate person lives in the user's units."""
    return (
        scoped(ReviewItem.objects.filter(state=ReviewState.PENDING), user)
        .select_related("person", "person__unit", "record", "record__feed", "record__feed__department", "other_person")
        .order_by("-match_probability", "id")
    )


def review_decided(user: Any) -> QuerySet[ReviewItem]:
    return scoped(ReviewItem.objects.exclude(state=ReviewState.PENDING), user).select_related("person", "decided_by").order_by("-decided_at")


def review_get_for_user(user: Any, pk: Any) -> ReviewItem:
    return get_scoped(
        ReviewItem.objects.select_related("person", "person__unit", "record", "record__feed", "record__feed__department", "record__batch", "other_person"),
        user,
        pk,
    )


def review_next(user: Any, after: ReviewItem | None = None) -> ReviewItem | None:
    qs = review_queue(user)
    if after is not None:
        qs = qs.exclude(pk=after.pk)
    return qs.first()


_LABELS: tuple[tuple[str, str], ...] = (
    ("name", _("姓名")),
    ("id_number", _("公民身份号码")),
    ("doc_number", _("证件号码")),
    ("sex", _("性别")),
    ("birth_date", _("出生日期")),
    ("phone", _("联系电话")),
    ("address", _("地址")),
    ("ethnicity", _("民族")),
    ("hukou_place", _("户籍地")),
    ("education", _("文化程度")),
    ("employment_status", _("就业状况")),
)


def _display(field: str, value: Any) -> str:
    if value in (None, ""):
        return ""
    if field == "id_number":
        return mask_id_number(value)
    if field == "doc_number":
        return mask_id_number(value)
    if field == "phone":
        return mask_phone(value)
    if field == "sex":
        return str(Sex(value).label) if value in Sex.values else str(value)
    if field == "education":
        return str(Education(value).label) if value in Education.values else str(value)
    if field == "employment_status":
        return str(EmploymentStatus(value).label) if value in EmploymentStatus.values else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def person_values(person: Person) -> dict[str, Any]:
    """A registry person's comparable values (address: the current primary residence)."""
    from zhucheng.registry.models import Residence

    home = (
        Residence.objects.select_related("housing_unit__building")
        .filter(person=person, is_primary=True, to_date__isnull=True, is_void=False)
        .first()
    )
    out: dict[str, Any] = {f: getattr(person, f) for f, _l in _LABELS if f != "address"}
    out["address"] = f"{home.housing_unit.building.address} {home.housing_unit.number}" if home else ""
    if out.get("doc_type") == DocType.RESIDENT_ID:
        out["doc_number"] = ""
    return out


@dataclass(frozen=True)
class PairRow:
    field: str
    label: str
    left: str
    right: str
    same: bool | None  # None when either side is empty


def _same(field: str, a: Any, b: Any) -> bool | None:
    if a in (None, "") or b in (None, ""):
        return None
    if field in ("id_number", "doc_number", "phone"):
        return keyed_hash(str(a)) == keyed_hash(str(b))
    return str(a).strip() == str(b).strip()


def review_pair(user: Any, item: ReviewItem) -> tuple[str, str, list[PairRow]]:
    """The two records side by side (identifiers masked, equal/different shown); the read is audited."""
    right = person_values(item.person)
    if item.record is not None:
        left = item.record.cleaned
        left_title = _("%(dept)s 报送(批次 %(batch)s 第 %(row)s 行)") % {
            "dept": item.record.feed.department.short_name or item.record.feed.department.name,
            "batch": item.record.batch_id,
            "row": item.record.row,
        }
    else:
        assert item.other_person is not None
        left = person_values(item.other_person)
        left_title = _("登记人员 #%(id)s") % {"id": item.other_person.pk}
    rows = [
        PairRow(f, str(label), _display(f, left.get(f)), _display(f, right.get(f)), _same(f, left.get(f), right.get(f)))
        for f, label in _LABELS
        if left.get(f) not in (None, "") or right.get(f) not in (None, "")
    ]
    audit_record(actor=user, act="exchange.review_read", obj=item.person, changed_fields=["name", "id_number", "phone"], reason=f"review {item.pk}")
    return left_title, _("登记人员 #%(id)s") % {"id": item.person.pk}, rows


@dataclass(frozen=True)
class PrecisionRow:
    threshold: float
    decided: int
    accepted: int
    precision: float | None


def precision_at_thresholds(user: Any, thresholds: list[float] | None = None) -> list[PrecisionRow]:
    """精确率: among decided reviews at or above each threshold, the share reviewers accepted."""
    decided = list(
        scoped(ReviewItem.objects.filter(state__in=[ReviewState.ACCEPTED, ReviewState.REJECTED]), user).values_list(
            "match_probability", "state"
        )
    )
    if thresholds is None:
        thresholds = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99]
    out = []
    for t in thresholds:
        at = [s for p, s in decided if p >= t]
        accepted = sum(1 for s in at if s == ReviewState.ACCEPTED)
        out.append(PrecisionRow(t, len(at), accepted, (accepted / len(at)) if at else None))
    return out


def auto_merge_precision(user: Any) -> tuple[int, int]:
    """(automatic merges, of them undone): the certain threshold's precision seen from unmerges."""
    qs = scoped(MergeEvent.objects.filter(via="auto"), user)
    return qs.count(), qs.filter(undone_at__isnull=False).count()


# --- provenance -----------------------------------------------------------------------------------


def person_get_for_user(user: Any, pk: Any) -> Person:
    return get_scoped(Person.objects.select_related("unit"), user, pk)


@dataclass
class Provenance:
    person: Person
    records: list[SourceRecord]
    fields: list[dict[str, Any]]
    merges: list[MergeEvent]
    absorbed_into: MergeEvent | None


def person_provenance(user: Any, person: Person) -> Provenance:
    """Every source record of a person, which value came from which feed and when, and the merges."""
    records = list(
        SourceRecord.objects.filter(person=person).select_related("feed", "feed__department", "batch").order_by("received_at", "pk")
    )
    prov = list(
        FieldProvenance.objects.filter(person=person, is_live=True).select_related("record__feed__department").order_by("field", "received_at", "pk")
    )
    current = person_values(person)
    fields: list[dict[str, Any]] = []
    for f, label in _LABELS:
        values = [p for p in prov if p.field == f]
        if not values and current.get(f) in (None, ""):
            continue
        fields.append(
            {
                "field": f,
                "label": label,
                "current": _display(f, current.get(f)),
                "sources": [
                    {
                        "value": _display(f, p.value),
                        "feed": p.record.feed.name,
                        "department": p.record.feed.department.short_name or p.record.feed.department.name,
                        "received_at": p.received_at,
                        "status": p.get_status_display(),
                        "status_code": p.status,
                    }
                    for p in values
                ],
            }
        )
    merges = list(
        MergeEvent.objects.filter(Q(person=person) | Q(absorbed=person)).select_related("absorbed", "person", "record", "record__feed", "merged_by", "undone_by").order_by("-merged_at")
    )
    absorbed_into = next((m for m in merges if m.absorbed_id == person.pk and m.undone_at is None), None)
    audit_record(actor=user, act="exchange.provenance_read", obj=person, changed_fields=["source_records"], reason="provenance")
    return Provenance(person, records, fields, merges, absorbed_into)


def merge_get_for_user(user: Any, pk: Any) -> MergeEvent:
    return get_scoped(MergeEvent.objects.select_related("person", "person__unit", "absorbed", "record"), user, pk)


def review_backlog(user: Any) -> dict[str, Any]:
    qs = scoped(ReviewItem.objects.filter(state=ReviewState.PENDING), user)
    oldest = qs.order_by("created_at").values_list("created_at", flat=True).first()
    return {"pending": qs.count(), "oldest_days": (timezone.now() - oldest).days if oldest else None}
