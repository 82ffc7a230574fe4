"""The local classifier: a spam score and a suggested topic, learnt from the team's own decisions.

No comment text leaves the server: scikit-learn linear models on hashed word (1–2) and character
(3–5, within words) n-grams, fitted here and kept in `ClassifierModel` rows, so every app server
scores with the same model. The only module that imports scikit-learn (tests/test_layers.py),
and only when a model is fitted or loaded: without a trained model nothing is imported.

What it learns from (reader comments only, the newest `MAX_SAMPLES`, each text cut at `MAX_CHARS`):
- spam model: comments the team decided (`moderated_at` set) that are approved, rejected or spam,
  plus spam the certain rules caught (honeypot, blocklist). Rejected counts as *not* spam: a
  rejected comment is a person's words the team read and turned down (rude, off-topic); learning
  them as spam would teach the model to file angry customers silently in the spam folder, where
  nobody reads them. Spam the classifier itself sent there is left out unless the team decided
  it (no feedback loop), and so is "too fast" (a fast typist is a person).
- topic model: comments with a topic the team set (`Comment.topic`); topics with fewer than
  `MIN_PER_CLASS` examples are left out (the model does not suggest them).

Scoring is bounded (the first `MAX_CHARS` characters, a few milliseconds) and never raises: no
model, a model that cannot be read, anything else → `None`, logged, and the comment goes on.
Models are loaded once per process and looked for anew at most every `CLASSIFIER_RELOAD_SECONDS`
(one small query), so a model trained on another server is used within that time.

Retraining: `retrain_if_due()` (called by the outbox drainer) trains again after every
`CLASSIFIER_RETRAIN_EVERY` team decisions (approve, reject, spam, topic events by staff, counted
by event id since the newest model), looking at most every `CLASSIFIER_CHECK_SECONDS`. One
training at a time: a PostgreSQL advisory lock (across machines), or a file lock in the data dir
(SQLite: one machine); whoever gets it checks again that training is still due.
"""
from __future__ import annotations

import logging
import pickle
import threading
import time
import warnings
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, func, or_, select, text as sql

from app.extensions import db
from app.models import ClassifierModel, Comment, CommentStatus, ModerationEvent, Topic, utcnow

try:  # Unix: one training per machine on SQLite
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

log = logging.getLogger(__name__)
S = CommentStatus

SPAM, TOPIC = "spam", "topic"
KINDS = (SPAM, TOPIC)
DECISIONS = ("approve", "reject", "spam", "topic")  # staff events that teach the models something
CERTAIN_SPAM_RULES = ("honeypot", "blocklist")
MAX_SAMPLES = 20_000  # newest labelled comments per model
MAX_CHARS = 5_000  # of each text, at training and at scoring
MIN_PER_CLASS = 20
HELD_OUT = 0.2  # stratified share for the metrics stored with a model
KEEP_MODELS = 3  # per kind; older rows are removed after a training
FORMAT = 1  # of the stored bytes
N_FEATURES = 2 ** 18  # per hashed feature space (words, characters)
PG_LOCK_KEY = 0x13C1A551  # pg advisory lock: one training at a time across app servers


