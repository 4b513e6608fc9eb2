"""Merges with provenance (合并与溯源), and their undoing.

* ``attach`` — a source record is the same person as a registry ``Person``: the record is kept
  (feed, batch, row, raw values, received at) and pointed at the person; each value it carries
  is noted in ``FieldProvenance`` (same as the registry, filled an empty field, or differs and was
  not taken); empty updatable fields are filled through ``registry.services.person_update``, so the
  registry keeps a ``PersonChange`` row for each.
* ``person_merge`` — two registry persons are one: the survivor takes the absorbed person's
  source records and fills its empty fields from them; the absorbed person's own registry rows
  (residences, household, history) stay where they are, untouched, and the live ``MergeEvent``
  marks the person as absorbed (linking skips absorbed persons).
* ``unmerge`` — undo either: filled fields go back through ``person_update`` (a further
  ``PersonChange``, the history only grows), moved records go back, provenance rows of the merge
  are marked not live. Both persons end exactly as they were before the merge.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from zhucheng.core.audit import audit_record
from zhucheng.core.context import acting_user
from zhucheng.registry import services as registry_services
from zhucheng.registry.errors import RegistryError, require_reason
from zhucheng.registry.models import Person

from .errors import ExchangeError
from .models import (
    FieldProvenance,
    MergeEvent,
    MergeKind,
    MergeVia,
    ProvenanceStatus,
    RecordState,
    ReviewItem,
    SourceRecord,
)
from .permissions import require_review

# Fields whose provenance is kept, and those a feed may fill when the registry has them empty.
PROVENANCE_FIELDS = (
    "name", "id_number", "doc_number", "phone", "sex", "birth_date", "ethnicity", "hukou_place", "education", "employment_status",
)  # fmt: skip
FILLABLE_FIELDS = ("phone", "ethnicity", "hukou_place", "education", "employment_status")
SNAPSHOT_FIELDS = (*registry_services.PERSON_FIELDS, "unit_id", "died_on", "care_needs")


def _value(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


def person_snapshot(person: Person) -> dict[str, str]:
    """The person's own fields as text (what an unmerge must give back exactly)."""
    return {f: _value(getattr(person, f)) for f in SNAPSHOT_FIELDS}



def merged_away_ids() -> QuerySet[Any]:
    """Ids of the persons merged into another by a live merge, as a one-column query (for ``pk__in``)."""
    return MergeEvent.objects.filter(undone_at__isnull=True, absorbed__isnull=False).values("absorbed_id")


def absorbed_ids() -> set[int]:
    """Persons merged into another by a live merge (linking leaves them out)."""
    return set(merged_away_ids().values_list("absorbed_id", flat=True))


def survivor_of(person: Person) -> Person | None:
    """The person this one was merged into by a live merge, or None."""
    event = (
        MergeEvent.objects.filter(undone_at__isnull=True, absorbed=person)
        .select_related("person", "person__unit")
        .order_by("-merged_at")
        .first()
    )
    return event.person if event is not None else None


def _fill(actor: Any, person: Person, values: Mapping[str, Any], reason: str) -> dict[str, str]:
    """Fill the person's empty updatable fields from ``values`` (through the registry); {field: old value}."""
    if person.died_on is not None:
        return {}
    changes = {f: values[f] for f in FILLABLE_FIELDS if values.get(f) and not getattr(person, f)}
    if not changes:
        return {}
    try:
        registry_services.person_update(actor=actor, person=person, changes=changes, reason=reason)
    except RegistryError:
        # A value the registry refuses (it passed the feed's check, so rare): keep provenance only.
        return {}
    return dict.fromkeys(changes, "")


def _provenance(person: Person, record: SourceRecord, merge: MergeEvent | None, filled: Mapping[str, str], *, origin: bool = False) -> None:
    cleaned = record.cleaned
    rows = []
    for f in PROVENANCE_FIELDS:
        value = _value(cleaned.get(f))
        if not value:
            continue
        if origin:
            status = ProvenanceStatus.ORIGIN
        elif f in filled:
            status = ProvenanceStatus.FILLED
        elif value == _value(getattr(person, f)):
            status = ProvenanceStatus.SAME
        else:
            status = ProvenanceStatus.DIFFERS
        rows.append(FieldProvenance(person=person, field=f, value=value, record=record, merge=merge, status=status, received_at=record.received_at))
    FieldProvenance.objects.bulk_create(rows)


def record_new_person(record: SourceRecord, person: Person) -> None:
    """A record that created a new person: its values are the person's origin."""
    _provenance(person, record, None, {}, origin=True)


