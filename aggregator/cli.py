"""Command line: the only module that prints or exits.

Every command has help with an example (checked by a test). Errors are one line plus a hint:
    aggregator: config/aggregator.toml: digest.time: expected "HH:MM", got "7am"
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import json
import logging
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import unquote, urlsplit

from aggregator import __version__
from aggregator.config import (
    Settings,
    display_path,
    is_web_url,
    load_feeds,
    load_settings,
    normalise_feed_url,
    parse_addresses,
    parse_since,
    resolve_config_dir,
)
from aggregator.dates import period, shown, span
from aggregator.errors import AggregatorError, ConfigError, QuerySyntaxError, redact, without_subject
from aggregator.logs import setup_logging
from aggregator.store import Store, database_error, database_path, iso

EXAMPLES: dict[str, str] = {
    "run": "aggregator --config config run",
    "poll": "aggregator poll --once --force",
    "feeds add": "aggregator feeds add https://example.org/news/ https://example.com/feed.xml --tags china,tech",
    "feeds list": "aggregator feeds list --verbose",
    "feeds remove": "aggregator feeds remove https://example.org/feed.xml",
    "feeds import": "aggregator feeds import subscriptions.opml",
    "feeds export": "aggregator feeds export > subscriptions.opml",
    "seeds import": "aggregator seeds import seeds/ ~/notes/article.md https://www.example.com/news/article.html",
    "seeds list": "aggregator seeds list",
    "seeds remove": "aggregator seeds remove 3 ~/clippings/old-article.md",
    "digest": "aggregator digest --preview --out /tmp/digest.html",
    "digest list": "aggregator digest list",
    "status": "aggregator status --check || echo unhealthy",
    "export items": "aggregator export items --format jsonl > items.jsonl",
    "export feed": "aggregator export feed us-china-tech > us-china-tech.atom",
    "explain": "aggregator explain 42  (or the link the digest shows: aggregator explain https://...)",
    "watchlist list": "aggregator watchlist list",
    "watchlist show": "aggregator watchlist show us-china-tech",
    "watchlist add": "aggregator watchlist add chips --name 'Chip industry' --query 'semiconductor* OR chipmak*'",
    "watchlist remove": "aggregator watchlist remove chips",
    "watchlist validate": "aggregator watchlist validate",
    "watchlist test": "aggregator watchlist test us-china-tech --since 30d",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # a wrong flag: one line and usage, never a traceback
        self.print_usage(sys.stderr)
        self.exit(2, f"aggregator: {message}\n")


def _sub(subs: Any, name: str, help_text: str, key: str | None = None) -> argparse.ArgumentParser:
    example = EXAMPLES[key or name]
    return subs.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="aggregator",
        description="Self-hosted news tracking: feeds in, one grouped digest out.",
        epilog="example:\n  aggregator --config config run\n\nsee README.md for the configuration reference",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--config", metavar="DIR", help="config folder (default ./config, env AGGREGATOR_CONFIG)")
    p.add_argument("--log-format", choices=("text", "json"), help="log lines as text (default) or JSON")
    p.add_argument("--version", action="version", version=f"aggregator {__version__}")
    subs = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subs.required = True

    _sub(subs, "run", "run the daemon in the foreground (Ctrl-C or SIGTERM stops it)")

    s = _sub(subs, "poll", "poll the feeds that are due, once")
    s.add_argument("--once", action="store_true", required=True, help="one cycle, then exit")
    s.add_argument("--force", action="store_true", help="poll every feed now, due or not")

    feeds = _sub(subs, "feeds", "add, list, remove, import or export feeds", "feeds list")
    fs = feeds.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    fs.required = True
    s = _sub(fs, "add", "add feeds (a web page's feed is discovered)", "feeds add")
    s.add_argument("urls", nargs="+", metavar="URL")
    s.add_argument("--title")
    s.add_argument("--interval", help='e.g. "30m"')
    s.add_argument("--tags", help="comma-separated")
    s = _sub(fs, "list", "list feeds and their health", "feeds list")
    s.add_argument(
        "-v", "--verbose", action="store_true", help="also items stored and tagged, last and next poll, and why then"
    )
    s = _sub(fs, "remove", "remove feeds from feeds.toml (their items stay)", "feeds remove")
    s.add_argument("urls", nargs="+", metavar="URL")
    s = _sub(fs, "import", "import an OPML file, or one online by its URL (folders become tags)", "feeds import")
    s.add_argument("file", metavar="FILE_OR_URL")
    _sub(fs, "export", "write the feeds as OPML to standard output", "feeds export")

    seeds = _sub(subs, "seeds", "import, list or remove seed articles", "seeds list")
    ss = seeds.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    ss.required = True
    s = _sub(
        ss,
        "import",
        "import seed articles (.txt, .md, .html, .eml files or folders; an article's URL is saved into seeds_dir); "
        "default: seeds_dir",
        "seeds import",
    )
    s.add_argument("paths", nargs="*", metavar="PATH_OR_URL")
    _sub(ss, "list", "list imported seeds", "seeds list")
    s = _sub(
        ss,
        "remove",
        "forget seeds (by id, as `seeds list` shows, or file): new items are no longer their copies; "
        "a seed's file in seeds_dir is removed by deleting the file",
        "seeds remove",
    )
    s.add_argument("seeds", nargs="+", metavar="ID_OR_PATH")

    s = _sub(subs, "digest", "preview, send or list digests")
    s.add_argument("action", nargs="?", choices=("list",), help="list: the digests recorded")
    s.add_argument("--preview", action="store_true", help="render without sending or recording")
    s.add_argument("--send", action="store_true", help="send the due window now")
    s.add_argument("--since", help='window start, e.g. "24h" or "2026-11-28"')
    s.add_argument("--out", type=Path, help="with --preview: write the HTML (or .txt) here")
    s.add_argument(
        "--to",
        metavar="ADDRESS",
        help="with --preview: mail it to this address through [smtp] (a test of the mail set-up; records nothing)",
    )

    s = _sub(subs, "status", "health at a glance")
    s.add_argument("--json", action="store_true")
    s.add_argument("--check", action="store_true", help="exit 1 when unhealthy (for health checks)")

    export = _sub(subs, "export", "export items or a topic feed", "export items")
    es = export.add_subparsers(dest="what", metavar="WHAT", parser_class=_Parser)
    es.required = True
    s = _sub(es, "items", "every stored item, one JSON object per line", "export items")
    s.add_argument("--format", choices=("jsonl",), default="jsonl")
    s.add_argument("--since", help='only items since, e.g. "7d"')
    s = _sub(es, "feed", "an Atom feed of a topic's stories", "export feed")
    s.add_argument("topic")
    s.add_argument("--days", type=int, default=30)

    s = _sub(subs, "explain", "why an item was merged, clustered and tagged (by its id, or its link in the digest)")
    s.add_argument("item", metavar="ITEM_ID_OR_URL")

    wl = _sub(subs, "watchlist", "list, show, add, remove, validate or test topics", "watchlist list")
    ws = wl.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    ws.required = True
    _sub(ws, "list", "list topics", "watchlist list")
    s = _sub(ws, "show", "show one topic", "watchlist show")
    s.add_argument("topic")
    s = _sub(ws, "add", "add a topic (comments in the file are kept)", "watchlist add")
    s.add_argument("topic")
    s.add_argument("--name", required=True)
    s.add_argument("--query", help="the topic's query (README, Watchlist queries); default: the words of its name")
    s.add_argument(
        "--keyword", action="append", dest="keywords", metavar="WORDS", help="a word or phrase it tags (repeatable)"
    )
    s.add_argument(  # as the file writes them: keywords = [...]
        "--keywords", action="append", dest="keyword_lists", metavar="W1,W2", help="several, separated by commas"
    )
    s.add_argument("--exclude")
    s.add_argument("--description")
    s.add_argument("--min-score", type=float)
    s = _sub(ws, "remove", "remove a topic", "watchlist remove")
    s.add_argument("topic")
    _sub(ws, "validate", "check the watchlist file", "watchlist validate")
    s = _sub(ws, "test", "backtest a topic on stored items or a labelled file", "watchlist test")
    s.add_argument("topic")
    s.add_argument(
        "--since", default="30d", help='how far back in stored items, e.g. "7d" or "2026-11-01" (default "30d")'
    )
    s.add_argument("--query", help="test this query instead of the saved one")
    s.add_argument("--exclude", help="with --query: an exclude query")
    s.add_argument("--labels", type=Path, help="JSONL with id, title, description, label: prints P/R/F1")
    s.add_argument("--show", type=int, default=20, help="how many matches / misses to list")
    return p


# --- helpers ---------------------------------------------------------------------------------


def _out(text: str = "") -> None:
    sys.stdout.write(redact(text) + "\n")


def _err(text: str) -> None:
    sys.stderr.write(redact(text))


def _each(urls: list[str], act: Callable[[str], list[str]]) -> int:
    """Do ``act`` for each URL given, printing what it says. With several, one that fails says why and the
    others are still done (exit 2); a single one fails as any command does."""
    failed = 0
    for url in urls:
        try:
            lines = act(url)
        except AggregatorError as e:
            if len(urls) == 1:
                raise
            _err(f"aggregator: {e}\n" + (f"hint: {e.hint}\n" if e.hint else ""))
            failed += 1
            continue
        for line in lines:
            _out(line)
    return 2 if failed else 0


class Context:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.config_dir = resolve_config_dir(args.config)
        self._settings: Settings | None = None
        self._store: Store | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            if not self.config_dir.is_dir():
                raise AggregatorError(
                    f"{self.config_dir}: config folder not found", hint="pass --config DIR or set AGGREGATOR_CONFIG"
                )
            self._settings = load_settings(self.config_dir)
        return self._settings

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(database_path(self.settings.data_dir))
        return self._store

    def pipeline(self):
        from aggregator.poll import Pipeline
        from aggregator.watchlist import load_watchlist

        return Pipeline(self.store, self.settings, load_watchlist(self.config_dir))

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


# --- commands ------------------------------------------------------------------------------


def cmd_run(ctx: Context) -> int:
    from aggregator.daemon import Daemon

    settings = ctx.settings
    setup_logging(ctx.args.log_format or settings["log_format"], settings["log_level"])
    return asyncio.run(Daemon(ctx.config_dir).run())


POLL_WAIT = 900.0  # seconds `poll --once` waits for another program's poll cycle to end


def cmd_poll(ctx: Context) -> int:
    now = datetime.now(UTC)
    # a feed's failure is printed once, in the summary below (its warning line would repeat it)
    setup_logging(ctx.args.log_format or ctx.settings["log_format"], "error")
    ctx.store.sync_feeds(load_feeds(ctx.config_dir), now)
    pipe = ctx.pipeline()
    problems: list[str] = []
    if ctx.settings.seeds_dir.is_dir():
        pipe.import_seeds([ctx.settings.seeds_dir], now, problems)
    from aggregator.poll import cycle_lock

    lock = cycle_lock(ctx.store.path.parent)
    if not lock.try_acquire():  # the daemon's cycle, or an earlier cron run still going: wait for it
        _err(f"waiting: another program ({lock.holder()}) is polling this data directory...\n")
        if not lock.acquire(POLL_WAIT):
            raise AggregatorError(
                f"another program ({lock.holder()}) has been polling this data directory for {POLL_WAIT // 60:.0f} min",
                hint="`aggregator status` shows the last poll; stop the program that hangs",
            )
    try:
        report = asyncio.run(pipe.poll_once(force=ctx.args.force))
    finally:
        lock.release()
    _out(report.line())
    for problem in problems:
        _out(f"  seed skipped: {problem}")
    for err in report.errors:
        _out(f"  failed: {err}")
    for warning in report.warnings:
        _out(f"  warning: {warning}")
    return 0


def cmd_seeds(ctx: Context) -> int:
    if ctx.args.action == "list":
        seeds = ctx.store.seeds()
        for s in seeds:
            topics = ", ".join(t["topic"] for t in ctx.store.seed_topics(s["id"])) or "-"
            _out(
                f"#{s['id']}  {(s['published'] or '-')[:10]:10}  {s['title'][:70]}  [{topics}]  "
                f"{display_path(Path(s['path']))}"
            )
        if not seeds:
            _out(
                f"no seed articles yet: put articles in {display_path(ctx.settings.seeds_dir)} "
                "or `aggregator seeds import FILE_OR_URL`"
            )
        return 0
    if ctx.args.action == "remove":
        return _remove_seeds(ctx)
    paths: list[Path] = []
    for arg in ctx.args.paths or [ctx.settings.seeds_dir]:
        if isinstance(arg, str) and not arg.strip():  # "" would be the current folder, every file in it
            raise AggregatorError("seeds import: an empty path", hint="give seed files, folders or URLs")
        if isinstance(arg, str) and is_web_url(arg):  # an article online: saved as a seed file
            from aggregator.seeds import download_seed

            saved = asyncio.run(download_seed(arg, ctx.settings.seeds_dir))
            _out(f"saved {arg} as {display_path(saved)}")
            paths.append(saved)
        elif isinstance(arg, str) and arg.strip().lower().startswith("file://"):  # pasted from a browser
            paths.append(Path(unquote(urlsplit(arg.strip()).path)))
        elif isinstance(arg, str) and "://" in arg and arg.split("://")[0].isalpha():
            raise AggregatorError(
                f"seeds import: {arg}: only http and https addresses are fetched",
                hint="give a file, a folder or an http(s) address",
            )
        else:
            paths.append(Path(arg))
    from aggregator.seeds import thin

    problems: list[str] = []
    removed: list[Any] = []
    done = ctx.pipeline().import_seeds(paths, datetime.now(UTC), problems, removed)
    for seed, changed in done:
        _out(f"{'imported' if changed else 'unchanged'}: {seed.title[:70]} ({display_path(Path(seed.path))})")
        if changed and (warning := thin(seed, display_path(Path(seed.path)))):
            _out(f"warning: {warning}")
    for row in removed:
        _out(f"removed: #{row['id']} {row['title'][:70]} (its file {display_path(Path(row['path']))} is gone)")
    for problem in problems:
        _out(f"skipped: {problem}")
    _out(
        f"{len(done)} seeds, {sum(c for _, c in done)} new or changed"
        + (f"; {len(problems)} skipped (see above)" if problems else "")
    )
    return 1 if problems else 0


def _remove_seeds(ctx: Context) -> int:
    """`seeds remove`: each by id or path. A seed whose file is still in seeds_dir is not removed (the daemon
    would import it again): deleting the file removes it."""
    rows = []
    for arg in ctx.args.seeds:
        row = ctx.store.seed(int(arg)) if arg.isdigit() else ctx.store.seed_at_path(str(Path(arg).resolve()))
        if row is None:
            raise AggregatorError(f"seeds remove: no seed {arg}", hint="`aggregator seeds list` shows their ids")
        path = Path(row["path"])
        if path.exists() and path.resolve().is_relative_to(ctx.settings.seeds_dir.resolve()):
            raise AggregatorError(
                f"seeds remove: seed #{row['id']}'s file {display_path(path)} is in the seeds folder, from which it "
                "would be imported again",
                hint="delete the file (or move it out of the folder): the daemon or `seeds import` then removes it",
            )
        rows.append(row)
    pipeline = ctx.pipeline()
    for row in rows:
        pipeline.remove_seed(row["id"])
        _out(f"removed: #{row['id']} {row['title'][:70]}")
    return 0


def cmd_export(ctx: Context) -> int:
    if ctx.args.what == "feed":
        from aggregator.atom import topic_feed

        sys.stdout.write(
            topic_feed(ctx.store, ctx.pipeline().watchlist, ctx.args.topic, datetime.now(UTC), days=ctx.args.days)
        )
        return 0
    since = parse_since(ctx.args.since, datetime.now(UTC))
    for row in ctx.store.iter_items(since):
        obj = {
            "id": row["id"],
            "feed_url": redact(row["feed_url"]),  # a feed behind a login: never its password
            "guid": row["guid"],
            "url": row["url"],
            "canonical_url": row["canonical_url"],
            "comments_url": row["comments_url"],
            "title": row["title"],
            "source": row["source"],
            "published": row["published"],
            "fetched_at": row["fetched_at"],
            # a copy of a seed article is a duplicate too: minus the seed's id (`seeds list`), as seeds are
            # not items; duplicate_of_seed holds the seed's own id
            "duplicate_of": row["duplicate_of"] or (-row["duplicate_of_seed"] if row["duplicate_of_seed"] else None),
            "duplicate_of_seed": row["duplicate_of_seed"],
            "dup_level": row["dup_level"],
            "dup_reason": row["dup_reason"],
            "story_id": row["story_id"],
            "topics": ctx.store.topics_of(row["id"]),
        }
        sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    return 0


def cmd_digest(ctx: Context) -> int:
    from aggregator import delivery
    from aggregator.watchlist import load_watchlist

    now = datetime.now(UTC)
    if ctx.args.action == "list":
        tz = ctx.settings["digest.timezone"]
        digests = ctx.store.digests(50)
        for d in digests:
            _out(
                f"#{d['id']}  {d['status']:10} {shown(d['window_end'], now, tz)}  {d['stories']:3} stories  "
                f"{d['subject'] or ''}" + (f"  error: {d['last_error']}" if d["last_error"] else "")
            )
        if not digests:
            _out("no digest yet (`aggregator status` says when the next is due)")
        return 0
    wl = load_watchlist(ctx.config_dir)
    if ctx.args.send:
        # the outcome line below says all (a refusal too): the delivery log lines would repeat it
        setup_logging(ctx.args.log_format or ctx.settings["log_format"], "critical")
        outcome = delivery.run_digest(ctx.store, ctx.settings, wl, now)
        _out(f"digest #{outcome.digest_id}: {outcome.status}: {outcome.message}")
        return 0 if outcome.status in ("sent", "skipped") else 1
    if not ctx.args.preview:
        raise AggregatorError("digest: say --preview, --send or list", hint=EXAMPLES["digest"])
    if ctx.args.to:
        try:
            to = parse_addresses(ctx.args.to)
        except ValueError as e:
            raise AggregatorError(f"--to: {e}, got {ctx.args.to!r}") from None
        setup_logging(ctx.args.log_format or ctx.settings["log_format"], "critical")
        since = parse_since(ctx.args.since, now)
        preview, sent = delivery.send_preview(ctx.store, ctx.settings, wl, now, to, since=since)
        _out(f"[preview] {preview.subject()}: {sent.reply} to {', '.join(to)} (nothing recorded)")
        for addr, reply in sent.refused.items():
            _out(f"refused: {addr}: {reply}")
        return 0
    preview, path = delivery.write_preview(
        ctx.store, ctx.settings, wl, now, since=parse_since(ctx.args.since, now), out=ctx.args.out
    )
    _out(f"{preview.subject()}: preview written to {display_path(path)}")
    return 0


def cmd_status(ctx: Context) -> int:
    from aggregator.status import collect, render

    now = datetime.now(UTC)
    st = collect(ctx.store, ctx.settings, ctx.config_dir, now)
    _out(json.dumps(st, indent=2) if ctx.args.json else render(st, now, ctx.settings["digest.timezone"]))
    return 1 if ctx.args.check and not st["healthy"] else 0


def _feed_details(ctx: Context, f: Any, counts: tuple[int, int, str | None], now: datetime) -> str:
    """`feeds list --verbose`: a feed's items, and when it was read, when it is next, and why then."""
    from aggregator import schedule
    from aggregator.poll import schedule_settings

    tz = ctx.settings["digest.timezone"]
    items, tagged, newest = counts
    lines = [f"{items} item{'' if items == 1 else 's'}, {tagged} tagged"]
    if newest:
        lines[0] += f", the newest {shown(newest, now, tz)}"
    every = schedule.success_interval(
        schedule_settings(ctx.settings), override=f.interval, gap=f.mean_gap, ttl=f.ttl, max_age=f.max_age
    )
    why = (
        "set in feeds.toml"
        if f.interval
        else "as the feed asks (its ttl, sy:updatePeriod or Cache-Control max-age)"
        if max(f.ttl or 0, f.max_age or 0) >= every
        else f"adaptive: an entry about every {period(f.mean_gap)}"
        if f.mean_gap
        else "poll.default_interval, until its publishing rate is known"
    )
    read = shown(iso(f.last_fetch_at), now, tz) if f.last_fetch_at else "never"
    nxt = shown(iso(f.next_poll_at), now, tz) if f.next_poll_at else ("never: it is gone" if f.gone else "now")
    lines.append(f"read {read}, next {nxt}; every {period(every)} ({why})")
    if f.error_count:
        lines.append(
            f"{f.error_count} failure{'' if f.error_count == 1 else 's'} in a row: each one after the first doubles "
            f"the wait, up to {span(max(schedule.MAX_BACKOFF, every))} (a Retry-After is obeyed)"
        )
    return "\n".join(" " * 9 + line for line in lines)


