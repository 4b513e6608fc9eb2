"""Linking outcomes and the clerical review: certain → merged, possible → queued with the waterfall,
non-match → new person; decisions (kept, one per item) and the precision they give; the queue is
scoped to the reviewer's units."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from zhucheng.exchange import selectors, services
from zhucheng.exchange.errors import ExchangeError
from zhucheng.exchange.models import BatchState, MergeEvent, MergeVia, RecordState, ReviewItem, ReviewState, SourceRecord
from zhucheng.places.selectors import NotVisible
from zhucheng.registry.models import Person, PersonChange

from .conftest import csv_bytes, make_id, register, row, run

pytestmark = pytest.mark.django_db

NEW = make_id(date(1992, 4, 18), 41)


def _mixed(ex: Any) -> Any:
    """One certain match (张伟 by ID, bringing a phone), one possible (王芳: same name and birth date,
    another ID), one non-match (赵磊)."""
    wang_born = ex.wang.birth_date.isoformat()
    data = csv_bytes(
        [
            row("张伟", ex.zhang.id_number, phone="13811112222"),
            row("王芳", make_id(ex.wang.birth_date, 77, male=False), born=wang_born),
            row("赵磊", NEW),
        ]
    )
    return run(ex.feed, data)


def test_certain_possible_and_non_matches(ex: Any, fake_linkage: Any) -> None:
    batch = _mixed(ex)
    assert batch.state == BatchState.REVIEW
    assert (batch.matched, batch.new, batch.queued, batch.auto_merged) == (2, 1, 1, 1)
    zhang_record = SourceRecord.objects.get(batch=batch, row=1)
    assert zhang_record.state == RecordState.MERGED and zhang_record.person == ex.zhang
    ex.zhang.refresh_from_db()
    assert ex.zhang.phone == "13811112222"  # an empty field filled, through the registry
    assert [(c.old_value, c.new_value) for c in PersonChange.objects.filter(person=ex.zhang, field="phone")] == [("", "13811112222")]
    event = MergeEvent.objects.get(record=zhang_record)
    assert event.via == MergeVia.AUTO and event.changed_fields == ["phone"]
    item = ReviewItem.objects.get(record__batch=batch)
    assert item.person == ex.wang and item.state == ReviewState.PENDING
    assert item.waterfall == []  # drawn when first opened
    rows = services.review_explain(item)
    assert {w["comparison"]: w["agreed"] for w in rows}["full_name"] is True
    item.refresh_from_db()
    assert item.waterfall == rows
    assert SourceRecord.objects.get(batch=batch, row=3).state == RecordState.NEW
    new = Person.objects.get(name="赵磊")
    assert new.unit == ex.feed.unit and new.source_records.count() == 1
    s = selectors.batch_summary(batch)
    assert (s.received, s.rejected, s.matched, s.new, s.pending, s.merged) == (3, 0, 2, 1, 1, 1)


def test_accept_merges_and_closes_the_batch(ex: Any, fake_linkage: Any) -> None:
    batch = _mixed(ex)
    item = ReviewItem.objects.get(record__batch=batch)
    services.review_decide(actor=ex.city.worker_a, item=item, accept=True, note="户籍核实")
    item.refresh_from_db()
    assert item.state == ReviewState.ACCEPTED and item.decided_by == ex.city.worker_a and item.decided_at
    record = item.record
    record.refresh_from_db()
    assert record.person == ex.wang and record.state == RecordState.MERGED
    assert MergeEvent.objects.get(record=record).via == MergeVia.REVIEW
    batch.refresh_from_db()
    assert batch.state == BatchState.DONE
    with pytest.raises(ExchangeError) as exc:
        services.review_decide(actor=ex.city.worker_a, item=item, accept=False)
    assert exc.value.code == "already_decided"


def test_reject_registers_a_new_person(ex: Any, fake_linkage: Any) -> None:
    batch = _mixed(ex)
    item = ReviewItem.objects.get(record__batch=batch)
    before = Person.objects.filter(name="王芳").count()
    services.review_decide(actor=ex.city.worker_a, item=item, accept=False)
    record = SourceRecord.objects.get(pk=item.record_id)
    assert record.state == RecordState.NEW and record.person != ex.wang
    assert Person.objects.filter(name="王芳").count() == before + 1


def test_queue_is_scoped_to_the_candidates_units(ex: Any, fake_linkage: Any) -> None:
    batch = _mixed(ex)
    item = ReviewItem.objects.get(record__batch=batch)  # candidate 王芳 lives in grid A (community A)
    assert list(selectors.review_queue(ex.city.worker_a)) == [item]
    assert list(selectors.review_queue(ex.city.grid_worker_a)) == [item]
    assert list(selectors.review_queue(ex.city.worker_b)) == []
    assert list(selectors.review_queue(ex.city.nobody)) == []
    with pytest.raises(NotVisible):
        selectors.review_get_for_user(ex.city.worker_b, item.pk)
    with pytest.raises(ExchangeError) as exc:
        services.review_decide(actor=ex.city.worker_b, item=item, accept=True)
    assert exc.value.code == "forbidden"
    # A possible match for 李娜 (grid B) goes to community B's staff only.
    other = run(ex.feed, csv_bytes([row("李娜", make_id(ex.li.birth_date, 88, male=False), born=ex.li.birth_date.isoformat())]), "b.csv")
    li_item = ReviewItem.objects.get(record__batch=other)
    assert list(selectors.review_queue(ex.city.worker_b)) == [li_item]
    assert li_item not in selectors.review_queue(ex.city.worker_a)


def test_precision_at_thresholds_from_decisions(ex: Any, fake_linkage: Any) -> None:
    a = register(ex.city, "陈静", make_id(date(1980, 1, 1), 91, male=False), ex.city.grid_a)
    b = register(ex.city, "刘洋", make_id(date(1981, 2, 2), 92), ex.city.grid_a)
    c = register(ex.city, "杨帆", make_id(date(1982, 3, 3), 93), ex.city.grid_a)
    items = [
        ReviewItem.objects.create(person=p, other_person=ex.zhang, match_probability=prob, match_weight=1.0)
        for p, prob in ((a, 0.55), (b, 0.75), (c, 0.92))
    ]
    services.review_decide(actor=ex.city.worker_a, item=items[0], accept=False)
    services.review_decide(actor=ex.city.worker_a, item=items[1], accept=False)
    services.review_decide(actor=ex.city.worker_a, item=items[2], accept=True)
    rows = {r.threshold: r for r in selectors.precision_at_thresholds(ex.city.worker_a, [0.5, 0.7, 0.9, 0.95])}
    assert (rows[0.5].decided, rows[0.5].accepted) == (3, 1)
    assert rows[0.5].precision == pytest.approx(1 / 3)
    assert rows[0.7].precision == pytest.approx(1 / 2)
    assert rows[0.9].precision == 1.0
    assert rows[0.95].precision is None
    # Accepting a person pair merged them.
    assert MergeEvent.objects.get(review=items[2]).absorbed == ex.zhang


def test_two_certain_candidates_queue_a_registry_duplicate(ex: Any, fake_linkage: Any, monkeypatch: Any) -> None:
    import pandas as pd

    from zhucheng.exchange import linkage

    twin = register(ex.city, "张伟", make_id(ex.zhang.birth_date, 13), ex.city.grid_a)

    def both(profile: Any, registry: Any, feed: Any) -> Any:
        rid = feed["unique_id"].iloc[0]
        return pd.DataFrame(
            [(f"p{ex.zhang.pk}", rid, 12.0, 0.999), (f"p{twin.pk}", rid, 11.0, 0.98)], columns=["left_id", "right_id", "match_weight", "match_probability"]
        )

    monkeypatch.setattr(linkage, "link", both)
    run(ex.feed, csv_bytes([row("张伟", ex.zhang.id_number)]))
    pair = ReviewItem.objects.get(record__isnull=True)
    assert {pair.person, pair.other_person} == {ex.zhang, twin}


def test_real_engine_end_to_end(ex: Any) -> None:
    """The splink engine itself: an exact ID with a transposed birth date merges; a homophone
    without an ID, same birth date and phone is matched (merged or queued), never made a new
    person; a twin (same birth date and address, another ID) is not merged into the sibling."""
    from zhucheng.exchange import linkage

    profile = linkage.load_profile("person")
    ex.zhang.refresh_from_db()
    registry_services_phone = "13877776666"
    from zhucheng.registry import services as registry_services

    registry_services.person_update(actor=None, person=ex.zhang, changes={"phone": registry_services_phone})
    twin = register(ex.city, "李明", make_id(date(1990, 5, 12), 71), ex.city.grid_a)
    wang_born = ex.wang.birth_date
    transposed = wang_born.replace(month=wang_born.day, day=wang_born.month).isoformat()
    data = csv_bytes(
        [
            row("王芳", "", sex="女", born=transposed, phone="", address=""),  # no ID, day/month swapped
            row("张玮", "", sex="男" if ex.zhang.sex == "M" else "女", born=ex.zhang.birth_date.isoformat(), phone=registry_services_phone),
            row("李亮", make_id(date(1990, 5, 12), 73), address="中华北路8号"),  # the twin's sibling
            row("王芳", ex.wang.id_number),
        ]
    )
    batch = run(ex.feed, data)
    records = {r.row: r for r in SourceRecord.objects.filter(batch=batch)}
    assert records[4].state == RecordState.MERGED and records[4].person == ex.wang
    assert records[4].match_probability is not None and records[4].match_probability >= profile.thresholds.certain
    homophone = records[2]
    assert homophone.state in (RecordState.MERGED, RecordState.REVIEW)
    if homophone.state == RecordState.MERGED:
        assert homophone.person == ex.zhang
    else:
        assert ReviewItem.objects.filter(record=homophone, person=ex.zhang).exists()
        item = ReviewItem.objects.get(record=homophone, person=ex.zhang)
        rows = services.review_explain(item)
        assert any(w["agreed"] and w["match_weight"] > 0 for w in rows)
    assert records[3].person != twin
    assert not MergeEvent.objects.filter(record=records[3], person=twin).exists()


def test_a_certain_score_alone_does_not_merge_a_twin(ex: Any, fake_linkage: Any, monkeypatch: Any) -> None:
    """Twins share birth date, address and phone: even when the engine is certain, a record without an
    ID whose name differs from the person's, or whose ID differs, goes to clerical review."""
    import pandas as pd

    from zhucheng.exchange import linkage

    def certain(profile: Any, registry: Any, feed: Any) -> Any:
        return pd.DataFrame(
            [(f"p{ex.zhang.pk}", rid, 20.0, 0.99999) for rid in feed["unique_id"]],
            columns=["left_id", "right_id", "match_weight", "match_probability"],
        )

    monkeypatch.setattr(linkage, "link", certain)
    born = ex.zhang.birth_date.isoformat()
    batch = run(ex.feed, csv_bytes([row("张伟", make_id(ex.zhang.birth_date, 19)), row("张玮", "", born=born)]))
    assert batch.auto_merged == 0
    assert MergeEvent.objects.filter(record__batch=batch).count() == 0
    assert set(ReviewItem.objects.filter(record__batch=batch).values_list("record__row", flat=True)) == {1, 2}
    # The same person by ID is still merged without a human.
    again = run(ex.feed, csv_bytes([row("张伟", ex.zhang.id_number, phone="13811112222")]), name="again.csv")
    assert again.auto_merged == 1
