"""System checks for a deployment (``./zc manage check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.db import connections


@checks.register(checks.Tags.database, deploy=True)
def autovacuum_on(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """core.W001: PostgreSQL must run autovacuum. Without it no table is ever analysed again, and
    queries planned while a table was small keep their plans as it grows: on a new budget's ballot
    table, every vote's foreign-key check becomes a sequential scan over all the ballots before it
    (measured by ``bench/participation.py``: 254 ballots/s falling to 190/s, against 501/s)."""
    found: list[checks.CheckMessage] = []
    for alias in databases or []:
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        with connection.cursor() as cur:
            cur.execute("SHOW autovacuum")
            row = cur.fetchone()
        if row and str(row[0]).lower() == "off":
            found.append(
                checks.Warning(
                    f"PostgreSQL runs with autovacuum = off (database {alias!r}).",
                    hint="Turn autovacuum on (the default): without it statistics go stale and votes, "
                    "appeals and registry queries slow down as their tables grow.",
                    id="core.W001",
                )
            )
    return found
