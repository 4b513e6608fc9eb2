"""API keys of Open311 clients: issue (the key is shown once), check, revoke — each act audited.

A key is ``o311_<8 hex>_<43 url-safe characters>`` (256 random bits). The database holds its
SHA-256 and its first 13 characters (the prefix shown in lists); the key itself is never stored.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhucheng.appeals.errors import AppealError
from zhucheng.appeals.models import Category
from zhucheng.core.audit import audit_record

from . import ratelimit
from .models import ApiClient

PREFIX_LENGTH = 13
# Last-used times are for humans ("is this key still in use?"): no write per request.
TOUCH_EVERY = timedelta(minutes=1)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    return f"o311_{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"


def _categories(codes: Iterable[str]) -> list[Category]:
    wanted = [c.strip().upper() for c in codes if c and c.strip()]
    found = {c.code: c for c in Category.objects.filter(code__in=wanted)}
    missing = [c for c in wanted if c not in found]
    if missing:
        raise AppealError(_("没有这些分类：%(codes)s") % {"codes": ", ".join(missing)}, code="invalid", field="categories")
    not_leaf = [c for c in wanted if found[c].parent_id is None]
    if not_leaf:
        raise AppealError(_("请填写二级分类编码（如 CG01），不是：%(codes)s") % {"codes": ", ".join(not_leaf)}, code="not_leaf", field="categories")
    return [found[c] for c in wanted]


@transaction.atomic
def api_client_create(
    *, actor: Any, name: str, categories: Iterable[str] = (), rate_limit: str = "", key: str | None = None, note: str = ""
) -> tuple[ApiClient, str]:
    """签发密钥: a new client and its key (returned once, stored only as a hash)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise AppealError(_("请填写客户端名称（不超过 100 个字）。"), code="required", field="name")
    if ApiClient.objects.filter(name=name).exists():
        raise AppealError(_("已有名为“%(name)s”的客户端。") % {"name": name}, code="exists", field="name")
    try:
        ratelimit.parse_rate(rate_limit)
    except ValueError:
        raise AppealError(_("频率格式应为“次数/单位”，如 600/min。"), code="invalid", field="rate_limit") from None
    chosen = _categories(categories)
    key = key or new_key()
    client = ApiClient.objects.create(
        name=name, key_prefix=key[:PREFIX_LENGTH], key_hash=hash_key(key), rate_limit=rate_limit.strip(), note=note[:200]
    )
    client.categories.set(chosen)
    audit_record(
        actor=actor,
        act="open311.key_create",
        obj=client,
        changed_fields=["key_hash", "categories"],
        reason=f"api_client={client.pk}; categories={','.join(c.code for c in chosen) or '*'}",
    )
    return client, key


def api_client_find(name_or_prefix: str) -> ApiClient:
    """A client by its exact name or key prefix (what ``list`` shows)."""
    text = (name_or_prefix or "").strip()
    client = ApiClient.objects.filter(name=text).first() or ApiClient.objects.filter(key_prefix=text[:PREFIX_LENGTH]).first()
    if client is None or (client.name != text and not text.startswith(client.key_prefix)):
        raise AppealError(_("没有名称或密钥前缀为“%(v)s”的客户端。") % {"v": text}, code="not_found")
    return client


@transaction.atomic
def api_client_revoke(*, actor: Any, client: ApiClient, reason: str = "") -> ApiClient:
    """吊销密钥: the key stops working at once; the client and its requests stay for the record."""
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    if not client.is_active:
        raise AppealError(_("该客户端的密钥已吊销。"), code="invalid_transition")
    client.is_active = False
    client.revoked_at = timezone.now()
    client.save(update_fields=["is_active", "revoked_at"])
    audit_record(actor=actor, act="open311.key_revoke", obj=client, changed_fields=["is_active"], reason=reason[:500])
    return client


# Every POST looks its key up: one plain statement (no ORM compile), with whether the key is limited.
_CLIENT_SQL = (
    f"SELECT c.*, EXISTS (SELECT 1 FROM {ApiClient.categories.through._meta.db_table} r WHERE r.apiclient_id = c.id)"  # noqa: S608
    f" AS restricted FROM {ApiClient._meta.db_table} c WHERE c.key_hash = %s"
)


def authenticate(key: str) -> ApiClient | None:
    """The client holding ``key`` (active or revoked: the caller tells them apart), or None.

    ``client.restricted`` says whether the key is limited to some categories (see ``allows``).
    """
    if not key or len(key) > 200:
        return None
    found = list(ApiClient.objects.raw(_CLIENT_SQL, [hash_key(key)]))
    if not found:
        return None
    client = found[0]
    now = timezone.now()
    if client.is_active and (client.last_used_at is None or now - client.last_used_at > TOUCH_EVERY):
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now
    return client


def allows(client: ApiClient, category: Category) -> bool:
    """Whether ``client`` may submit in ``category``: any, unless its key is limited to some."""
    restricted = getattr(client, "restricted", None)
    if restricted is None:
        restricted = client.categories.exists()
    return not restricted or client.categories.filter(pk=category.pk).exists()
