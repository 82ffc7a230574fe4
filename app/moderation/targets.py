"""Response targets: when a reader's question is due, counting all hours or business hours only."""
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_DAYS = 366  # enough for any sensible target; guards the loops


def due_at(created: datetime, minutes: int, tz: ZoneInfo, hours: tuple[int, int] | None = None) -> datetime:
    """When a question written at `created` is due; `hours` (e.g. (8, 18)) counts Mon–Fri only."""
    if not hours:
        return created + timedelta(minutes=minutes)
    local = created.astimezone(tz)
    left = timedelta(minutes=minutes)
    for _ in range(MAX_DAYS * 2):
        start, end = _window(local, tz, hours)
        if start is None or local >= end:
            local = _next_day_start(local, tz, hours)
            continue
        local = max(local, start)
        if local + left <= end:
            return (local + left).astimezone(created.tzinfo)
        left -= end - local
        local = _next_day_start(local, tz, hours)
    return local.astimezone(created.tzinfo)


def overdue_before(now: datetime, minutes: int, tz: ZoneInfo, hours: tuple[int, int] | None = None) -> datetime:
    """The newest creation time that is already overdue at `now` (questions older than this breach)."""
    if not hours:
        return now - timedelta(minutes=minutes)
    local = now.astimezone(tz)
    left = timedelta(minutes=minutes)
    for _ in range(MAX_DAYS * 2):
        start, end = _window(local, tz, hours)
        if start is not None and local > start:
            spent = min(local, end) - start
            if spent >= left:
                return (min(local, end) - left).astimezone(now.tzinfo)
            left -= spent
        local = _previous_day_end(local, tz, hours)
    return local.astimezone(now.tzinfo)


def business_minutes(start: datetime, end: datetime, tz: ZoneInfo, hours: tuple[int, int] | None = None) -> float:
    """Minutes between two times, counting only business hours when `hours` is given."""
    if end <= start:
        return 0.0
    if not hours:
        return (end - start).total_seconds() / 60
    total = timedelta()
    local = start.astimezone(tz)
    stop = end.astimezone(tz)
    for _ in range(MAX_DAYS * 10):
        if local >= stop:
            break
        window_start, window_end = _window(local, tz, hours)
        if window_start is not None:
            a, b = max(local, window_start), min(stop, window_end)
            if b > a:
                total += b - a
        local = _next_day_start(local, tz, hours, any_day=True)
    return total.total_seconds() / 60


def _window(local: datetime, tz: ZoneInfo, hours: tuple[int, int]):
    """Today's business window (start, end) in local time, or (None, end-of-day) on weekends."""
    day = local.date()
    if day.weekday() >= 5:
        return None, datetime.combine(day, time(23, 59, 59), tz)
    return datetime.combine(day, time(hours[0]), tz), datetime.combine(day, time(hours[1]), tz)


def _next_day_start(local: datetime, tz: ZoneInfo, hours: tuple[int, int], any_day: bool = False) -> datetime:
    day = local.date() + timedelta(days=1)
    if any_day:
        return datetime.combine(day, time(0), tz)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(hours[0]), tz)


def _previous_day_end(local: datetime, tz: ZoneInfo, hours: tuple[int, int]) -> datetime:
    day = local.date() - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return datetime.combine(day, time(hours[1]), tz)
