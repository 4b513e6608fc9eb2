"""Model field types for personal identifiers (resident ID numbers, phone numbers).

``EncryptedCharField`` stores a Fernet token; the plain value exists only in memory.
Pair it with a ``HashField`` filled by ``keyed_hash`` (see ``core.crypto``) for exact lookup,
e.g. ``phone = EncryptedCharField(hash_field="phone_hash")``: the hash is kept in step on save.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.signals import pre_save

from . import crypto


class EncryptedCharField(models.TextField):
    """A text value encrypted at rest. Lookups other than isnull are meaningless and refused."""

    description = "Encrypted personal identifier"

    def __init__(self, *args: Any, hash_field: str | None = None, **kwargs: Any) -> None:
        self.hash_field = hash_field
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.hash_field:
            kwargs["hash_field"] = self.hash_field
        return name, path, args, kwargs

    def contribute_to_class(self, cls: type[models.Model], name: str, private_only: bool = False) -> None:
        super().contribute_to_class(cls, name, private_only=private_only)
        if self.hash_field and not cls._meta.abstract:
            pre_save.connect(self._check_update_fields, sender=cls, weak=False, dispatch_uid=f"{cls._meta.label}.{name}.hash")

    def _check_update_fields(self, sender: Any, update_fields: Any = None, **kwargs: Any) -> None:
        # save(update_fields=["phone"]) would write the new value but keep the old hash column,
        # so lookups by hash would silently find the wrong account or none: refuse it loudly.
        if update_fields and self.name in update_fields and self.hash_field not in update_fields:
            raise ValueError(f"save(update_fields=...) names {self.name!r} but not {self.hash_field!r}: include both")

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def to_python(self, value: Any) -> Any:
        return value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = getattr(model_instance, self.attname)
        if self.hash_field:
            setattr(model_instance, self.hash_field, crypto.keyed_hash(value) if value else "")
        return value

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in ("isnull", "exact"):
            raise TypeError(f"{self.name} is encrypted: filter on {self.hash_field or 'its hash field'} instead")
        if lookup_name == "exact":
            raise TypeError(f"{self.name} is encrypted: filter on {self.hash_field or 'its hash field'} instead")
        return super().get_lookup(lookup_name)


class HashField(models.CharField):
    """Keyed hash (HMAC-SHA256 hex) of a personal identifier, indexed for exact lookup."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        # Field.deconstruct leaves out db_index=False (its own default), which this field would
        # read back as True: a HashField indexed only inside a composite index must say so.
        name, path, args, kwargs = super().deconstruct()
        kwargs.setdefault("db_index", False)  # present only when True
        return name, path, args, kwargs