def cmd_feeds(ctx: Context) -> int:
    from aggregator import feedlist

    action = ctx.args.action
    if action == "list":
        now = datetime.now(UTC)
        ctx.store.sync_feeds(load_feeds(ctx.config_dir), now)
        feeds = ctx.store.feeds()
        counts = ctx.store.feed_counts() if ctx.args.verbose else {}
        if not feeds:
            _out("no feeds yet: `aggregator feeds add URL` (a feed or a site), or `aggregator feeds import FILE.opml`")
        for f in feeds:
            state = "gone" if f.gone else ("failing" if f.error_count else ("ok" if f.last_success_at else "new"))
            _out(
                f"{state:8} {f.url}"
                + (f"  ({f.title})" if f.title else "")
                + (f"  [{', '.join(f.tags)}]" if f.tags else "")
                + (f"  (feeds.toml says {f.moved_from}: it moved here)" if f.moved_from else "")
                + (f"  last error: {without_subject(f.last_error, f.url)}" if f.last_error else "")
            )
            if ctx.args.verbose:
                _out(_feed_details(ctx, f, counts.get(f.url, (0, 0, None)), now))
        return 0
    if action == "add":
        if ctx.args.title and len(ctx.args.urls) > 1:
            raise AggregatorError("--title names one feed, and several URLs were given", hint="add them one by one")
        tags = [t.strip() for t in (ctx.args.tags or "").split(",") if t.strip()]
        return _each(
            ctx.args.urls,
            lambda url: asyncio.run(
                feedlist.add_feed(ctx.config_dir, url, title=ctx.args.title, interval=ctx.args.interval, tags=tags)
            ),
        )
    if action == "remove":
        where = display_path(ctx.config_dir / "feeds.toml")

        def remove(url: str) -> list[str]:
            try:
                left = feedlist.remove_feed(ctx.config_dir, url)
            except ConfigError:
                # the address `feeds list` shows for a feed that moved (a 301, a page's feed): feeds.toml has
                # the old one
                try:
                    moved = ctx.store.feed(normalise_feed_url(url, ctx.config_dir))
                except ValueError:
                    moved = None
                if moved is None or not moved.moved_from:
                    raise
                left = feedlist.remove_feed(ctx.config_dir, moved.moved_from)
                done = f"removed {moved.moved_from} (now {url}) from {where} (its items stay)"
            else:
                done = f"removed {url} from {where} (its items stay)"
            return [done] + ([f"still to fix: {left}"] if left else [])

        return _each(ctx.args.urls, remove)
    if action == "import":
        source = ctx.args.file
        if not source.strip():
            raise AggregatorError("feeds import: no file given", hint="aggregator feeds import subscriptions.opml")
        report = feedlist.import_opml(ctx.config_dir, source)
        noun = "feed" if report.added == 1 else "feeds"
        _out(f"{report.added} {noun} added, {report.known} already there, from {report.source}")
        for problem in report.problems:
            _out(f"  skipped: {problem}")
        return 0
    sys.stdout.write(redact(feedlist.export_opml(load_feeds(ctx.config_dir))))
    return 0


