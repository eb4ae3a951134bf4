"""The digest job, top to bottom: select window -> build -> render -> send -> record.

Exactly once: a digest row (window, recipients, Message-ID) is committed BEFORE anything is
sent; it moves to 'sent' only after the server (or the outbox) accepted it. A crash in between
leaves a 'sending' row that is resent with the same Message-ID (mail clients drop the copy), and
never a second window. Windows start at the end of the last sent (or skipped) digest, so the
items of a failed digest roll into the next one. A cron time already recorded is never run twice.
A digest still being retried when the next one falls due is folded into it (the next window starts
where the owed one did): retrying both would mail the owed window's stories twice.

Row states: sending -> sent | retrying -> sent | failed | superseded; or skipped (empty day,
digest.empty = "skip").
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import make_msgid
from pathlib import Path

from aggregator import digest as digest_mod
from aggregator.config import Settings
from aggregator.digest import Digest
from aggregator.errors import AggregatorError, ConfigError, DeliveryError
from aggregator.locks import PidLock
from aggregator.render import build_message, fit, message_id_domain, render_html, render_text
from aggregator.send import Sent, SmtpSettings, send_smtp, write_outbox
from aggregator.store import Store, from_iso, iso
from aggregator.watchlist import Watchlist

log = logging.getLogger("aggregator.digest")
RETRY_STEPS = (60, 300, 900, 1800, 3600)  # seconds between attempts, the last one repeating


@dataclass(frozen=True)
class Outcome:
    digest_id: int | None
    status: str
    message: str


def compose(store: Store, settings: Settings, watchlist: Watchlist, start: datetime | None, end: datetime) -> Digest:
    """Select the window's rows and build the digest (no side effects)."""
    rows = store.digest_rows(start, end)
    if settings["digest.max_age"]:  # reports published long before they were fetched (a feed's archive) stay out
        oldest = end - timedelta(seconds=settings["digest.max_age"])
        rows = [r for r in rows if (from_iso(r["published"]) or from_iso(r["fetched_at"]) or end) >= oldest]
    story_ids = sorted({r["story_id"] for r in rows})
    seen, dups = store.window_counts(start, end)
    digest = digest_mod.build_digest(
        rows=rows,
        sources=store.story_sources(story_ids, end),
        topics=[(t.id, t.name) for t in watchlist.topics],
        window_start=start,
        window_end=end,
        timezone=settings["digest.timezone"],
        items_seen=seen,
        duplicates=dups,
        health=digest_mod.feed_health(store.feeds(), end),
        daily_counts=store.topic_daily_counts(end - timedelta(days=8)),
        max_per_topic=settings["digest.max_stories_per_topic"],
    )
    return fit(digest)


def next_window_start(store: Store, settings: Settings, end: datetime) -> datetime:
    """Where the next window starts: the end of the last sent (or skipped) digest; before any was
    sent, where the first (failed) one started, so that its items roll over; else one period back."""
    last = store.last_sent_digest()
    if last is not None:
        return from_iso(last["window_end"]) or end
    first = store.execute("SELECT window_start FROM digests ORDER BY id LIMIT 1").fetchone()
    if first is not None and first["window_start"]:
        return from_iso(first["window_start"]) or end
    period = 7 if settings["digest.cadence"] == "weekly" else 1
    return end - timedelta(days=period)


def outbox_dir(settings: Settings) -> Path:
    return settings.data_dir / "outbox"


def smtp_settings(settings: Settings) -> SmtpSettings:
    password = settings.smtp_password()
    if settings["smtp.username"] and password is None:  # a login with an empty password: refused, and why?
        raise ConfigError(
            f"smtp.username is set but there is no password: the environment variable {settings['smtp.password_env']} "
            "is not set for aggregator",
            hint="set it where the daemon starts (a systemd unit's Environment=, docker -e) or use smtp.password_file",
        )
    return SmtpSettings(
        host=settings["smtp.host"],
        port=settings["smtp.port"],
        security=settings["smtp.security"],
        username=settings["smtp.username"],
        password=password,
        timeout=settings["smtp.timeout"],
        sender=settings["smtp.from"],
        ssl_context=settings.smtp_ssl_context(),
    )


