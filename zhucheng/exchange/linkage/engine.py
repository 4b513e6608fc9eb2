"""Record linkage engine (记录比对引擎) on splink.

A *profile* (比对方案) is a JSON or YAML file under ``profiles/``: the splink settings (blocking
rules and comparisons, with starting m/u values), the name of a *preparation* that turns input
rows into the helper columns the comparisons read (pinyin, near-homophone keys, normalised dates
and addresses — computed in pandas, so the SQL stays plain), the thresholds on match probability
(``certain``: merge automatically; ``possible``: clerical review; below: a different person) and
how to train. A trained model (splink's model JSON: m and u per level, the prior) is kept next to
the profile as ``<name>.model.json`` and used from then on.

Backends (``settings.ZHUCHENG_LINKAGE_BACKEND`` or the environment variable of the same name):

* ``"duckdb"`` (default): embedded, in memory (``ZHUCHENG_LINKAGE_DUCKDB_PATH`` for a file
  database when the data does not fit in memory).
* ``"postgres"`` (needs SQLAlchemy, not in the default install): splink's ``PostgresAPI(engine=sqlalchemy.create_engine(URL), schema="splink")``
  with ``ZHUCHENG_LINKAGE_POSTGRES_URL = "postgresql+psycopg://user:pass@host:5432/db"`` and
  ``ZHUCHENG_LINKAGE_POSTGRES_SCHEMA = "splink"``; the database needs
  ``CREATE EXTENSION fuzzystrmatch`` (levenshtein) — splink registers its own
  ``jaro_winkler_similarity`` / ``damerau_levenshtein`` SQL functions there.
* ``"spark"``: splink's ``SparkAPI(spark_session=SparkSession.builder.getOrCreate(),
  num_partitions_on_repartition=ZHUCHENG_LINKAGE_SPARK_PARTITIONS)`` (install ``pyspark``; the
  session takes its cluster from ``SPARK_REMOTE`` / ``spark-defaults.conf``).

The comparisons are written in the SQL that the three dialects share (``levenshtein``,
``damerau_levenshtein``, ``jaro_winkler_similarity``, ``substr``, ``length``).
"""

from __future__ import annotations

import copy
import json
import logging
import os
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import chinese

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"
logger = logging.getLogger(__name__)
PAIR_COLUMNS = ["left_id", "right_id", "match_weight", "match_probability"]


