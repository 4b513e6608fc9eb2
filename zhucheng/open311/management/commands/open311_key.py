"""``./zc manage open311_key create NAME [--categories CG01,CG02] [--rate 600/min] | list | revoke NAME|PREFIX | demo``.

``create`` prints the new key once (only its hash is stored); ``list`` shows names, prefixes and
state; ``revoke`` stops a key at once; ``demo`` makes sure the public demo key exists (not in
production) and prints it, for ``./zc demo``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from zhucheng.appeals.errors import AppealError
from zhucheng.open311 import keys
from zhucheng.open311.demo import DEMO_KEY, demo_client
from zhucheng.open311.models import ApiClient


def _when(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


class Command(BaseCommand):
    help = "Issue, list and revoke Open311 API keys."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="issue a key (printed once)")
        create.add_argument("name")
        create.add_argument("--categories", default="", help="comma-separated leaf category codes (default: all)")
        create.add_argument("--rate", default="", help="submission rate limit for this key, e.g. 600/min (default: settings)")
        create.add_argument("--note", default="")
        sub.add_parser("list", help="list clients and key prefixes")
        revoke = sub.add_parser("revoke", help="revoke a key by client name or key prefix")
        revoke.add_argument("name_or_prefix")
        revoke.add_argument("--reason", default="")
        demo = sub.add_parser("demo", help="ensure and print the demo key (not in production)")
        demo.add_argument("--base", default="", help="base URL to print, e.g. http://127.0.0.1:8000")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "create":
                client, key = keys.api_client_create(
                    actor=None,
                    name=options["name"],
                    categories=options["categories"].split(","),
                    rate_limit=options["rate"],
                    note=options["note"],
                )
                self.stdout.write(f"Open311 client “{client.name}” (prefix {client.key_prefix})")
                self.stdout.write("api_key (shown only now; store it safely):")
                self.stdout.write(key)
            elif action == "list":
                rows = list(ApiClient.objects.prefetch_related("categories").order_by("name"))
                if not rows:
                    self.stdout.write("No Open311 clients.")
                for c in rows:
                    cats = ",".join(sorted(x.code for x in c.categories.all())) or "*"
                    state = "active" if c.is_active else f"revoked {_when(c.revoked_at)}"
                    self.stdout.write(
                        f"{c.key_prefix:<14} {state:<24} last used {_when(c.last_used_at):<17} rate {c.rate_limit or 'default':<10} "
                        f"categories {cats:<20} {c.name}"
                    )
            elif action == "revoke":
                client = keys.api_client_revoke(
                    actor=None, client=keys.api_client_find(options["name_or_prefix"]), reason=options["reason"]
                )
                self.stdout.write(f"Revoked: {client.name} ({client.key_prefix}…)")
            elif action == "demo":
                demo = demo_client()
                if demo is None:
                    self.stdout.write("Production: there is no demo Open311 key.")
                    return
                base = options["base"].rstrip("/")
                self.stdout.write(f"Open311 GeoReport v2: {base}/open311/v2/discovery.json   demo api_key: {DEMO_KEY}")
        except AppealError as exc:
            raise CommandError(exc.message) from None
