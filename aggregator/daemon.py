"""The daemon: one process, one event loop, APScheduler 3.x (AsyncIOScheduler).

Jobs (all max_instances=1, coalesce=True, explicit misfire grace):
    poll      every minute: fetch the feeds that are due (the first run at start)
    digest    CronTrigger at digest.time in digest.timezone (weekly if digest.cadence = "weekly")
    retry     every minute: digests waiting for another delivery attempt
    reload    every watchlist.reload_every: feeds.toml / watchlist.toml changed -> validate -> swap;
              a seed file added or changed in seeds/ -> imported (a broken one skipped with a warning)
    maintain  daily: retention of old untagged items, WAL checkpoint and vacuum

Start: take the data-directory lock, migrate, import seeds/, catch up a digest missed while the
daemon was down, poll, and write a preview of the pending digest to the outbox.
Stop (SIGTERM/SIGINT): no new work; the feed being stored commits (each feed is one
transaction, run between two event-loop steps); exit 0. SIGHUP: reload the configuration.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from aggregator import delivery, schedule
from aggregator.config import PLACEHOLDER_RECIPIENT, Settings, display_path, load_feeds, load_settings
from aggregator.errors import AggregatorError, StoreError
from aggregator.locks import PidLock
from aggregator.poll import Pipeline, cycle_lock
from aggregator.seeds import find_seed_files, thin
from aggregator.store import Store, database_error, database_path, iso
from aggregator.watchlist import load_watchlist, watchlist_path

log = logging.getLogger("aggregator.daemon")


LOCK_GRACE = 2.0  # seconds a starting daemon tries for the data directory's lock before refusing


class DataDirLock:
    """One daemon per data directory: an exclusive flock on data_dir/aggregator.lock holding our PID."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "aggregator.lock"
        self.lock = PidLock(self.path)

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            open(self.path, "a+").close()
        except OSError as e:
            why = "it is a file, not a folder" if self.path.parent.is_file() else e.strerror
            raise StoreError(
                f"{display_path(self.path.parent)}: cannot use it as the data directory: {why}",
                hint="data_dir (or AGGREGATOR_DATA_DIR) must be a folder aggregator can write",
            ) from e
        if not self.lock.acquire(LOCK_GRACE):  # `status` looks at the lock for an instant; a daemon holds it
            holder = self.lock.holder()
            raise StoreError(
                f"{display_path(self.path.parent)}: another aggregator daemon"
                + (f" ({holder})" if holder.startswith("pid ") else "")
                + " is running on this data directory",
                hint="stop it first, or give this one its own data_dir",
            )

    def release(self) -> None:
        if self.lock.fh is not None:
            try:
                self.path.unlink(missing_ok=True)  # before the lock goes: no one takes a file about to vanish
            finally:
                self.lock.release()


MISSED_GRACE = timedelta(minutes=2)  # a digest time this far past without a digest is served by the retry job
STOP_GRACE = 10  # seconds a stop waits for the poll cycle to store what it has fetched


def _line(e: BaseException, path: Path) -> str:
    """An error as one line: what went wrong and what to do."""
    if isinstance(e, sqlite3.Error):
        e = database_error(e, path)
    return e.one_line() if isinstance(e, AggregatorError) else str(e)


def maintain(store: Store, settings: Settings, now: datetime) -> int:
    """Retention: delete items older than retention.days that carry no topic and belong to no story
    with a tagged item (one a digest showed) or a seed. Never seeds. Their (feed, guid) is kept: a feed that
    still lists such an entry does not bring it back as new. Returns how many items went."""
    horizon = now - timedelta(days=settings["retention.days"])
    with store.transaction():
        removed = store.remove_old_items(
            """fetched_at < ? AND id NOT IN (SELECT item_id FROM item_topics)
               AND coalesce(story_id, 0) NOT IN (SELECT id FROM stories WHERE seed_id IS NOT NULL)
               AND coalesce(story_id, 0) NOT IN (SELECT i.story_id FROM items i JOIN item_topics t ON t.item_id = i.id
                                                 WHERE i.story_id IS NOT NULL)""",
            (iso(horizon),),
            now,
        )
        store.execute("DELETE FROM item_bands WHERE item_id > 0 AND item_id NOT IN (SELECT id FROM items)")
        store.execute("DELETE FROM item_edits WHERE item_id NOT IN (SELECT id FROM items)")
    store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    if removed:
        store.execute("VACUUM")
    log.info("maintenance: %d old untagged items removed", removed)
    return removed


