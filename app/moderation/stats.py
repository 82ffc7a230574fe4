"""The team's numbers and the customer pulse: what /moderation/stats and the CSV export show.

Plain functions over a time `Window` (whole ISO weeks in the site's time zone, the current week
included, up to `now`). Each runs a fixed number of aggregate queries, whatever the number of
comments: GROUP BY in SQL where that is portable between SQLite and PostgreSQL; grouping by local
day or ISO week happens in Python over tuples of only the columns needed (time zones make SQL date
functions differ per database). Only reader comments (user_id IS NULL) count as the customer's
voice; staff answers are the team's work, counted through the audit trail.

Definitions
- time to moderation: moderated_at − created_at (the first human decision; comments the policy
  approved on its own have no moderated_at and are left out);
- time to first answer: answered_at − created_at, wall-clock minutes;
- within target: answered by `targets.due_at(created, category rule)`; a reader still waiting
  past that time counts as missed; still waiting but not yet due, escalated without answer,
  or needing no answer: not counted.
Weeks group comments by the week they were written, so the latest week fills up over time.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import Category, Comment, CommentStatus, ModerationEvent, Post, ResponseStatus, Topic, User
from app.moderation import targets
from app.moderation.queue import Targets, view_condition

S, R = CommentStatus, ResponseStatus
UTC = UTC
WEEK_CHOICES = (4, 8, 12, 26)
DEFAULT_WEEKS = 8
STATUSES = tuple(CommentStatus)
TOPICS = tuple(Topic)
WORK_ACTIONS = ("approve", "reject", "spam", "delete", "reply")


# --- the window ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Week:
    year: int
    number: int
    monday: date

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)


@dataclass(frozen=True)
class Window:
    """From Monday 00:00 (local) `weeks - 1` weeks before this week, up to `end` (now)."""

    start: datetime  # aware, UTC
    end: datetime  # aware
    tz: ZoneInfo
    weeks: int

    def day_of(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def days(self) -> list[date]:
        first, last = self.day_of(self.start), self.day_of(self.end)
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def week_list(self) -> list[Week]:
        first = self.day_of(self.start)
        result = []
        for i in range(self.weeks):
            monday = first + timedelta(weeks=i)
            year, number, _ = monday.isocalendar()
            result.append(Week(year, number, monday))
        return result

    def week_of(self, moment: datetime) -> tuple[int, int]:
        year, number, _ = self.day_of(moment).isocalendar()
        return year, number

    def contains(self):
        """SQL: comments written in the window."""
        return and_(Comment.created_at >= self.start, Comment.created_at <= self.end)


def parse_weeks(value) -> int:
    """`?weeks=` as one of the offered choices; anything else gives the default."""
    try:
        weeks = int(value)
    except (TypeError, ValueError):
        return DEFAULT_WEEKS
    return weeks if weeks in WEEK_CHOICES else DEFAULT_WEEKS


def window(now: datetime, weeks: int = DEFAULT_WEEKS, tz: ZoneInfo | None = None) -> Window:
    tz = tz or ZoneInfo("UTC")
    weeks = weeks if weeks in WEEK_CHOICES else DEFAULT_WEEKS
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    return Window(datetime.combine(monday, time(0), tz).astimezone(UTC), now, tz, weeks)


def _reader_in(win: Window):
    # `status IN (all statuses)` changes nothing but lets the (status, created_at) index serve the range.
    return and_(Comment.user_id.is_(None), Comment.status.in_(STATUSES), win.contains())


# --- now ----------------------------------------------------------------------------------------

@dataclass
class Snapshot:
    pending: int
    waiting: int
    oldest_waiting: datetime | None
    breaching: int

    def backlog_age(self, now: datetime) -> timedelta | None:
        return now - self.oldest_waiting if self.oldest_waiting else None


def snapshot(now: datetime, goals: Targets) -> Snapshot:
    """The queue right now: pending, readers waiting, the oldest of them, how many are over target."""
    pending = db.session.scalar(select(func.count()).select_from(Comment).where(Comment.status == S.PENDING))
    waiting, oldest, breaching = db.session.execute(
        select(func.count(), func.min(Comment.created_at), func.sum(case((goals.breaching(now), 1), else_=0)))
        .select_from(Comment).join(Post, Post.id == Comment.post_id).where(view_condition("needs_answer"))
    ).one()
    return Snapshot(pending or 0, waiting or 0, oldest, int(breaching or 0))


# --- per day --------------------------------------------------------------------------------------

@dataclass
class Day:
    day: date
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def per_day(win: Window) -> list[Day]:
    """Reader comments written per local day, by their status now (every day of the window, zeros too)."""
    counts: dict[date, Counter] = defaultdict(Counter)
    for created, status in db.session.execute(select(Comment.created_at, Comment.status).where(_reader_in(win))):
        counts[win.day_of(created)][status] += 1
    return [Day(d, {s: counts[d][s] for s in STATUSES}) for d in win.days()]


# --- per week: how fast -------------------------------------------------------------------------

@dataclass
class Times:
    """Speed over one week (or the whole window): medians and 90th percentiles in minutes."""

    week: Week | None
    comments: int = 0
    moderated: int = 0
    moderation_median: float | None = None
    moderation_p90: float | None = None
    answered: int = 0
    answer_median: float | None = None
    answer_p90: float | None = None
    within_target: int = 0
    target_counted: int = 0  # answered, or still waiting past the target

    @property
    def share_within_target(self) -> float | None:
        return self.within_target / self.target_counted if self.target_counted else None


@dataclass
class Speed:
    weeks: list[Times]
    total: Times


def percentile(values: Sequence[float], p: float) -> float | None:
    """Linear interpolation between the closest ranks (p=0.5 is the usual median); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lower = math.floor(k)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (k - lower)


