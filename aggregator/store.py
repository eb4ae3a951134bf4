"""Store stage: the SQLite database (WAL) and every query the other stages need.

Schema changes are numbered migrations in MIGRATIONS; `user_version` records how many have run.
They run at open, in one transaction each, so an upgrade that crashes leaves the old schema.

Writes of one feed (its items, edits, topics, stories and its fetch state) go in ONE
transaction (`Store.transaction()`): after a crash either all of a feed's cycle is there or none
of it, and the feed's validators are only advanced together with its items, so nothing is lost
(the next poll fetches it again) and nothing is doubled (UNIQUE(feed_url, guid)).

Tables (see docs/ARCHITECTURE.md): feeds, items, item_edits, item_topics, item_bands, stories,
seeds, seed_topics, digests, meta.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from aggregator.errors import StoreError
from aggregator.models import FeedSpec, Item, Seed, TopicTag, Validators


def iso(dt: datetime | None) -> str | None:
    return dt.astimezone(UTC).isoformat(timespec="microseconds") if dt else None


def from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


MIGRATIONS: list[str] = [
    # 1: the first schema
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
    CREATE TABLE feeds (
        url TEXT PRIMARY KEY,
        title TEXT, site_url TEXT, tags TEXT NOT NULL DEFAULT '[]', interval INTEGER,
        in_config INTEGER NOT NULL DEFAULT 1, added_at TEXT NOT NULL,
        etag TEXT, last_modified TEXT, body_hash TEXT,
        last_fetch_at TEXT, last_success_at TEXT, next_poll_at TEXT,
        error_count INTEGER NOT NULL DEFAULT 0, last_error_kind TEXT, last_error TEXT,
        failing_since TEXT, gone INTEGER NOT NULL DEFAULT 0, moved_from TEXT, warning TEXT,
        ttl INTEGER, max_age INTEGER, mean_gap REAL
    );
    CREATE TABLE stories (
        id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, first_published TEXT,
        title TEXT NOT NULL, seed_id INTEGER, item_count INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        feed_url TEXT NOT NULL, guid TEXT NOT NULL, url TEXT, canonical_url TEXT,
        title TEXT NOT NULL, summary TEXT NOT NULL, summary_html TEXT NOT NULL, author TEXT,
        published TEXT, fetched_at TEXT NOT NULL, updated_at TEXT, content_hash TEXT NOT NULL,
        edits INTEGER NOT NULL DEFAULT 0,
        dup_level TEXT NOT NULL DEFAULT 'new', duplicate_of INTEGER, duplicate_of_seed INTEGER,
        dup_similarity REAL, dup_reason TEXT,
        story_id INTEGER, story_similarity REAL, story_reason TEXT,
        UNIQUE (feed_url, guid)
    );
    CREATE INDEX items_canonical ON items (canonical_url);
    CREATE INDEX items_story ON items (story_id);
    CREATE INDEX items_fetched ON items (fetched_at);
    CREATE TABLE item_edits (
        id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL, changed_at TEXT NOT NULL,
        old_title TEXT, old_summary TEXT
    );
    CREATE TABLE item_topics (
        item_id INTEGER NOT NULL, topic TEXT NOT NULL, score REAL NOT NULL, matched TEXT NOT NULL,
        tagged_at TEXT NOT NULL, PRIMARY KEY (item_id, topic)
    ) WITHOUT ROWID;
    CREATE INDEX item_topics_topic ON item_topics (topic);
    -- near-duplicate LSH: one row per (band key, item); seeds use negative item ids
    CREATE TABLE item_bands (key INTEGER NOT NULL, item_id INTEGER NOT NULL, PRIMARY KEY (key, item_id))
        WITHOUT ROWID;
    CREATE TABLE seeds (
        id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, title TEXT NOT NULL, url TEXT,
        published TEXT, text TEXT NOT NULL, content_hash TEXT NOT NULL, imported_at TEXT NOT NULL,
        story_id INTEGER
    );
    CREATE INDEX items_published ON items (published);
    CREATE TABLE seed_topics (
        seed_id INTEGER NOT NULL, topic TEXT NOT NULL, score REAL NOT NULL, matched TEXT NOT NULL,
        PRIMARY KEY (seed_id, topic)
    ) WITHOUT ROWID;
    CREATE TABLE digests (
        id INTEGER PRIMARY KEY, window_start TEXT, window_end TEXT NOT NULL, created_at TEXT NOT NULL,
        status TEXT NOT NULL, recipients TEXT NOT NULL, message_id TEXT NOT NULL, subject TEXT,
        stories INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
        sent_at TEXT, outbox_path TEXT, scheduled_for TEXT, next_attempt_at TEXT
    );
    """,
    # 2: the outlet of an aggregator's item (RSS/Atom <source>), shown as its source in the digest
    """
    ALTER TABLE items ADD COLUMN source TEXT;
    """,
    # 3: the (feed, guid) of items retention removed: an entry its feed still lists is not new again
    """
    CREATE TABLE item_gone (
        feed_url TEXT NOT NULL, guid TEXT NOT NULL, removed_at TEXT NOT NULL, PRIMARY KEY (feed_url, guid)
    ) WITHOUT ROWID;
    """,
    # 4: an item's edit history is read and trimmed by item
    """
    CREATE INDEX item_edits_item ON item_edits (item_id, id);
    """,
    # 5: what a feed's last document held, entry by entry (a hash of its raw text -> guid and date): a changed
    # feed's known entries are not parsed again
    """
    CREATE TABLE feed_entries (url TEXT PRIMARY KEY, entries TEXT NOT NULL);
    """,
    # 6: the page of an item's discussion (Hacker News, Reddit, Lobsters, a blog's comments), linked in the digest
    """
    ALTER TABLE items ADD COLUMN comments_url TEXT;
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)
# Versions of an edited item kept: its first text and the latest ones. Some feeds change an entry at every
# poll (a points or comments count in the description): without a cap, one such entry adds 24 rows a day.
MAX_EDITS = 20
# A near-duplicate key (a sampled word 3-gram: see dedup) in more items than this is a common phrase ("said in a
# statement"): reading its rows cost most of a look-up (band_candidates); the keys are counted again once this
# many have been stored since they were last counted.
COMMON_BAND = 32
RECOUNT_BANDS = 100_000


@dataclass(frozen=True)
class FeedState:
    """A feed's stored row, as the scheduler and status see it."""

    url: str
    title: str | None
    tags: tuple[str, ...]
    interval: int | None
    in_config: bool
    validators: Validators
    last_fetch_at: datetime | None
    last_success_at: datetime | None
    next_poll_at: datetime | None
    error_count: int
    last_error_kind: str | None
    last_error: str | None
    failing_since: datetime | None
    gone: bool
    moved_from: str | None
    warning: str | None
    ttl: int | None
    max_age: int | None
    mean_gap: float | None


