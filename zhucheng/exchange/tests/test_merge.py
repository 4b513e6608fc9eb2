"""Merges with provenance: every source record kept, which value came from which feed and when;
unmerge restores both persons exactly; the registry's history only grows."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from zhucheng.exchange import merge, selectors, services
from zhucheng.exchange.errors import ExchangeError
from zhucheng.exchange.models import FieldProvenance, MergeEvent, ProvenanceStatus, RecordState, SourceRecord
from zhucheng.registry.models import Person, PersonChange

from .conftest import csv_bytes, make_id, register, row, run

pytestmark = pytest.mark.django_db


def _state(person: Person) -> tuple[dict[str, str], list[int], list[tuple[str, str]]]:
    person = Person.objects.get(pk=person.pk)
    records = sorted(SourceRecord.objects.filter(person=person).values_list("pk", flat=True))
    prov = sorted(FieldProvenance.objects.filter(person=person, is_live=True).values_list("field", "status"))
    return merge.person_snapshot(person), records, prov


def test_attach_keeps_provenance_and_unmerge_restores_the_person(ex: Any, fake_linkage: Any) -> None:
    before = _state(ex.zhang)
    changes_before = PersonChange.objects.filter(person=ex.zhang).count()
    batch = run(ex.feed, csv_bytes([row("张伟", ex.zhang.id_number, phone="13811112222", sex="女" if ex.zhang.sex == "M" else "男")]))
    # The sex disagrees with the ID number: refused by the standard; send it right instead.
    assert batch.rejected == 1
    batch = run(ex.feed, csv_bytes([row("张伟", ex.zhang.id_number, phone="13811112222", address="中华北路8号")]), "2.csv")
    record = SourceRecord.objects.get(batch=batch)
    prov = {p.field: p for p in FieldProvenance.objects.filter(record=record)}
    assert prov["phone"].status == ProvenanceStatus.FILLED and prov["phone"].value == "13811112222"
    assert prov["name"].status == ProvenanceStatus.SAME and prov["name"].received_at == record.received_at
    assert prov["name"].record.feed == ex.feed
    event = MergeEvent.objects.get(record=record)
    merge.unmerge(actor=ex.city.worker_a, event=event, reason="误合并")
    assert _state(ex.zhang) == before
    record.refresh_from_db()
    assert record.state == RecordState.UNMERGED and record.person is None
    # History kept: the fill and its undoing are both there.
    assert PersonChange.objects.filter(person=ex.zhang).count() == changes_before + 2
    with pytest.raises(ExchangeError) as exc:
        merge.unmerge(actor=ex.city.worker_a, event=event, reason="again")
    assert exc.value.code == "not_live"


def test_unmerge_restores_both_persons_exactly(ex: Any, fake_linkage: Any) -> None:
    # A duplicate registered by another department: same person, a passport-free second record.
    dup = register(ex.city, "张伟", make_id(ex.zhang.birth_date, 15), ex.city.grid_a, phone="13955556666", ethnicity="汉族", education="bachelor")
    run(ex.feed, csv_bytes([row("张伟", dup.id_number, address="中华北路8号")]))  # a source record on the duplicate
    run(ex.feed, csv_bytes([row("张伟", ex.zhang.id_number, address="新华路1号")]), "2.csv")  # and one on the survivor
    survivor_before, absorbed_before = _state(ex.zhang), _state(dup)
    assert len(survivor_before[1]) == 1 and len(absorbed_before[1]) == 1

    event = merge.person_merge(actor=ex.city.worker_a, survivor=ex.zhang, absorbed=dup, reason="同一人")
    merged = _state(ex.zhang)
    assert sorted(merged[1]) == sorted(survivor_before[1] + absorbed_before[1])  # every source record kept
    assert merged[0]["phone"] == "13955556666" and merged[0]["education"] == "bachelor"
    assert set(event.changed_fields) == {"phone", "ethnicity", "education"}
    assert dup.pk in merge.absorbed_ids()
    assert dup.pk not in {p.pk for p in services.candidate_persons(list(SourceRecord.objects.all()))}
    with pytest.raises(ExchangeError):
        merge.person_merge(actor=None, survivor=ex.wang, absorbed=dup)

    merge.unmerge(actor=ex.city.worker_a, event=event, reason="核实为两人")
    assert _state(ex.zhang) == survivor_before
    assert _state(dup) == absorbed_before
    assert dup.pk not in merge.absorbed_ids()


def test_provenance_read_lists_sources_and_merges(ex: Any, fake_linkage: Any) -> None:
    run(ex.feed, csv_bytes([row("张伟", ex.zhang.id_number, phone="13811112222")]))
    ex.zhang.refresh_from_db()
    prov = selectors.person_provenance(ex.city.worker_a, ex.zhang)
    assert len(prov.records) == 1 and len(prov.merges) == 1
    phone = next(f for f in prov.fields if f["field"] == "phone")
    assert phone["sources"][0]["department"] == ex.feed.department.name and phone["sources"][0]["status_code"] == "filled"
    assert phone["current"].startswith("138") and "*" in phone["current"]  # masked


def test_reviewer_out_of_scope_cannot_merge(ex: Any) -> None:
    with pytest.raises(ExchangeError):
        merge.person_merge(actor=ex.city.worker_b, survivor=ex.zhang, absorbed=ex.wang)
    other = register(ex.city, "王芳", make_id(date(1978, 6, 5), 35, male=False), ex.city.grid_a)
    event = merge.person_merge(actor=ex.city.worker_a, survivor=ex.wang, absorbed=other)
    with pytest.raises(ExchangeError):
        merge.unmerge(actor=ex.city.worker_b, event=event, reason="x")


def test_a_merged_away_record_leaves_registry_lists_and_its_page_points_to_the_survivor(ex: Any, fake_linkage: Any, client: Any) -> None:
    from django.urls import reverse

    from zhucheng.registry import selectors as registry_selectors

    dup = register(ex.city, "张伟", make_id(ex.zhang.birth_date, 15), ex.city.grid_a, phone="13955556666")
    user = ex.city.worker_a
    assert {p.pk for p in registry_selectors.persons_search_name(user, "张伟")} == {ex.zhang.pk, dup.pk}
    event = merge.person_merge(actor=user, survivor=ex.zhang, absorbed=dup, reason="同一人")

    assert [p.pk for p in registry_selectors.persons_search_name(user, "张伟")] == [ex.zhang.pk]
    assert registry_selectors.person_find_by_id_number(user, dup.id_number) is None
    assert registry_selectors.person_merged_into(dup) == ex.zhang
    assert registry_selectors.person_merged_into(ex.zhang) is None
    client.force_login(user)
    page = client.get(reverse("registry:person_detail", args=[dup.pk])).content.decode()
    assert "已与另一条记录合并为同一人" in page
    assert reverse("registry:person_detail", args=[ex.zhang.pk]) in page
    assert "已与另一条记录合并" not in client.get(reverse("registry:person_detail", args=[ex.zhang.pk])).content.decode()

    merge.unmerge(actor=user, event=event, reason="核实为两人")
    assert {p.pk for p in registry_selectors.persons_search_name(user, "张伟")} == {ex.zhang.pk, dup.pk}
    assert registry_selectors.person_merged_into(dup) is None
