"""`aggregator status`: health at a glance, as a dict (for --json) and as text.

Unhealthy (`--check` exits 1) when: no successful poll of any feed for 3 default intervals while
feeds exist, the last digest failed, or the watchlist / feeds / settings file is invalid.
"""

from __future__ import annotations

import fcntl
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aggregator import schedule
from aggregator.config import PLACEHOLDER_RECIPIENT, Settings, load_feeds
from aggregator.dates import shown
from aggregator.errors import AggregatorError, redact, without_subject
from aggregator.store import Store, iso
from aggregator.watchlist import load_watchlist


def daemon_state(data_dir: Path) -> tuple[str, int | None]:
    """Whether a daemon runs on ``data_dir``: ("running", its PID), ("not running", None), or ("unknown", None)
    when its lock file cannot be read here (another user's). The daemon holds an flock on data_dir/aggregator.lock
    (daemon.DataDirLock) for as long as it runs; a file left by a killed one holds none."""
    try:
        fh = open(data_dir / "aggregator.lock")
    except FileNotFoundError:
        return "not running", None
    except OSError:
        return "unknown", None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            text = fh.read().strip()
            return "running", int(text) if text.isdigit() else None
        return "not running", None  # the lock was free (released with the file)


def collect(store: Store, settings: Settings, config_dir: Path, now: datetime) -> dict[str, Any]:
    feeds = store.feeds()
    problems: list[str] = []
    config_errors = {}
    loaded: dict[str, Any] = {}
    for name, load in (("watchlist", lambda: load_watchlist(config_dir)), ("feeds", lambda: load_feeds(config_dir))):
        try:
            loaded[name] = load()
        except AggregatorError as e:
            config_errors[name] = str(e)
            problems.append(f"{name} invalid: {e}")
    # what the running daemon rejected (it keeps the last good version active)
    rejected = {
        key.split("_")[0]: value
        for key in ("watchlist_error", "feeds_error", "settings_error")
        if (value := store.get_meta(key))
    }
    for name, value in rejected.items():
        if name not in config_errors:
            config_errors[name] = value
            problems.append(f"{name} rejected by the daemon: {value}")
    last_success = max((f.last_success_at for f in feeds if f.last_success_at), default=None)
    limit = timedelta(seconds=3 * settings["poll.default_interval"])
    first_start = store.get_meta("first_start")
    started = datetime.fromisoformat(first_start) if first_start else None
    if feeds and (last_success is None or now - last_success > limit) and started and now - started > limit:
        problems.append("no successful poll for 3 intervals")
    digests = store.digests(1)
    last_digest = dict(digests[0]) if digests else None
    if last_digest and last_digest["status"] == "failed":
        problems.append(f"last digest failed: {last_digest['last_error']}")
    h, m = settings["digest.time"]
    trigger = schedule.digest_trigger(
        h, m, settings["digest.timezone"], settings["digest.cadence"], settings["digest.weekday"]
    )
    next_digest = trigger.get_next_fire_time(None, now)
    next_poll = min((f.next_poll_at for f in feeds if f.next_poll_at and not f.gone), default=None)
    db = store.path
    size = sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists())
    state, pid = daemon_state(settings.data_dir)
    return {
        "healthy": not problems,
        "problems": problems,
        "daemon": {"state": state, "pid": pid},
        "feeds": {
            "total": len(feeds),
            "ok": sum(1 for f in feeds if not f.gone and not f.error_count and f.last_success_at),
            "failing": [
                {
                    "url": f.url,
                    "errors": f.error_count,
                    "kind": f.last_error_kind,
                    "error": f.last_error,
                    "since": iso(f.failing_since),
                    "next_poll": iso(f.next_poll_at),
                }
                for f in feeds
                if f.error_count and not f.gone
            ],
            "gone": [f.url for f in feeds if f.gone],
            # read, but malformed (feedparser's bozo): worth telling the publisher, not a failure
            "warnings": [
                {"url": f.url, "warning": f.warning} for f in feeds if f.warning and not f.error_count and not f.gone
            ],
            "never_polled": sum(1 for f in feeds if f.last_fetch_at is None),
        },
        "last_poll": store.get_meta("last_poll_at"),
        "last_poll_report": store.get_meta("last_poll_report"),
        "next_poll": iso(next_poll),
        "last_digest": {k: last_digest[k] for k in ("id", "status", "window_end", "sent_at", "stories", "last_error")}
        if last_digest
        else None,
        "next_digest": iso(next_digest),
        "recipients": list(settings["digest.to"]),
        "delivery": f"SMTP {settings['smtp.host']}:{settings['smtp.port']} ({settings['smtp.security']})"
        if settings.smtp_configured
        else f"outbox {settings.data_dir / 'outbox'}",
        "delivery_warnings": _delivery_warnings(settings),
        "topics": [t.id for t in loaded["watchlist"].topics] if "watchlist" in loaded else None,
        "watchlist_warnings": list(loaded["watchlist"].warnings) if "watchlist" in loaded else [],
        "config_errors": config_errors,
        "rejected_by_daemon": rejected,
        "items": store.count_items(),
        "database": {"path": str(db), "bytes": size, "schema_version": store.schema_version},
    }