def _feed_state(row: sqlite3.Row) -> FeedState:
    return FeedState(
        url=row["url"],
        title=row["title"],
        tags=tuple(json.loads(row["tags"] or "[]")),
        interval=row["interval"],
        in_config=bool(row["in_config"]),
        validators=Validators(row["etag"], row["last_modified"], row["body_hash"]),
        last_fetch_at=from_iso(row["last_fetch_at"]),
        last_success_at=from_iso(row["last_success_at"]),
        next_poll_at=from_iso(row["next_poll_at"]),
        error_count=row["error_count"],
        last_error_kind=row["last_error_kind"],
        last_error=row["last_error"],
        failing_since=from_iso(row["failing_since"]),
        gone=bool(row["gone"]),
        moved_from=row["moved_from"],
        warning=row["warning"],
        ttl=row["ttl"],
        max_age=row["max_age"],
        mean_gap=row["mean_gap"],
    )


_DAMAGE = re.compile(r"malformed|not a database|already exists|no such (?:table|column)|i/o|corrupt", re.I)


def database_error(e: sqlite3.Error, path: Path) -> StoreError:
    """A database failure that is the machine's, not a bug (a lock held by another program, a full disk, a
    read-only file), as one line saying what to do. What was not stored is fetched again on the next cycle."""
    text = str(e)
    low = text.lower()
    if "locked" in low or "busy" in low:
        what, hint = "locked by another program", "close the other program (a sqlite3 shell, a backup) that holds it"
    elif "full" in low:
        what, hint = "cannot grow: the disk is full", "free space on the data directory's disk; nothing stored is lost"
    elif "readonly" in low or "read-only" in low:
        what, hint = "read-only", "make the data directory and its files writable by the user running aggregator"
    elif "unable to open" in low and not os.access(path.parent, os.W_OK):
        what = "in a folder that cannot be written"
        hint = "make the data directory writable by the user running aggregator (SQLite keeps its journal beside it)"
    elif "unable to open" in low:
        what = "cannot be opened"
        hint = "check that the data directory exists and the user running aggregator can write it"
    elif "malformed" in low or "not a database" in low or "i/o" in low:
        what, hint = "damaged or unreadable", "check the disk; restore the database from a backup"
    else:
        what, hint = "unusable", "check the data directory; restore the database from a backup if need be"
    return StoreError(f"{path}: database {what} ({text})", hint=hint)


