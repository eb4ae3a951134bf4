"""Scheduling decisions: when is a feed due next. Pure: state and `now` in, a datetime out.

Rules, in order:
  1. 410 Gone -> never again (None); the feed shows as gone.
  2. 429/503 with Retry-After -> at least that long (capped at 24 h), and at least the backoff.
  3. any other error -> capped exponential backoff: interval x 2^(errors-1), at most max_interval.
     A feed is never disabled for errors: it is only polled less often, and recovers on success.
  4. success -> the user's `interval` if set, else the adaptive interval: the median gap between
     the feed's entries, bounded to [min_interval, max_interval]. Never below what the feed asks
     (RSS <ttl> or <sy:updatePeriod>, up to half the time its listed entries span: listing_bound;
     Cache-Control max-age) unless the user set an interval.
Jitter of +-10% (from a hash of the URL and the time, so it is deterministic) keeps feeds from
firing together.
"""

from __future__ import annotations

import hashlib
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MAX_BACKOFF = 24 * 3600


@dataclass(frozen=True)
class ScheduleSettings:
    default_interval: int = 3600
    min_interval: int = 600
    max_interval: int = 24 * 3600


def jitter(url: str, now: datetime, spread: float = 0.1) -> float:
    """A factor in [1 - spread, 1 + spread], stable for a given feed and time."""
    h = hashlib.blake2b(f"{url}|{now.isoformat()}".encode(), digest_size=4).digest()
    return 1 - spread + 2 * spread * (int.from_bytes(h, "big") / 0xFFFFFFFF)


def mean_gap(published: list[datetime]) -> float | None:
    """Median seconds between consecutive entries (median, so one old entry does not skew it)."""
    times = sorted(set(published))[-30:]
    if len(times) < 3:
        return None
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False) if b > a]
    return float(statistics.median(gaps)) if gaps else None


def listing_bound(ttl: int | None, published: list[datetime]) -> int | None:
    """A feed's own word on how often to read it (<ttl>, <sy:updatePeriod>), lowered to half the time its
    document's entries span: a busy feed that lists its last 10 entries of the past hour and asks to be read
    daily would drop entries unread between two polls. Never raised; None stays None."""
    if not ttl or len(published) < 3:
        return ttl
    span = (max(published) - min(published)).total_seconds()
    return max(1, min(ttl, int(span / 2))) if span > 0 else ttl


def success_interval(
    s: ScheduleSettings, *, override: int | None, gap: float | None, ttl: int | None, max_age: int | None
) -> int:
    if override:
        return override
    base = int(gap) if gap else s.default_interval
    base = max(s.min_interval, min(s.max_interval, base))
    floor = max(ttl or 0, max_age or 0)
    return min(max(base, floor), s.max_interval)


def backoff_interval(s: ScheduleSettings, *, base: int, errors: int, retry_after: float | None) -> int:
    wait = min(base * 2 ** max(0, errors - 1), max(MAX_BACKOFF, base))
    if retry_after is not None:
        wait = max(wait, min(int(retry_after), MAX_BACKOFF))
    return int(wait)


def next_poll(
    s: ScheduleSettings,
    *,
    url: str,
    now: datetime,
    ok: bool,
    gone: bool = False,
    errors: int = 0,
    retry_after: float | None = None,
    override: int | None = None,
    gap: float | None = None,
    ttl: int | None = None,
    max_age: int | None = None,
) -> datetime | None:
    """When the feed is due next. ``errors`` counts the failures in a row including this one."""
    if gone:
        return None
    base = success_interval(s, override=override, gap=gap, ttl=ttl, max_age=max_age)
    if ok:
        return now + timedelta(seconds=base * jitter(url, now))
    wait = backoff_interval(s, base=base, errors=errors, retry_after=retry_after)
    # Jitter only upwards after an error, so that Retry-After is always honoured, and never past the cap.
    jittered = min(wait * (1 + (jitter(url, now) - 0.9) / 2), max(wait, MAX_BACKOFF))
    return now + timedelta(seconds=jittered)


def is_due(next_poll_at: datetime | None, now: datetime, *, gone: bool) -> bool:
    return not gone and (next_poll_at is None or next_poll_at <= now)


def digest_trigger(hour: int, minute: int, timezone: str, cadence: str = "daily", weekday: str = "mon"):
    """The APScheduler CronTrigger of the digest (in the user's time zone, so DST is handled)."""
    from apscheduler.triggers.cron import CronTrigger

    if cadence == "weekly":
        return CronTrigger(day_of_week=weekday, hour=hour, minute=minute, timezone=timezone)
    return CronTrigger(hour=hour, minute=minute, timezone=timezone)


def last_fire_before(trigger, now: datetime, lookback: timedelta = timedelta(days=8)) -> datetime | None:
    """The latest fire time of ``trigger`` at or before ``now`` (for catch-up after downtime), in UTC.

    Time is stepped in UTC: in the hour a DST change repeats, local wall-clock arithmetic goes backwards
    (01:30 GMT + 1 s is 01:30:01 BST, an hour earlier) and the search would never end. A wall-clock time
    that comes round twice that night counts once, at its first occurrence, as cron does: one digest."""
    fire = trigger.get_next_fire_time(None, now - lookback)
    last = None
    while fire is not None and fire <= now:
        wall = fire.replace(tzinfo=None)
        if last is None or wall != last[1]:
            last = (fire.astimezone(UTC), wall)
        fire = trigger.get_next_fire_time(fire, fire.astimezone(UTC) + timedelta(seconds=1))
    return last[0] if last else None


def missed_digest(
    trigger, now: datetime, *, first_start: datetime | None, last_served: datetime | None
) -> datetime | None:
    """The digest time that fell due while the daemon was down and was never served, if any.

    Only the latest missed time counts (a week of downtime gives one catch-up digest, whose window
    covers the whole week); a time before the daemon first started is not "missed".
    """
    due = last_fire_before(trigger, now)
    if due is None or first_start is None or first_start > due:
        return None
    if last_served is not None and last_served >= due:
        return None
    return due