def _delivery_warnings(settings: Settings) -> list[str]:
    """What would make the next digest fail, as far as this process can tell: a login with no password in its
    environment or file. Warnings, not problems: the daemon may run with another environment (a systemd unit's
    Environment=, docker -e) than the shell that asks."""
    if not (settings.smtp_configured and settings["smtp.username"]):
        return []
    try:
        if settings.smtp_password() is None:
            return [
                f"smtp.username is set but {settings['smtp.password_env']} is not set here: the daemon needs it in "
                "its own environment (a systemd unit's Environment=, docker -e), or use smtp.password_file"
            ]
    except AggregatorError as e:  # smtp.password_file that cannot be read
        return [e.one_line()]
    return []


def _error_of(failing: dict[str, Any]) -> str:
    """A failing feed's error without the feed's address in front: the line names it already."""
    return without_subject(redact(failing["error"] or ""), redact(failing["url"]))


def _daemon_line(daemon: dict[str, Any]) -> str:
    if daemon["state"] == "running":
        return "running" + (f" (pid {daemon['pid']})" if daemon["pid"] else "")
    if daemon["state"] == "not running":
        return "not running: nothing is polled or sent at the times below until `aggregator run` starts"
    return "unknown (its lock file cannot be read by this user)"


def render(st: dict[str, Any], now: datetime | None = None, tz: str | None = None) -> str:
    """``st`` as text; with ``now`` and ``tz`` (an IANA name), times read as local times with their distance."""
    f = st["feeds"]
    lines = [
        f"health:      {'ok' if st['healthy'] else 'UNHEALTHY'}",
        *[f"  problem:   {p}" for p in st["problems"]],
        f"daemon:      {_daemon_line(st['daemon'])}",
        f"feeds:       {f['total']} ({f['ok']} ok, {len(f['failing'])} failing, {len(f['gone'])} gone, "
        f"{f['never_polled']} not yet polled)",
        *[
            f"  failing:   {x['url']}: {_error_of(x)} ({x['errors']} in a row; "
            f"next try {shown(x['next_poll'], now, tz)})"
            for x in f["failing"]
        ],
        *[f"  gone:      {u}" for u in f["gone"]],
        *[f"  warning:   {x['url']}: {x['warning']}" for x in f["warnings"]],
        f"last poll:   {shown(st['last_poll'], now, tz) or 'never'}"
        + (f"  ({st['last_poll_report']})" if st["last_poll_report"] else ""),
        f"next poll:   {shown(st['next_poll'], now, tz) or '-'}",
    ]
    d = st["last_digest"]
    lines.append(
        f"last digest: {d['status']} #{d['id']} window to {shown(d['window_end'], now, tz)}"
        + (f" ({d['last_error']})" if d["last_error"] else "")
        if d
        else "last digest: none yet"
    )
    to = ", ".join(st["recipients"])
    if st["recipients"] == [PLACEHOLDER_RECIPIENT] and st["delivery"].startswith("SMTP"):
        to += " (the example address: set digest.to in aggregator.toml)"
    lines.append(f"next digest: {shown(st['next_digest'], now, tz)} via {st['delivery']} to {to}")
    lines += [f"  warning:   {w}" for w in st["delivery_warnings"]]
    if st["topics"] is not None:
        lines.append(f"topics:      {len(st['topics'])}" + (f" ({', '.join(st['topics'])})" if st["topics"] else ""))
    lines += [f"  warning:   {w}" for w in st["watchlist_warnings"]]
    for name, err in st["config_errors"].items():
        lines.append(f"config:      {name}: {err}")
    for name in st["rejected_by_daemon"]:
        lines.append(f"daemon:      kept the last good {name} (the edit above was rejected)")
    db = st["database"]
    lines.append(
        f"database:    {db['path']} ({db['bytes'] / 1e6:.1f} MB, {st['items']} items, schema v{db['schema_version']})"
    )
    return "\n".join(lines)