def target_outcome(goals: Targets, now: datetime, category_id: int | None, created: datetime,
                   answered: datetime | None, response_status: str | None, status: str) -> bool | None:
    """True: answered within its category's target; False: answered late or still waiting past it; else None."""
    if answered is None and not (response_status == R.NEEDS_ANSWER and status in (S.PENDING, S.APPROVED)):
        return None
    minutes, hours = goals.rule(category_id)
    due = targets.due_at(created, minutes, goals.tz, hours)
    if answered is not None:
        return answered <= due
    return False if due <= now else None


def speed(win: Window, goals: Targets) -> Speed:
    """Per ISO week of writing: time to moderation and to first answer (median, p90), share within target."""
    rows = db.session.execute(
        select(Comment.created_at, Comment.moderated_at, Comment.answered_at, Comment.response_status,
               Comment.status, Post.category_id)
        .join(Post, Post.id == Comment.post_id).where(_reader_in(win))
    )
    moderation, answer = defaultdict(list), defaultdict(list)
    counted, within, comments = Counter(), Counter(), Counter()
    for created, moderated, answered, response_status, status, category_id in rows:
        key = win.week_of(created)
        comments[key] += 1
        if moderated is not None:
            moderation[key].append(max(0.0, (moderated - created).total_seconds() / 60))
        if answered is not None:
            answer[key].append(max(0.0, (answered - created).total_seconds() / 60))
        outcome = target_outcome(goals, win.end, category_id, created, answered, response_status, status)
        if outcome is not None:
            counted[key] += 1
            within[key] += outcome

    def times(week: Week | None, keys) -> Times:
        mod = [v for k in keys for v in moderation[k]]
        ans = [v for k in keys for v in answer[k]]
        return Times(week, comments=sum(comments[k] for k in keys),
                     moderated=len(mod), moderation_median=percentile(mod, .5), moderation_p90=percentile(mod, .9),
                     answered=len(ans), answer_median=percentile(ans, .5), answer_p90=percentile(ans, .9),
                     within_target=sum(within[k] for k in keys), target_counted=sum(counted[k] for k in keys))

    weeks = win.week_list()
    keys = [(w.year, w.number) for w in weeks]
    return Speed([times(w, [k]) for w, k in zip(weeks, keys, strict=True)], times(None, keys))


# --- who did the work ---------------------------------------------------------------------------

@dataclass
class Work:
    user_id: int
    name: str
    counts: dict[str, int]
    first_answers: int = 0  # readers' comments this member answered first (answered in the window)
    answer_median: float | None = None  # minutes from those comments to the first answer

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def decisions(self) -> int:
        return sum(n for action, n in self.counts.items() if action != "reply")

    @property
    def answers(self) -> int:
        return self.counts.get("reply", 0)