def write_preview(
    store: Store,
    settings: Settings,
    watchlist: Watchlist,
    now: datetime,
    since: datetime | None = None,
    out: Path | None = None,
) -> tuple[Digest, Path]:
    """Render the pending window (or one since ``since``) to HTML (+ .eml beside it in the outbox).
    Records nothing."""
    start = since if since is not None else next_window_start(store, settings, now)
    d = compose(store, settings, watchlist, start, now)
    html = render_html(d)
    msg = build_message(d, sender=settings["smtp.from"], to=settings["digest.to"], now=now)
    if out is not None:
        suffix = out.suffix.lower()
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            if suffix == ".eml":  # the message as it would be sent, for a mail client to open
                out.write_bytes(msg.as_bytes())
            else:
                out.write_text(html if suffix in (".html", ".htm") else render_text(d), encoding="utf-8")
        except OSError as e:
            raise AggregatorError(
                f"{out}: cannot write the preview: {e.strerror}", hint="give --out a file path you can write"
            ) from e
        return d, out
    path = write_outbox(msg, html, outbox_dir(settings), "preview")
    return d, path


def send_preview(
    store: Store,
    settings: Settings,
    watchlist: Watchlist,
    now: datetime,
    to: tuple[str, ...],
    since: datetime | None = None,
) -> tuple[Digest, Sent]:
    """Mail the pending window (or one since ``since``) to ``to`` through the configured SMTP server, as a
    test of the mail set-up with real content. Records nothing: the scheduled digest is unchanged."""
    if not settings.smtp_configured:
        raise ConfigError(
            "digest --to: no [smtp] host in aggregator.toml: digests go to the outbox folder",
            hint="set smtp.host (README, Point it at real feeds and a real mail server), or preview with --out",
        )
    start = since if since is not None else next_window_start(store, settings, now)
    d = compose(store, settings, watchlist, start, now)
    msg = build_message(d, sender=settings["smtp.from"], to=to, now=now)
    msg.replace_header("Subject", "[preview] " + str(msg["Subject"]))
    try:
        return d, send_smtp(msg, to, smtp_settings(settings))
    except DeliveryError as e:  # nothing is retried here: say what to check instead
        hint = e.hint if e.hint and "retried" not in e.hint else "check smtp.host and smtp.port, and that it is up"
        raise DeliveryError(e.message, permanent=e.permanent, hint=hint + "; nothing was recorded") from e


SENDING_WAIT = 300.0  # seconds a digest waits for another program's delivery to finish


@contextmanager
def sending(store: Store, wait: float = SENDING_WAIT) -> Iterator[None]:
    """One program at a time records and sends digests on a data directory (data_dir/digest.lock):
    `aggregator digest --send` run as the daemon's digest falls due would otherwise take the same window, the
    other's digest not yet sent, and mail its stories twice."""
    lock = PidLock(store.path.parent / "digest.lock")
    if not lock.acquire(wait):
        raise DeliveryError(
            f"another program ({lock.holder()}) has been sending a digest from {store.path.parent} for {wait:.0f} s",
            permanent=False,
            hint="wait for it (`aggregator digest list` shows it), or stop the program that hangs",
        )
    try:
        yield
    finally:
        lock.release()


def run_digest(
    store: Store,
    settings: Settings,
    watchlist: Watchlist,
    now: datetime,
    *,
    scheduled_for: datetime | None = None,
    smtp: SmtpSettings | None = None,
) -> Outcome:
    """Create the due digest and deliver it. ``scheduled_for`` is the cron time being served."""
    with sending(store):
        return _run_digest(store, settings, watchlist, now, scheduled_for=scheduled_for, smtp=smtp)


def _run_digest(
    store: Store,
    settings: Settings,
    watchlist: Watchlist,
    now: datetime,
    *,
    scheduled_for: datetime | None,
    smtp: SmtpSettings | None,
) -> Outcome:
    if scheduled_for is not None:
        row = store.execute("SELECT id, status FROM digests WHERE scheduled_for = ?", (iso(scheduled_for),)).fetchone()
        if row is not None:
            return Outcome(row["id"], row["status"], f"digest for {iso(scheduled_for)} already {row['status']}")
    pending = store.execute(
        "SELECT id, window_start FROM digests WHERE status IN ('sending', 'retrying') ORDER BY id"
    ).fetchall()
    owed = []
    for p in pending:  # an earlier one is still owed: deliver it first, in order
        if attempt(store, settings, watchlist, p["id"], now, smtp=smtp).status == "retrying":
            owed.append(p)
    start = next_window_start(store, settings, now)
    # those whose window the new one covers (all of them, unless a later digest was sent meanwhile)
    owed = [p["id"] for p in owed if (from_iso(p["window_start"]) or now) >= start]
    d = compose(store, settings, watchlist, start, now)
    recipients = settings["digest.to"]
    with store.transaction():
        status = "skipped" if d.empty and settings["digest.empty"] == "skip" else "sending"
        cur = store.execute(
            "INSERT INTO digests (window_start, window_end, created_at, status, recipients, message_id, subject, "
            "stories, scheduled_for) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                iso(start),
                iso(now),
                iso(now),
                status,
                json.dumps(list(recipients)),
                make_msgid("digest", domain=message_id_domain(settings["smtp.from"])),
                d.subject(),
                d.story_count,
                iso(scheduled_for),
            ),
        )
        digest_id = int(cur.lastrowid or 0)
        # the owed windows lie within this one (it starts where the last sent digest ended): this digest
        # carries their stories, and they are not retried
        for owed_id in owed:
            store.execute(
                "UPDATE digests SET status = 'superseded', next_attempt_at = NULL, last_error = ? WHERE id = ?",
                (f"folded into digest #{digest_id} (undelivered when it fell due)", owed_id),
            )
    for owed_id in owed:
        log.warning("digest #%d: undelivered when the next fell due; its stories go in #%d", owed_id, digest_id)
    if status == "skipped":
        log.info('digest #%d: nothing new, skipped (digest.empty = "skip")', digest_id)
        return Outcome(digest_id, "skipped", "nothing new: skipped")
    return attempt(store, settings, watchlist, digest_id, now, smtp=smtp)


