"""``./zc manage rotate_keys``: re-encrypt every encrypted personal field under the newest key.

Put the new key first in ``ZHUCHENG_KEYS`` (keeping the old ones after it), run this, then
drop the old keys. The stored ciphertext is read and rewritten with raw SQL, so plaintext
never passes through model code and keyed hashes stay as they are. Each batch commits on its
own; values already under the newest key are left alone, so an interrupted run can simply be
run again.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.utils.translation import gettext as _

from zhucheng.core import crypto
from zhucheng.core.audit import audit_record
from zhucheng.core.fields import EncryptedCharField


@dataclass
class ColumnReport:
    label: str
    rotated: int = 0
    current: int = 0
    failed: int = 0


def encrypted_columns() -> Iterator[tuple[type[models.Model], EncryptedCharField]]:
    """Every concrete ``EncryptedCharField`` of every installed model, each column once."""
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed or meta.swapped:
            continue
        for field in meta.local_concrete_fields:  # local: a parent's column belongs to the parent
            if isinstance(field, EncryptedCharField):
                yield model, field


def _rows(cursor: Any, sql: str, params: list[Any]) -> list[tuple[Any, str]]:
    cursor.execute(sql, params)
    return list(cursor.fetchall())


def rotate_column(
    model: type[models.Model], field: EncryptedCharField, *, batch_size: int, dry_run: bool, using: str
) -> ColumnReport:
    """Rotate one column in primary-key order, one transaction per batch."""
    connection = connections[using]
    qn = connection.ops.quote_name
    table, pk, col = qn(model._meta.db_table), qn(model._meta.pk.column), qn(field.column)  # type: ignore[union-attr]
    lock = " FOR UPDATE" if connection.features.has_select_for_update and not dry_run else ""
    base = f"SELECT {pk}, {col} FROM {table} WHERE {col} IS NOT NULL AND {col} <> ''"  # noqa: S608 - quoted identifiers
    first_sql = f"{base} ORDER BY {pk} LIMIT %s{lock}"
    next_sql = f"{base} AND {pk} > %s ORDER BY {pk} LIMIT %s{lock}"
    update_sql = f"UPDATE {table} SET {col} = %s WHERE {pk} = %s AND {col} = %s"  # noqa: S608
    newest = Fernet(settings.ZHUCHENG_KEYS[0].encode())
    report = ColumnReport(label=f"{model._meta.label_lower}.{field.name}")
    last_pk: Any = None
    while True:
        with transaction.atomic(using=using), connection.cursor() as cursor:
            batch = _rows(
                cursor,
                next_sql if last_pk is not None else first_sql,
                [last_pk, batch_size] if last_pk is not None else [batch_size],
            )
            if not batch:
                return report
            changes: list[tuple[str, Any, str]] = []
            for row_pk, token in batch:
                try:
                    newest.decrypt(token.encode("ascii"))
                    report.current += 1
                    continue
                except (InvalidToken, UnicodeEncodeError):
                    pass
                try:
                    changes.append((crypto.rotate_token(token), row_pk, token))
                except (InvalidToken, UnicodeEncodeError):
                    report.failed += 1
            if changes and not dry_run:
                # "AND col = old": a value rewritten meanwhile by the application is not clobbered.
                cursor.executemany(update_sql, changes)
            report.rotated += len(changes)
            last_pk = batch[-1][0]


def _operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name in some containers
        return "cli"


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]  # translated when asked, not at import
        return _("用 ZHUCHENG_KEYS 中的第一个(最新)密钥重新加密所有加密字段,分批提交,可重复运行。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help=_("每批处理的记录数"))
        parser.add_argument("--dry-run", action="store_true", help=_("只统计,不写入"))
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help=_("数据库别名"))

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size: int = options["batch_size"]
        dry_run: bool = options["dry_run"]
        if batch_size < 1:
            raise CommandError(_("--batch-size 必须大于 0。"))
        if not settings.ZHUCHENG_KEYS:
            raise CommandError(_("未配置 ZHUCHENG_KEYS。"))
        reports = [
            rotate_column(model, field, batch_size=batch_size, dry_run=dry_run, using=options["database"])
            for model, field in encrypted_columns()
        ]
        for r in reports:
            self.stdout.write(
                _("%(label)s:重新加密 %(rotated)s 个,已是最新密钥 %(current)s 个,无法解密 %(failed)s 个")
                % {"label": r.label, "rotated": r.rotated, "current": r.current, "failed": r.failed}
            )
        rotated = sum(r.rotated for r in reports)
        failed = sum(r.failed for r in reports)
        if dry_run:
            self.stdout.write(_("试运行,未写入:共需重新加密 %(count)s 个值。") % {"count": rotated})
        else:
            audit_record(
                actor=_operator(),
                act="core.rotate_keys",
                changed_fields=[r.label for r in reports if r.rotated],
                reason=_("密钥轮换:重新加密 %(rotated)s 个值,已是最新 %(current)s 个,无法解密 %(failed)s 个")
                % {"rotated": rotated, "current": sum(r.current for r in reports), "failed": failed},
            )
            self.stdout.write(self.style.SUCCESS(_("完成:共重新加密 %(count)s 个值。") % {"count": rotated}))
        if failed:
            raise CommandError(
                _("有 %(count)s 个值无法用任何已配置的密钥解密:请检查 ZHUCHENG_KEYS 是否缺少旧密钥。") % {"count": failed}
            )
