"""Celery tasks of mediation: the monthly screening rounds and the daily fulfilment/reminder sweep.

Beat entries belong in ``zhucheng/celery.py`` (see the module docstrings of the commands for cron).
"""

from __future__ import annotations

from celery import shared_task

from . import outcomes, screening


@shared_task(ignore_result=True)
def open_screening_rounds_task() -> dict[str, int]:
    """This month's screening rounds and grid reports (idempotent; adds grids created since)."""
    report = screening.rounds_open()
    return {"rounds": report.rounds_created, "reports": report.reports_created}


@shared_task(ignore_result=True)
def mediation_sweep_task() -> dict[str, int]:
    """Open the fulfilment checks due today and remind parties of tomorrow's sessions (idempotent)."""
    report = outcomes.sweep()
    return {"checks": report.checks_opened, "reminders": report.reminders_sent}
