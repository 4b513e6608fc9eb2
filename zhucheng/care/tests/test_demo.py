"""The care demo seeder on the demo city and its registry: enrolments in every state, overdue visits for the
grid worker 张伟, a sensitive enrolment only 李娟 sees, bookings, homes, proxy parents, homeless cases in
every outcome; idempotent and quick."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest

from zhucheng.care import selectors, selectors_more
from zhucheng.care.models import (
    BookingState,
    Enrolment,
    EnrolmentState,
    HomelessCase,
    LinkBooking,
    ProxyPairing,
    ServiceDelivery,
    Visit,
)

pytestmark = pytest.mark.django_db


class _Out(io.StringIO):
    def write(self, msg: str = "", style_func: Any = None, ending: str | None = None) -> int:  # type: ignore[override]
        return super().write(msg + "\n")


OUT = _Out()


def _run(only_care: bool = False) -> float:
    from zhucheng.core import demo

    wanted = ("zhucheng.care.demo",) if only_care else ("zhucheng.places.demo", "zhucheng.accounts.demo", "zhucheng.registry.demo", "zhucheng.care.demo")
    seeders = [s for s in demo.discover() if s.module in wanted]
    t0 = time.perf_counter()
    demo.run(size="small", stdout=OUT, seeders=seeders)
    return time.perf_counter() - t0


def test_demo_seeder(db: Any) -> None:
    from zhucheng.accounts.models import User

    _run()
    log = OUT.getvalue()
    care_seconds = float(log.split("zhucheng.care.demo")[1].split("用时")[1].split("秒")[0])
    print(log)
    assert care_seconds < 60  # about 10 s on an idle 2-core machine; the bound only catches a pathological regression
    assert set(Enrolment.objects.values_list("state", flat=True)) == set(EnrolmentState.values)
    grid, community = User.objects.get(username="grid"), User.objects.get(username="community")
    assert selectors.overdue_for_carer(grid).count() >= 2
    assert Visit.objects.filter(appeal__isnull=False).exists()
    on_time = [v.on_time for v in Visit.objects.all()[:2000]]
    assert any(on_time) and not all(on_time)
    sensitive = Enrolment.objects.filter(category__sensitivity="sensitive", state="active")
    assert sensitive.exists()
    assert not selectors.enrolments_visible_to(grid).filter(category__sensitivity="sensitive").exists()
    assert selectors.enrolments_visible_to(community).filter(category__sensitivity="sensitive").exists()
    assert ServiceDelivery.objects.filter(kind="rehabilitation").exists()
    assert {BookingState.USED, BookingState.BOOKED, BookingState.NO_SHOW} <= set(LinkBooking.objects.values_list("state", flat=True))
    assert ProxyPairing.objects.filter(ended_on__isnull=True).exists() and ProxyPairing.objects.filter(ended_on__isnull=False).exists()
    assert set(HomelessCase.objects.values_list("outcome", flat=True)) == {"", "returned_home", "placed_in_care", "medical"}
    assert selectors_more.pairings_review_due(community).exists()
    counts = (Enrolment.objects.count(), Visit.objects.count(), LinkBooking.objects.count())
    took = _run(only_care=True)  # idempotent: nothing doubled
    assert (Enrolment.objects.count(), Visit.objects.count(), LinkBooking.objects.count()) == counts
    assert took < 5
