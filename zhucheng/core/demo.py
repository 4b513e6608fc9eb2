"""The demo-data framework behind ``./zc manage seed_demo``: every app seeds its own part of the demo city.

How to add demo data for an app
-------------------------------
Create ``zhucheng/<app>/demo.py`` with::

    ORDER = 40                      # places is 10, accounts 20; pick a gap after what you need

    def seed(ctx: DemoContext) -> None:
        city = ctx.shared["places.city"]           # what earlier seeders left for you
        for grid in OrgUnit.objects.filter(kind="grid")[:50]:
            ...                                   # use ctx.rng for every random choice
        ctx.shared["appeals.sample"] = [...]       # for later seeders, keys "<app>.<name>"
        ctx.log(f"{n} appeals")

    def report(ctx: DemoContext) -> None:         # optional: printed after all seeders ran
        ...

``seed_demo`` imports ``<app>.demo`` for every app in ``INSTALLED_APPS`` that has one, and
runs the ``seed`` functions by ``ORDER`` (then app label), each in its own transaction, timing
each. Rules for a seeder:

* **Idempotent**: running ``seed_demo`` twice must create no duplicates and raise no error.
  Get-or-create by a natural key (code, user name), or detect "already seeded" and return.
* **Reproducible**: draw every random choice from ``ctx.rng``. Each seeder gets its own
  ``random.Random`` seeded from the fixed ``SEED`` and its module name, so adding a seeder
  never changes the data of another.
* **Fast**: thousands of rows go in with ``bulk_create`` in batches, not one service call
  (and one audit event) per row; write one summarising audit event instead
  (``audit_record(actor=None, act="<app>.seed", ...)``).
* ``ctx.size`` is ``"small"`` (the default, what ``./zc demo`` loads) or ``"full"``.
"""

from __future__ import annotations

import importlib
import importlib.util
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.apps import apps
from django.db import transaction
from django.utils.translation import gettext as _

from .audit import audit_record

SEED = 20141114  # the reference article's date: fixed, so the demo city is the same every time
SIZES = ("small", "full", "city")  # city: the registry at 6.48 million people (PostgreSQL only)


class Writer(Protocol):
    def write(self, msg: str = ..., style_func: Any = ..., ending: str | None = ...) -> None: ...


@dataclass
class DemoContext:
    """What a seeder receives: size, its random generator, output, and a dict shared by all seeders."""

    size: str
    rng: random.Random
    stdout: Writer
    shared: dict[str, Any] = field(default_factory=dict)
    # The module now running (``zhucheng.places.demo``), for log lines and the rng seed.
    current: str = ""

    def log(self, msg: str) -> None:
        self.stdout.write(f"    {msg}")


@dataclass(frozen=True)
class Seeder:
    """One app's ``demo`` module, found in ``INSTALLED_APPS``."""

    order: int
    app_label: str
    module: str
    seed: Callable[[DemoContext], None]
    report: Callable[[DemoContext], None] | None


def rng_for(module: str, seed: int = SEED) -> random.Random:
    """The seeder's own generator: the same for the same module and seed, whatever else runs."""
    return random.Random(f"{seed}:{module}")


def discover() -> list[Seeder]:
    """The ``<app>.demo`` modules of installed apps, in the order they run."""
    found: list[Seeder] = []
    for config in apps.get_app_configs():
        name = f"{config.name}.demo"
        # Only a missing module means "no demo data"; an error inside one must surface.
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        seed = getattr(module, "seed", None)
        if not callable(seed):
            continue
        order = getattr(module, "ORDER", None)
        if not isinstance(order, int):
            raise TypeError(f"{name} defines seed() but no integer ORDER")
        report = getattr(module, "report", None)
        found.append(Seeder(order, config.label, name, seed, report if callable(report) else None))
    found.sort(key=lambda s: (s.order, s.app_label))
    return found


def run(*, size: str, stdout: Writer, seed: int = SEED, seeders: list[Seeder] | None = None) -> DemoContext:
    """Run every seeder in its own transaction, printing timings; return the context they shared."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, not {size!r}")
    seeders = discover() if seeders is None else seeders
    ctx = DemoContext(size=size, rng=random.Random(seed), stdout=stdout)
    started = time.perf_counter()
    for seeder in seeders:
        ctx.current = seeder.module
        ctx.rng = rng_for(seeder.module, seed)
        stdout.write(_("[%(order)d] %(module)s …") % {"order": seeder.order, "module": seeder.module})
        t0 = time.perf_counter()
        with transaction.atomic():
            seeder.seed(ctx)
        stdout.write(_("    用时 %(seconds).2f 秒") % {"seconds": time.perf_counter() - t0})
    total = time.perf_counter() - started
    audit_record(
        actor=None,
        act="core.seed_demo",
        changed_fields=(),
        reason=f"size={size}; seeders={','.join(s.module for s in seeders)}; seconds={total:.1f}",
    )
    stdout.write(_("演示数据准备完毕,共用时 %(seconds).2f 秒。") % {"seconds": total})
    for seeder in seeders:
        if seeder.report is not None:
            ctx.current = seeder.module
            seeder.report(ctx)
    return ctx
