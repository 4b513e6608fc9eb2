"""``./zc manage train_router [--from-demo-set [N]] [--folds 5]``: train the category suggester and print how well it does.

Trains on the city's own closed (and staff-classified) appeals; ``--from-demo-set N`` adds N
generated texts (``appeals/data/training.py``), which is how the demo works out of the box. Prints
the rows used, the cross-validated accuracy, a per-category recall table, the training time and
how many suggestions per second the saved model makes (1,000 texts through ``suggest``).
"""

from __future__ import annotations

import time
import unicodedata
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from zhucheng.appeals import classifier
from zhucheng.appeals.data.training import generate
from zhucheng.appeals.errors import AppealError

DEMO_SET_DEFAULT = 3000
SPEED_SAMPLE = 1000


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - _width(text), 0)


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]  # translated when asked, not at import
        return _("用本市已办结诉求训练诉求分类建议模型，打印交叉验证准确率和各分类召回率。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--from-demo-set",
            type=int,
            nargs="?",
            const=DEMO_SET_DEFAULT,
            default=0,
            metavar="N",
            help=_("加入 N 条生成的演示训练样本（默认 %(n)s）") % {"n": DEMO_SET_DEFAULT},
        )
        parser.add_argument("--folds", type=int, default=5, help=_("交叉验证折数（默认 5）"))

    def handle(self, *args: Any, **options: Any) -> None:
        folds: int = options["folds"]
        demo_n: int = options["from_demo_set"]
        if demo_n < 0:
            raise CommandError(_("--from-demo-set 的条数不能为负数。"))
        db_rows = classifier.training_rows_from_db()
        db_categories = len({code for _text, code in db_rows})
        db_enough = len(db_rows) >= classifier.MIN_ROWS and db_categories >= classifier.MIN_CATEGORIES
        if not demo_n and not db_enough:
            raise CommandError(
                _(
                    "数据库中可用于训练的诉求只有 %(n)s 条、%(c)s 个分类（至少需要 %(min_rows)s 条、%(min_cats)s 个分类）。"
                    "可加 --from-demo-set %(demo)s 用生成的训练集补充。"
                )
                % {
                    "n": len(db_rows),
                    "c": db_categories,
                    "min_rows": classifier.MIN_ROWS,
                    "min_cats": classifier.MIN_CATEGORIES,
                    "demo": DEMO_SET_DEFAULT,
                }
            )
        texts = [text for text, _code in db_rows]
        labels = [code for _text, code in db_rows]
        if demo_n:
            generated = generate(demo_n)
            texts += [g.text for g in generated]
            labels += [g.category for g in generated]
            if db_rows and not db_enough:
                self.stdout.write(_("数据库中的诉求不足以单独训练（%(n)s 条），已与生成的训练集合并。") % {"n": len(db_rows)})
        self.stdout.write(
            _("训练数据（training data）：数据库 %(db)s 条 + 生成 %(gen)s 条 = %(total)s 条")
            % {"db": len(db_rows), "gen": demo_n, "total": len(texts)}
        )

        try:
            report = classifier.train(texts=texts, labels=labels, folds=folds)
        except AppealError as exc:
            raise CommandError(exc.message) from exc

        self.stdout.write(
            _(
                "交叉验证（cross-validation）：%(folds)s 折，样本 %(n)s 条（n），准确率 %(acc).3f（accuracy），平均召回率 %(rec).3f（macro recall）"
            )
            % {"folds": report.folds, "n": report.n, "acc": report.accuracy, "rec": report.macro_recall}
        )
        self._table(report)
        if report.skipped:
            self.stdout.write(
                _("样本过少未参加训练的分类（skipped, fewer than %(need)s rows）：%(list)s")
                % {
                    "need": classifier.min_per_category(folds),
                    "list": "，".join(f"{code} ({n})" for code, n in report.skipped.items()),
                }
            )
        self.stdout.write(
            _("训练耗时（training time）：交叉验证 %(cv).1f 秒，全量训练 %(fit).1f 秒")
            % {"cv": report.cv_seconds, "fit": report.fit_seconds}
        )
        self._speed()
        self.stdout.write(
            self.style.SUCCESS(
                _("模型已保存（model saved）：%(path)s，版本（version）%(version)s")
                % {"path": report.path, "version": report.model_version}
            )
        )

    def _table(self, report: classifier.TrainReport) -> None:
        headers = [_("编码 (code)"), _("名称 (name)"), _("样本数 (n)"), _("召回率 (recall)")]
        rows = [[r.code, r.name, str(r.n), f"{r.recall:.3f}"] for r in report.per_category]
        widths = [max(_width(row[i]) for row in [headers, *rows]) + 2 for i in range(len(headers))]
        self.stdout.write(_("各分类召回率（per-category recall）："))
        for row in [headers, *rows]:
            self.stdout.write("  " + "".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip())

    def _speed(self) -> None:
        """Suggestions per second through ``suggest`` (model in memory, one category lookup each), as on submit."""
        classifier.clear_cache()
        sample = [g.text for g in generate(SPEED_SAMPLE, seed=1)]
        classifier.suggest(sample[0])  # load the model and jieba outside the timing
        started = time.perf_counter()
        for text in sample:
            classifier.suggest(text)
        seconds = time.perf_counter() - started
        self.stdout.write(
            _("建议速度（suggestions/s）：%(n)s 条用时 %(s).2f 秒，每秒 %(rate).0f 条")
            % {"n": len(sample), "s": seconds, "rate": len(sample) / seconds if seconds else 0.0}
        )