def work_per_moderator(win: Window) -> list[Work]:
    """Decisions and answers per staff member in the window, from the audit trail, and the median
    time to first answer of the readers' comments each of them answered first (answered in the
    window; the earliest answer from the team counts). Most active first; two queries."""
    rows = db.session.execute(
        select(ModerationEvent.actor_id, User.display_name, ModerationEvent.action, func.count())
        .join(User, User.id == ModerationEvent.actor_id)
        .where(ModerationEvent.at >= win.start, ModerationEvent.at <= win.end,
               ModerationEvent.action.in_(WORK_ACTIONS))
        .group_by(ModerationEvent.actor_id, User.display_name, ModerationEvent.action)
    )
    people: dict[int, Work] = {}
    for actor_id, name, action, n in rows:
        work = people.setdefault(actor_id, Work(actor_id, name, {a: 0 for a in WORK_ACTIONS}))
        work.counts[action] = n
    answer = aliased(Comment)
    first: dict[int, tuple] = {}  # question → (answer written, answerer, their name, minutes)
    for question_id, created, answered, written, user_id, name in db.session.execute(
            select(Comment.id, Comment.created_at, Comment.answered_at, answer.created_at, answer.user_id,
                   User.display_name)
            .join(answer, and_(answer.parent_id == Comment.id, answer.user_id.is_not(None)))
            .join(User, User.id == answer.user_id)
            .where(Comment.user_id.is_(None), Comment.answered_at >= win.start, Comment.answered_at <= win.end)):
        if question_id not in first or (written, user_id) < first[question_id][:2]:
            first[question_id] = (written, user_id, name, max(0.0, (answered - created).total_seconds() / 60))
    minutes: dict[int, list[float]] = defaultdict(list)
    for _written, user_id, name, value in first.values():
        minutes[user_id].append(value)
        people.setdefault(user_id, Work(user_id, name, {a: 0 for a in WORK_ACTIONS}))
    for user_id, values in minutes.items():
        people[user_id].first_answers, people[user_id].answer_median = len(values), percentile(values, .5)
    return sorted(people.values(), key=lambda w: (-w.total, w.name.lower(), w.user_id))


# --- where readers talk -------------------------------------------------------------------------

@dataclass
class Activity:
    """Reader comments in the window on one post or category, and how many of them still wait."""

    name: str
    slug: str | None
    comments: int
    waiting: int


def _waiting_sum():
    return func.sum(case((view_condition("needs_answer"), 1), else_=0))


def busiest_posts(win: Window, limit: int = 10) -> list[Activity]:
    n = func.count(Comment.id)
    rows = db.session.execute(
        select(Post.title, Post.slug, n, _waiting_sum()).join(Post, Post.id == Comment.post_id)
        .where(_reader_in(win)).group_by(Post.id, Post.title, Post.slug).order_by(n.desc(), Post.id).limit(limit)
    )
    return [Activity(title, slug, count, int(waiting or 0)) for title, slug, count, waiting in rows]


def busiest_categories(win: Window) -> list[Activity]:
    """Every category with reader comments in the window; name None: posts without a category."""
    n = func.count(Comment.id)
    rows = db.session.execute(
        select(Category.name, Category.slug, n, _waiting_sum()).join(Post, Post.id == Comment.post_id)
        .outerjoin(Category, Category.id == Post.category_id).where(_reader_in(win))
        .group_by(Category.id, Category.name, Category.slug)
        .order_by(n.desc(), Category.id.is_(None), Category.name)  # NULLs sort differently per database
    )
    return [Activity(name, slug, count, int(waiting or 0)) for name, slug, count, waiting in rows]


# --- the customer pulse: topics ---------------------------------------------------------------

# A comment's topic for the pulse: the one the team set, else the local classifier's suggestion.
TOPIC_OF = func.coalesce(Comment.topic, Comment.suggested_topic)


@dataclass
class TopicStats:
    per_category: list[tuple[str | None, dict[str, int]]]  # (category name or None, topic → count)
    per_week: list[tuple[Week, dict[str, int]]]
    totals: dict[str, int] = field(default_factory=dict)
    suggested: int = 0  # of the total, comments whose topic only the classifier suggested

    @property
    def total(self) -> int:
        return sum(self.totals.values())


