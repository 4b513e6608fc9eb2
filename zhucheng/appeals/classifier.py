"""The category suggester (智能分类): jieba words and character n-grams → a linear model trained on the city's own appeals.

``suggest(text)`` proposes a leaf category with a score in [0, 1]; staff confirm or change it and
both are kept (``CategoryDecision``) for the next ``train_router``. ``train`` cross-validates
(stratified folds: accuracy and per-category recall), then fits on every row and writes the model
atomically to ``model_path()``. Each process loads the file once and reloads it when it changes.

The model is a LinearSVC over TF-IDF features (jieba words and word pairs, plus character 1–3
grams, which carry the meaning of words jieba does not know). Its decision values become scores by
a softmax with one temperature fitted on the cross-validated decision values (temperature scaling),
so a score of 0.8 is right about 80 % of the time on the training distribution. ``suggest`` applies
the coefficients itself rather than through scikit-learn's per-call checks: it runs on every submit.

jieba and scikit-learn are imported on first use (they take about a second to import); jieba's
dictionary cache lives in ``VAR_DIR/cache`` rather than the shared temporary directory, whose files
another local user could plant (jieba unpickles it).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.translation import gettext as _

from zhucheng.core.caches import clear_on_change

from .errors import AppealError
from .models import Appeal, Category, CategoryDecision, Status

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "MIN_CATEGORIES",
    "MIN_ROWS",
    "CategoryRecall",
    "Model",
    "Suggestion",
    "TrainReport",
    "clear_cache",
    "load_model",
    "min_per_category",
    "model_path",
    "normalize",
    "suggest",
    "tokenize",
    "train",
    "training_rows_from_db",
]

logger = logging.getLogger(__name__)

MIN_ROWS = 100
MIN_CATEGORIES = 2
FORMAT = 1  # bump when the stored structure changes; older files are ignored (suggest returns None)
MAX_FEATURES = 60_000  # per vectorizer: bounds the model file for large cities
SVC_C = 0.5


@dataclass(frozen=True)
class Suggestion:
    category: Category
    score: float
    model_version: str


@dataclass(frozen=True)
class CategoryRecall:
    code: str
    name: str
    n: int
    recall: float


@dataclass(frozen=True)
class TrainReport:
    n: int
    folds: int
    accuracy: float  # share of rows whose held-out prediction was right
    macro_recall: float  # mean of the per-category recalls
    per_category: list[CategoryRecall]
    skipped: dict[str, int]  # categories left out for having too few rows: code → rows
    model_version: str
    path: Path | None
    temperature: float
    cv_seconds: float
    fit_seconds: float


@dataclass
class Model:
    """What ``model_path()`` holds: the fitted features and classifier, the score temperature, the label codes."""

    features: Any  # sklearn FeatureUnion
    classifier: Any  # sklearn LinearSVC
    temperature: float
    version: str
    trained_at: str
    n: int
    format: int = FORMAT
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in self.classifier.classes_]

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated class probabilities, one row per text, columns in ``classes`` order."""
        import numpy as np

        if len(texts) == 1:
            return self._score_one(texts[0])
        # Block by block rather than through FeatureUnion.transform, whose per-call overhead
        # (a joblib dispatch and a sparse hstack) costs more than the arithmetic on one text.
        coef = self.classifier.coef_
        decision = np.zeros((len(texts), coef.shape[0])) + self.classifier.intercept_
        start = 0
        for _name, vectorizer in self.features.transformer_list:
            x = vectorizer.transform(texts)
            decision += np.asarray(x @ coef[:, start : start + x.shape[1]].T)
            start += x.shape[1]
        return _softmax(_two_columns(decision) / self.temperature)

    def _score_one(self, text: str) -> np.ndarray:
        """``scores([text])`` without sklearn's per-call validation and sparse matrices (intake scores one
        appeal at a time): each block's TF-IDF row is built from the fitted analyzer, vocabulary and idf
        exactly as ``TfidfVectorizer.transform`` does (sublinear tf, idf, l2 norm, in the vectorizer's dtype)."""
        import numpy as np

        coef = self.classifier.coef_
        decision = np.array(self.classifier.intercept_, dtype=np.float64, ndmin=1).copy()
        start = 0
        for _name, vectorizer in self.features.transformer_list:
            analyzer, vocabulary, idf, dtype = _fitted(vectorizer)
            counts: dict[int, int] = {}
            for token in analyzer(text):
                column = vocabulary.get(token)
                if column is not None:
                    counts[column] = counts.get(column, 0) + 1
            if counts:
                columns = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
                values = np.fromiter(counts.values(), dtype=dtype, count=len(counts))
                values = (np.log(values) + dtype(1)) * idf[columns]
                norm = np.sqrt(np.dot(values, values))
                if norm > 0:
                    values = values / norm
                decision = decision + coef[:, start + columns] @ values.astype(np.float64)
            start += len(vocabulary)
        return _softmax(_two_columns(decision[None, :]) / self.temperature)