def _mtime(path: Path) -> float:
    """When ``path`` last changed; 0.0 when it is missing, or deleted between two looks (an editor that
    deletes and rewrites a file on save)."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


class Daemon:
    def __init__(self, config_dir: Path) -> None:
        self.config_dir = config_dir
        self.settings = load_settings(config_dir)
        self.lock = DataDirLock(self.settings.data_dir)
        self.stopping = asyncio.Event()
        self._mtimes: dict[str, float] = {}
        self._seeds: tuple[tuple[str, float, int], ...] = ()  # the seed folder as last imported
        self._previewed = False
        self._owed: datetime | None = None  # a digest that fell due and could not be recorded yet
        self._cycle: asyncio.Task[Any] | None = None  # the poll cycle in progress
        self.store: Store | None = None
        self.pipeline: Pipeline | None = None
        self.scheduler: AsyncIOScheduler | None = None

    # --- start ---------------------------------------------------------------------------

    async def run(self) -> int:
        self.lock.acquire()
        try:
            return await self._run()
        finally:
            if self.store is not None:
                self.store.close()
            self.lock.release()

    async def _run(self) -> int:
        loop = asyncio.get_running_loop()
        # Signals first: a stop during start-up is a clean stop too (exit 0 once start-up is done).
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload(force=True)))
        now = datetime.now(UTC)
        self.store = Store(database_path(self.settings.data_dir))
        if self.store.get_meta("first_start") is None:
            self.store.set_meta("first_start", iso(now))
        watchlist = load_watchlist(self.config_dir)
        self.store.sync_feeds(load_feeds(self.config_dir), now)
        self.pipeline = Pipeline(self.store, self.settings, watchlist, now=now)
        self._remember_mtimes()
        self._import_seeds(now, at_start=True)
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self._add_jobs(now)
        self.scheduler.start()
        log.info(
            "daemon started: %d feeds, %d topics, data in %s, digest at %s %s (%s)",
            len(self.store.feeds()),
            len(watchlist.topics),
            display_path(self.settings.data_dir),
            "{:02d}:{:02d}".format(*self.settings["digest.time"]),
            self.settings["digest.timezone"],
            "SMTP " + self.settings["smtp.host"] if self.settings.smtp_configured else "outbox folder",
        )
        if self.settings.smtp_configured and self.settings["digest.to"] == (PLACEHOLDER_RECIPIENT,):
            log.warning(
                "digest.to is the example address %s: set who gets the digest in aggregator.toml", PLACEHOLDER_RECIPIENT
            )
        # a digest a crash left half-sent goes out first, with its own window and Message-ID
        try:
            delivery.retry_due(self.store, self.settings, self.pipeline.watchlist, now)
        except (AggregatorError, sqlite3.Error) as e:  # the retry job tries again in a minute
            log.error("digest retry failed: %s; tried again in a minute", _line(e, self.store.path))
        await self.catch_up(now)
        await self.stopping.wait()
        self.scheduler.pause()  # no job starts from now on
        if self._cycle is not None:  # it stores what it has fetched and returns; the scheduler's shutdown would
            await asyncio.wait((self._cycle,), timeout=STOP_GRACE)  # cancel it, and log that as a traceback
        self.scheduler.shutdown(wait=False)
        log.info("daemon stopped")
        return 0

    def _add_jobs(self, now: datetime) -> None:
        assert self.scheduler is not None
        common = {"max_instances": 1, "coalesce": True}
        # The first poll is this job's first run, at once: one cycle at a time (max_instances=1).
        self.scheduler.add_job(
            self.poll,
            IntervalTrigger(seconds=60),
            id="poll",
            misfire_grace_time=30,
            next_run_time=now,
            **common,
        )
        self.scheduler.add_job(self.digest, self._digest_trigger(), id="digest", misfire_grace_time=3600, **common)
        self.scheduler.add_job(self.retry, IntervalTrigger(seconds=60), id="retry", misfire_grace_time=60, **common)
        self.scheduler.add_job(
            self.reload,
            IntervalTrigger(seconds=max(1, self.settings["watchlist.reload_every"])),
            id="reload",
            misfire_grace_time=10,
            **common,
        )
        self.scheduler.add_job(
            self.maintain,
            IntervalTrigger(hours=24),
            id="maintain",
            misfire_grace_time=3600,
            next_run_time=now + timedelta(minutes=10),
            **common,
        )

    def _digest_trigger(self):
        h, m = self.settings["digest.time"]
        return schedule.digest_trigger(
            h, m, self.settings["digest.timezone"], self.settings["digest.cadence"], self.settings["digest.weekday"]
        )

    def stop(self) -> None:
        if not self.stopping.is_set():
            log.info("stopping: finishing the write in flight")
            self.stopping.set()

    # --- jobs ------------------------------------------------------------------------------

    async def poll(self) -> None:
        assert self.pipeline is not None and self.store is not None
        if self.stopping.is_set():
            return
        lock = cycle_lock(self.store.path.parent)
        if not lock.try_acquire():  # a `poll --once` beside the daemon: its cycle fetches what is due
            log.info("poll cycle skipped: another program (%s) is polling this data directory", lock.holder())
            return
        self._cycle = asyncio.current_task()
        try:
            await self.pipeline.poll_once(stop=self.stopping)
        except (AggregatorError, sqlite3.Error) as e:
            log.error("poll cycle stopped: %s; the rest is fetched again next cycle", _line(e, self.store.path))
            return
        finally:
            self._cycle = None
            lock.release()
        if not self._previewed and not self.stopping.is_set():  # after the first cycle: the pending digest
            self._previewed = True
            now = datetime.now(UTC)
            try:
                d, path = delivery.write_preview(self.store, self.settings, self.pipeline.watchlist, now)
            except (AggregatorError, sqlite3.Error) as e:
                log.warning("digest preview not written: %s", _line(e, self.store.path))
            else:
                log.info("digest preview written to %s (%d stories so far)", display_path(path), d.story_count)

    async def digest(self) -> None:
        assert self.pipeline is not None and self.store is not None
        trigger = self._digest_trigger()
        now = datetime.now(UTC)
        self._owed = schedule.last_fire_before(trigger, now) or now
        self._send_owed(now)

    def _send_owed(self, now: datetime) -> None:
        """Serve the digest that fell due. One the database could not even record (another program's lock, a
        full disk) stays owed, and the retry job tries it again every minute: a day's digest is never lost."""
        assert self.pipeline is not None and self.store is not None
        if self._owed is None:
            return
        try:
            delivery.run_digest(self.store, self.settings, self.pipeline.watchlist, now, scheduled_for=self._owed)
        except (AggregatorError, sqlite3.Error) as e:
            log.error(
                "digest due at %s not recorded: %s; tried again in a minute", iso(self._owed), _line(e, self.store.path)
            )
            return
        self._owed = None

    def _missed(self, now: datetime) -> datetime | None:
        """The latest digest time that has passed without a digest recorded for it, if any."""
        assert self.store is not None
        first = self.store.get_meta("first_start")
        row = self.store.execute("SELECT max(scheduled_for) FROM digests").fetchone()
        return schedule.missed_digest(
            self._digest_trigger(),
            now,
            first_start=datetime.fromisoformat(first) if first else None,
            last_served=datetime.fromisoformat(row[0]) if row and row[0] else None,
        )

    async def catch_up(self, now: datetime) -> None:
        """Send once a digest that fell due while the daemon was down."""
        due = self._missed(now)
        if due is not None:
            log.info("catch-up: the digest due at %s was missed; sending it now", iso(due))
            self._owed = due
            self._send_owed(now)

    async def retry(self, now: datetime | None = None) -> None:
        """Every minute: a digest time that passed without its job running (the machine was asleep, the clock
        jumped: the scheduler drops a run more than an hour late) is served now; then due retries."""
        assert self.pipeline is not None and self.store is not None
        now = now or datetime.now(UTC)
        if self._owed is None:
            try:
                due = self._missed(now)
            except sqlite3.Error as e:
                log.error("digest check failed: %s; tried again in a minute", _line(e, self.store.path))
                due = None
            if due is not None and now - due >= MISSED_GRACE:  # not the digest job's own run, seconds late
                log.info("the digest due at %s did not run (was the machine asleep?); sending it now", iso(due))
                self._owed = due
        self._send_owed(now)
        try:
            delivery.retry_due(self.store, self.settings, self.pipeline.watchlist, now)
        except (AggregatorError, sqlite3.Error) as e:
            log.error("digest retry failed: %s; tried again in a minute", _line(e, self.store.path))

    async def maintain(self) -> None:
        assert self.store is not None
        try:
            maintain(self.store, self.settings, datetime.now(UTC))
        except (AggregatorError, sqlite3.Error) as e:
            log.error("maintenance (retention) failed: %s; tried again tomorrow", _line(e, self.store.path))

    # --- reload ----------------------------------------------------------------------------

    def _seed_signature(self) -> tuple[tuple[str, float, int], ...]:
        """What identifies the seed folder's state: each seed file's path, mtime and size."""
        try:
            files = find_seed_files([self.settings.seeds_dir]) if self.settings.seeds_dir.is_dir() else []
            return tuple((str(f), (st := f.stat()).st_mtime, st.st_size) for f in files)
        except (OSError, AggregatorError):
            return ()

    def _import_seeds(self, now: datetime, *, at_start: bool = False) -> None:
        """Import the seed folder (idempotent: only new or changed files count). A file that cannot be read
        is skipped with a warning; the others are imported. A seed whose file was deleted is removed."""
        assert self.pipeline is not None
        self._seeds = self._seed_signature()
        if not self.settings.seeds_dir.is_dir():
            return
        problems: list[str] = []
        removed: list[Any] = []
        imported = self.pipeline.import_seeds([self.settings.seeds_dir], now, problems, removed)
        for problem in problems:
            log.warning("seed skipped: %s", problem)
        for seed, new in imported:
            if new and (warning := thin(seed, display_path(Path(seed.path)))):
                log.warning("seed: %s", warning)
        for seed in removed:
            log.info("seed removed: #%d %s (its file %s is gone)", seed["id"], seed["title"][:70], seed["path"])
        changed = sum(changed for _, changed in imported)
        if at_start or changed:
            log.info(
                "seeds: %d in %s, %d new or changed", len(imported), display_path(self.settings.seeds_dir), changed
            )

    def _files(self) -> dict[str, Path]:
        return {
            "watchlist": watchlist_path(self.config_dir),
            "feeds": self.config_dir / "feeds.toml",
            "settings": self.config_dir / "aggregator.toml",
        }

    def _remember_mtimes(self) -> None:
        for name, path in self._files().items():
            self._mtimes[name] = _mtime(path)

    async def reload(self, force: bool = False) -> None:
        """Apply changed config files. A broken edit is logged (and shown by `status`); the last
        good version stays active. One the database cannot take now is applied on the next try."""
        assert self.store is not None
        try:
            await self._reload(force)
        except sqlite3.Error as e:
            self._mtimes.clear()  # every file counts as changed on the next try
            log.error("config changes not applied yet: %s", _line(e, self.store.path))

    async def _reload(self, force: bool) -> None:
        assert self.pipeline is not None and self.store is not None
        changed = {name for name, path in self._files().items() if force or _mtime(path) != self._mtimes.get(name)}
        self._remember_mtimes()
        now = datetime.now(UTC)
        if force or self._seed_signature() != self._seeds:  # an article dropped into seeds/
            self._import_seeds(now)
        if "watchlist" in changed:
            try:
                wl = load_watchlist(self.config_dir)
            except AggregatorError as e:
                log.error("watchlist not reloaded, the last good one stays active: %s", e)
                self.store.set_meta("watchlist_error", str(e))
            else:
                old = {t.id: t for t in self.pipeline.watchlist.topics}
                touched = {t.id for t in wl.topics if t.id not in old or old[t.id] != t}
                self.pipeline.set_watchlist(wl)
                self.store.set_meta("watchlist_error", None)
                if touched or set(old) - {t.id for t in wl.topics}:
                    days = self.settings["watchlist.reapply_days"]
                    n = self.pipeline.retag(now - timedelta(days=days), touched, now)
                    log.info(
                        "watchlist reloaded: %d topics; %s applied to %d items of the last %d days",
                        len(wl.topics),
                        ", ".join(sorted(touched)) or "removals",
                        n,
                        days,
                    )
        if "feeds" in changed:
            try:
                self.store.sync_feeds(load_feeds(self.config_dir), now)
                self.store.set_meta("feeds_error", None)
                log.info("feeds reloaded: %d feeds", len(self.store.feeds()))
            except AggregatorError as e:
                log.error("feeds.toml not reloaded, the last good list stays active: %s", e)
                self.store.set_meta("feeds_error", str(e))
        if "settings" in changed:
            try:
                new = load_settings(self.config_dir)
            except AggregatorError as e:
                log.error("aggregator.toml not reloaded, the last good settings stay active: %s", e)
                self.store.set_meta("settings_error", str(e))
            else:
                self.store.set_meta("settings_error", None)
                if new.values != self.settings.values:
                    self.settings = new
                    self.pipeline.settings = new
                    if self.scheduler is not None:
                        self.scheduler.reschedule_job("digest", trigger=self._digest_trigger())
                    log.info("settings reloaded (poll limits and thresholds apply from the next restart)")