# --- profiles -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """Thresholds on match probability: ``certain`` (确定匹配, merge automatically) and
    ``possible`` (可能匹配, clerical review); below ``possible``: not the same person."""

    certain: float
    possible: float

    def __getitem__(self, key: str) -> float:
        return float(getattr(self, key))

    def decide(self, probability: float) -> str:
        """``"certain"``, ``"possible"`` or ``"non_match"``."""
        if probability >= self.certain:
            return "certain"
        if probability >= self.possible:
            return "possible"
        return "non_match"


@dataclass
class Profile:
    """A linkage profile (比对方案): splink settings + preparation + thresholds + training plan."""

    name: str
    settings: dict[str, Any]
    thresholds: Thresholds
    columns: list[str]
    prepare: str = "identity"
    unique_id: str = "unique_id"
    training: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    path: Path | None = None
    trained: bool = False

    @property
    def model_path(self) -> Path | None:
        return self.path.with_name(f"{self.name}.model.json") if self.path else None

    def prepared(self, df: pd.DataFrame) -> pd.DataFrame:
        """The input rows with the helper columns the comparisons need."""
        return PREPARATIONS[self.prepare](df, self)

    def tf_columns(self) -> list[str]:
        cols = []
        for comparison in self.settings.get("comparisons", []):
            for level in comparison.get("comparison_levels", []):
                col = level.get("tf_adjustment_column")
                if col and col not in cols:
                    cols.append(col)
        return cols


def _read(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix in {".yaml", ".yml"}:
        import yaml

        return dict(yaml.safe_load(text))
    return dict(json.loads(text))


def load_profile(name_or_path: str | os.PathLike[str], *, model: str | os.PathLike[str] | None = None) -> Profile:
    """A shipped profile by name (``"person"``, ``"febrl"``) or a profile file (JSON/YAML).

    The trained model next to it (``<name>.model.json``), or ``model`` when given, replaces the
    starting parameters of the settings."""
    path = Path(name_or_path)
    if not path.is_file():
        for suffix in (".json", ".yaml", ".yml"):
            candidate = PROFILES_DIR / f"{name_or_path}{suffix}"
            if candidate.is_file():
                path = candidate
                break
        else:
            raise FileNotFoundError(f"比对方案不存在: {name_or_path}")
    data = _read(path)
    thresholds = data.get("thresholds", {})
    profile = Profile(
        name=str(data.get("name") or path.stem),
        settings=dict(data["settings"]),
        thresholds=Thresholds(float(thresholds.get("certain", 0.99)), float(thresholds.get("possible", 0.8))),
        columns=list(data.get("columns", [])),
        prepare=str(data.get("prepare", "identity")),
        unique_id=str(data.get("unique_id", "unique_id")),
        training=dict(data.get("training", {})),
        description=str(data.get("description", "")),
        path=path,
    )
    model_file = Path(model) if model else profile.model_path
    if model_file is not None and model_file.is_file():
        profile.settings = _read(model_file)
        profile.trained = True
    return profile


# --- preparation ----------------------------------------------------------------------------------


def _blank_to_none(series: pd.Series) -> pd.Series:
    s = series.astype(object)
    mask = s.isna()
    text = s.where(~mask, "").astype(str).str.strip()
    return text.where(text != "", None)


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    if name in df.columns:
        return _blank_to_none(df[name]).reset_index(drop=True)
    return pd.Series([None] * len(df), dtype=object)


def iso_dates(values: pd.Series) -> pd.Series:
    """``YYYY-MM-DD`` strings from dates, ``YYYYMMDD``, ``YYYY/M/D`` or ``YYYY-MM-DD`` text (else null)."""
    s = values.reset_index(drop=True).astype(object)
    s = s.map(lambda v: v.isoformat()[:10] if hasattr(v, "isoformat") else v) if len(s) and not isinstance(s.iloc[0], str) else s
    text = _blank_to_none(s).fillna("")
    iso = (text.str.len() == 10) & (text.str[4] == "-") & (text.str[7] == "-")
    out = text.where(iso, None)
    rest = ~iso & (text != "")
    if rest.any():
        parts = text[rest].str.extract(r"^(\d{4})[-/.年]?(\d{1,2})[-/.月]?(\d{1,2})")
        ok = parts[0].notna()
        fixed = parts[0] + "-" + parts[1].str.zfill(2) + "-" + parts[2].str.zfill(2)
        out[rest] = fixed.where(ok, None)
    return out


_SEX = {"m": "M", "男": "M", "1": "M", "male": "M", "f": "F", "女": "F", "2": "F", "female": "F"}


def prepare_person(df: pd.DataFrame, profile: Profile | None = None) -> pd.DataFrame:
    """Helper columns of the ``person`` profile (see ``chinese.name_columns``)."""
    df = df.reset_index(drop=True)
    full = _col(df, "full_name")
    if "full_name" not in df.columns and "name" in df.columns:
        full = _col(df, "name")
    names = chinese.name_columns(full, _col(df, "surname"), _col(df, "given_name"))
    given_pinyin = _col(df, "name_pinyin")
    no_name = names["full_name"].eq("") & given_pinyin.notna()
    if no_name.any():  # only a pinyin spelling was sent: use it
        spaced = given_pinyin[no_name].str.lower()
        names.loc[no_name, "name_py"] = spaced.str.replace(" ", "", regex=False)
        names.loc[no_name, "name_py_fz"] = spaced.map(chinese.fuzzy_pinyin).str.replace(" ", "", regex=False)
    out = pd.DataFrame({"unique_id": df["unique_id"].values if "unique_id" in df.columns else np.arange(len(df))})
    out["id_hash"] = _col(df, "id_hash")
    for name in chinese.NAME_COLUMNS:
        out[name] = names[name].where(names[name] != "", None).values
    out["birth_date"] = iso_dates(df["birth_date"] if "birth_date" in df.columns else pd.Series([None] * len(df)))
    out["birth_year"] = out["birth_date"].str[:4]
    sex = _col(df, "sex")
    out["sex"] = sex.str.lower().map(_SEX).where(sex.notna(), None)
    out["phone_hash"] = _col(df, "phone_hash")
    out["address"] = chinese.simplify_addresses(_col(df, "address"))
    return out


def prepare_febrl(df: pd.DataFrame, profile: Profile | None = None) -> pd.DataFrame:
    """FEBRL columns cleaned (lower case, trimmed); ``rec_id`` becomes ``unique_id``, nothing else."""
    if "rec_id" not in df.columns and df.index.name == "rec_id":
        df = df.reset_index()
    df = df.reset_index(drop=True)
    out = pd.DataFrame({"unique_id": df["rec_id"].astype(str).values if "rec_id" in df.columns else np.arange(len(df))})
    for col in (
        "given_name",
        "surname",
        "street_number",
        "address_1",
        "address_2",
        "suburb",
        "postcode",
        "state",
        "date_of_birth",
        "soc_sec_id",
    ):
        s = _col(df, col)
        out[col] = s.str.lower().str.replace(r"\s+", " ", regex=True).where(s.notna(), None)
    out["date_of_birth"] = out["date_of_birth"].str.replace(r"\D", "", regex=True)
    out["dob_year"] = out["date_of_birth"].str[:4]
    both = out["given_name"].fillna("") + " " + out["surname"].fillna("")
    out["name_sorted"] = _blank_to_none(both.str.split().map(lambda w: " ".join(sorted(w))))
    return out


def prepare_identity(df: pd.DataFrame, profile: Profile | None = None) -> pd.DataFrame:
    df = df.reset_index(drop=True).copy()
    uid = profile.unique_id if profile else "unique_id"
    if uid != "unique_id" and uid in df.columns:
        df = df.rename(columns={uid: "unique_id"})
    if "unique_id" not in df.columns:
        df.insert(0, "unique_id", np.arange(len(df)))
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = _blank_to_none(df[col])
    return df


PREPARATIONS: dict[str, Callable[[pd.DataFrame, Profile | None], pd.DataFrame]] = {
    "person": prepare_person,
    "febrl": prepare_febrl,
    "identity": prepare_identity,
}


def term_frequencies(frames: list[pd.DataFrame], col: str) -> pd.DataFrame:
    """Share of each value of ``col`` among all rows given: DataFrame[col, tf_col]."""
    values = pd.concat([f[col] for f in frames], ignore_index=True).dropna()
    freq = values.value_counts(normalize=True)
    return pd.DataFrame({col: freq.index.astype(str), f"tf_{col}": freq.values.astype(float)})


def _register_term_frequencies(linker: Any, api: Any, frames: list[pd.DataFrame], profile: Profile) -> None:
    """Term-frequency lookups (词频) computed over the frames given, for predict_within/between."""
    for col in profile.tf_columns():
        table = api.register(term_frequencies(frames, col), dataset_display_name=f"zc_tf_{col}")
        linker.table_management.register_term_frequency_lookup(table, col)


# --- backend --------------------------------------------------------------------------------------


def _setting(name: str, default: Any = None) -> Any:
    try:
        from django.conf import settings

        if settings.configured and hasattr(settings, name):
            return getattr(settings, name)
    except ImportError:  # pragma: no cover - Django is always installed here
        pass
    return os.environ.get(name, default)


def backend_name() -> str:
    return str(_setting("ZHUCHENG_LINKAGE_BACKEND", "duckdb") or "duckdb").lower()


def db_api(backend: str | None = None) -> Any:
    """A splink database API for the configured backend (see the module docstring)."""
    backend = (backend or backend_name()).lower()
    if backend == "duckdb":
        from splink import DuckDBAPI

        path = _setting("ZHUCHENG_LINKAGE_DUCKDB_PATH")
        return DuckDBAPI(str(path)) if path else DuckDBAPI()
    if backend == "postgres":
        from splink.backends.postgres import PostgresAPI
        from sqlalchemy import create_engine

        url = _setting("ZHUCHENG_LINKAGE_POSTGRES_URL")
        if not url:
            raise ValueError("ZHUCHENG_LINKAGE_POSTGRES_URL 未配置")
        return PostgresAPI(engine=create_engine(url), schema=str(_setting("ZHUCHENG_LINKAGE_POSTGRES_SCHEMA", "splink")))
    if backend == "spark":
        from pyspark.sql import SparkSession  # type: ignore[import-not-found]
        from splink.backends.spark import SparkAPI

        partitions = _setting("ZHUCHENG_LINKAGE_SPARK_PARTITIONS")
        return SparkAPI(
            spark_session=SparkSession.builder.getOrCreate(),
            num_partitions_on_repartition=int(partitions) if partitions else None,
        )
    raise ValueError(f"未知的比对后端: {backend}")


def _settings_for(profile: Profile, link_type: str, **extra: Any) -> dict[str, Any]:
    settings = copy.deepcopy(profile.settings)
    settings["link_type"] = link_type
    settings["unique_id_column_name"] = "unique_id"
    settings.pop("source_dataset_column_name", None)
    settings.update(extra)
    return settings


def _linker(profile: Profile, frames: list[pd.DataFrame], link_type: str, api: Any = None, **extra: Any) -> tuple[Any, list[Any]]:
    from splink import Linker

    api = api or db_api()
    names = ["left", "right"] if len(frames) == 2 else ["input"]
    sdfs = [api.register(frame, dataset_display_name=f"zc_{name}") for frame, name in zip(frames, names, strict=True)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        linker = Linker(sdfs if len(sdfs) > 1 else sdfs[0], _settings_for(profile, link_type, **extra), log_level=None)
    return linker, sdfs


def _quiet_splink() -> None:
    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.ERROR)


# --- linkage --------------------------------------------------------------------------------------


def _pairs(result: Any, swap: bool = False) -> pd.DataFrame:
    df = result.as_pandas_dataframe()
    out = pd.DataFrame(
        {
            "left_id": df["unique_id_r" if swap else "unique_id_l"].values,
            "right_id": df["unique_id_l" if swap else "unique_id_r"].values,
            "match_weight": df["match_weight"].astype(float).values,
            "match_probability": df["match_probability"].astype(float).values,
        }
    )
    return out.sort_values(["match_probability", "left_id", "right_id"], ascending=[False, True, True], ignore_index=True)


def best_links(pairs: pd.DataFrame, *, one_to_one: bool = True) -> pd.DataFrame:
    """Keep each right record's best link (and, ``one_to_one``, each left record's too), highest
    probability first: a feed row is one person, and a deduplicated registry holds it once."""
    ordered = pairs.sort_values("match_probability", ascending=False, kind="stable")
    ordered = ordered.drop_duplicates("right_id")
    if one_to_one:
        ordered = ordered.drop_duplicates("left_id")
    return ordered.reset_index(drop=True)


def prepare(profile: Profile, df: pd.DataFrame) -> pd.DataFrame:
    """The profile's helper columns for ``df``; pass the result with ``prepared=True`` to
    ``dedupe``/``link``/``train`` to prepare a large registry once."""
    return profile.prepared(df)


def dedupe(
    profile: Profile, df: pd.DataFrame, *, threshold: float | None = None, api: Any = None, prepared: bool = False
) -> pd.DataFrame:
    """Pairs of rows of ``df`` that are the same entity (probability ≥ ``threshold``, default the
    profile's ``possible``): DataFrame[left_id, right_id, match_weight, match_probability]."""
    _quiet_splink()
    frame = df if prepared else profile.prepared(df)
    if frame.empty:
        return pd.DataFrame(columns=PAIR_COLUMNS)
    api = api or db_api()
    linker, sdfs = _linker(profile, [frame], "dedupe_only", api)
    _register_term_frequencies(linker, api, [frame], profile)
    cut = profile.thresholds.possible if threshold is None else threshold
    result = linker.inference.predict_within(sdfs[0], threshold_match_probability=cut, warning_mode="never")
    return _pairs(result)


def link(
    profile: Profile,
    left_df: pd.DataFrame,
    right_df: pd.DataFrame,
    *,
    threshold: float | None = None,
    best: bool = False,
    api: Any = None,
    prepared: bool = False,
) -> pd.DataFrame:
    """Incremental linkage (增量比对) of ``right_df`` (a daily feed) against ``left_df`` (the
    registry) with splink's ``predict_between``: only left×right pairs are blocked and scored,
    never left×left. ``best``: keep each right row's best link only."""
    _quiet_splink()
    left, right = (left_df, right_df) if prepared else (profile.prepared(left_df), profile.prepared(right_df))
    if left.empty or right.empty:
        return pd.DataFrame(columns=PAIR_COLUMNS)
    api = api or db_api()
    linker, sdfs = _linker(profile, [left, right], "link_only", api)
    _register_term_frequencies(linker, api, [left, right], profile)
    cut = profile.thresholds.possible if threshold is None else threshold
    result = linker.inference.predict_between(sdfs[0], sdfs[1], threshold_match_probability=cut, warning_mode="never")
    pairs = _pairs(result)
    left_ids = set(left["unique_id"].tolist())
    if len(pairs) and not pairs["left_id"].isin(left_ids).all():  # roles came back swapped
        pairs = _pairs(result, swap=True)
    return best_links(pairs, one_to_one=False) if best else pairs


def train(
    profile: Profile,
    df: pd.DataFrame,
    save_to: str | os.PathLike[str] | None = None,
    *,
    right: pd.DataFrame | None = None,
    save: bool = True,
    seed: int = 42,
    api: Any = None,
    prepared: bool = False,
) -> Profile:
    """Estimate the model: the prior from the profile's deterministic rules, u by random sampling,
    m by expectation maximisation (splink's EM) on each of the profile's training blocking rules.

    ``df`` alone: deduplication (e.g. the registry); ``right`` too: linkage of ``right`` (a feed)
    to ``df``. A training session that finds no pairs leaves the starting values. The model JSON
    is written to ``save_to`` or next to the profile (``<name>.model.json``) unless ``save=False``.
    """
    _quiet_splink()
    plan = profile.training
    frames = [df] + ([right] if right is not None else [])
    if not prepared:
        frames = [profile.prepared(f) for f in frames]
    link_type = "link_only" if right is not None else "dedupe_only"
    linker, _sdfs = _linker(profile, frames, link_type, api)
    rules = plan.get("probability_rules")
    if rules:
        try:
            linker.training.estimate_probability_two_random_records_match(
                rules, recall=float(plan.get("probability_recall", 0.8))
            )
        except Exception as exc:  # noqa: BLE001 - no pair found by the rules: keep the prior
            logger.warning("linkage %s: prior not estimated (%s)", profile.name, exc)
    linker.training.estimate_u_using_random_sampling(
        max_pairs=float(plan.get("u_max_pairs", 1e6)),
        seed=seed,
        num_chunks=int(plan.get("u_num_chunks", 1)),
        min_count_per_level=plan.get("u_min_count_per_level"),
    )
    for rule in plan.get("em_blocking_rules", []):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                linker.training.estimate_parameters_using_expectation_maximisation(rule, estimate_without_term_frequencies=True)
        except Exception as exc:  # noqa: BLE001 - e.g. no pairs under this rule in this data
            logger.warning("linkage %s: EM on %r skipped (%s)", profile.name, rule, exc)
    model = linker.misc.save_model_to_json()
    model["link_type"] = profile.settings.get("link_type", "dedupe_only")
    model.pop("source_dataset_column_name", None)
    trained = replace(profile, settings=model, trained=True)
    if save:
        target = Path(save_to) if save_to else profile.model_path
        if target is not None:
            target.write_text(json.dumps(model, ensure_ascii=False, indent=1), encoding="utf-8")
    return trained


# --- explanation ----------------------------------------------------------------------------------


class Explanation(list):  # type: ignore[type-arg]
    """Waterfall rows (瀑布图) of one pair: ``{comparison, level, match_weight, agreed, value_l,
    value_r}`` per comparison; ``prior_weight``, ``match_weight`` and ``match_probability`` of the
    whole pair as attributes (also in ``summary``)."""

    prior_weight: float = 0.0
    match_weight: float = 0.0
    match_probability: float = 0.0

    @property
    def summary(self) -> dict[str, float]:
        return {"prior_weight": self.prior_weight, "match_weight": self.match_weight, "match_probability": self.match_probability}


def explain(
    profile: Profile, left: Mapping[str, Any], right: Mapping[str, Any], *, tf: Mapping[str, float] | None = None
) -> Explanation:
    """How much each comparison contributed to the pair's match weight (splink's waterfall).

    Term-frequency adjustments apply when ``tf`` gives the share of each value (``{"full_name":
    0.001}``, the same for both sides) or the records carry ``tf_<col>``; otherwise the levels'
    own weights are shown."""
    from splink import DuckDBAPI
    from splink.internals.waterfall_chart import records_to_waterfall_data

    _quiet_splink()
    rows = [dict(left), dict(right)]
    rows[0].setdefault("unique_id", "left")
    rows[1].setdefault("unique_id", "right")
    if rows[0]["unique_id"] == rows[1]["unique_id"]:
        rows[0]["unique_id"], rows[1]["unique_id"] = "left", "right"
    frame = profile.prepared(pd.DataFrame(rows))
    settings_profile = profile
    tf_cols = profile.tf_columns()
    given = {c: (tf or {}).get(c) for c in tf_cols}
    for c in tf_cols:
        if given[c] is None and f"tf_{c}" in left and f"tf_{c}" in right:
            frame[f"tf_{c}"] = [left[f"tf_{c}"], right[f"tf_{c}"]]
        elif given[c] is not None:
            frame[f"tf_{c}"] = float(given[c])  # type: ignore[arg-type]
    missing = [c for c in tf_cols if f"tf_{c}" not in frame.columns]
    if missing:
        settings = copy.deepcopy(profile.settings)
        for comparison in settings.get("comparisons", []):
            for level in comparison.get("comparison_levels", []):
                if level.get("tf_adjustment_column") in missing:
                    level.pop("tf_adjustment_column", None)
                    level.pop("tf_adjustment_weight", None)
        settings_profile = replace(profile, settings=settings)
    linker, sdfs = _linker(
        settings_profile,
        [frame],
        "dedupe_only",
        DuckDBAPI(),
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,
    )
    records = frame.replace({np.nan: None}).to_dict("records")
    scored = linker.inference.score_pair(records[0], records[1]).as_record_list()
    data = records_to_waterfall_data(scored, linker._settings_obj, False)
    out = Explanation()
    for bar in data:
        name = bar.get("column_name")
        if name == "Prior":
            out.prior_weight = float(bar.get("log2_bayes_factor") or 0.0)
            continue
        if name == "Final score":
            continue
        weight = float(bar.get("log2_bayes_factor") or 0.0)
        label = str(bar.get("label_for_charts") or "")
        if name and str(name).startswith("tf_"):
            if weight == 0.0:
                continue
            label = f"{label}·常见程度调整"
        out.append(
            {
                "comparison": str(name),
                "level": label,
                "match_weight": weight,
                "agreed": weight > 0,
                "value_l": bar.get("value_l"),
                "value_r": bar.get("value_r"),
            }
        )
    out.match_weight = float(scored[0]["match_weight"])
    out.match_probability = float(scored[0]["match_probability"])
    return out


# --- files ----------------------------------------------------------------------------------------


def read_table(path: str | os.PathLike[str], *, encoding: str | None = None) -> pd.DataFrame:
    """A CSV (UTF-8, with or without BOM, or GB18030 — tried in that order unless ``encoding``),
    Parquet, XLSX or JSON-lines file as text columns."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        df = pd.read_parquet(path)
        return df.astype(object).where(df.notna(), None)
    if suffix == ".xlsx":
        return pd.read_excel(path, dtype=str)
    if suffix in {".jsonl", ".ndjson"}:
        return pd.read_json(path, lines=True, dtype=False).astype(object)
    encodings = [encoding] if encoding else ["utf-8-sig", "gb18030"]
    last: Exception | None = None
    for enc in encodings:
        try:
            return pd.read_csv(path, dtype=str, encoding=enc, keep_default_na=False, na_values=[""])
        except UnicodeDecodeError as exc:
            last = exc
    raise ValueError(f"无法识别文件编码 (UTF-8/GB18030): {path}") from last


def write_pairs(pairs: pd.DataFrame, out: str | os.PathLike[str]) -> int:
    """``left_id,right_id,match_probability`` CSV (UTF-8), highest probability first."""
    table = pairs[["left_id", "right_id", "match_probability"]]
    table.to_csv(out, index=False, float_format="%.6f")
    return len(table)


# --- registry -------------------------------------------------------------------------------------


def person_frame(persons: Iterable[Any]) -> pd.DataFrame:
    """Registry persons (a ``Person`` queryset or iterable) as the ``person`` profile's input
    columns; the address is the current primary residence's building address and room."""
    from zhucheng.registry.models import Residence

    people = list(persons)
    ids = [p.pk for p in people]
    addresses: dict[int, str] = {}
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        rows = Residence.objects.filter(person_id__in=chunk, is_primary=True, to_date__isnull=True, is_void=False).values_list(
            "person_id", "housing_unit__building__address", "housing_unit__number"
        )
        for person_id, address, number in rows:
            addresses[person_id] = f"{address}{number}"
    return pd.DataFrame(
        {
            "unique_id": ids,
            "id_hash": [p.id_number_hash or None for p in people],
            "full_name": [p.name for p in people],
            "surname": [None] * len(people),
            "given_name": [None] * len(people),
            "name_pinyin": [chinese.pinyin(chinese.simplify(p.name)) or None for p in people],
            "birth_date": [p.birth_date.isoformat() if p.birth_date else None for p in people],
            "sex": [p.sex or None for p in people],
            "phone_hash": [p.phone_hash or None for p in people],
            "address": [addresses.get(p.pk) for p in people],
        },
        columns=[
            "unique_id",
            "id_hash",
            "full_name",
            "surname",
            "given_name",
            "name_pinyin",
            "birth_date",
            "sex",
            "phone_hash",
            "address",
        ],
    )