_fitted_cache: dict[int, tuple[Any, Any, Any, Any, Any]] = {}


def _fitted(vectorizer: Any) -> tuple[Any, dict[str, int], np.ndarray, Any]:
    """(analyzer, vocabulary, idf in the vectorizer's dtype, dtype) of a fitted TfidfVectorizer, built once."""
    import numpy as np

    held = _fitted_cache.get(id(vectorizer))
    if held is None or held[0] is not vectorizer:
        dtype = np.dtype(vectorizer.dtype).type
        if len(_fitted_cache) > 8:  # models replaced by retraining
            _fitted_cache.clear()
        held = (vectorizer, vectorizer.build_analyzer(), vectorizer.vocabulary_, np.asarray(vectorizer.idf_, dtype=dtype), dtype)
        _fitted_cache[id(vectorizer)] = held
    return held[1], held[2], held[3], held[4]


# --- text → tokens -----------------------------------------------------------------------------

_jieba_lock = threading.Lock()
_jieba_ready = False
_DIGITS = re.compile(r"\d+")
_WORDISH = re.compile(r"\w")


def _jieba() -> Any:
    """jieba, initialised once, quietly, with its dictionary cache under VAR_DIR."""
    global _jieba_ready
    import jieba

    if not _jieba_ready:
        with _jieba_lock:
            if not _jieba_ready:
                jieba.setLogLevel(logging.WARNING)
                cache_dir = Path(settings.VAR_DIR) / "cache"
                cache_dir.mkdir(parents=True, exist_ok=True)
                jieba.dt.tmp_dir = str(cache_dir)
                jieba.dt.initialize()
                _jieba_ready = True
    return jieba


def normalize(text: str) -> str:
    """Full-width forms folded (NFKC), lower case, every number the same token: '３号楼' and '12号楼' look alike."""
    return _DIGITS.sub("0", unicodedata.normalize("NFKC", text).lower())


def tokenize(text: str) -> list[str]:
    """jieba words, punctuation and spaces dropped (the word vectorizer's tokenizer; stored in the model by name)."""
    return [w for w in _jieba().lcut(text) if _WORDISH.search(w)]


def _features() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    words = TfidfVectorizer(
        preprocessor=normalize,
        tokenizer=tokenize,
        token_pattern=None,
        lowercase=False,
        ngram_range=(1, 2),
        min_df=2,
        sublinear_tf=True,
        max_features=MAX_FEATURES,
        dtype=_float32(),
    )
    chars = TfidfVectorizer(
        preprocessor=normalize,
        analyzer="char",
        ngram_range=(1, 3),
        min_df=2,
        sublinear_tf=True,
        max_features=MAX_FEATURES,
        dtype=_float32(),
    )
    return FeatureUnion([("words", words), ("chars", chars)])


def _float32() -> Any:
    import numpy as np

    return np.float32


def _classifier() -> Any:
    from sklearn.svm import LinearSVC

    return LinearSVC(C=SVC_C)


def _two_columns(decision: np.ndarray) -> np.ndarray:
    """A two-class LinearSVC gives one decision column (for ``classes_[1]``); make it two."""
    import numpy as np

    if decision.ndim == 1:
        decision = decision[:, None]
    if decision.shape[1] == 1:
        decision = np.hstack([np.zeros_like(decision), decision])
    return decision


def _softmax(z: np.ndarray) -> np.ndarray:
    import numpy as np

    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _fit_temperature(decision: np.ndarray, truth: np.ndarray) -> float:
    """The T minimising the log loss of softmax(decision / T) on held-out decisions (temperature scaling)."""
    import numpy as np
    from scipy.optimize import minimize_scalar

    rows = np.arange(len(truth))

    def loss(log_t: float) -> float:
        p = _softmax(decision / np.exp(log_t))
        return float(-np.log(np.clip(p[rows, truth], 1e-12, None)).mean())

    found = minimize_scalar(loss, bounds=(np.log(0.01), np.log(100.0)), method="bounded")
    return float(np.exp(found.x))