def cmd_explain(ctx: Context) -> int:
    from aggregator.explain import explain

    _out(explain(ctx.store, ctx.args.item, datetime.now(UTC), ctx.settings["digest.timezone"]))
    return 0


def cmd_watchlist(ctx: Context) -> int:
    from aggregator import backtest
    from aggregator.watchlist import add_topic, load_watchlist, remove_topic

    action = ctx.args.action
    if action == "add":
        add_topic(
            ctx.config_dir,
            ctx.args.topic,
            ctx.args.name,
            ctx.args.query,
            ctx.args.exclude,
            ctx.args.description,
            ctx.args.min_score,
            [
                *(ctx.args.keywords or ()),
                *(w.strip() for ws in ctx.args.keyword_lists or () for w in ws.split(",") if w.strip()),
            ]
            or None,
        )
        for warning in load_watchlist(ctx.config_dir).warnings:
            if f"topic {ctx.args.topic}:" in warning:
                _out(f"warning: {warning}")
        _out(f"topic {ctx.args.topic} added; the daemon applies it within seconds")
        return 0
    if action == "remove":
        remove_topic(ctx.config_dir, ctx.args.topic)
        _out(f"topic {ctx.args.topic} removed")
        return 0
    wl = load_watchlist(ctx.config_dir)
    if action == "validate":
        for warning in wl.warnings:
            _out(f"warning: {warning}")
        _out(f"{display_path(wl.path or ctx.config_dir)}: ok, {len(wl.topics)} topics")
        return 0
    if action == "list":
        for t in wl.topics:
            _out(f"{t.id:20} {t.name}")
        return 0
    topic = wl.topic(ctx.args.topic)
    if action == "show":
        if topic is None:
            raise AggregatorError(f"no topic {ctx.args.topic!r}", hint="`aggregator watchlist list` shows the ids")
        _out(f"id: {topic.id}\nname: {topic.name}\nmin_score: {topic.min_score}")
        if topic.description:
            _out(f"description: {topic.description}")
        _out(f"query: {' '.join(topic.query_text.split())}\nparsed: {topic.query}")
        if topic.exclude is not None:
            _out(f"exclude: {topic.exclude}")
        for ex in topic.examples:
            _out(f"example: {display_path(ex)}")
        return 0
    for line in backtest.run(ctx, wl, ctx.args):
        _out(line)
    return 0


