"""``link``: the generic record-linkage CLI (通用比对命令) for any file or file pair.

    ./zc manage link --profile febrl --out pairs.csv A.csv B.csv   # link B to A
    ./zc manage link --profile person --out pairs.csv people.csv   # deduplicate one file

Writes ``left_id,right_id,match_probability``, one row per predicted match (probability at or
above ``--threshold``, by default the profile's ``possible`` threshold). Files: CSV (UTF-8 or
GB18030), Parquet, XLSX, JSON lines. A profile without a saved model is trained first on the
input (prior, u by random sampling, m by EM); ``--save-model`` keeps that model.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhucheng.exchange import linkage


class Command(BaseCommand):
    help = "Link two files or deduplicate one with a linkage profile (splink); write left_id,right_id,match_probability."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "files", nargs="+", metavar="FILE", help="one file: deduplicate; two files: link the second to the first"
        )
        parser.add_argument("--profile", required=True, help="profile name (person, febrl) or path to a JSON/YAML profile")
        parser.add_argument("--out", required=True, help="output CSV")
        parser.add_argument(
            "--threshold", type=float, default=None, help="minimum match probability (default: the profile's possible threshold)"
        )
        parser.add_argument("--best", action="store_true", help="linking: keep each record's single best link (one-to-one)")
        parser.add_argument("--model", default=None, help="a trained model JSON to use instead of the profile's")
        parser.add_argument("--train", action="store_true", help="train on the input even when the profile has a saved model")
        parser.add_argument("--no-train", action="store_true", help="use the profile's starting parameters, never train")
        parser.add_argument("--save-model", default=None, help="write the model trained on the input to this path")
        parser.add_argument("--encoding", default=None, help="CSV encoding (default: UTF-8, then GB18030)")

    def handle(self, *args: Any, **options: Any) -> None:
        files = [Path(f) for f in options["files"]]
        if len(files) > 2:
            raise CommandError("最多两个文件: 一个文件查重, 两个文件比对")
        for f in files:
            if not f.is_file():
                raise CommandError(f"文件不存在: {f}")
        try:
            profile = linkage.load_profile(options["profile"], model=options["model"])
            frames = [linkage.read_table(f, encoding=options["encoding"]) for f in files]
        except (FileNotFoundError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        started = time.perf_counter()
        right = frames[1] if len(frames) == 2 else None
        if options["train"] or (not profile.trained and not options["no_train"]):
            self.stderr.write(f"训练模型 (EM) … {profile.name}")
            profile = linkage.train(profile, frames[0], options["save_model"], right=right, save=bool(options["save_model"]))
        if right is None:
            pairs = linkage.dedupe(profile, frames[0], threshold=options["threshold"])
        else:
            pairs = linkage.link(profile, frames[0], right, threshold=options["threshold"])
            if options["best"]:
                pairs = linkage.best_links(pairs, one_to_one=True)
        count = linkage.write_pairs(pairs, options["out"])
        self.stdout.write(f"{count} 对匹配写入 {options['out']} ({time.perf_counter() - started:.1f} 秒)")
