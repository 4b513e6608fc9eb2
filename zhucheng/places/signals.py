"""Keep the in-memory locator in step with boundary changes."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import OrgUnit


@receiver(post_save, sender=OrgUnit)
@receiver(post_delete, sender=OrgUnit)
def _boundaries_changed(sender: type[OrgUnit], instance: OrgUnit, **kwargs: Any) -> None:
    from .geo import invalidate_locator

    invalidate_locator()