class TooLittleData(ValueError):
    """Not enough labelled comments to learn from; `message` says how many there are and are needed."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind, self.message = kind, message


@dataclass(frozen=True)
class Scores:
    spam: float | None  # probability 0…1 (None: no spam model)
    topic: str | None  # suggested Topic value (None: no topic model)


@dataclass
class Fitted:
    """A fitted model and what is known about it (held-out metrics only with `evaluate`)."""

    kind: str
    estimator: object
    samples: int
    metrics: dict = field(default_factory=dict)

    def spam_probability(self, texts: Sequence[str]) -> list[float]:
        column = list(self.estimator.classes_).index(1)
        return [float(p[column]) for p in self.estimator.predict_proba([_cut(t) for t in texts])]

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [str(label) for label in self.estimator.predict([_cut(t) for t in texts])]


@dataclass
class TrainResult:
    trained: list[ClassifierModel] = field(default_factory=list)
    too_little: dict[str, str] = field(default_factory=dict)  # kind → the message
    busy: bool = False  # another process is training right now

    @property
    def ok(self) -> bool:
        return bool(self.trained)


# --- fitting (no database) ------------------------------------------------------------------

def _cut(text: str | None) -> str:
    return (text or "")[:MAX_CHARS]


def _estimator():
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import FeatureUnion, make_pipeline

    features = FeatureUnion([
        ("words", HashingVectorizer(analyzer="word", ngram_range=(1, 2), n_features=N_FEATURES,
                                    token_pattern=r"(?u)\b\w+\b", alternate_sign=False)),
        ("chars", HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), n_features=N_FEATURES,
                                    alternate_sign=False)),
    ])
    model = SGDClassifier(loss="log_loss", alpha=2e-5, max_iter=30, tol=1e-4, random_state=13)
    return make_pipeline(features, model)


def _fit(texts: list[str], labels: list) -> object:
    from sklearn.exceptions import ConvergenceWarning

    estimator = _estimator()
    with warnings.catch_warnings():  # a bounded number of passes is the point: near enough is good
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(texts, labels)
    estimator[-1].sparsify()  # hashed features never seen keep weight 0: a much smaller model
    return estimator


def fit_spam(texts: Sequence[str], is_spam: Sequence[bool], *, evaluate: bool = True, threshold: float = 0.9,
             min_per_class: int = MIN_PER_CLASS) -> Fitted:
    """The spam model. `evaluate`: held-out precision/recall/F1 on a stratified 20 % first (then
    fitted on everything). Fewer than MIN_PER_CLASS spam or not-spam texts: TooLittleData."""
    labels = [1 if s else 0 for s in is_spam]
    counts = Counter(labels)
    if min(counts[0], counts[1]) < min_per_class:
        raise TooLittleData(SPAM, f"spam model: {counts[1]} spam and {counts[0]} other decided comments; "
                                  f"at least {min_per_class} of each are needed")
    texts = [_cut(t) for t in texts]
    metrics = {"spam": counts[1], "not_spam": counts[0]}
    if evaluate:
        from sklearn.model_selection import train_test_split

        train_x, test_x, train_y, test_y = train_test_split(texts, labels, test_size=HELD_OUT, stratify=labels,
                                                            random_state=13)
        held = Fitted(SPAM, _fit(train_x, train_y), len(train_x))
        probabilities = held.spam_probability(test_x)
        metrics.update(spam_metrics(test_y, probabilities, 0.5), held_out=len(test_x))
        metrics["at_threshold"] = {"threshold": threshold, **spam_metrics(test_y, probabilities, threshold)}
    return Fitted(SPAM, _fit(texts, labels), len(texts), metrics)


def fit_topic(texts: Sequence[str], topics: Sequence[str], *, evaluate: bool = True,
              min_per_class: int = MIN_PER_CLASS) -> Fitted:
    """The topic model over the topics with at least `min_per_class` examples (at least two of them)."""
    counts = Counter(topics)
    kept = {t for t, n in counts.items() if n >= min_per_class}
    if len(kept) < 2:
        have = ", ".join(f"{t} {counts[t]}" for t in Topic) or "none"
        raise TooLittleData(TOPIC, f"topic model: comments per topic set by the team: {have}; at least "
                                   f"{min_per_class} for each of two topics are needed")
    pairs = [(_cut(x), y) for x, y in zip(texts, topics, strict=True) if y in kept]
    texts, labels = [p[0] for p in pairs], [p[1] for p in pairs]
    metrics: dict = {"per_topic": {t: counts[t] for t in Topic if counts[t]},
                     "left_out": sorted(set(counts) - kept)}
    if evaluate:
        from sklearn.model_selection import train_test_split

        train_x, test_x, train_y, test_y = train_test_split(texts, labels, test_size=HELD_OUT, stratify=labels,
                                                            random_state=13)
        held = Fitted(TOPIC, _fit(train_x, train_y), len(train_x))
        metrics.update(topic_metrics(test_y, held.predict(test_x)), held_out=len(test_x))
    return Fitted(TOPIC, _fit(texts, labels), len(texts), metrics)


def spam_metrics(truth: Sequence[int], probabilities: Sequence[float], threshold: float) -> dict:
    """Precision, recall and F1 of "spam" when a probability ≥ threshold counts as spam."""
    predicted = [p >= threshold for p in probabilities]
    tp = sum(1 for t, p in zip(truth, predicted, strict=True) if t and p)
    fp = sum(1 for t, p in zip(truth, predicted, strict=True) if not t and p)
    fn = sum(1 for t, p in zip(truth, predicted, strict=True) if t and not p)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def topic_metrics(truth: Sequence[str], predicted: Sequence[str]) -> dict:
    """Accuracy, macro-F1 and per topic the share of its comments recognised (recall)."""
    accuracy = sum(1 for t, p in zip(truth, predicted, strict=True) if t == p) / len(truth) if truth else 0.0
    per_topic, f1s = {}, []
    for topic in sorted(set(truth) | set(predicted)):
        tp = sum(1 for t, p in zip(truth, predicted, strict=True) if t == topic and p == topic)
        actual = sum(1 for t in truth if t == topic)
        guessed = sum(1 for p in predicted if p == topic)
        recall = tp / actual if actual else 0.0
        precision = tp / guessed if guessed else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
        if actual:
            per_topic[topic] = round(recall, 4)
    return {"accuracy": round(accuracy, 4), "macro_f1": round(sum(f1s) / len(f1s), 4) if f1s else 0.0,
            "accuracy_per_topic": per_topic}


def dumps(fitted: Fitted) -> bytes:
    return zlib.compress(pickle.dumps({"format": FORMAT, "kind": fitted.kind, "estimator": fitted.estimator},
                                      protocol=pickle.HIGHEST_PROTOCOL), 6)


def loads(data: bytes):
    """The estimator stored in a row (our own bytes from our own database; pickle is not for strangers')."""
    payload = pickle.loads(zlib.decompress(data))  # written by `dumps` on this site's servers
    if payload.get("format") != FORMAT:
        raise ValueError(f"classifier model of format {payload.get('format')!r}, expected {FORMAT}")
    return payload["estimator"]


# --- training from the team's decisions --------------------------------------------------------

def _spam_examples() -> tuple[list[str], list[bool]]:
    decided = (Comment.moderated_at.is_not(None)) & Comment.status.in_((S.APPROVED, S.REJECTED, S.SPAM))
    certain = (Comment.status == S.SPAM) & Comment.status_reason.in_(CERTAIN_SPAM_RULES)
    rows = db.session.execute(
        select(func.substr(Comment.body_md, 1, MAX_CHARS), Comment.status)
        .where(Comment.user_id.is_(None), or_(decided, certain))
        .order_by(Comment.id.desc()).limit(MAX_SAMPLES)).all()
    return [r[0] or "" for r in rows], [r[1] == S.SPAM for r in rows]


def _topic_examples() -> tuple[list[str], list[str]]:
    rows = db.session.execute(
        select(func.substr(Comment.body_md, 1, MAX_CHARS), Comment.topic)
        .where(Comment.user_id.is_(None), Comment.topic.in_(tuple(Topic)), Comment.status != S.SPAM)
        .order_by(Comment.id.desc()).limit(MAX_SAMPLES)).all()
    return [r[0] or "" for r in rows], [r[1] for r in rows]


def _decisions_after(event_id: int) -> tuple[int, int]:
    """Staff decisions in the audit trail after `event_id`, and the newest one's id (a range of the key)."""
    n, newest = db.session.execute(
        select(func.count(), func.max(ModerationEvent.id))
        .where(ModerationEvent.id > event_id, ModerationEvent.actor_id.is_not(None),
               ModerationEvent.action.in_(DECISIONS))).one()
    return n or 0, newest or event_id


def train(now: datetime | None = None, *, min_samples: int | None = None, threshold: float | None = None
          ) -> TrainResult:
    """Fit both models on what the team decided and store those with enough data (each in its own
    row); a model with too little data is reported in `too_little` and nothing of it is stored."""
    with _exclusive() as mine:
        if not mine:
            return TrainResult(busy=True)
        return _train(now or utcnow(), min_samples, threshold)


def _train(now: datetime, min_samples: int | None, threshold: float | None) -> TrainResult:
    result = TrainResult()
    decisions, last_event = _decisions_after(0)
    threshold = threshold if threshold is not None else float(current_app.config.get("CLASSIFIER_SPAM_THRESHOLD")
                                                               or 0.9)
    least = min_samples or MIN_PER_CLASS
    jobs = (
        (SPAM, lambda: fit_spam(*_spam_examples(), threshold=threshold, min_per_class=least)),
        (TOPIC, lambda: fit_topic(*_topic_examples(), min_per_class=least)),
    )
    for kind, job in jobs:
        started = time.perf_counter()
        try:
            fitted = job()
        except TooLittleData as exc:
            result.too_little[kind] = exc.message
            continue
        fitted.metrics.update(seconds=round(time.perf_counter() - started, 2), last_event_id=last_event)
        row = ClassifierModel(kind=kind, data=dumps(fitted), samples=fitted.samples, metrics=fitted.metrics,
                              decisions_seen=decisions, trained_at=now)
        db.session.add(row)
        db.session.flush()
        _remember(row.id, kind, fitted.estimator)
        result.trained.append(row)
    for kind in {row.kind for row in result.trained}:
        keep = select(ClassifierModel.id).where(ClassifierModel.kind == kind) \
            .order_by(ClassifierModel.id.desc()).limit(KEEP_MODELS)
        db.session.execute(delete(ClassifierModel).where(ClassifierModel.kind == kind,
                                                         ClassifierModel.id.not_in(keep.scalar_subquery()))
                           .execution_options(synchronize_session=False))
    db.session.commit()
    _attempts[_key()] = last_event
    return result


def retrain_if_due(every: int | None = None, *, force_check: bool = False) -> TrainResult | None:
    """Train again when `every` (CLASSIFIER_RETRAIN_EVERY) team decisions were made since the newest
    model (or since the last attempt with too little data). Looks at most every
    CLASSIFIER_CHECK_SECONDS per process (the first look that long after the first call). None:
    not due, not looked, or off (0)."""
    config = current_app.config
    every = every if every is not None else int(config.get("CLASSIFIER_RETRAIN_EVERY") or 0)
    if every <= 0:
        return None
    key, pause = _key(), float(config.get("CLASSIFIER_CHECK_SECONDS", 60))
    last = _checked.setdefault(key, time.monotonic())
    if not force_check and pause and time.monotonic() - last < pause:
        return None
    _checked[key] = time.monotonic()
    if not _due(every):
        return None
    with _exclusive() as mine:
        if not mine or not _due(every):  # someone else trains (or just trained)
            return None
        result = _train(utcnow(), None, None)
    if result.trained:
        log.info("classifier: retrained %s", ", ".join(f"{r.kind} on {r.samples}" for r in result.trained))
    return result


def _due(every: int) -> bool:
    newest = db.session.scalars(select(ClassifierModel.metrics).order_by(ClassifierModel.id.desc()).limit(1)).first()
    since = max(int((newest or {}).get("last_event_id") or 0), _attempts.get(_key(), 0))
    return _decisions_after(since)[0] >= every


@contextmanager
def _exclusive() -> Iterator[bool]:
    """One training at a time: True when this process may train."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            mine = bool(connection.scalar(sql("SELECT pg_try_advisory_lock(:key)"), {"key": PG_LOCK_KEY}))
            connection.commit()  # the lock belongs to the connection, not to a transaction left open
            try:
                yield mine
            finally:
                if mine:
                    connection.execute(sql("SELECT pg_advisory_unlock(:key)"), {"key": PG_LOCK_KEY})
                    connection.commit()
        return
    if fcntl is None:  # pragma: no cover
        yield True
        return
    path = Path(current_app.config["DATA_DIR"]) / "classifier.lock"
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- scoring -----------------------------------------------------------------------------------

_lock = threading.Lock()
_models: dict[str, dict[str, tuple[int, object]]] = {}  # database → kind → (row id, estimator)
_looked: dict[str, float] = {}  # database → when its newest rows were last looked for
_broken: dict[str, set[int]] = {}  # database → rows that could not be loaded (logged once)
_checked: dict[str, float] = {}  # database → when retraining was last looked into
_attempts: dict[str, int] = {}  # database → the newest event id of this process's last training


def _key() -> str:
    return db.engine.url.render_as_string()


def _remember(row_id: int, kind: str, estimator) -> None:
    with _lock:
        _models.setdefault(_key(), {})[kind] = (row_id, estimator)


def forget() -> None:
    """Drop this process's loaded models (tests; a model row removed by hand)."""
    key = _key()
    with _lock:
        for cache in (_models, _looked, _broken, _checked, _attempts):
            cache.pop(key, None)


def _current() -> dict[str, object]:
    """The newest model of each kind, loaded once per process; looked for again every RELOAD seconds."""
    key = _key()
    pause = float(current_app.config.get("CLASSIFIER_RELOAD_SECONDS", 30))
    now = time.monotonic()
    if key in _looked and now - _looked[key] < pause:
        return {kind: model for kind, (_id, model) in _models.get(key, {}).items()}
    _looked[key] = now
    try:
        newest = dict(db.session.execute(select(ClassifierModel.kind, func.max(ClassifierModel.id))
                                         .group_by(ClassifierModel.kind)).all())
    except Exception:  # the comment must go on: PostgreSQL needs the failed statement rolled back
        db.session.rollback()
        raise
    loaded = _models.setdefault(key, {})
    broken = _broken.setdefault(key, set())
    for kind in KINDS:
        row_id = newest.get(kind)
        if row_id is None:
            loaded.pop(kind, None)
        elif loaded.get(kind, (None,))[0] != row_id and row_id not in broken:
            try:
                estimator = loads(db.session.scalar(select(ClassifierModel.data).where(ClassifierModel.id == row_id)))
            except Exception:
                broken.add(row_id)
                log.exception("classifier: the stored %s model %s cannot be read; scoring without it", kind, row_id)
                loaded.pop(kind, None)
                continue
            _remember(row_id, kind, estimator)
        elif row_id in broken:
            loaded.pop(kind, None)
    return {kind: model for kind, (_id, model) in loaded.items()}


def score(text: str) -> Scores | None:
    """The spam probability and suggested topic of a text; None without a usable model. Never raises."""
    try:
        models = _current()
        return scores_of(models, text) if models else None
    except Exception:
        log.exception("classifier: scoring failed; the comment goes on without a score")
        return None


def scores_of(models: dict[str, object], text: str) -> Scores:
    """Both models on one text. The hashed features are computed once: both pipelines come from
    `_estimator()` of the same FORMAT, so their feature steps are the same stateless function."""
    spam, topic = models.get(SPAM), models.get(TOPIC)
    features = (spam if spam is not None else topic)[0].transform([_cut(text)])
    probability = None
    if spam is not None:
        probability = float(spam[-1].predict_proba(features)[0][list(spam[-1].classes_).index(1)])
    likely_spam = probability is not None and probability >= 0.5  # spam has no topic to suggest
    suggested = str(topic[-1].predict(features)[0]) if topic is not None and not likely_spam else None
    return Scores(probability, suggested if suggested in set(Topic) else None)
