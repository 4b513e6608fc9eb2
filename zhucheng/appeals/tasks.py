"""Celery tasks of the appeals app: the periodic deadline sweep (scheduled in ``zhucheng/celery.py``)."""

from __future__ import annotations

from celery import shared_task

from .deadlines import sweep


@shared_task(ignore_result=True)
def sweep_deadlines_task() -> dict[str, int]:
    """Remind handlers of appeals due soon and escalate overdue ones (idempotent)."""
    report = sweep()
    return {"reminded": report.reminded, "escalated": report.escalated}
