"""The exchange demo seeder on the demo city: five department feeds, batches in every state, a
non-empty review queue for the ``community`` login, decisions, merges and one undone; idempotent."""

from __future__ import annotations

import importlib
import io
import time
from typing import Any

import pytest

from zhucheng.core import demo
from zhucheng.exchange import selectors
from zhucheng.exchange.models import BatchState, Feed, ImportBatch, MergeEvent, ReviewItem, ReviewState, RowIssue

pytestmark = pytest.mark.django_db


class _Out(io.StringIO):
    def write(self, msg: str = "", style_func: Any = None, ending: str | None = None) -> int:  # type: ignore[override]
        return super().write(msg + "\n")


def _seeders(modules: tuple[str, ...]) -> list[demo.Seeder]:
    """Only the seeders named (importing just these, whatever state the other apps' seeders are in)."""
    out = []
    for name in modules:
        module = importlib.import_module(name)
        out.append(demo.Seeder(module.ORDER, name.split(".")[1], name, module.seed, getattr(module, "report", None)))
    return sorted(out, key=lambda s: s.order)


def _run(modules: tuple[str, ...]) -> float:
    seeders = _seeders(modules)
    t0 = time.perf_counter()
    demo.run(size="small", stdout=_Out(), seeders=seeders)
    return time.perf_counter() - t0


def test_demo_seeder(db: Any) -> None:
    _run(("zhucheng.places.demo", "zhucheng.accounts.demo", "zhucheng.registry.demo"))
    took = _run(("zhucheng.exchange.demo",))
    from zhucheng.accounts.models import User

    assert set(Feed.objects.values_list("department__short_name", flat=True)) == {"公安局", "住建局", "人社局", "卫健委", "民政局"}
    states = set(ImportBatch.objects.values_list("state", flat=True))
    assert {BatchState.RECEIVED, BatchState.VALIDATED, BatchState.FAILED, BatchState.DONE} <= states
    assert states & {BatchState.REVIEW, BatchState.DONE}
    assert RowIssue.objects.filter(code="id_checksum").exists() and RowIssue.objects.filter(code="duplicate_in_file").exists()
    assert RowIssue.objects.filter(code="encoding").exists()
    community = User.objects.get(username="community")
    assert selectors.review_queue(community).exists()
    assert ReviewItem.objects.filter(state=ReviewState.ACCEPTED).exists() and ReviewItem.objects.filter(state=ReviewState.REJECTED).exists()
    assert MergeEvent.objects.filter(undone_at__isnull=True).exists() and MergeEvent.objects.filter(undone_at__isnull=False).exists()
    # A person registered twice (old and new passport) merged by the community staff: the old record
    # is out of the registry's search, and its page points to the survivor.
    from zhucheng.registry import selectors as registry_selectors

    twice = MergeEvent.objects.get(absorbed__name="JOHNSON EMILY", undone_at__isnull=True)
    assert [p.pk for p in registry_selectors.persons_search_name(community, "JOHNSON")] == [twice.person_id]
    assert registry_selectors.person_merged_into(twice.absorbed) == twice.person
    assert took < 15
    counts = (ImportBatch.objects.count(), ReviewItem.objects.count())
    _run(("zhucheng.exchange.demo",))
    assert (ImportBatch.objects.count(), ReviewItem.objects.count()) == counts
