"""Poll stage orchestrator: the pipeline of one cycle, top to bottom.

    due feeds | fetch (concurrent, polite) | parse | normalise | dedup | tag | store (1 tx per feed)

`Pipeline` owns the state the pure stages need between cycles: the compiled watchlist and the
in-memory story index (rebuilt from the database at start). A bad feed never stops a cycle: its
error is stored with its next poll time; a bad entry is skipped and counted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from array import array
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from itertools import zip_longest
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from aggregator import __version__, dedup, schedule
from aggregator.config import Settings
from aggregator.errors import ParseError, SeedError, StoreError, without_subject
from aggregator.feedlist import discover_links, is_comments_feed, probe_feed
from aggregator.fetch import Fetcher, FetchLimits
from aggregator.locks import PidLock
from aggregator.models import DedupDecision, FetchResult, Item, ParsedFeed, Seed, TopicTag, own_words
from aggregator.normalise import (
    article_slug,
    canonical_url,
    entry_text,
    normalise_entry,
    not_after,
    strip_boilerplate,
    strip_source,
    title_is_made,
)
from aggregator.parse import is_bot_check, parse_feed
from aggregator.seeds import find_seed_files, outlook_error, read_seed, shortcut_error
from aggregator.store import RECOUNT_BANDS, FeedState, Store, database_error, from_iso, iso
from aggregator.tag import CompiledTopic, Doc, tag
from aggregator.watchlist import Watchlist

log = logging.getLogger("aggregator.poll")
T = TypeVar("T")
# what the story index reads of a stored item
_INDEXED = (
    "id, title, summary, story_id, coalesce(published, fetched_at) AS t, fetched_at, feed_url, source, canonical_url"
)
WARM_ITEMS = 5000  # recent items read at start to rebuild document frequencies
SHINGLE_CACHE = 500  # recent items whose shingles stay in memory
TAG_CHARS = 1000  # of an item's text, the opening that tagging reads (its lede: about 160 words of English)


@dataclass
class CycleReport:
    feeds: int = 0
    fetched: int = 0
    not_modified: int = 0
    failed: int = 0
    new_items: int = 0
    edited: int = 0
    duplicates: int = 0
    tagged: int = 0
    skipped_entries: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # feeds read despite being malformed
    left: int = 0  # feeds not stored because the daemon was stopping (still due: read at the next start)

    def line(self) -> str:
        return (
            f"poll cycle: {self.feeds} feeds: {self.fetched} fetched, {self.not_modified} not modified, "
            f"{self.failed} failed; {self.new_items} new items, {self.edited} edited, "
            f"{self.duplicates} duplicates, {self.tagged} tagged"
        ) + (f"; stopped with {self.left} feed{'' if self.left == 1 else 's'} still to read" if self.left else "")


def fetch_limits(settings: Settings) -> FetchLimits:
    return FetchLimits(
        connect_timeout=settings["poll.connect_timeout"],
        read_timeout=settings["poll.read_timeout"],
        total_timeout=settings["poll.total_timeout"],
        max_body=settings["poll.max_body"],
        concurrency=settings["poll.concurrency"],
        per_host=settings["poll.per_host"],
        host_gap=settings["poll.host_gap"],
    )


def schedule_settings(settings: Settings) -> schedule.ScheduleSettings:
    return schedule.ScheduleSettings(
        default_interval=settings["poll.default_interval"],
        min_interval=settings["poll.min_interval"],
        max_interval=settings["poll.max_interval"],
    )


def thresholds(settings: Settings) -> dedup.Thresholds:
    return dedup.Thresholds(
        near_duplicate=settings["dedup.near_duplicate_threshold"],
        story=settings["dedup.story_threshold"],
        window=timedelta(seconds=settings["dedup.story_window"]),
    )


class Pipeline:
    def __init__(self, store: Store, settings: Settings, watchlist: Watchlist, *, now: datetime | None = None) -> None:
        self.store = store
        self.settings = settings
        self.th = thresholds(settings)
        self.sched = schedule_settings(settings)
        self.limits = fetch_limits(settings)
        self.stories = dedup.StoryIndex(self.th.window, follow_up=self.th.story * dedup.FOLLOW_UP)
        self.blurbs = dedup.FeedBlurbs()  # each feed's recurring text (a channel's blurb): not story evidence
        self._shingles: dict[int, array[int]] = {}  # see _remember_shingles
        self._last_item = 0  # the newest item and seed the story index has read (see _catch_up)
        self._last_seed = 0
        self._seed_ids: set[int] = set()  # the seeds in the story index
        self._seed_urls: dict[str, Any] | None = None  # canonical URL -> seed row, built when first needed
        # the name in its address (normalise.article_slug) -> the first item of the story index with it
        self._articles = dedup.ArticleNames()
        self._warm(now or datetime.now(UTC))
        self.watchlist = watchlist
        self.topics = self.compile(watchlist)

    # --- state -----------------------------------------------------------------------

    def _warm(self, now: datetime) -> None:
        """Rebuild the story index: the documents of the window (plus a margin) and every seed, and
        document frequencies from the window and the last WARM_ITEMS items. Each item is tokenised once."""
        horizon = iso(self.stories.horizon(now))
        rows = self.store.execute(
            f"SELECT {_INDEXED} FROM items "
            "WHERE id IN (SELECT id FROM items ORDER BY id DESC LIMIT ?) OR coalesce(published, fetched_at) >= ? "
            "OR fetched_at >= ? ORDER BY id",
            (WARM_ITEMS, horizon, horizon),
        ).fetchall()
        self._index_rows(rows, now)
        self._index_seeds(self.store.seeds())
        self.store.count_common_bands()

    def _index_rows(self, rows: list[Any], now: datetime) -> None:
        """Stored items into the story index: those within its horizon indexed, the older ones counted."""
        horizon = iso(self.stories.horizon(now)) or ""
        series: set[tuple[str, str, tuple[str, ...]]] = set()  # the short headlines seen so far (series_key)
        for row in rows:
            title = own_words(row["title"])
            key = dedup.series_key(row["feed_url"], row["source"], title)
            if key is not None:  # a feed's recurring headline is left out, as at ingest (recurring_title)
                if key in series:
                    title = ""
                series.add(key)
            blurb = self.blurbs.check(row["feed_url"] or "", row["summary"])
            terms = dedup.story_terms(title, "" if blurb else row["summary"])
            if row["t"] >= horizon or row["fetched_at"] >= horizon:
                self.stories.add(
                    row["id"], row["story_id"], from_iso(row["t"]), terms, seen=from_iso(row["fetched_at"])
                )
                self._remember_article(row["id"], row["canonical_url"])
            else:
                self.stories.count(terms)
            self._last_item = max(self._last_item, row["id"])

    def _index_seeds(self, seeds: list[Any]) -> None:
        for seed in seeds:
            dated = _seed_date(from_iso(seed["published"]), from_iso(seed["imported_at"]))
            self._index_seed(seed["id"], seed["story_id"], seed["title"], seed["text"], dated)

    def _index_seed(self, seed_id: int, story_id: int | None, title: str, text: str, dated: datetime | None) -> None:
        self.stories.add(-seed_id, story_id, None, dedup.story_terms(title, text))
        self.stories.date_seed(-seed_id, dated)
        self._last_seed = max(self._last_seed, seed_id)
        self._seed_ids.add(seed_id)

    def _catch_up(self, now: datetime) -> None:
        """Index the items and seeds that another process stored since this index last read the database
        (`poll --once` or `seeds import` beside the running daemon): without them, the daemon's next reports
        of those stories would start stories of their own. Called with the write lock held (in a write
        transaction), so that nothing is stored between this read and this process's own writes."""
        rows = self.store.execute(
            f"SELECT {_INDEXED} FROM items WHERE id > ? ORDER BY id", (self._last_item,)
        ).fetchall()
        if rows:
            self._index_rows(rows, now)
        seeds = self.store.execute("SELECT * FROM seeds WHERE id > ? ORDER BY id", (self._last_seed,)).fetchall()
        if seeds:
            self._index_seeds(seeds)
        kept = {row[0] for row in self.store.execute("SELECT id FROM seeds")}
        for seed_id in self._seed_ids - kept:  # removed by `seeds remove` or `seeds import`
            self._unindex_seed(seed_id)

    def compile(self, watchlist: Watchlist) -> tuple[CompiledTopic, ...]:
        for warning in watchlist.warnings:
            log.warning("watchlist: %s", warning)
        out = []
        for t in watchlist.topics:
            examples = []
            for path in t.examples:
                try:
                    seed = read_seed(path)
                except SeedError as e:
                    log.warning("watchlist topic %s: example skipped: %s", t.id, e)
                    continue
                examples.append((Path(path).name, dedup.story_terms(seed.title, seed.text, max_text_words=400)))
            out.append(CompiledTopic(t.id, t.query, t.exclude, t.min_score, t.example_threshold, tuple(examples)))
        return tuple(out)

    def set_watchlist(self, watchlist: Watchlist) -> None:
        self.watchlist = watchlist
        self.topics = self.compile(watchlist)

    def _similarity(self, terms: dict[str, float]):
        return lambda example: self.stories.cosine_to_fixed(terms, example)

    def tag_text(
        self,
        title: str,
        summary: str,
        feed: str = "",
        author: str = "",
        topics: Iterable[CompiledTopic] | None = None,
        terms: dict[str, float] | None = None,
        tags: Sequence[str] = (),
    ) -> list[TopicTag]:
        """Tag a text; ``terms`` are its story terms if already known (for similarity to examples); ``tags``
        its feed's tags."""
        chosen = tuple(self.topics if topics is None else topics)
        summary = lede(summary)
        similarity = None
        if any(t.examples for t in chosen):
            similarity = self._similarity(terms if terms is not None else dedup.story_terms(title, summary))
        return tag(Doc.of(title, summary, feed, author, tags), chosen, similarity)

    # --- seeds -----------------------------------------------------------------------

    def _unindex_seed(self, seed_id: int) -> None:
        self.stories.remove(-seed_id)
        self._seed_ids.discard(seed_id)
        self._seed_urls = None

    def remove_seed(self, seed_id: int) -> None:
        with self.store.transaction():
            self.store.remove_seed(seed_id)
        self._unindex_seed(seed_id)

    def _gone_seeds(self, folder: Path, files: list[Path], problems: list[str] | None) -> list[Any]:
        """The seeds imported from ``folder`` whose files are no longer there (deleted, renamed), removed; but
        none when the folder holds no seed file at all (a network folder not mounted, a disk not attached):
        that is reported instead. ``files``: the seed files found in the folders imported."""
        root = folder.resolve()
        gone = [s for s in self.store.seeds() if Path(s["path"]).is_relative_to(root) and not Path(s["path"]).exists()]
        if not gone:
            return []
        if not any(f.resolve().is_relative_to(root) for f in files):
            message = (
                f"removing the {len(gone)} seeds whose files are gone from {folder}: it holds no seed file now "
                "(a folder not mounted?); they are kept: `aggregator seeds remove ID` removes one"
            )
            if problems is None:
                raise SeedError(message)
            problems.append(message)
            return []
        for seed in gone:
            self.remove_seed(seed["id"])
        return gone

    def import_seeds(
        self, paths: list[Path], now: datetime, problems: list[str] | None = None, removed: list[Any] | None = None
    ) -> list[tuple[Seed, bool]]:
        """Import seed files (idempotent). Returns each seed and whether it was new or changed. With a
        ``problems`` list, a file that cannot be read is skipped (its error, with what to do, is appended)
        and the others are imported; without one, it raises SeedError. A folder is mirrored: the seeds
        imported from it whose files are gone are removed (see _gone_seeds), and added to ``removed``."""
        done = []
        other: list[Path] = []
        files = find_seed_files(paths, other)
        for path in files:
            try:
                seed = read_seed(path)
            except SeedError as e:
                if problems is None:
                    raise
                problems.append(e.one_line())
                continue
            with self.store.transaction():
                seed_id, changed = self.store.upsert_seed(seed, now)
                if changed:
                    row = self.store.seed(seed_id)
                    story_id = (
                        row["story_id"]
                        if row and row["story_id"]
                        else self.store.create_story(seed.title, now, seed.published, seed_id=seed_id)
                    )
                    self.store.execute("UPDATE seeds SET story_id = ? WHERE id = ?", (story_id, seed_id))
                    self.store.add_bands(-seed_id, dedup.band_keys(seed.title, seed.text))
                    self.store.set_seed_topics(seed_id, self.tag_text(seed.title, seed.text))
                    self._index_seed(seed_id, story_id, seed.title, seed.text, _seed_date(seed.published, now))
            done.append((seed, changed))
        if problems is not None:
            problems.extend(
                outlook_error(path).one_line()
                if path.suffix.lower() == ".msg"
                else shortcut.one_line()
                if (shortcut := shortcut_error(path))
                else f"{path}: unknown format: seeds are plain text (.txt or no suffix), Markdown (.md), "
                "saved pages (.html, .mhtml) or saved mails (.eml)"
                for path in other
            )
        for folder in (p for p in paths if p.is_dir()):
            gone = self._gone_seeds(folder, files, problems)
            if removed is not None:
                removed.extend(gone)
        self._seed_urls = None
        return done

    # --- one cycle -------------------------------------------------------------------

    def due_feeds(self, now: datetime, force: bool) -> list[FeedState]:
        feeds = self.store.feeds()
        if force:
            return [f for f in feeds if not f.gone]
        return [f for f in feeds if schedule.is_due(f.next_poll_at, now, gone=f.gone)]

    async def poll_once(
        self,
        *,
        force: bool = False,
        now: datetime | None = None,
        fetcher: Fetcher | None = None,
        stop: asyncio.Event | None = None,
    ) -> CycleReport:
        """Fetch every due feed (all with ``force``) and store what is new.

        Items are stamped with the time they are stored, not the time the cycle began: the digest job
        may run between two feeds of one cycle, and an item must never land in a window already sent.
        An injected ``now`` (tests, replays) is used for everything."""
        injected = now is not None
        now = now or datetime.now(UTC)
        feeds = _by_turns_of_host(self.due_feeds(now, force))
        report = CycleReport(feeds=len(feeds))
        if not feeds:
            return report
        self.stories.prune(now)
        self._forget_articles()
        if (self.store.bands_since_count or 0) >= RECOUNT_BANDS:
            self.store.count_common_bands()
        self._seed_urls = None  # seeds may have been imported since the last cycle
        own = fetcher is None
        fetcher = fetcher or Fetcher(self.limits)
        if own:
            await fetcher.__aenter__()
        # Backpressure: fetching outruns storing, so at most BUFFERED bodies wait in memory at a time.
        slots = asyncio.Semaphore(max(4, 2 * self.limits.concurrency))
        # Each fetch, once done, waits in a queue (asyncio.wait would look at every pending fetch each time: a
        # cost quadratic in the number of feeds); it is dropped once stored, and its body with it.
        fetched: asyncio.Queue[asyncio.Future[tuple[FeedState, FetchResult]]] = asyncio.Queue()
        pending: set[asyncio.Future[tuple[FeedState, FetchResult]]] = set()

        def finished(task: asyncio.Future[tuple[FeedState, FetchResult]]) -> None:
            pending.discard(task)
            fetched.put_nowait(task)

        for f in feeds:
            task = asyncio.ensure_future(self._fetch(fetcher, f, slots))
            pending.add(task)
            task.add_done_callback(finished)
        left = len(feeds)
        stopping = asyncio.ensure_future(stop.wait()) if stop is not None else None
        try:
            while left and not (stop is not None and stop.is_set()):
                first = await _next_or_stop(fetched, stopping)
                if first is None:  # stopped while feeds were being fetched: they wait for the next start
                    break
                done = [first]
                while not fetched.empty():
                    done.append(fetched.get_nowait())
                left -= len(done)
                # the feeds fetched meanwhile are stored in one transaction (a commit is a write of its own to
                # the disk), each feed in a savepoint of its own; nothing awaits inside, so no other job runs
                # before the commit
                try:
                    with _database_errors(self.store), self.store.transaction():
                        for fut in done:
                            state, result = fut.result()
                            self.process(state, result, now if injected else datetime.now(UTC), report)
                finally:
                    for _ in done:
                        slots.release()
                # on stop: the feeds just stored have committed; the rest waits for the next start
            report.left = left
        finally:
            if stopping is not None:
                stopping.cancel()
            for left_over in list(pending):
                left_over.cancel()
            if own:
                await fetcher.__aexit__(None, None, None)
        log.info(report.line())
        self.store.set_meta("last_poll_at", iso(now))
        self.store.set_meta("last_poll_report", report.line())
        return report

    async def _fetch(
        self, fetcher: Fetcher, state: FeedState, slots: asyncio.Semaphore
    ) -> tuple[FeedState, FetchResult]:
        await slots.acquire()  # released once the result is stored
        try:
            return state, await self._fetch_feed(fetcher, state)
        except Exception as e:  # one feed that trips a bug never stops the cycle: its error is stored
            log.exception("feed %s: unexpected error while fetching", state.url)
            error = f"{state.url}: internal error while fetching: {type(e).__name__}: {e}"
            return state, FetchResult(url=state.url, final_url=state.url, error_kind="internal", error=error)

    async def _fetch_feed(self, fetcher: Fetcher, state: FeedState) -> FetchResult:
        result = await fetcher.fetch(state.url, state.validators)
        page = web_page(result)
        announced = announced_feed(result, page) if page is not None else None
        if page is not None and announced is None and state.last_success_at is None and not state.error_count:
            # a page that announces no feed, on its first poll only: where sites keep theirs (as `feeds add`)
            if not is_bot_check(result.body or b""):
                probed = await probe_feed(fetcher, page, result.final_url)
                announced = probed[0] if probed else None
        if announced and self.store.feed(announced) is None:
            # feeds.toml names a site's page, not its feed: poll the feed the page announces, from now on
            # in its place (stored as a move, like a 301), and say so
            found = await fetcher.fetch(announced)
            if found.ok and found.body and announced_feed(found) is None:
                return replace(found, permanent_redirect=found.permanent_redirect or announced, announced_by=state.url)
        return result

    def process(self, state: FeedState, result: FetchResult, now: datetime, report: CycleReport) -> None:
        """Store one feed's fetch, its items and its new state, in a savepoint of the cycle's transaction (in a
        transaction of its own when called alone): all of it or, on an error, only the error."""
        try:
            with _database_errors(self.store), self.store.transaction(), self.store.savepoint("feed"):
                self._process(state, result, now, report)
        except StoreError:
            raise
        except Exception as e:  # one bad feed never stops a cycle; the error is stored
            log.exception("feed %s: unexpected error while storing", state.url)
            report.failed += 1
            report.errors.append(f"{state.url}: {e}")
            with self.store.transaction():
                self.store.record_fetch(
                    state.url,
                    now=now,
                    ok=False,
                    error_kind="internal",
                    error=f"internal error while storing: {type(e).__name__}: {e}",
                    next_poll_at=schedule.next_poll(
                        self.sched, url=state.url, now=now, ok=False, errors=state.error_count + 1
                    ),
                )

    def _fail(
        self,
        state: FeedState,
        now: datetime,
        kind: str,
        message: str,
        report: CycleReport,
        retry_after: float | None = None,
    ) -> None:
        report.failed += 1
        report.errors.append(message)
        gone = kind == "gone"
        nxt = schedule.next_poll(
            self.sched,
            url=state.url,
            now=now,
            ok=False,
            gone=gone,
            errors=state.error_count + 1,
            retry_after=retry_after,
            override=state.interval,
            gap=state.mean_gap,
            ttl=state.ttl,
        )
        when = nxt.isoformat() if nxt else "never: gone"
        log.warning("feed %s: %s (next poll %s)", state.url, without_subject(message, state.url), when)
        self.store.record_fetch(
            state.url, now=now, ok=False, error_kind=kind, error=message, next_poll_at=nxt, gone=gone
        )

    def _process(self, state: FeedState, result: FetchResult, now: datetime, report: CycleReport) -> None:
        if not result.ok:
            self._fail(
                state,
                now,
                result.error_kind or "error",
                # stored and shown in one line: what went wrong, where, and what to do
                f"{result.error or 'fetch failed'}; {result.hint}" if result.hint else result.error or "fetch failed",
                report,
                result.retry_after,
            )
            return
        url = state.url
        if result.not_modified:
            report.not_modified += 1
            nxt = self._next_ok(state, now, result.max_age)
            self.store.record_fetch(
                url,
                now=now,
                ok=True,
                next_poll_at=nxt,
                max_age=result.max_age,
                warning=state.warning,
                validators=replace(
                    result.validators, body_hash=result.validators.body_hash or state.validators.body_hash
                ),
                moved_to=result.permanent_redirect,
            )
            return
        known = _known_entries(self.store.feed_entries(url))

        def read(known: dict[str, tuple[str, datetime | None] | None]) -> tuple[ParsedFeed, list[Item]]:
            parsed = parse_feed(result.body or b"", url, result.content_type, base=result.final_url, known=known)
            title = state.title or parsed.title
            return parsed, [normalise_entry(e, url, now, title, state.tags, parsed.title) for e in parsed.entries]

        try:
            parsed, items = read(known)
            kept = [known[key] for key in parsed.unparsed]
            kept_guids = {k[0] for k in kept if k and k[0]}
            if kept_guids and any(item.guid in kept_guids for item in items):
                # an entry new in its text has the guid of one left unparsed: the feed gives one guid to several
                # entries (_unique_guids must see them all)
                parsed, items = read({})
                kept = []
        except ParseError as e:
            message = str(e)
            if e.page and state.last_success_at is not None:
                # this address gave the feed before: not a page pasted into feeds.toml by mistake
                message = (
                    f"{url}: a web page instead of the feed it gave until {state.last_success_at:%Y-%m-%d %H:%M} "
                    "UTC: a temporary error page (retried later), or the feed has moved: `aggregator feeds add` "
                    "with the site's address finds where"
                )
            self._fail(state, now, "parse", message, report)
            return
        report.fetched += 1
        report.skipped_entries += parsed.skipped + kept.count(None)
        if result.announced_by:
            moved = (
                f"a web page; polling the feed it announces instead, {result.permanent_redirect} "
                "(put that in feeds.toml)"
            )
            log.warning("feed %s: %s", url, moved)
            report.warnings.append(f"{url}: {moved}")
        unique = _unique_guids(items)
        present = {item.guid for item in unique} | {k[0] for k in kept if k and k[0]}
        failed: set[int] = set()
        if unique:
            self._catch_up(now)
        self.blurbs.expect(url, (item.summary for item in unique))
        for n, item in enumerate(unique):
            try:
                with self.store.savepoint():
                    self.ingest(item, now, report, present=present)
            except sqlite3.OperationalError:  # the database, not the entry (a lock, a full disk): stop the feed
                raise
            except Exception as e:  # one entry that trips a bug never costs the feed its other entries
                log.exception("feed %s: entry %s skipped: unexpected error", url, item.guid)
                failed.add(n)
                report.skipped_entries += 1
                report.errors.append(f"{url}: entry {item.guid[:200]} skipped: internal error: {type(e).__name__}: {e}")
        self.blurbs.expect(url, ())  # the document is stored: its texts are among the feed's recent ones now
        # as normalised: a date in the future is the time of this fetch
        published = [item.published for item in unique if item.published]
        published += [k[1] for k in kept if k and k[1]]
        gap = schedule.mean_gap(published)
        ttl = schedule.listing_bound(parsed.ttl, published)
        nxt = self._next_ok(state, now, result.max_age, gap=gap, ttl=ttl)
        if parsed.warning:
            log.warning("feed %s: %s", url, parsed.warning)
            report.warnings.append(f"{url}: {parsed.warning}")
        stored_at = self.store.record_fetch(
            url,
            now=now,
            ok=True,
            next_poll_at=nxt,
            validators=result.validators,
            title=parsed.title,
            site_url=parsed.link,
            warning=parsed.warning,
            ttl=ttl,
            max_age=result.max_age,
            mean_gap=gap,
            moved_to=result.permanent_redirect,
        )
        # Each entry of this document by the hash of its raw text, for the next fetch to leave unparsed: not
        # where guids were rewritten (they depend on the other entries) or the feed was malformed (the entries
        # were read by feedparser's lenient parser, which a part of the document may not need)
        entries = None
        if parsed.keys is not None and unique is items and not parsed.warning:
            listed: dict[str, tuple[str, str | None] | None] = dict.fromkeys(parsed.skipped_keys)
            for key, k in zip(parsed.unparsed, kept, strict=True):
                listed[key] = (k[0], iso(k[1]) if k[1] else None) if k else None
            for n, (key, item) in enumerate(zip(parsed.keys, unique, strict=True)):
                if n not in failed:
                    listed[key] = (item.guid, iso(item.published) if item.published else None)
            entries = json.dumps({"format": ENTRIES_FORMAT, "entries": listed}, separators=(",", ":"))
        self.store.set_feed_entries(stored_at, entries)

    def _next_ok(
        self, state: FeedState, now: datetime, max_age: int | None, *, gap: float | None = None, ttl: int | None = None
    ) -> datetime | None:
        """Next poll after a success: the freshest publishing gap and <ttl> known, else the stored ones."""
        return schedule.next_poll(
            self.sched,
            url=state.url,
            now=now,
            ok=True,
            override=state.interval,
            gap=gap or state.mean_gap,
            ttl=ttl or state.ttl,
            max_age=max_age,
        )

    # --- one item --------------------------------------------------------------------

    def ingest(self, item: Item, now: datetime, report: CycleReport, *, present: set[str] | None = None) -> int | None:
        """Store one item: an edit of a known one, or a new one with its dedup decision and tags.
        ``present``: the guids of the feed document the item comes from, when it comes from one."""
        known = self.store.item_by_guid(item.feed_url, item.guid)
        if known is None and self.store.was_removed(item.feed_url, item.guid):
            return None  # removed by retention, still in its feed: seen long ago, not new
        if known is None and present is not None and item.canonical_url:
            known = self._reissued(item, item.canonical_url, present, now)
        if known is not None:
            if known["content_hash"] != item.content_hash:
                # the same words spaced differently or cleaned better (text extraction improved since it was
                # stored: a link aggregator's trailer of points and comments, a picture's caption, the channel's
                # name after the headline, a headline made better from the text of a post without one) is no edit
                old_title = known["title"]
                respaced = (
                    _squeezed(item.title)
                    in {_squeezed(old_title), _squeezed(strip_source(old_title, item.feed_title or ""))}
                    or (title_is_made(item.title, item.summary) and title_is_made(old_title, known["summary"] or ""))
                ) and _squeezed(item.summary) in {_squeezed(text) for text in _extracted(known)}
                self.store.update_edited_item(known["id"], item, now, record=not respaced)
                self.store.set_topics(
                    known["id"],
                    self.tag_text(
                        item.title, item.summary, item.feed_title or "", item.author or "", tags=item.feed_tags
                    ),
                    now,
                )
                report.edited += not respaced
            return None
        # every decision first, the writes and the index after: an error in one leaves nothing half done
        decision, sh, keys, terms = self.dedup_item(item, present)
        tags = self.tag_text(
            item.title, item.summary, item.feed_title or "", item.author or "", terms=terms, tags=item.feed_tags
        )
        item_id = self.store_new(item, decision, sh, keys, terms, now)
        if decision.duplicate_of is not None:
            self._earliest_first(item, item_id, decision)
        self.store.set_topics(item_id, tags, now, replace=False)
        self.gather(item_id, decision, terms)
        report.new_items += 1
        report.duplicates += decision.level != "new"
        report.tagged += bool(tags)
        return item_id

    def gather(self, item_id: int, decision: DedupDecision, terms: dict[str, float]) -> None:
        """A report that came before the rest of its story stood alone (nothing like it yet); when a new
        item joins a story (``decision``, as stored) and is close to such a report, that report is scored
        again against the story as it is now and joins it if the story is its best, by dedup.rejoined's
        stricter bar (the online order of arrival would otherwise decide what one story is)."""
        story_id = decision.story_id
        if decision.level != "new" or story_id is None:
            return
        for key in self.stories.loners(terms, story_id):
            joined = dedup.rejoined(self.stories.rejoin(key), story_id, item_id, self.th)
            if joined is not None and self.store.join_story(
                key, story_id, joined.story_similarity, joined.story_reason
            ):
                self.stories.move(key, story_id)

    def store_new(
        self,
        item: Item,
        decision: DedupDecision,
        sh: frozenset[int],
        keys: list[int],
        terms: dict[str, float],
        now: datetime,
    ) -> int:
        """Store a new item with its dedup decision (a new story if it joins none) and index it."""
        story_id = decision.story_id
        if story_id is None:
            story_id = self.store.create_story(item.title, now, item.published)
        item_id = self.store.insert_item(
            item,
            dup_level=decision.level,
            duplicate_of=decision.duplicate_of,
            duplicate_of_seed=decision.duplicate_of_seed,
            dup_similarity=decision.similarity,
            dup_reason=decision.reason,
            story_id=story_id,
            story_similarity=decision.story_similarity,
            story_reason=decision.story_reason,
        )
        self.store.add_bands(item_id, keys)
        self._remember_shingles(item_id, sh)
        self.stories.add(item_id, story_id, item.published or item.fetched_at, terms, seen=item.fetched_at)
        self._remember_article(item_id, item.canonical_url)
        self._last_item = max(self._last_item, item_id)
        return item_id

    def _earliest_first(self, item: Item, item_id: int, decision: DedupDecision) -> None:
        """The original of copies is the earliest published: a copy found before its original (a syndicating
        site's feed polled first, in this cycle or an earlier one) gives the original its place, unless a
        sent digest already showed the copy as the report (changing it now would bring the story back)."""
        original = self.store.execute(
            "SELECT id, title, fetched_at, coalesce(published, fetched_at) AS t FROM items WHERE id = ?",
            (decision.duplicate_of,),
        ).fetchone()
        mine = item.published or item.fetched_at
        if original is None or mine >= (from_iso(original["t"]) or mine):
            return
        sent = self.store.last_sent_digest()
        if sent is not None and original["fetched_at"] < sent["window_end"]:
            return
        reason = decision.reason or ""
        if decision.level == "near-duplicate":  # the same reason, now naming this item
            sim = decision.similarity or 0.0
            note = next((n for n in (dedup.HEADLINE_ONLY, dedup.HEADLINE_LONG) if reason.endswith(n)), None)
            reason = dedup.near_reason("item", item.title, sim, note)
        elif reason.endswith(dedup.FILED_ELSEWHERE) and item.canonical_url:  # the same reason, now naming its address
            reason = dedup.filed_elsewhere(item.canonical_url)
        self.store.swap_original(
            original["id"], item_id, level=decision.level, similarity=decision.similarity, reason=reason
        )

    def _reissued(self, item: Item, key: str, present: set[str], now: datetime) -> Any:
        """This feed's item at this URL whose guid is gone from the feed, with the same headline or the same
        text: the guid changed (some feeds make one per fetch; some re-post an edited article under a new
        one), so it is the same item, edited in place, not a copy. Entries of one document sharing a URL are
        separate entries (a feed linking a listing page), and so is a new article at a URL the feed reuses
        (a daily briefing page, a front page): another headline and another text."""
        rows = [r for r in self.store.items_in_feed_at(item.feed_url, key) if r["guid"] not in present]
        if not rows:
            return None
        mine = dedup.title_words(item.title)
        overlap, best = max(((dedup.title_overlap(mine, r["title"]), r) for r in rows), key=lambda x: x[0])
        if overlap < dedup.SAME_TITLE:
            text = dedup.shingles(item.title, item.summary)
            sim, best = max(
                ((dedup.similarity(text, dedup.shingles(r["title"], r["summary"])), r) for r in rows),
                key=lambda x: x[0],
            )
            if sim < self.th.near_duplicate:
                return None
        if dedup.moved_on(item.title, item.published or now, best["title"], from_iso(best["t"]), self.th.window):
            return None
        return best

    def dedup_item(
        self, item: Item, present: set[str] | None = None
    ) -> tuple[DedupDecision, frozenset[int], list[int], dict[str, float]]:
        """The dedup decision for a new item, with the features computed for it (shingles, candidate
        keys, story terms) so that storing it needs no second pass. ``present``: as for ingest."""
        when = item.published or item.fetched_at
        title = own_words(item.title)  # an untitled item without text: nothing to compare
        key = _article_key(item.canonical_url)
        # within its own feed, an item's URL was matched by ingest (_reissued), which knows that entries
        # sharing a URL in one document are separate entries
        other_than = item.feed_url if present is not None else None
        same = self.store.item_by_canonical(key, other_than_feed=other_than) if key else None
        slug = article_slug(key)
        elsewhere = self._filed_elsewhere(slug, key) if same is None and slug and key else None
        same = same or elsewhere
        sh = frozenset(dedup.shingles(title, item.summary))
        keys = dedup.band_keys(title, item.summary, sh)
        seed = self._seed_at(key) if same is None else None
        near = [] if same or seed else self._near_candidates(keys, dedup.title_key(title))
        series = dedup.recurring_title(title, near, item.feed_url, item.source)
        # a series' headline tells no story, nor does the feed's blurb under every item
        blurb = self.blurbs.check(item.feed_url, item.summary)
        terms = dedup.story_terms("" if series else title, "" if blurb else item.summary)
        decision = dedup.decide(
            title=title,
            text=item.summary,
            when=when,
            same_url=dedup.SameUrl(
                same["duplicate_of"] or same["id"],
                same["story_id"],
                same["title"],
                from_iso(same["t"]),
                elsewhere["canonical_url"] if elsewhere else None,
            )
            if same
            else None,
            feed_url=item.feed_url,
            near=near,
            stories=self.stories,
            terms=terms,
            th=self.th,
            mine=sh,
            seed_at_url=dedup.SeedAtUrl(seed["id"], seed["title"], seed["story_id"]) if seed is not None else None,
            source=item.source,
            series=series,
            article=slug,
        )
        if blurb and decision.level == "new" and decision.reason is None:
            decision = replace(decision, reason=dedup.FEED_BLURB)
        return decision, sh, dedup.stored_keys(title, item.summary, keys), terms

    def _filed_elsewhere(self, slug: str, canonical: str) -> Any:
        """The item of the story window with this article's name (normalise.article_slug) at another address of
        its site: a site that moves an article to another section, re-dates it or rewrites its slug lists it
        again under a new address (often with its first sentence for a headline) within days; it is the same
        article, not a new one. Looked up in memory: a database key would cost every item a row more."""
        item_id = self._articles.get(dedup.article_name_key(slug))
        if item_id is None or item_id not in self.stories.docs:  # pruned from the index since
            return None
        row = self.store.execute(
            "SELECT id, canonical_url, title, story_id, duplicate_of, coalesce(published, fetched_at) AS t "
            "FROM items WHERE id = ?",
            (item_id,),
        ).fetchone()
        if row is None or row["canonical_url"] == canonical or article_slug(row["canonical_url"]) != slug:
            return None
        return row

    def _remember_article(self, item_id: int, canonical: str | None) -> None:
        """Note the name in an indexed item's address, if it has one (the first item with a name keeps it)."""
        if slug := article_slug(canonical):
            self._articles.add(dedup.article_name_key(slug), item_id)
            if len(self._articles) > 2 * len(self.stories.docs) + 1000:  # many pruned from the index since
                self._forget_articles()

    def _forget_articles(self) -> None:
        """Keep the names of the story index's items only (see _filed_elsewhere)."""
        self._articles.keep(self.stories.docs)

    def _seed_at(self, canonical: str | None) -> Any:
        """The seed article whose own page gave this (canonical) URL, if any."""
        if not canonical:
            return None
        if self._seed_urls is None:
            self._seed_urls = {}
            for seed in self.store.seeds():
                key = canonical_url(seed["url"]) if seed["url"] else None
                if key:
                    self._seed_urls.setdefault(key, seed)
        return self._seed_urls.get(canonical)

    def _near_candidates(self, keys: list[int], title_key: int) -> list[dedup.NearCandidate]:
        """Earlier items and seeds that may be the original of a copy: those sharing its title key, or enough
        of its sampled shingle keys (dedup.keys_needed)."""
        need = dedup.keys_needed(keys, self.th.near_duplicate)
        ids = self.store.band_candidates(keys, min_shared=need)
        if need > 1:
            ids += [i for i in self.store.band_candidates([title_key]) if i not in ids]
        out = []
        for cid in ids:
            if cid < 0:
                seed = self.store.seed(-cid)
                if seed is not None:
                    out.append(
                        dedup.NearCandidate(
                            None,
                            seed["id"],
                            seed["title"],
                            frozenset(dedup.shingles(seed["title"], seed["text"])),
                            seed["story_id"],
                            when=from_iso(seed["published"]),
                        )
                    )
                continue
            row = self.store.execute(
                "SELECT title, summary, story_id, duplicate_of, duplicate_of_seed, feed_url, source, canonical_url, "
                "coalesce(published, fetched_at) AS t FROM items WHERE id = ?",
                (cid,),
            ).fetchone()
            if row is not None:
                packed = self._shingles.get(cid)  # else computed again from the stored text
                cached = frozenset(dedup.shingles(row["title"], row["summary"]) if packed is None else packed)
                out.append(
                    dedup.NearCandidate(
                        cid,
                        None,
                        row["title"],
                        cached,
                        row["story_id"],
                        row["duplicate_of"],
                        row["feed_url"],
                        from_iso(row["t"]),
                        row["source"],
                        row["duplicate_of_seed"],
                        article_slug(row["canonical_url"]),
                    )
                )
        return out

    def _remember_shingles(self, item_id: int, sh: frozenset[int]) -> None:
        """A bounded cache of recent items' shingles: copies usually follow their original closely. Kept as
        arrays, 8 bytes a shingle: a frozenset of 64-bit ints takes about 130 (the last 500 items of a feed farm
        took 6 MB, and whole articles in content:encoded, a thousand shingles each, would take 60 MB)."""
        self._shingles[item_id] = array("q", sh)
        if len(self._shingles) > SHINGLE_CACHE:
            for old in list(self._shingles)[: SHINGLE_CACHE // 4]:
                del self._shingles[old]

    # --- watchlist changes -------------------------------------------------------------

    def retag(self, since: datetime, topic_ids: set[str] | None = None, now: datetime | None = None) -> int:
        """Apply (new or changed) topics to the items fetched since ``since``; returns how many were tagged."""
        now = now or datetime.now(UTC)
        topics = [t for t in self.topics if topic_ids is None or t.id in topic_ids]
        tagged = 0
        with self.store.transaction():
            for row in self.store.execute(
                "SELECT i.id, i.title, i.summary, i.author, f.title AS feed_title, f.tags AS feed_tags FROM items i "
                "LEFT JOIN feeds f ON f.url = i.feed_url WHERE i.fetched_at >= ?",
                (iso(since),),
            ).fetchall():
                tags = self.tag_text(
                    row["title"],
                    row["summary"],
                    row["feed_title"] or "",
                    row["author"] or "",
                    topics,
                    tags=json.loads(row["feed_tags"] or "[]"),
                )
                for t in topics:
                    self.store.execute("DELETE FROM item_topics WHERE item_id = ? AND topic = ?", (row["id"], t.id))
                self.store.set_topics(row["id"], tags, now, replace=False)
                tagged += bool(tags)
            known = {t.id for t in self.topics}
            self.store.execute(
                f"DELETE FROM item_topics WHERE topic NOT IN ({','.join('?' * len(known))})"
                if known
                else "DELETE FROM item_topics",
                tuple(known),
            )
            for seed in self.store.seeds():
                self.store.set_seed_topics(seed["id"], self.tag_text(seed["title"], seed["text"]))
        return tagged


@contextmanager
def _database_errors(store: Store) -> Iterator[None]:
    """The database cannot be written now (another program's lock, a full disk): the cycle stops with a
    StoreError saying what to do, and the feeds not stored stay due, to be fetched again on the next one."""
    try:
        yield
    except sqlite3.OperationalError as e:
        raise database_error(e, store.path) from e


def cycle_lock(data_dir: Path) -> PidLock:
    """One poll cycle at a time on a data directory, across programs (data_dir/poll.lock): the daemon and a
    `poll --once` from cron, or two cron runs that overlap, would each fetch every due feed, twice the requests
    to every publisher at once."""
    return PidLock(data_dir / "poll.lock")


async def _next_or_stop(queue: asyncio.Queue[T], stopping: asyncio.Future[Any] | None) -> T | None:
    """The queue's next entry, or None as soon as ``stopping`` is done (a SIGTERM while slow feeds are fetched:
    the daemon stops now, not when the slowest answers or times out)."""
    if stopping is None:
        return await queue.get()
    if not queue.empty():
        return queue.get_nowait()
    getter = asyncio.ensure_future(queue.get())
    await asyncio.wait((getter, stopping), return_when=asyncio.FIRST_COMPLETED)
    if getter.done() and not getter.cancelled():
        return getter.result()
    getter.cancel()
    return None


def _by_turns_of_host(feeds: list[FeedState]) -> list[FeedState]:
    """Feeds in turns of their hosts (a.example, b.example, a.example...): a host with hundreds of feeds
    (YouTube channels, Google News searches), fetched one at a time for politeness, must not hold every
    fetch slot of the cycle while the other hosts' feeds wait behind it."""
    queues: dict[str, list[FeedState]] = {}
    for f in feeds:
        queues.setdefault((urlsplit(f.url).hostname or "").lower(), []).append(f)
    if len(queues) < 2:
        return feeds
    return [f for turn in zip_longest(*queues.values()) for f in turn if f is not None]


def web_page(result: FetchResult) -> str | None:
    """The text of a fetched web page (HTML, not a feed served as text/html); None for anything else."""
    if not (result.ok and result.body and urlsplit(result.final_url).scheme in ("http", "https")):
        return None
    head = result.body[:4096].lower()
    if not (b"<html" in head or b"<!doctype html" in head) or any(
        tag in head for tag in (b"<rss", b"<feed", b"<rdf:rdf")
    ):
        return None
    return result.body[: 512 * 1024].decode("utf-8", "replace")


def announced_feed(result: FetchResult, page: str | None = None) -> str | None:
    """The main feed a fetched web page announces (<link rel="alternate" type="application/rss+xml">),
    when the body is a page and not a feed; None otherwise."""
    page = page if page is not None else web_page(result)
    if page is None:
        return None
    links = discover_links(page, result.final_url)
    main = next((u for u, t in links if not is_comments_feed(u, t)), None)
    return main if main and main != result.final_url else None


# What feed_entries holds and what the code reading entries is: another release reads every entry again once.
# Raise the number when parse or normalise change what they make of an entry between releases.
# 2: HN/Reddit trailers, captions, untitled posts, legacy encodings; 3: a channel's name after the headline
ENTRIES_FORMAT = f"3/{__version__}"


def _known_entries(stored: str | None) -> dict[str, tuple[str, datetime | None] | None]:
    """A feed's entries as its last document held them (key -> (guid, published), or None: nothing usable)."""
    try:
        doc = json.loads(stored) if stored else None
    except ValueError:
        return {}
    if not isinstance(doc, dict) or doc.get("format") != ENTRIES_FORMAT or not isinstance(doc.get("entries"), dict):
        return {}
    known: dict[str, tuple[str, datetime | None] | None] = {}
    for key, value in doc["entries"].items():
        if value is None:
            known[key] = None
            continue
        try:
            guid, published = value
            known[key] = (guid, from_iso(published)) if isinstance(guid, str) and guid else None
        except (TypeError, ValueError):
            continue  # not as this code writes it: that entry is read again
    return known


def _unique_guids(items: list[Item]) -> list[Item]:
    """Some feeds give every entry one guid (a CMS writing the site's address into each): those entries would
    collapse into one item, each overwriting the last. A guid shared by different entries of one document
    identifies none of them; each is known by its link instead (unique among them), else by its text."""
    seen: dict[str, set[tuple[str | None, str]]] = {}
    for item in items:
        seen.setdefault(item.guid, set()).add((item.url, item.content_hash))
    shared = {guid for guid, versions in seen.items() if len(versions) > 1}
    if not shared:
        return items
    out = []
    for item in items:
        if item.guid in shared:
            urls = [u for u, _ in seen[item.guid]]
            unique = item.url is not None and urls.count(item.url) == 1
            item = replace(
                item, guid=item.url[:2000] if item.url is not None and unique else f"sha1:{item.content_hash}"
            )
        out.append(item)
    return out


def _article_key(canonical: str | None) -> str | None:
    """The canonical URL as an article's identity; a site's front page (some feeds link every entry to it)
    identifies none."""
    if not canonical:
        return None
    parts = urlsplit(canonical)
    return None if parts.path in ("", "/") and not parts.query else canonical


def _seed_date(published: datetime | None, imported: datetime | None) -> datetime | None:
    """The date a seed is a report of (StoryIndex.date_seed): its published date, else when it was imported;
    a date after its import (a mistyped year) is its import, as a feed's future date is the time it is read."""
    return not_after(published, imported) or imported


def lede(text: str, limit: int = TAG_CHARS) -> str:
    """The opening of a text, cut between words: what tagging reads. A feed that carries whole articles
    would otherwise have every passing mention deep in one (an earnings report's line on export rules) tag
    it; a feed's description, and an article's first paragraphs, say what it is about."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ", limit - 100)
    return cut[:space] if space > 0 else cut


def _extracted(row: Any) -> Iterator[str]:
    """A stored item's text as it was stored, and as this release extracts it from the stored HTML."""
    yield row["summary"] or ""
    yield strip_boilerplate(row["summary"] or "", row["title"])
    if "summary_html" in row.keys() and row["summary_html"]:
        yield entry_text(row["summary_html"], row["title"])


def _squeezed(text: str | None) -> str:
    return "".join((text or "").split())
