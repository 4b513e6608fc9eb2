"""The participation demo seeder on the demo city: budgets in every phase, ballots through the real checks."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest

from zhucheng.core import demo
from zhucheng.participation.models import (
    Ballot,
    Budget,
    Evaluation,
    Phase,
    Project,
    ProjectFlag,
    Tally,
    UpkeepTask,
    VoterRegister,
)

pytestmark = pytest.mark.django_db


class _Out(io.StringIO):
    def write(self, msg: str = "", style_func: Any = None, ending: str | None = None) -> int:  # type: ignore[override]
        return super().write(msg + "\n")


def test_demo_seeder_covers_every_phase(db: Any) -> None:
    wanted = ("zhucheng.places.demo", "zhucheng.accounts.demo", "zhucheng.registry.demo", "zhucheng.participation.demo")
    seeders = [s for s in demo.discover() if s.module in wanted]
    t0 = time.perf_counter()
    out = _Out()
    demo.run(size="small", stdout=out, seeders=seeders)
    took = time.perf_counter() - t0
    print(out.getvalue())
    assert set(Budget.objects.values_list("phase", flat=True)) == set(Phase.values)
    assert Ballot.objects.count() == VoterRegister.objects.filter(budget__ballots__isnull=False).distinct().count() or Ballot.objects.count() > 0
    assert Ballot.objects.filter(channel="paper").exists() and Tally.objects.filter(rule="mes").exists()
    assert Project.objects.filter(status="under_way").exists() and Project.objects.filter(parent__isnull=False).exists()
    assert ProjectFlag.objects.filter(kind="overspend").exists() and ProjectFlag.objects.filter(kind="missed_milestone").exists()
    assert Evaluation.objects.exists() and UpkeepTask.objects.filter(done_on__isnull=True).exists()
    # Idempotent.
    demo.run(size="small", stdout=_Out(), seeders=[s for s in seeders if s.module == "zhucheng.participation.demo"])
    assert Budget.objects.count() == 8
    assert took < 120
