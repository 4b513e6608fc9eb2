"""Demo seeder for Open311: the well-known demo API client, so ``./zc demo`` can print a key that works.

The demo key is public (it is printed and documented); it is never created in production.
Idempotent: the client is looked up by name and its key hash reset to the demo key.
"""

from __future__ import annotations

from django.conf import settings

from zhucheng.core.audit import audit_record
from zhucheng.core.demo import DemoContext

from . import keys
from .models import ApiClient

ORDER = 70
DEMO_CLIENT = "演示客户端 demo"
DEMO_KEY = "zc-demo-open311-key"  # noqa: S105 - public on purpose, refused in production


def demo_client() -> ApiClient | None:
    """The demo client with the demo key (created if missing); None in production."""
    if getattr(settings, "PRODUCTION", False):
        return None
    client = ApiClient.objects.filter(name=DEMO_CLIENT).first()
    if client is None:
        client, _ = keys.api_client_create(actor=None, name=DEMO_CLIENT, key=DEMO_KEY, note="./zc demo")
        return client
    if client.key_hash != keys.hash_key(DEMO_KEY) or not client.is_active:
        client.key_prefix, client.key_hash, client.is_active, client.revoked_at = DEMO_KEY[: keys.PREFIX_LENGTH], keys.hash_key(DEMO_KEY), True, None
        client.save(update_fields=["key_prefix", "key_hash", "is_active", "revoked_at"])
        audit_record(actor=None, act="open311.key_create", obj=client, changed_fields=["key_hash"], reason="demo key reset")
    return client


def seed(ctx: DemoContext) -> None:
    client = demo_client()
    if client is None:
        ctx.log("production: no demo Open311 key")
        return
    ctx.log(f"Open311 demo client {client.name!r}, api_key={DEMO_KEY}")


def report(ctx: DemoContext) -> None:
    if ApiClient.objects.filter(name=DEMO_CLIENT, is_active=True).exists():
        ctx.stdout.write(f"Open311 (GeoReport v2): /open311/v2/discovery.json   demo api_key: {DEMO_KEY}")
