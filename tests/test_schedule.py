"""Scheduling decisions, with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aggregator.schedule import (
    ScheduleSettings,
    digest_trigger,
    jitter,
    last_fire_before,
    listing_bound,
    mean_gap,
    next_poll,
)

S = ScheduleSettings(default_interval=3600, min_interval=600, max_interval=86400)
NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


def wait(**kw) -> float:
    nxt = next_poll(S, url="https://a.example/f", now=NOW, **kw)
    return (nxt - NOW).total_seconds()


def test_adaptive_interval_is_bounded_and_respects_feed_hints():
    assert 3600 * 0.9 <= wait(ok=True) <= 3600 * 1.1  # unknown rate: the default
    assert 600 * 0.9 <= wait(ok=True, gap=60) <= 600 * 1.1  # a very busy feed: not below 10 min
    assert wait(ok=True, gap=7 * 86400) <= 86400 * 1.1  # a weekly feed: at most a day
    assert wait(ok=True, gap=60, ttl=7200) >= 7200 * 0.9  # <ttl> asks for 2 h
    assert wait(ok=True, gap=60, max_age=5400) >= 5400 * 0.9  # Cache-Control max-age
    assert 300 * 0.9 <= wait(ok=True, override=300, ttl=7200) <= 300 * 1.1  # the user's interval wins


def test_a_feeds_own_interval_never_lets_its_entries_fall_off_unread():
    """A feed's <ttl> or <sy:updatePeriod> is lowered to half the time its listed entries span: read daily, a
    feed listing the last 10 entries of 4 hours would lose most of a day's entries; a slow feed keeps it."""
    busy = [NOW - timedelta(minutes=24 * k) for k in range(10)]  # 10 entries over 3.6 hours
    assert listing_bound(86400, busy) == 9 * 24 * 60 // 2  # half of 3.6 hours, in seconds
    assert 6480 * 0.9 <= wait(ok=True, gap=24 * 60, ttl=listing_bound(86400, busy)) <= 6480 * 1.1
    slow = [NOW - timedelta(days=2 * k) for k in range(10)]  # 10 entries over 18 days
    assert listing_bound(86400, slow) == 86400 and listing_bound(None, busy) is None
    assert listing_bound(3600, busy[:2]) == 3600  # too few dates to tell
    assert listing_bound(3600, [NOW, NOW, NOW]) == 3600  # no span: nothing to go by


def test_backoff_doubles_with_cap_and_retry_after_is_honoured():
    waits = [wait(ok=False, errors=n) for n in range(1, 12)]
    assert waits[0] >= 3600 and waits[1] >= 7200 and waits[2] >= 4 * 3600
    assert all(w <= 86400 for w in waits) and waits[-1] >= 86400 * 0.99
    assert wait(ok=False, errors=1, retry_after=5 * 3600) >= 5 * 3600
    assert wait(ok=False, errors=1, retry_after=10 * 86400) <= 86400
    assert next_poll(S, url="u", now=NOW, ok=False, gone=True) is None


def test_jitter_is_deterministic_and_spread():
    values = {round(jitter(f"https://feed{i}.example/", NOW), 3) for i in range(50)}
    assert len(values) > 40 and min(values) >= 0.9 and max(values) <= 1.1
    assert jitter("x", NOW) == jitter("x", NOW)


def test_mean_gap_is_the_median_of_recent_gaps():
    times = [NOW - timedelta(hours=h) for h in (0, 1, 2, 3, 100)]
    assert mean_gap(times) == 3600
    assert mean_gap(times[:2]) is None


def test_digest_trigger_across_daylight_saving_change():
    trigger = digest_trigger(7, 0, "Europe/London")
    # the clocks go forward on 2026-03-29: 07:00 local is 07:00 UTC the day before, 06:00 UTC after
    before = trigger.get_next_fire_time(None, datetime(2026, 3, 28, 0, 0, tzinfo=UTC))
    after = trigger.get_next_fire_time(None, datetime(2026, 3, 29, 0, 0, tzinfo=UTC))
    assert before.astimezone(UTC) == datetime(2026, 3, 28, 7, 0, tzinfo=UTC)
    assert after.astimezone(UTC) == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    # and back on 2026-10-25
    autumn = trigger.get_next_fire_time(None, datetime(2026, 10, 25, 0, 0, tzinfo=UTC))
    assert autumn.astimezone(UTC) == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)
    assert last_fire_before(trigger, datetime(2026, 3, 29, 12, 0, tzinfo=UTC)).astimezone(UTC) == after.astimezone(UTC)
    weekly = digest_trigger(9, 30, "America/New_York", "weekly", "fri")
    nxt = weekly.get_next_fire_time(None, datetime(2026, 11, 28, 0, 0, tzinfo=UTC))
    assert nxt.weekday() == 4 and (nxt.hour, nxt.minute) == (9, 30)


def test_a_digest_time_in_the_hour_clocks_repeat_or_skip_is_served_once():
    """01:30 in London: on the autumn night that hour comes round twice (01:30 BST, then 01:30 GMT); the
    search for the last due time once never ended there (local arithmetic went backwards). It ends, and
    the night has one digest time, the first. On the spring night 01:30 does not exist: one time still."""
    import signal

    def hung(*_):
        raise AssertionError("last_fire_before did not end")

    signal.signal(signal.SIGALRM, hung)
    signal.alarm(10)
    try:
        trigger = digest_trigger(1, 30, "Europe/London")
        first = datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 01:30 BST
        for now in (first, first + timedelta(hours=1), first + timedelta(hours=5)):
            assert last_fire_before(trigger, now) == first, now
        assert last_fire_before(trigger, datetime(2027, 11, 1, 2, 0, tzinfo=UTC)) == datetime(
            2027, 11, 1, 1, 30, tzinfo=UTC
        )
        spring = {last_fire_before(trigger, datetime(2027, 3, 28, h, 0, tzinfo=UTC)) for h in range(2, 12)}
        assert len(spring) == 1 and spring.pop().date() == datetime(2027, 3, 28).date()
        ny = digest_trigger(1, 30, "America/New_York")  # the repeated hour there: 2027-11-07
        assert last_fire_before(ny, datetime(2027, 11, 7, 12, 0, tzinfo=UTC)) == datetime(
            2027, 11, 7, 5, 30, tzinfo=UTC
        )
    finally:
        signal.alarm(0)


def test_a_cycle_takes_the_feeds_in_turns_of_their_hosts():
    """Hundreds of feeds from one host (fetched one at a time, for politeness) must not hold every fetch
    slot while other hosts wait: a cycle takes hosts in turns, each host's feeds in their order."""
    from types import SimpleNamespace

    from aggregator.poll import _by_turns_of_host

    def feed(url):  # the order needs only a feed's URL
        return SimpleNamespace(url=url)

    urls = [f"https://www.youtube.com/feeds/videos.xml?channel_id={n}" for n in range(4)]
    urls += ["https://news.example/rss", "https://blog.example/feed", "https://news.example/world/rss"]
    ordered = [f.url.split("/")[2] for f in _by_turns_of_host([feed(u) for u in urls])]
    assert ordered == [
        "www.youtube.com",
        "news.example",
        "blog.example",
        "www.youtube.com",
        "news.example",
        "www.youtube.com",
        "www.youtube.com",
    ]
