"""``./zc manage exchange_run FEED FILE [--commit]``: run a department file through a feed.

Without ``--commit`` the file is only checked (nothing is stored): the summary and the first
rejected rows are printed. With ``--commit`` the file becomes a batch: rows are validated, bad rows
quarantined, good rows staged and linked to the registry. The same file twice creates nothing.
``--errors report.xlsx`` writes the error report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from zhucheng.exchange import feeds, selectors, services
from zhucheng.exchange.errors import ExchangeError
from zhucheng.exchange.models import Feed


class Command(BaseCommand):
    help = "Run a department file through an exchange feed (check only, or --commit to stage and link)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("feed", help="feed code")
        parser.add_argument("file", help="CSV, XLSX or JSON-lines file")
        parser.add_argument("--commit", action="store_true", help="store the batch, stage good rows and link them")
        parser.add_argument("--errors", default="", help="write the error report (XLSX) to this path")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **opts: Any) -> None:
        feed = Feed.objects.filter(code=opts["feed"]).select_related("department", "unit").first()
        if feed is None:
            raise CommandError(f"no feed {opts['feed']!r}; known: {', '.join(Feed.objects.values_list('code', flat=True))}")
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        data = path.read_bytes()
        bar: tqdm[Any] | None = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if opts["no_progress"]:
                return
            if bar is None or bar.total != total:
                if bar is not None:
                    bar.close()
                bar = tqdm(total=total, unit="行", desc=feed.code, file=self.stderr._out)  # type: ignore[attr-defined]
            bar.update(done - bar.n)

        if not opts["commit"]:
            try:
                content = feeds.read_file(feed, data)
            except ExchangeError as exc:
                raise CommandError(exc.message) from exc
            checked = feeds.validate(feed, content, progress=progress)
            if bar is not None:
                bar.close()
            self.stdout.write(f"检查(未导入):接收 {checked.received} 行,合格 {len(checked.good)} 行,隔离 {checked.rejected_rows} 行")
            for issue in checked.issues[:20]:
                self.stdout.write(f"  第 {issue.row} 行 {issue.field}: {issue.message}")
            if opts["errors"]:
                Path(opts["errors"]).write_bytes(feeds.issues_xlsx(checked.issues, title=f"{feed.name} {path.name}"))
            return
        try:
            batch = services.batch_receive(actor=None, feed=feed, file_name=path.name, data=data)
        except ExchangeError as exc:
            if exc.code == "duplicate_file":
                self.stdout.write(self.style.WARNING(exc.message))
                return
            raise CommandError(exc.message) from exc
        batch = services.batch_process(batch, progress=progress)
        if bar is not None:
            bar.close()
        s = selectors.batch_summary(batch)
        if batch.failure:
            self.stdout.write(self.style.ERROR(f"批次 {batch.pk}:{batch.failure}"))
        self.stdout.write(
            f"批次 {batch.pk}({batch.get_state_display()}):接收 {s.received},隔离 {s.rejected},重复报送 {s.duplicates},"
            f"匹配 {s.matched},新建 {s.new},待复核 {s.pending},已合并 {s.merged},暂挂 {s.held}"
        )
        if opts["errors"]:
            issues = list(selectors.batch_issues(batch))
            Path(opts["errors"]).write_bytes(feeds.issues_xlsx(issues, title=f"{feed.name} {path.name}"))
