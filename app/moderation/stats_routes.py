"""The customer pulse: /moderation/stats and the CSV export (routes on the moderation blueprint)."""
import csv
import io

from babel.dates import format_skeleton
from babel.units import format_unit
from flask import Response, current_app, render_template, request
from flask_babel import format_decimal, format_number, format_percent, get_locale, gettext as _, lazy_gettext as _l

from app import charts
from app.extensions import db
from app.i18n import site_timezone
from app.models import CommentStatus, Topic, utcnow
from app.moderation import stats as numbers
from app.moderation.queue import Targets
from app.moderation.routes import STATUS_LABELS, TOPIC_LABELS, bp, moderate

WORK_LABELS = {"approve": _l("Approved"), "reject": _l("Rejected"), "spam": _l("Spam"), "delete": _l("Deleted"),
               "reply": _l("Answered")}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")  # spreadsheet formulas (CSV injection)
CSV_FLUSH_ROWS = 500
# viewBox widths close to the width a chart gets on a desktop screen, so its text stays near 12px
SMALL, MEDIUM = 400, 600


@bp.get("/stats", endpoint="stats")
@moderate
def stats_page():
    """The team's numbers now and over the chosen weeks, with charts and tables."""
    tz, now = site_timezone(), utcnow()
    win = numbers.window(now, numbers.parse_weeks(request.args.get("weeks")), tz)
    goals = Targets.load(current_app.config, tz)
    snap = numbers.snapshot(now, goals)
    days = numbers.per_day(win)
    speed = numbers.speed(win, goals)
    pulse = numbers.topics(win)
    return render_template(
        "moderation/stats.html", win=win, now=now, snap=snap, days=days, speed=speed, topics=pulse,
        work=numbers.work_per_moderator(win), posts=numbers.busiest_posts(win),
        categories=numbers.busiest_categories(win), charts=_charts(win, days, speed, pulse),
        unanswered=numbers.unanswered_topics(now, goals),
        week_choices=numbers.WEEK_CHOICES, work_labels=WORK_LABELS, statuses=list(CommentStatus),
        topic_keys=list(Topic), duration=duration, week_label=week_label, short_date=short_date,
        total_comments=sum(d.total for d in days),
    )