def attempt(
    store: Store,
    settings: Settings,
    watchlist: Watchlist,
    digest_id: int,
    now: datetime,
    *,
    smtp: SmtpSettings | None = None,
) -> Outcome:
    """One delivery attempt of a recorded digest (same window, same Message-ID every time)."""
    row = store.execute("SELECT * FROM digests WHERE id = ?", (digest_id,)).fetchone()
    start, end = from_iso(row["window_start"]), from_iso(row["window_end"])
    assert end is not None
    d = compose(store, settings, watchlist, start, end)
    recipients = tuple(json.loads(row["recipients"]))
    msg = build_message(d, sender=settings["smtp.from"], to=recipients, now=now, message_id=row["message_id"])
    attempts = row["attempts"] + 1
    note = None  # recipients refused while others got the digest
    try:
        if smtp is None and not settings.smtp_configured:
            stem = "digest-" + end.astimezone(UTC).strftime("%Y%m%d-%H%M%S") + f"-{digest_id}"
            path = write_outbox(msg, render_html(d), outbox_dir(settings), stem)
            result, outbox = f"written to {path}", str(path)
        else:
            sent = send_smtp(msg, recipients, smtp or smtp_settings(settings))
            result, outbox = sent.reply, None
            if sent.refused:
                note = "delivered, but the server refused " + "; ".join(f"{a}: {r}" for a, r in sent.refused.items())
                log.warning("digest #%d: %s (check digest.to in aggregator.toml)", digest_id, note)
    except (DeliveryError, ConfigError) as e:  # ConfigError: the password or CA file cannot be read (fixable)
        error = e.one_line()
        created = from_iso(row["created_at"]) or now
        give_up = getattr(e, "permanent", False) or now - created >= timedelta(seconds=settings["digest.retry_for"])
        status = "failed" if give_up else "retrying"
        wait = RETRY_STEPS[min(attempts - 1, len(RETRY_STEPS) - 1)]
        with store.transaction():
            store.execute(
                "UPDATE digests SET status = ?, attempts = ?, last_error = ?, next_attempt_at = ? WHERE id = ?",
                (status, attempts, error, None if give_up else iso(now + timedelta(seconds=wait)), digest_id),
            )
        (log.error if give_up else log.warning)("digest #%d: %s: %s", digest_id, status, error)
        return Outcome(digest_id, status, error)
    with store.transaction():
        store.execute(
            "UPDATE digests SET status = 'sent', attempts = ?, sent_at = ?, outbox_path = ?, "
            "last_error = ?, next_attempt_at = NULL WHERE id = ?",
            (attempts, iso(now), outbox, note, digest_id),
        )
    log.info(
        "digest #%d sent: %s (%d stories, %d items seen, %d duplicates) %s",
        digest_id,
        d.subject(),
        d.story_count,
        d.items_seen,
        d.duplicates,
        result,
    )
    return Outcome(digest_id, "sent", f"{result}; {note}" if note else result)


def retry_due(
    store: Store, settings: Settings, watchlist: Watchlist, now: datetime, *, smtp: SmtpSettings | None = None
) -> list[Outcome]:
    """Retry digests whose next attempt is due, and any left 'sending' by a crash."""
    with sending(store):
        return _retry_due(store, settings, watchlist, now, smtp=smtp)


def _retry_due(
    store: Store, settings: Settings, watchlist: Watchlist, now: datetime, *, smtp: SmtpSettings | None
) -> list[Outcome]:
    rows = store.execute(
        "SELECT id FROM digests WHERE (status = 'retrying' AND next_attempt_at <= ?) OR status = 'sending' ORDER BY id",
        (iso(now),),
    ).fetchall()
    return [attempt(store, settings, watchlist, r["id"], now, smtp=smtp) for r in rows]