@transaction.atomic
def attach(
    *,
    actor: Any,
    record: SourceRecord,
    person: Person,
    via: str,
    review: ReviewItem | None = None,
    probability: float | None = None,
) -> MergeEvent:
    """并入: the source record is this person; fill empty fields, keep provenance, keep a merge event."""
    if actor is not None:
        require_review(actor, person.unit)
    record = SourceRecord.objects.select_for_update().get(pk=record.pk)
    if record.person_id is not None and record.state in (RecordState.MERGED, RecordState.NEW):
        raise ExchangeError(_("该来源记录已经并入人员。"), code="already_linked", field="record")
    person = Person.objects.select_for_update().get(pk=person.pk)
    before = person_snapshot(person)
    reason = _("数据交换:%(feed)s 批次 %(batch)s 第 %(row)s 行") % {"feed": record.feed.name, "batch": record.batch_id, "row": record.row}
    filled = _fill(actor, person, record.cleaned, reason)
    person.refresh_from_db()
    event = MergeEvent.objects.create(
        kind=MergeKind.ATTACH,
        via=via,
        person=person,
        record=record,
        review=review,
        match_probability=probability,
        before_json=json.dumps({"person": before, "filled": filled, "record_state": record.state}, ensure_ascii=False),
        changed_fields=sorted(filled),
        merged_at=timezone.now(),
        merged_by=acting_user(actor),
    )
    record.person = person
    record.state = RecordState.MERGED
    record.linked_at = event.merged_at
    if probability is not None:
        record.match_probability = probability
    record.save(update_fields=["person", "state", "linked_at", "match_probability"])
    _provenance(person, record, event, filled)
    audit_record(actor=actor, act="exchange.attach", obj=person, changed_fields=["source_record", *sorted(filled)], reason=reason)
    return event


@transaction.atomic
def person_merge(
    *, actor: Any, survivor: Person, absorbed: Person, via: str = MergeVia.MANUAL, review: ReviewItem | None = None, reason: str = ""
) -> MergeEvent:
    """两人合并: ``absorbed`` is the same person as ``survivor``; its source records move, empty fields fill."""
    if survivor.pk == absorbed.pk:
        raise ExchangeError(_("不能把人员与自己合并。"), code="invalid", field="absorbed")
    if actor is not None:
        require_review(actor, survivor.unit)
        require_review(actor, absorbed.unit)
    a, b = sorted([survivor.pk, absorbed.pk])
    locked = {p.pk: p for p in Person.objects.select_for_update().filter(pk__in=[a, b]).order_by("pk")}
    survivor, absorbed = locked[survivor.pk], locked[absorbed.pk]
    gone = absorbed_ids()
    if absorbed.pk in gone or survivor.pk in gone:
        raise ExchangeError(_("该人员已被合并到其他人员,请先撤销那次合并。"), code="already_merged", field="absorbed")
    before = {"person": person_snapshot(survivor), "absorbed": person_snapshot(absorbed)}
    moved = list(SourceRecord.objects.filter(person=absorbed).order_by("pk").values_list("pk", flat=True))
    values = {f: getattr(absorbed, f) for f in FILLABLE_FIELDS}
    text = reason.strip() or _("人员合并:%(a)s 并入 %(b)s") % {"a": absorbed.pk, "b": survivor.pk}
    filled = _fill(actor, survivor, values, text)
    survivor.refresh_from_db()
    event = MergeEvent.objects.create(
        kind=MergeKind.PERSONS,
        via=via,
        person=survivor,
        absorbed=absorbed,
        review=review,
        match_probability=review.match_probability if review else None,
        before_json=json.dumps({**before, "filled": filled, "moved": moved}, ensure_ascii=False),
        changed_fields=sorted(filled),
        merged_at=timezone.now(),
        merged_by=acting_user(actor),
    )
    SourceRecord.objects.filter(pk__in=moved).update(person=survivor)
    for record in SourceRecord.objects.filter(pk__in=moved).select_related("feed"):
        _provenance(survivor, record, event, filled)
    audit_record(actor=actor, act="exchange.person_merge", obj=survivor, changed_fields=["absorbed", *sorted(filled)], reason=f"{text}; absorbed={absorbed.pk}")
    return event


@transaction.atomic
def unmerge(*, actor: Any, event: MergeEvent, reason: str) -> MergeEvent:
    """撤销合并: give both persons (or the person and the record) back exactly as they were."""
    try:
        reason = require_reason(reason)
    except RegistryError as exc:
        raise ExchangeError(exc.message, code=exc.code, field="reason") from exc
    event = MergeEvent.objects.select_for_update(of=("self",)).select_related("person", "absorbed", "record").get(pk=event.pk)
    if actor is not None:
        require_review(actor, event.person.unit)
    if event.undone_at is not None:
        raise ExchangeError(_("这次合并已经撤销。"), code="not_live", field="merge")
    before = event.before
    person = Person.objects.select_for_update().get(pk=event.person_id)
    filled: dict[str, str] = before.get("filled", {})
    # Put back what the merge filled (only where it still holds the value the merge put there).
    restore = {f: old for f, old in filled.items() if f in FILLABLE_FIELDS and _value(getattr(person, f)) != old}
    if restore:
        registry_services.person_update(actor=actor, person=person, changes=restore, reason=_("撤销合并:%(r)s") % {"r": reason})
    if event.kind == MergeKind.ATTACH and event.record_id:
        SourceRecord.objects.filter(pk=event.record_id).update(person=None, state=RecordState.UNMERGED)
    elif event.kind == MergeKind.PERSONS:
        SourceRecord.objects.filter(pk__in=before.get("moved", [])).update(person=event.absorbed_id)
    FieldProvenance.objects.filter(merge=event).update(is_live=False)
    event.undone_at = timezone.now()
    event.undone_by = acting_user(actor)
    event.undo_reason = reason[:200]
    event.save(update_fields=["undone_at", "undone_by", "undo_reason"])
    audit_record(actor=actor, act="exchange.unmerge", obj=person, changed_fields=["merge", *sorted(restore)], reason=reason)
    return event
