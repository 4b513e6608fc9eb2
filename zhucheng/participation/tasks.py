"""Celery tasks of participation: the daily missed-milestone sweep (flags to community staff).

Beat entries belong in ``zhucheng/celery.py``.
"""

from __future__ import annotations

from celery import shared_task

from . import building


@shared_task(ignore_result=True)
def participation_flags_task() -> dict[str, int]:
    """Flag every milestone past its date and not done (idempotent: once per milestone)."""
    return {"flags": building.flags_sweep()}