# --- where the model lives, and the per-process copy ---------------------------------------------


def model_path() -> Path:
    """``settings.ZHUCHENG_ROUTER_MODEL`` when set (tests point it elsewhere), else VAR_DIR/models/router.joblib."""
    configured = getattr(settings, "ZHUCHENG_ROUTER_MODEL", None)
    if configured:
        return Path(configured)
    return Path(settings.VAR_DIR) / "models" / "router.joblib"


_model_lock = threading.Lock()
_loaded: tuple[tuple[str, int, int, int], Model | None] | None = None


def clear_cache(**_: Any) -> None:
    """Forget the loaded model and the categories looked up; the next call reads them again."""
    global _loaded
    with _model_lock:
        _loaded = None
    _leaves.clear()


# The active leaf category per code, as suggestions name them. Held for ``LEAF_TTL`` seconds in
# this process and forgotten whenever a category is saved or deleted here (other processes see
# a change within the TTL); it saves a query per intake.
LEAF_TTL = 60.0
_leaves: dict[str, tuple[float, Category | None]] = {}


def _leaf(code: str) -> Category | None:
    held = _leaves.get(code)
    now = time.monotonic()
    if held is not None and held[0] > now:
        return held[1]
    category = Category.objects.select_related("parent").filter(code=code, is_active=True, parent__isnull=False).first()
    _leaves[code] = (now + LEAF_TTL, category)
    return category


clear_on_change(_leaves.clear, Category, uid="appeals.classifier")