COMMANDS: dict[str, Callable[[Context], int]] = {
    "run": cmd_run,
    "poll": cmd_poll,
    "seeds": cmd_seeds,
    "export": cmd_export,
    "digest": cmd_digest,
    "status": cmd_status,
    "feeds": cmd_feeds,
    "explain": cmd_explain,
    "watchlist": cmd_watchlist,
}


_OUTPUT_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO}


def _drop_stdout() -> None:
    """Point standard output at /dev/null: the interpreter's last flush at exit would fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor behind sys.stdout (a test's capture)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    ctx = Context(args)
    try:
        code = COMMANDS[args.command](ctx)
        sys.stdout.flush()  # output that cannot be written (a full disk) fails here, where it is reported
        return code
    except QuerySyntaxError as e:
        _err(f"aggregator: {e}\n{e.detail}\n" + (f"hint: {e.hint}\n" if e.hint else ""))
        return 2
    except AggregatorError as e:
        _err(f"aggregator: {e}\n" + (f"hint: {e.hint}\n" if e.hint else ""))
        return 2
    except sqlite3.Error as e:  # the machine's (a lock held elsewhere, a full disk), not a bug: one line
        where = ctx._store.path if ctx._store is not None else Path("the database")
        err = database_error(e, where)
        _err(f"aggregator: {err}\nhint: {err.hint}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `aggregator export items | head`: the reader has what it wanted
        _drop_stdout()
        return 0
    except OSError as e:
        if e.filename is not None or e.errno not in _OUTPUT_ERRORS:
            raise
        _drop_stdout()  # what is still buffered cannot be written either: no second error at exit
        _err(
            f"aggregator: cannot write the output: {e.strerror}\n"
            "hint: free some space where it goes, or send it to another disk or file\n"
        )
        return 1
    finally:
        ctx.close()
        logging.shutdown()
