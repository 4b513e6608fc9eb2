"""Celery tasks of the registry: the daily expiry of residence permits (居住证到期)."""

from __future__ import annotations

from celery import shared_task

from .services import permits_expire_due


@shared_task(ignore_result=True)
def expire_permits_task() -> int:
    """Mark issued permits past their validity as expired (idempotent)."""
    return permits_expire_due(actor=None)
