"""Celery task of the exchange: process a received batch (validate, then link). Eager by default."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def process_batch_task(batch_id: int) -> str:
    """Validate and link one batch (idempotent: a batch past a step is not run through it again)."""
    from .models import ImportBatch
    from .services import batch_process

    batch = ImportBatch.objects.get(pk=batch_id)
    return batch_process(batch).state
