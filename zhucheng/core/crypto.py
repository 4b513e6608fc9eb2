"""Encryption of personal identifiers at rest (Fernet/MultiFernet) and keyed hashes for exact lookup.

Keys come from ``settings.ZHUCHENG_KEYS`` (newest first): encryption uses the first key,
decryption tries each, so keys can be rotated with ``./zc manage rotate_keys``.
The keyed hash (HMAC-SHA256 with ``settings.ZHUCHENG_HASH_KEY``) does not change on rotation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@lru_cache(maxsize=8)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def fernet() -> MultiFernet:
    """The MultiFernet built from the configured keys (cached per key set)."""
    return _multifernet(tuple(settings.ZHUCHENG_KEYS))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:  # pragma: no cover - message matters more than the path
        raise ValueError("cannot decrypt a personal field: no configured key fits (ZHUCHENG_KEYS)") from exc


def rotate_token(token: str) -> str:
    """Re-encrypt a token under the newest key (a no-op in meaning, not in bytes)."""
    return fernet().rotate(token.encode("ascii")).decode("ascii")


def newest_key_parts() -> tuple[bytes, bytes]:
    """(signing key, encryption key) of the newest Fernet key: what a batch encryptor outside
    ``cryptography.fernet`` (``registry.bulk``) needs to write tokens ``decrypt`` reads."""
    key = base64.urlsafe_b64decode(settings.ZHUCHENG_KEYS[0])
    return key[:16], key[16:]


def hash_key() -> bytes:
    """The key of ``keyed_hash`` (HMAC-SHA256)."""
    return settings.ZHUCHENG_HASH_KEY.encode("utf-8")


def normalise_identifier(value: str) -> str:
    """Canonical form before hashing: no spaces or dashes, upper-case (the ID check digit X)."""
    return "".join(value.split()).replace("-", "").upper()


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 of the normalised value, hex: equal identifiers give equal hashes."""
    return hmac.new(hash_key(), normalise_identifier(value).encode("utf-8"), hashlib.sha256).hexdigest()
