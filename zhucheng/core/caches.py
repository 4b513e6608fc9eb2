"""Per-process caches of reference data (calendars, routing rules, deadline policies, categories).

``clear_on_change`` wires a cache's ``clear`` to the models it is built from: a save or delete in
this process clears it at once, and once more when the transaction commits (a read between the
save and the commit may have cached the uncommitted rows). Other processes rely on the cache's
own lifetime. Bulk ``update()`` sends no signal: callers of such updates clear by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models, transaction
from django.db.models.signals import post_delete, post_save


def clear_on_change(clear: Callable[[], Any], *senders: type[models.Model], uid: str) -> None:
    """Call ``clear()`` whenever one of ``senders`` is saved or deleted, and again on commit."""

    def on_change(**kwargs: Any) -> None:
        clear()
        transaction.on_commit(clear, using=kwargs.get("using"))

    for sender in senders:
        # weak=False: the receiver is this closure, which nothing else holds.
        post_save.connect(on_change, sender=sender, weak=False, dispatch_uid=f"{uid}.save.{sender.__name__}")
        post_delete.connect(on_change, sender=sender, weak=False, dispatch_uid=f"{uid}.delete.{sender.__name__}")