def topics(win: Window) -> TopicStats:
    """What readers wrote about, per category and per week of writing (one query): the topic the
    team set, else the one the classifier suggested at arrival."""
    by_category: dict[tuple[int | None, str | None], Counter] = defaultdict(Counter)
    per_week: dict[tuple[int, int], Counter] = defaultdict(Counter)
    suggested = 0
    for category_id, name, created, topic, set_by_team in db.session.execute(
            select(Category.id, Category.name, Comment.created_at, TOPIC_OF, Comment.topic.is_not(None))
            .join(Post, Post.id == Comment.post_id).outerjoin(Category, Category.id == Post.category_id)
            .where(_reader_in(win), or_(Comment.topic.in_(TOPICS),  # a suggestion for spam is no topic
                                        and_(Comment.status != S.SPAM, Comment.suggested_topic.in_(TOPICS))))):
        by_category[(category_id, name)][topic] += 1
        per_week[win.week_of(created)][topic] += 1
        suggested += not set_by_team
    totals = Counter()
    for counts in by_category.values():
        totals.update(counts)
    ordered = sorted(by_category.items(),
                     key=lambda item: (-sum(item[1].values()), item[0][1] is None, item[0][1] or ""))
    return TopicStats(
        per_category=[(name, {t: counts[t] for t in TOPICS}) for (_id, name), counts in ordered],
        per_week=[(w, {t: per_week[(w.year, w.number)][t] for t in TOPICS}) for w in win.week_list()],
        totals={t: totals[t] for t in TOPICS}, suggested=suggested,
    )


@dataclass
class TopicWaiting:
    """Readers waiting for an answer right now, by topic (None: no topic set or suggested)."""

    topic: str | None
    waiting: int
    breaching: int  # of them, over the response target


def unanswered_topics(now: datetime, goals: Targets) -> list[TopicWaiting]:
    """The topics readers are left waiting on most, right now (one query): most over target first."""
    rows = db.session.execute(
        select(TOPIC_OF, func.count(), func.sum(case((goals.breaching(now), 1), else_=0)))
        .select_from(Comment).join(Post, Post.id == Comment.post_id)
        .where(view_condition("needs_answer")).group_by(TOPIC_OF))
    found = [TopicWaiting(topic if topic in TOPICS else None, n, int(breaching or 0)) for topic, n, breaching in rows]
    merged: dict[str | None, TopicWaiting] = {}
    for row in found:  # an unknown stored value counts as no topic
        known = merged.setdefault(row.topic, TopicWaiting(row.topic, 0, 0))
        known.waiting, known.breaching = known.waiting + row.waiting, known.breaching + row.breaching
    return sorted(merged.values(), key=lambda t: (t.topic is None, -t.breaching, -t.waiting,
                                                  TOPICS.index(t.topic) if t.topic else 0))


# --- the CSV export -------------------------------------------------------------------------------

EXPORT_COLUMNS = ("id", "post", "category", "created_at", "author_name", "status", "response_status", "topic",
                  "is_official", "moderated_at", "answered_at", "minutes_to_moderation", "minutes_to_first_answer",
                  "within_target")


def export_rows(win: Window, goals: Targets, connection=None, batch: int = 1000) -> Iterator[tuple]:
    """One tuple per comment written in the window (staff answers too), oldest first, fetched in batches.

    No e-mail addresses, IP hashes or texts: only what the numbers need. `connection`: run on it
    instead of the session (a streamed response outlives the request's session).
    """
    stmt = (
        select(Comment.id, Post.slug, Category.name, Comment.created_at, Comment.author_name, Comment.status,
               Comment.response_status, Comment.topic, Comment.is_official, Comment.moderated_at,
               Comment.answered_at, Comment.user_id, Post.category_id)
        .join(Post, Post.id == Comment.post_id).outerjoin(Category, Category.id == Post.category_id)
        .where(Comment.status.in_(STATUSES), win.contains()).order_by(Comment.created_at, Comment.id)
        .execution_options(yield_per=batch)
    )
    for (comment_id, slug, category, created, author, status, response_status, topic, official, moderated,
         answered, user_id, category_id) in (connection or db.session).execute(stmt):
        outcome = None if user_id is not None else target_outcome(
            goals, win.end, category_id, created, answered, response_status, status)
        yield (comment_id, slug, category or "", _iso(created), author, status, response_status or "", topic or "",
               "yes" if official else "no", _iso(moderated), _iso(answered), _minutes(created, moderated),
               _minutes(created, answered), "" if outcome is None else ("yes" if outcome else "no"))


def _iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if moment else ""


def _minutes(start: datetime, end: datetime | None) -> int | str:
    return round((end - start).total_seconds() / 60) if end else ""