@bp.get("/export.csv")
@moderate
def export_csv():
    """Every comment of the window as CSV, streamed row by row (no e-mail addresses, no IP hashes)."""
    tz, now = site_timezone(), utcnow()
    win = numbers.window(now, numbers.parse_weeks(request.args.get("weeks")), tz)
    goals = Targets.load(current_app.config, tz)
    engine = db.engine

    def generate():
        # The body is read after the view has returned, maybe in another context: it uses its own
        # connection rather than the request's session, and needs no Flask context at all.
        with engine.connect() as connection:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            buffer.write("\ufeff")  # Excel reads UTF-8 only with a byte order mark
            writer.writerow(numbers.EXPORT_COLUMNS)
            for n, row in enumerate(numbers.export_rows(win, goals, connection), 1):
                writer.writerow([safe_cell(value) for value in row])
                if n % CSV_FLUSH_ROWS == 0:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue()

    filename = f"dialog-comments-{now.astimezone(tz).date().isoformat()}.csv"
    return Response(generate(), content_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f"attachment; filename={filename}", "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    })


def safe_cell(value):
    """Text that a spreadsheet would run as a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


# --- formatting ---------------------------------------------------------------------------------

def duration(minutes: float | None) -> str:
    """A time span for people: minutes, hours or days, in the reader's language ("1,5 Std.")."""
    if minutes is None:
        return "–"
    locale = get_locale()
    if minutes < 90:
        return format_unit(round(minutes), "duration-minute", length="short", locale=locale)
    if minutes < 48 * 60:
        return format_unit(round(minutes / 60, 1), "duration-hour", length="short", locale=locale)
    days = minutes / 1440
    return format_unit(round(days, 1) if days < 10 else round(days), "duration-day", length="short", locale=locale)


def short_date(day, skeleton: str = "dM") -> str:
    """A date as short as the locale writes it ("5.3." in German, "3/5" in English)."""
    return format_skeleton(skeleton, day, locale=get_locale())


def week_label(week: numbers.Week) -> str:
    return _("Wk %(n)s", n=week.number)


def _decimal(value: float) -> str:
    return format_decimal(value, format="#,##0.#")


def _time_unit(max_minutes: float) -> tuple[float, str]:
    """Divisor and axis title that keep a time axis readable (minutes, hours or days)."""
    if max_minutes < 120:
        return 1, _("Minutes")
    if max_minutes < 72 * 60:
        return 60, _("Hours")
    return 1440, _("Days")


def _charts(win: numbers.Window, days: list[numbers.Day], speed: numbers.Speed, pulse: numbers.TopicStats) -> dict:
    empty = _("No data in this period.")
    first, last = short_date(win.day_of(win.start)), short_date(win.day_of(win.end))
    period = _("%(start)s to %(end)s", start=first, end=last)
    every = {4: 2, 8: 7, 12: 7, 26: 14}.get(win.weeks, 7)
    total = sum(d.total for d in days)
    by_status = {s: sum(d.counts[s] for d in days) for s in CommentStatus}
    result = {"daily": charts.stacked_bars(
        [short_date(d.day) for d in days],
        [charts.Series(s, str(STATUS_LABELS[s]), [d.counts[s] for d in days]) for s in CommentStatus],
        title=_("Reader comments per day"),
        desc=_("Reader comments per day by their status now, %(period)s: %(total)s in total (%(parts)s).",
               period=period, total=format_number(total),
               parts=", ".join(f"{STATUS_LABELS[s]} {format_number(n)}" for s, n in by_status.items())),
        y_label=_("Comments"), fmt=format_number, empty=empty, label_every=every, width=1100, height=300,
        ident="chart-daily")}

    weeks = [week_label(t.week) for t in speed.weeks]
    for key, title, median, p90 in (
            ("moderation", _("Time to moderation"), "moderation_median", "moderation_p90"),
            ("answer", _("Time to first answer"), "answer_median", "answer_p90")):
        medians = [getattr(t, median) for t in speed.weeks]
        p90s = [getattr(t, p90) for t in speed.weeks]
        divisor, unit = _time_unit(max([v for v in medians + p90s if v is not None], default=0))
        scaled = lambda values, divisor=divisor: [None if v is None else v / divisor for v in values]  # noqa: E731
        result[key] = charts.line_chart(
            weeks, [charts.Series("median", _("Median"), scaled(medians)),
                    charts.Series("p90", _("90th percentile"), scaled(p90s), dashed=True)],
            title=title, desc=_("%(what)s per week of writing, %(period)s: median %(median)s, "
                                "90th percentile %(p90)s over the whole period.", what=title, period=period,
                                median=duration(getattr(speed.total, median)), p90=duration(getattr(speed.total, p90))),
            y_label=unit, fmt=_decimal, empty=empty, width=SMALL, height=240, max_labels=5, ident=f"chart-{key}")

    shares = [None if t.share_within_target is None else t.share_within_target * 100 for t in speed.weeks]
    overall = speed.total.share_within_target
    result["target"] = charts.line_chart(
        weeks, [charts.Series("target", _("Answered within target"), shares)],
        title=_("Answered within target"),
        desc=_("Share of readers' questions answered within their category's target, per week of writing, "
               "%(period)s: %(share)s over the whole period.", period=period,
               share=format_percent(overall) if overall is not None else "–"),
        y_label=_("Percent"), fmt=_decimal, y_max=100, empty=empty, width=SMALL, height=240, max_labels=5,
        ident="chart-target")

    topic_series = lambda rows: [  # noqa: E731
        charts.Series(t, str(TOPIC_LABELS[t]), [counts[t] for _key, counts in rows]) for t in Topic]
    result["topics"] = charts.hbars(
        [name or _("No category") for name, _counts in pulse.per_category], topic_series(pulse.per_category),
        title=_("Topics per category"),
        desc=_("Reader comments with a topic (set by the team or suggested), per category, %(period)s: %(parts)s.",
               period=period,
               parts=", ".join(f"{TOPIC_LABELS[t]} {format_number(n)}" for t, n in pulse.totals.items())),
        x_label=_("Comments"), fmt=format_number, empty=empty, width=MEDIUM, ident="chart-topics")
    result["topic_trend"] = charts.line_chart(
        weeks if pulse.total else [], topic_series(pulse.per_week),
        title=_("Topics per week"),
        desc=_("Reader comments per topic and week of writing, %(period)s.", period=period),
        y_label=_("Comments"), fmt=format_number, empty=empty, width=MEDIUM, max_labels=10, ident="chart-topic-trend")
    return result