def _file_key(path: Path) -> tuple[str, int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    # The inode changes on every atomic replace, even within the file system's time resolution.
    return (str(path), st.st_mtime_ns, st.st_size, st.st_ino)


def load_model() -> Model | None:
    """The trained model, or None when there is none (or it cannot be read: logged, and tried again when the file changes)."""
    global _loaded
    path = model_path()
    key = _file_key(path)
    if key is None:
        return None
    cached = _loaded
    if cached is not None and cached[0] == key:
        return cached[1]
    with _model_lock:
        if _loaded is not None and _loaded[0] == key:
            return _loaded[1]
        model: Model | None = None
        try:
            import joblib

            # Trusted input: written only by ``train`` into the platform's own VAR_DIR.
            loaded = joblib.load(path)
            if isinstance(loaded, Model) and loaded.format == FORMAT:
                model = loaded
            else:
                logger.warning("router model %s has an unknown format; retrain with train_router", path)
        except Exception:
            logger.exception("router model %s could not be loaded; retrain with train_router", path)
        _loaded = (key, model)
        return model


def suggest(text: str) -> Suggestion | None:
    """The likeliest active leaf category for ``text`` with its score, or None without a model (or text)."""
    if not text or not text.strip():
        return None
    model = load_model()
    if model is None:
        return None
    probabilities = model.scores([text])[0]
    best = int(probabilities.argmax())
    category = _leaf(model.classes[best])
    if category is None:
        return None
    return Suggestion(category=category, score=round(float(probabilities[best]), 4), model_version=model.version)


# --- training ------------------------------------------------------------------------------------


def appeal_text(title: str, description: str) -> str:
    """What the classifier reads of an appeal (the same at training and at suggestion time)."""
    return f"{title}\n{description}"


def training_rows_from_db(*, limit: int | None = 200_000) -> list[tuple[str, str]]:
    """(text, leaf code) from the city's own appeals: closed ones with their final category, then any
    other appeal whose category staff chose (the latest ``CategoryDecision``); newest first up to ``limit``."""
    usable = {"category__is_active": True, "category__parent__isnull": False}
    closed = (
        Appeal.objects.filter(status=Status.CLOSED, **usable)
        .order_by("-closed_at", "-id")
        .values_list("id", "title", "description", "category__code")
    )
    if limit is not None:
        closed = closed[:limit]
    rows: dict[int, tuple[str, str]] = {}
    for pk, title, description, code in closed.iterator(chunk_size=2000):
        rows[pk] = (appeal_text(title, description), code)
    if limit is None or len(rows) < limit:
        decisions = (
            CategoryDecision.objects.filter(chosen__is_active=True, chosen__parent__isnull=False)
            .exclude(appeal__status=Status.CLOSED)
            .order_by("-at", "-id")
            .values_list("appeal_id", "appeal__title", "appeal__description", "chosen__code")
        )
        for pk, title, description, code in decisions.iterator(chunk_size=2000):
            if pk in rows:
                continue  # an older decision on an appeal already taken
            rows[pk] = (appeal_text(title, description), code)
            if limit is not None and len(rows) >= limit:
                break
    return list(rows.values())


def min_per_category(folds: int) -> int:
    """Rows a category needs to be learnt: every training split then holds it at least ``folds`` times."""
    return max(2 * folds, 6)


def _version(texts: Sequence[str], labels: Sequence[str], now: datetime) -> str:
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(label.encode())
        digest.update(b"\x1f")
        digest.update(text.encode())
        digest.update(b"\x1e")
    return f"{now:%Y%m%dT%H%M%SZ}-{digest.hexdigest()[:8]}"


def _save(model: Model, path: Path) -> None:
    """Write next to the target and rename over it, so a reader never sees half a file."""
    import joblib

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".router-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            joblib.dump(model, fh, compress=3)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _names(codes: Sequence[str]) -> dict[str, str]:
    return dict(Category.objects.filter(code__in=list(codes)).values_list("code", "name"))


def train(
    *, texts: Sequence[str], labels: Sequence[str], folds: int = 5, path: Path | None = None, save: bool = True
) -> TrainReport:
    """Cross-validate on ``folds`` stratified folds, fit on every row, and (``save``) write the model to ``path``.

    Categories with fewer than ``min_per_category(folds)`` rows are left out (listed in ``skipped``).
    Raises ``AppealError`` when fewer than ``MIN_ROWS`` rows or ``MIN_CATEGORIES`` categories remain.
    """
    import numpy as np
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import Pipeline

    if len(texts) != len(labels):
        raise ValueError("texts and labels differ in length")
    if not 2 <= folds <= 20:
        raise AppealError(_("交叉验证折数应在 2 到 20 之间。"), code="invalid", field="folds")
    counts = Counter(labels)
    need = min_per_category(folds)
    skipped = {code: n for code, n in sorted(counts.items()) if n < need}
    keep = [i for i, label in enumerate(labels) if label not in skipped]
    x = [texts[i] for i in keep]
    y = [labels[i] for i in keep]
    n_categories = len(counts) - len(skipped)
    if n_categories < MIN_CATEGORIES:
        raise AppealError(
            _("可用于训练的分类只有 %(n)s 个（每个分类至少需要 %(need)s 条样本），至少需要 %(min)s 个分类。")
            % {"n": n_categories, "need": need, "min": MIN_CATEGORIES},
            code="too_few_categories",
        )
    if len(x) < MIN_ROWS:
        raise AppealError(
            _("可用于训练的样本只有 %(n)s 条，至少需要 %(min)s 条。") % {"n": len(x), "min": MIN_ROWS},
            code="too_few_rows",
        )

    started = time.perf_counter()
    pipeline = Pipeline([("features", _features()), ("classifier", _classifier())])
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=2026)
    decision = _two_columns(np.asarray(cross_val_predict(pipeline, x, y, cv=splitter, method="decision_function")))
    classes = np.array(sorted(set(y)))  # the classifier's classes_ order
    truth = np.searchsorted(classes, np.array(y))
    predicted = decision.argmax(axis=1)
    temperature = _fit_temperature(decision, truth)
    cv_seconds = time.perf_counter() - started

    started = time.perf_counter()
    pipeline.fit(x, y)
    fit_seconds = time.perf_counter() - started

    names = _names(list(classes))
    per_category = []
    for index, code in enumerate(classes):
        mine = truth == index
        per_category.append(
            CategoryRecall(
                code=str(code),
                name=names.get(str(code), str(code)),
                n=int(mine.sum()),
                recall=float((predicted[mine] == index).mean()),
            )
        )
    now = datetime.now(UTC)
    version = _version(x, y, now)
    target = path or model_path()
    if save:
        model = Model(
            features=pipeline.named_steps["features"],
            classifier=pipeline.named_steps["classifier"],
            temperature=temperature,
            version=version,
            trained_at=now.isoformat(),
            n=len(x),
        )
        _save(model, target)
    return TrainReport(
        n=len(x),
        folds=folds,
        accuracy=float((predicted == truth).mean()),
        macro_recall=float(np.mean([r.recall for r in per_category])),
        per_category=per_category,
        skipped=skipped,
        model_version=version,
        path=target if save else None,
        temperature=temperature,
        cv_seconds=cv_seconds,
        fit_seconds=fit_seconds,
    )
