"""``./zc manage audit_verify``: check the audit trail's hash chain; exit non-zero at the first break."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from zhucheng.core.audit import audit_verify


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]  # translated when asked, not at import
        return _("校验审计记录的摘要链:输出检查的条数,发现断点时指出第一条有问题的记录并以非零状态退出。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=5000, help=_("每批读取的记录数"))

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError(_("--batch-size 必须大于 0。"))
        checked, broken = audit_verify(batch_size=options["batch_size"])
        self.stdout.write(_("已检查 %(count)s 条审计记录。") % {"count": checked})
        if broken is None:
            self.stdout.write(self.style.SUCCESS("OK"))
            return
        raise CommandError(
            _("审计链在记录 #%(id)s 处断开:%(problem)s") % {"id": broken.event_id, "problem": broken.problem},
            returncode=2,
        )