class Store:
    """One open database. Not shared across threads; the daemon uses it from its event loop."""

    def __init__(self, path: Path, *, busy_timeout: float = 30.0) -> None:
        """``busy_timeout``: how long a write waits for a lock another program holds before it fails."""
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), timeout=busy_timeout, isolation_level=None)
        except (OSError, sqlite3.Error) as e:
            raise StoreError(
                f"{path}: cannot open the database: {e}", hint="check that the data directory exists and is writable"
            ) from e
        conn.row_factory = sqlite3.Row
        self.db = sqlite_utils.Database(conn)
        self.conn = conn
        try:
            self.db.enable_wal()
            conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across app crashes
            conn.execute("PRAGMA foreign_keys=OFF")
            self._migrate()
        except sqlite3.DatabaseError as e:
            conn.close()  # a file left open keeps its disk busy (a mount that cannot be unmounted)
            if isinstance(e, sqlite3.OperationalError) and not _DAMAGE.search(str(e)):
                # the machine's (another program's lock, a full disk, a read-only folder): the file is fine, and
                # "restore it from a backup" would be the wrong advice
                raise database_error(e, path) from e
            raise StoreError(
                f"{path}: not a usable aggregator database: {e}",
                hint="restore it from a backup, or move it away to start afresh",
            ) from e
        except BaseException:  # a schema newer than this program
            conn.close()
            raise
        self._depth = 0
        self._any_removed: bool | None = None  # whether item_gone has rows (see was_removed)
        self._common_bands: dict[int, int] = {}  # band key -> its items when counted (count_common_bands)
        self.bands_since_count: int | None = None  # keys stored since they were counted; None: never counted

    # --- schema ------------------------------------------------------------------------

    def _migrate(self) -> None:
        """Run the migrations this database lacks, each in its own write transaction. The version is read
        again under the write lock: two programs opening a new database at once (the daemon starting while a
        `poll --once` runs) must not both run the same migration. An up-to-date database takes no lock."""
        while self.schema_version < SCHEMA_VERSION:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                version = self.schema_version
                if version < SCHEMA_VERSION:  # else another program did the work while this one waited
                    for statement in _split_sql(MIGRATIONS[version]):
                        self.conn.execute(statement)
                    self.conn.execute(f"PRAGMA user_version = {version + 1}")
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        if (version := self.schema_version) > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: schema version {version} is newer than this aggregator ({SCHEMA_VERSION})",
                hint="upgrade aggregator, or restore a backup made by this version",
            )

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction; nested calls join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            if self.conn.in_transaction:  # SQLite may have rolled back already (a full disk)
                self.conn.execute("ROLLBACK")
            raise
        else:
            try:
                self.conn.execute("COMMIT")
            except BaseException:  # a full disk or a lock at commit: nothing of it is kept
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
        finally:
            self._depth = 0

    @contextmanager
    def savepoint(self, name: str = "part") -> Iterator[None]:
        """A part of the current transaction that an error undoes alone (one feed of a batch, one item of a
        feed)."""
        self.conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute(f"ROLLBACK TO {name}")
                self.conn.execute(f"RELEASE {name}")
            raise
        else:
            self.conn.execute(f"RELEASE {name}")

    def execute(self, sql: str, params: Iterable[Any] | Mapping[str, Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params if isinstance(params, Mapping) else tuple(params))

    # --- meta --------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str | None) -> None:
        self.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # --- feeds -------------------------------------------------------------------------

    def sync_feeds(self, specs: list[FeedSpec], now: datetime) -> None:
        """Make the feeds table follow feeds.toml. Removed feeds stay (with their items) but are
        no longer polled; a feed that moved (301) keeps polling its new URL."""
        with self.transaction():
            moved = {r[0]: r[1] for r in self.execute("SELECT moved_from, url FROM feeds WHERE moved_from IS NOT NULL")}
            wanted = set()
            for spec in specs:
                url = moved.get(spec.url, spec.url)
                wanted.add(url)
                self.execute(
                    "INSERT INTO feeds (url, title, tags, interval, in_config, added_at) VALUES (?, ?, ?, ?, 1, ?) "
                    "ON CONFLICT(url) DO UPDATE SET title = coalesce(excluded.title, feeds.title), "
                    "tags = excluded.tags, interval = excluded.interval, in_config = 1",
                    (url, spec.title, json.dumps(list(spec.tags)), spec.interval, iso(now)),
                )
            for (url,) in self.execute("SELECT url FROM feeds WHERE in_config = 1").fetchall():
                if url not in wanted:
                    self.execute("UPDATE feeds SET in_config = 0 WHERE url = ?", (url,))

    def feeds(self, *, configured_only: bool = True) -> list[FeedState]:
        sql = "SELECT * FROM feeds" + (" WHERE in_config = 1" if configured_only else "") + " ORDER BY url"
        return [_feed_state(r) for r in self.execute(sql)]

    def feed_counts(self) -> dict[str, tuple[int, int, str | None]]:
        """feed url -> (items stored, items tagged on a topic, the newest item's time)."""
        return {
            row[0]: (row[1], row[2] or 0, row[3])
            for row in self.execute(
                "SELECT i.feed_url, count(*), sum(EXISTS (SELECT 1 FROM item_topics t WHERE t.item_id = i.id)), "
                "max(coalesce(i.published, i.fetched_at)) FROM items i GROUP BY i.feed_url"
            )
        }

    def feed(self, url: str) -> FeedState | None:
        row = self.execute("SELECT * FROM feeds WHERE url = ?", (url,)).fetchone()
        return _feed_state(row) if row else None

    def record_fetch(
        self,
        url: str,
        *,
        now: datetime,
        next_poll_at: datetime | None,
        ok: bool,
        validators: Validators | None = None,
        title: str | None = None,
        site_url: str | None = None,
        error_kind: str | None = None,
        error: str | None = None,
        warning: str | None = None,
        ttl: int | None = None,
        max_age: int | None = None,
        mean_gap: float | None = None,
        gone: bool = False,
        moved_to: str | None = None,
    ) -> str:
        """Store the outcome of one fetch. Returns the feed's URL afterwards (the new one if it moved)."""
        if ok:
            self.execute(
                "UPDATE feeds SET last_fetch_at = ?, last_success_at = ?, next_poll_at = ?, error_count = 0, "
                "last_error_kind = NULL, last_error = NULL, failing_since = NULL, warning = ?, "
                "title = coalesce(title, ?), site_url = coalesce(?, site_url), "
                "ttl = coalesce(?, ttl), max_age = ?, mean_gap = coalesce(?, mean_gap) WHERE url = ?",
                (iso(now), iso(now), iso(next_poll_at), warning, title, site_url, ttl, max_age, mean_gap, url),
            )
            if validators is not None:
                self.execute(
                    "UPDATE feeds SET etag = ?, last_modified = ?, body_hash = ? WHERE url = ?",
                    (validators.etag, validators.last_modified, validators.body_hash, url),
                )
        else:
            self.execute(
                "UPDATE feeds SET last_fetch_at = ?, next_poll_at = ?, error_count = error_count + 1, "
                "last_error_kind = ?, last_error = ?, failing_since = coalesce(failing_since, ?), gone = ? "
                "WHERE url = ?",
                (iso(now), iso(next_poll_at), error_kind, error, iso(now), int(gone), url),
            )
        if moved_to and moved_to != url and self.feed(moved_to) is None:
            # 301/308: the feed lives at the new URL from now on; the old one is kept on record.
            self.execute("UPDATE feeds SET url = ?, moved_from = ? WHERE url = ?", (moved_to, url, url))
            self.execute("UPDATE items SET feed_url = ? WHERE feed_url = ?", (moved_to, url))
            self.execute("UPDATE OR REPLACE feed_entries SET url = ? WHERE url = ?", (moved_to, url))
            return moved_to
        return url

    def feed_entries(self, url: str) -> str | None:
        """What the feed's last document held, as poll.py wrote it (JSON)."""
        row = self.execute("SELECT entries FROM feed_entries WHERE url = ?", (url,)).fetchone()
        return row[0] if row else None

    def set_feed_entries(self, url: str, entries: str | None) -> None:
        if entries is None:
            self.execute("DELETE FROM feed_entries WHERE url = ?", (url,))
        else:
            self.execute(
                "INSERT INTO feed_entries (url, entries) VALUES (?, ?) ON CONFLICT(url) DO UPDATE SET entries = "
                "excluded.entries",
                (url, entries),
            )

    # --- items -------------------------------------------------------------------------

    def was_removed(self, feed_url: str, guid: str) -> bool:
        """Whether retention removed this feed's item with this guid (then it is not new when seen again)."""
        if self._any_removed is None:
            self._any_removed = self.execute("SELECT 1 FROM item_gone LIMIT 1").fetchone() is not None
        if not self._any_removed:  # the common case: one query per process, none per item
            return False
        return (
            self.execute("SELECT 1 FROM item_gone WHERE feed_url = ? AND guid = ?", (feed_url, guid)).fetchone()
            is not None
        )

    def remove_old_items(self, where: str, params: tuple[Any, ...], now: datetime) -> int:
        """Delete the items matching ``where``, keeping their (feed, guid) so that they stay known."""
        self.execute(
            "INSERT OR IGNORE INTO item_gone (feed_url, guid, removed_at) "
            f"SELECT feed_url, guid, ? FROM items WHERE {where}",
            (iso(now), *params),
        )
        removed = self.execute(f"DELETE FROM items WHERE {where}", params).rowcount
        if removed:
            self._any_removed = True
        return removed

    def item_by_guid(self, feed_url: str, guid: str) -> sqlite3.Row | None:
        return self.execute(
            "SELECT id, content_hash, title, summary, summary_html FROM items WHERE feed_url = ? AND guid = ?",
            (feed_url, guid),
        ).fetchone()

    def item_by_canonical(self, canonical: str, *, other_than_feed: str | None = None) -> sqlite3.Row | None:
        """The first item stored with this canonical URL (in another feed than ``other_than_feed``)."""
        return self.execute(
            "SELECT id, title, story_id, duplicate_of, coalesce(published, fetched_at) AS t "
            "FROM items WHERE canonical_url = ? AND feed_url IS NOT ? ORDER BY id LIMIT 1",
            (canonical, other_than_feed),
        ).fetchone()

    def items_in_feed_at(self, feed_url: str, canonical: str) -> list[sqlite3.Row]:
        """The latest items of one feed with this canonical URL (columns as item_by_guid, and `t`)."""
        return self.execute(
            "SELECT id, guid, content_hash, title, summary, coalesce(published, fetched_at) AS t FROM items "
            "WHERE canonical_url = ? AND feed_url = ? ORDER BY id DESC LIMIT 20",
            (canonical, feed_url),
        ).fetchall()

    def item(self, item_id: int) -> sqlite3.Row | None:
        return self.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()

    def insert_item(
        self,
        item: Item,
        *,
        dup_level: str,
        duplicate_of: int | None,
        duplicate_of_seed: int | None,
        dup_similarity: float | None,
        dup_reason: str | None,
        story_id: int | None,
        story_similarity: float | None,
        story_reason: str | None,
    ) -> int:
        cur = self.execute(
            "INSERT INTO items (feed_url, guid, url, canonical_url, title, summary, summary_html, author, "
            "published, fetched_at, content_hash, dup_level, duplicate_of, duplicate_of_seed, dup_similarity, "
            "dup_reason, story_id, story_similarity, story_reason, source, comments_url) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                item.feed_url,
                item.guid,
                item.url,
                item.canonical_url,
                item.title,
                item.summary,
                item.summary_html,
                item.author,
                iso(item.published),
                iso(item.fetched_at),
                item.content_hash,
                dup_level,
                duplicate_of,
                duplicate_of_seed,
                dup_similarity,
                dup_reason,
                story_id,
                story_similarity,
                story_reason,
                item.source,
                item.comments_url,
            ),
        )
        if story_id is not None:
            self.execute("UPDATE stories SET item_count = item_count + 1 WHERE id = ?", (story_id,))
        return int(cur.lastrowid or 0)

    def swap_original(self, original: int, copy: int, *, level: str, similarity: float | None, reason: str) -> None:
        """``copy``, stored as a copy of ``original``, was published first: it becomes the original, and
        ``original`` (with the copies that pointed at it) its copy."""
        self.execute(
            "UPDATE items SET dup_level = 'new', duplicate_of = NULL, dup_similarity = NULL, dup_reason = NULL, "
            "story_similarity = 1.0, story_reason = ? WHERE id = ?",
            (f"same article as item #{original}, published first", copy),
        )
        self.execute("UPDATE items SET duplicate_of = ? WHERE duplicate_of = ? AND id != ?", (copy, original, copy))
        self.execute(
            "UPDATE items SET dup_level = ?, duplicate_of = ?, dup_similarity = ?, dup_reason = ?, "
            "story_similarity = ?, story_reason = ? WHERE id = ?",
            (level, copy, similarity, reason, similarity, reason, original),
        )

    def update_edited_item(self, item_id: int, item: Item, now: datetime, *, record: bool = True) -> None:
        """An edited entry (same guid, new title or text) is updated in place; the old text is kept
        (``record``=False: the same text, only extracted better; nothing to keep)."""
        if record:
            old = self.execute("SELECT title, summary FROM items WHERE id = ?", (item_id,)).fetchone()
            self.execute(
                "INSERT INTO item_edits (item_id, changed_at, old_title, old_summary) VALUES (?, ?, ?, ?)",
                (item_id, iso(now), old["title"], old["summary"]),
            )
            self.execute(  # the first version and the latest ones stay
                "DELETE FROM item_edits WHERE item_id = ? AND id > (SELECT min(id) FROM item_edits WHERE item_id = ?) "
                "AND id <= (SELECT id FROM item_edits WHERE item_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
                (item_id, item_id, item_id, MAX_EDITS - 1),
            )
        self.execute(
            "UPDATE items SET title = ?, summary = ?, summary_html = ?, url = ?, canonical_url = ?, author = ?, "
            f"comments_url = ?, content_hash = ?, updated_at = ?, edits = edits + {int(record)} WHERE id = ?",
            (
                item.title,
                item.summary,
                item.summary_html,
                item.url,
                item.canonical_url,
                item.author,
                item.comments_url,
                item.content_hash,
                iso(now),
                item_id,
            ),
        )

    def set_topics(self, item_id: int, tags: Iterable[TopicTag], now: datetime, *, replace: bool = True) -> None:
        if replace:
            self.execute("DELETE FROM item_topics WHERE item_id = ?", (item_id,))
        for tag in tags:
            self.execute(
                "INSERT OR REPLACE INTO item_topics (item_id, topic, score, matched, tagged_at) VALUES (?, ?, ?, ?, ?)",
                (item_id, tag.topic, tag.score, json.dumps(list(tag.matched)), iso(now)),
            )

    def topics_of(self, item_id: int) -> list[dict[str, Any]]:
        return [
            {"topic": r[0], "score": round(r[1], 3), "matched": json.loads(r[2])}
            for r in self.execute(
                "SELECT topic, score, matched FROM item_topics WHERE item_id = ? ORDER BY score DESC", (item_id,)
            )
        ]

    def iter_items(self, since: datetime | None = None) -> Iterator[sqlite3.Row]:
        """Every stored item, or those published or first fetched since ``since``: an export run every day with
        `--since 1d` also gets the backlog of a feed added that day (published last week, new to this install)."""
        if since is None:
            yield from self.execute("SELECT * FROM items ORDER BY id")
        else:
            yield from self.execute(
                "SELECT * FROM items WHERE published >= :since OR fetched_at >= :since ORDER BY id",
                {"since": iso(since)},
            )

    def count_items(self) -> int:
        return int(self.execute("SELECT count(*) FROM items").fetchone()[0])

    # --- near-duplicate band index (LSH), persisted so it is ready at start ---------------

    def add_bands(self, item_id: int, keys: Iterable[int]) -> None:
        rows = [(k, item_id) for k in keys]
        self.conn.executemany("INSERT OR IGNORE INTO item_bands (key, item_id) VALUES (?, ?)", rows)
        if self.bands_since_count is not None:
            self.bands_since_count += len(rows)

    def count_common_bands(self) -> None:
        """Find the keys in more than COMMON_BAND items, which band_candidates reads last. One pass over the
        key index (about 0.4 s for 100,000 items), done when the story index is built and again once
        RECOUNT_BANDS keys have been stored since: a key that became common in between only costs time."""
        self._common_bands = dict(
            self.execute(
                "SELECT key, count(*) AS n FROM item_bands GROUP BY key HAVING n > ?", (COMMON_BAND,)
            ).fetchall()
        )
        self.bands_since_count = 0

    def band_candidates(self, keys: list[int], min_shared: int = 1, limit: int = 10) -> list[int]:
        """Items (and seeds, as negative ids) sharing at least ``min_shared`` keys, most shared first (the
        latest first among equals: a copy comes soon after its original, and a key shared with old items is
        more likely a common phrase).

        An item that shares ``min_shared`` keys shares at least ``min_shared`` less the common keys among the
        others: those are read first, and the common keys (count_common_bands) only for the items found so,
        one index look-up each, instead of every item that has them. The same answer, at a fraction of the rows
        read (91% of those a look-up read at 100,000 items were under common keys; see docs/DECISIONS.md)."""
        if not keys:
            return []
        common: list[int] = []
        rarer: list[int] = []
        for k in keys:
            (common if k in self._common_bands else rarer).append(k)
        if not common or len(common) >= min_shared:
            return [r[0] for r in self._shared_keys(keys, min_shared, limit)]
        counts = dict(self._shared_keys(rarer, min_shared - len(common)))
        if not counts:
            return []
        marks = ",".join("?" * len(common))
        if len(counts) > 500 or len(counts) * len(common) * 4 > sum(self._common_bands[k] for k in common):
            # found too many to look up one by one (or to name in one statement): read the common keys' rows
            query, args = f"key IN ({marks})", common
        else:
            query, args = f"key IN ({marks}) AND item_id IN ({','.join('?' * len(counts))})", [*common, *counts]
        rows = self.execute(f"SELECT item_id, count(*) FROM item_bands WHERE {query} GROUP BY item_id", args)
        for item_id, n in rows:
            if item_id in counts:
                counts[item_id] += n
        ranked = sorted(((n, item_id) for item_id, n in counts.items() if n >= min_shared), reverse=True)
        return [item_id for _, item_id in ranked[:limit]]

    def _shared_keys(self, keys: list[int], min_shared: int, limit: int | None = None) -> list[Any]:
        """(item id, keys shared) of the items sharing at least ``min_shared`` of ``keys``; with ``limit``, the
        most shared first (the latest first among equals), at most ``limit``."""
        marks = ",".join("?" * len(keys))
        order = "" if limit is None else " ORDER BY n DESC, item_id DESC LIMIT ?"
        return self.execute(
            f"SELECT item_id, count(*) AS n FROM item_bands WHERE key IN ({marks}) GROUP BY item_id "
            f"HAVING n >= ?{order}",
            (*keys, min_shared) if limit is None else (*keys, min_shared, limit),
        ).fetchall()

    # --- stories -----------------------------------------------------------------------

    def create_story(self, title: str, now: datetime, published: datetime | None, seed_id: int | None = None) -> int:
        cur = self.execute(
            "INSERT INTO stories (created_at, first_published, title, seed_id) VALUES (?, ?, ?, ?)",
            (iso(now), iso(published or now), title, seed_id),
        )
        return int(cur.lastrowid or 0)

    def join_story(self, item_id: int, story_id: int, similarity: float | None, reason: str | None) -> bool:
        """Move an item that is its story's only member (not a seed's story) into another story, with the new
        reason; the story it leaves, empty, is deleted. False (nothing changed) when it is not alone."""
        row = self.execute("SELECT story_id FROM items WHERE id = ?", (item_id,)).fetchone()
        if row is None or row[0] is None or row[0] == story_id:
            return False
        old = row[0]
        alone = self.execute("SELECT count(*) FROM items WHERE story_id = ?", (old,)).fetchone()[0] == 1
        seeded = self.execute(
            "SELECT 1 FROM seeds WHERE story_id = ? "
            "UNION ALL SELECT 1 FROM stories WHERE id = ? AND seed_id IS NOT NULL",
            (old, old),
        ).fetchone()
        if not alone or seeded:
            return False
        self.execute(
            "UPDATE items SET story_id = ?, story_similarity = ?, story_reason = ? WHERE id = ?",
            (story_id, similarity, reason, item_id),
        )
        self.execute("UPDATE stories SET item_count = item_count + 1 WHERE id = ?", (story_id,))
        self.execute("DELETE FROM stories WHERE id = ?", (old,))
        return True

    def story(self, story_id: int) -> sqlite3.Row | None:
        return self.execute("SELECT * FROM stories WHERE id = ?", (story_id,)).fetchone()

    def story_members(self, story_id: int) -> list[sqlite3.Row]:
        return self.execute(
            "SELECT i.*, coalesce(i.source, f.title) AS feed_title FROM items i LEFT JOIN feeds f "
            "ON f.url = i.feed_url WHERE i.story_id = ? ORDER BY coalesce(i.published, i.fetched_at), i.id",
            (story_id,),
        ).fetchall()

    # --- seeds -------------------------------------------------------------------------

    def upsert_seed(self, seed: Seed, now: datetime) -> tuple[int, bool]:
        """Returns (seed id, changed). Importing the same file twice changes nothing, nor does importing it
        again from where it was moved to."""
        row = self.execute("SELECT id, content_hash FROM seeds WHERE path = ?", (seed.path,)).fetchone()
        if row and row["content_hash"] == seed.content_hash:
            return int(row["id"]), False
        if row is None:  # a file renamed or moved is the same seed at its new path
            for moved in self.execute("SELECT id, path FROM seeds WHERE content_hash = ?", (seed.content_hash,)):
                if not Path(moved["path"]).exists():
                    self.execute("UPDATE seeds SET path = ? WHERE id = ?", (seed.path, moved["id"]))
                    return int(moved["id"]), False
        if row:
            self.execute(
                "UPDATE seeds SET title = ?, url = ?, published = ?, text = ?, content_hash = ?, "
                "imported_at = ? WHERE id = ?",
                (seed.title, seed.url, iso(seed.published), seed.text, seed.content_hash, iso(now), row["id"]),
            )
            self.execute("DELETE FROM item_bands WHERE item_id = ?", (-int(row["id"]),))
            return int(row["id"]), True
        # never the id of a removed seed: items still name it as their original (duplicate_of_seed)
        top = self.execute("SELECT max(id) FROM seeds").fetchone()[0] or 0
        seed_id = max(top, int(self.get_meta("removed_seed_max") or 0)) + 1
        self.execute(
            "INSERT INTO seeds (id, path, title, url, published, text, content_hash, imported_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (seed_id, seed.path, seed.title, seed.url, iso(seed.published), seed.text, seed.content_hash, iso(now)),
        )
        return seed_id, True

    def seeds(self) -> list[sqlite3.Row]:
        return self.execute("SELECT * FROM seeds ORDER BY id").fetchall()

    def remove_seed(self, seed_id: int) -> None:
        """Forget a seed: no new item is its copy or follows its story up. What was decided with it stays
        (an item's `duplicate_of_seed` and reason, the story its reports share); the story is no seed's now."""
        self.execute("DELETE FROM item_bands WHERE item_id = ?", (-seed_id,))
        self.execute("DELETE FROM seed_topics WHERE seed_id = ?", (seed_id,))
        self.execute("UPDATE stories SET seed_id = NULL WHERE seed_id = ?", (seed_id,))
        self.execute("DELETE FROM seeds WHERE id = ?", (seed_id,))
        self.set_meta("removed_seed_max", str(max(seed_id, int(self.get_meta("removed_seed_max") or 0))))

    def seed(self, seed_id: int) -> sqlite3.Row | None:
        return self.execute("SELECT * FROM seeds WHERE id = ?", (seed_id,)).fetchone()

    def seed_at_path(self, path: str) -> sqlite3.Row | None:
        return self.execute("SELECT * FROM seeds WHERE path = ?", (path,)).fetchone()

    def set_seed_topics(self, seed_id: int, tags: Iterable[TopicTag]) -> None:
        self.execute("DELETE FROM seed_topics WHERE seed_id = ?", (seed_id,))
        for tag in tags:
            self.execute(
                "INSERT INTO seed_topics (seed_id, topic, score, matched) VALUES (?, ?, ?, ?)",
                (seed_id, tag.topic, tag.score, json.dumps(list(tag.matched))),
            )

    def seed_topics(self, seed_id: int) -> list[dict[str, Any]]:
        return [
            {"topic": r[0], "score": round(r[1], 3), "matched": json.loads(r[2])}
            for r in self.execute("SELECT topic, score, matched FROM seed_topics WHERE seed_id = ?", (seed_id,))
        ]

    # --- digest queries ------------------------------------------------------------------

    def digest_rows(self, start: datetime | None, end: datetime) -> list[sqlite3.Row]:
        """Tagged items of the stories with news in [start, end), with `story_first` (when the story's
        first item was fetched) and `story_published` (when its first report was published, else fetched). A
        story is new when its first item was fetched in the window (a seed's story is never older than its
        follow-ups): all its items count. A story begun before the window that got a new report (not a copy) in
        it is an update: only the window's items count."""
        return self.execute(
            """
            WITH first AS (
                SELECT story_id, min(fetched_at) AS first_fetched,
                       min(coalesce(published, fetched_at)) AS first_published
                FROM items GROUP BY story_id
            ), fresh AS (
                SELECT story_id FROM first WHERE first_fetched >= coalesce(:start, '') AND first_fetched < :end
                UNION
                SELECT story_id FROM items
                WHERE dup_level = 'new' AND fetched_at >= coalesce(:start, '') AND fetched_at < :end
            )
            SELECT i.id, i.feed_url, i.url, i.comments_url, i.title, i.summary, i.author, i.published, i.fetched_at,
                   i.dup_level, i.duplicate_of, i.duplicate_of_seed, i.dup_reason, i.story_id, i.story_reason,
                   t.topic, t.score, t.matched, coalesce(i.source, f.title, i.feed_url) AS feed_title,
                   s.seed_id, sd.title AS seed_title, first.first_fetched AS story_first,
                   first.first_published AS story_published
            FROM items i JOIN fresh ON fresh.story_id = i.story_id
            JOIN first ON first.story_id = i.story_id
            JOIN item_topics t ON t.item_id = i.id
            LEFT JOIN feeds f ON f.url = i.feed_url
            LEFT JOIN stories s ON s.id = i.story_id
            LEFT JOIN seeds sd ON sd.id = s.seed_id
            WHERE i.fetched_at < :end
              AND (first.first_fetched >= coalesce(:start, '') OR i.fetched_at >= coalesce(:start, ''))
            ORDER BY i.id
            """,
            {"start": iso(start), "end": iso(end)},
        ).fetchall()

    def story_sources(self, story_ids: list[int], end: datetime) -> dict[int, list[sqlite3.Row]]:
        out: dict[int, list[sqlite3.Row]] = {}
        for i in range(0, len(story_ids), 500):
            chunk = story_ids[i : i + 500]
            for row in self.execute(
                f"SELECT i.id, i.story_id, i.url, i.comments_url, i.title, i.dup_level, i.fetched_at, "
                f"coalesce(i.source, f.title, i.feed_url) AS feed_title "
                f"FROM items i LEFT JOIN feeds f ON f.url = i.feed_url WHERE i.story_id IN "
                f"({','.join('?' * len(chunk))}) AND i.fetched_at < ? ORDER BY i.id",
                (*chunk, iso(end)),
            ):
                out.setdefault(row["story_id"], []).append(row)
        return out

    def window_counts(self, start: datetime | None, end: datetime) -> tuple[int, int]:
        """(items seen, duplicates) fetched in the window."""
        row = self.execute(
            "SELECT count(*), sum(dup_level != 'new') FROM items WHERE fetched_at >= coalesce(?, '') "
            "AND fetched_at < ?",
            (iso(start), iso(end)),
        ).fetchone()
        return int(row[0] or 0), int(row[1] or 0)

    def topic_daily_counts(self, since: datetime) -> dict[str, dict[str, int]]:
        """topic -> day (YYYY-MM-DD, UTC) -> number of new stories that day."""
        out: dict[str, dict[str, int]] = {}
        for topic, day, n in self.execute(
            "SELECT t.topic, substr(s.created_at, 1, 10) AS day, count(DISTINCT s.id) FROM stories s "
            "JOIN items i ON i.story_id = s.id JOIN item_topics t ON t.item_id = i.id "
            "WHERE s.created_at >= ? GROUP BY t.topic, day",
            (iso(since),),
        ):
            out.setdefault(topic, {})[day] = n
        return out

    def last_sent_digest(self) -> sqlite3.Row | None:
        return self.execute(
            "SELECT * FROM digests WHERE status IN ('sent', 'skipped') ORDER BY window_end DESC LIMIT 1"
        ).fetchone()

    def digests(self, limit: int = 20) -> list[sqlite3.Row]:
        return self.execute("SELECT * FROM digests ORDER BY id DESC LIMIT ?", (limit,)).fetchall()


def _split_sql(script: str) -> list[str]:
    out, buf = [], []
    for line in script.splitlines():
        if line.strip().startswith("--"):
            continue
        buf.append(line)
        if line.rstrip().endswith(";"):
            out.append("\n".join(buf).strip())
            buf = []
    if "".join(buf).strip():
        out.append("\n".join(buf).strip())
    return out


def database_path(data_dir: Path) -> Path:
    return data_dir / "aggregator.sqlite3"
