"""Frozen dataclasses that cross module boundaries.

Nothing of feedparser's dicts leaves `parse`; nothing of httpx leaves `fetch`. Times are
timezone-aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class FeedSpec:
    """One `[[feed]]` of feeds.toml."""

    url: str
    title: str | None = None
    interval: int | None = None  # seconds; None = adaptive
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Validators:
    """What a conditional GET sends back (RFC 9110 section 13.1)."""

    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None


@dataclass(frozen=True)
class FetchResult:
    """The outcome of one fetch. Exactly one of body / not_modified / error is meaningful."""

    url: str  # the URL that was asked for
    final_url: str  # after redirects
    status: int | None = None
    body: bytes | None = None
    not_modified: bool = False  # 304, or a body byte-identical to the last one
    validators: Validators = field(default_factory=Validators)
    permanent_redirect: str | None = None  # new URL after a 301/308 chain
    content_type: str | None = None
    max_age: int | None = None  # Cache-Control max-age, seconds
    error_kind: str | None = None  # "timeout", "http-500", "gone", "too-large", ...
    error: str | None = None
    retry_after: float | None = None  # seconds, from Retry-After on 429/503
    hint: str | None = None  # what the user can do about the error (stored and shown with it)
    elapsed: float = 0.0
    announced_by: str | None = None  # the web page (named as the feed) that announced this feed

    @property
    def ok(self) -> bool:
        return self.error_kind is None


@dataclass(frozen=True)
class Entry:
    """One parsed feed entry, already reduced to plain values."""

    guid: str | None
    url: str | None
    title: str
    summary_html: str
    author: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    source: str | None = None  # the outlet an aggregator's entry comes from (RSS/Atom <source>)
    comments: str | None = None  # its discussion's page (RSS <comments>, Atom rel="replies", a Reddit post)


@dataclass(frozen=True)
class ParsedFeed:
    title: str | None
    link: str | None
    entries: tuple[Entry, ...]
    warning: str | None = None  # set when the feed was malformed but still readable (bozo)
    ttl: int | None = None  # RSS <ttl>, seconds
    skipped: int = 0  # entries dropped because they had nothing usable
    # With the document cut into its entries' raw text (parse.split_entries): the key of each entry in
    # `entries`, of each entry skipped, and of each entry not parsed because its text was known
    keys: tuple[str, ...] | None = None
    skipped_keys: tuple[str, ...] = ()
    unparsed: tuple[str, ...] = ()


UNTITLED = "(untitled)"  # the title of an item that has neither a title nor text to make one of


def own_words(title: str) -> str:
    """An item's title as dedup compares it: the placeholder of an untitled item says nothing of it."""
    return "" if title == UNTITLED else title


@dataclass(frozen=True)
class Item:
    """A normalised item, ready for dedup, tagging and storage."""

    feed_url: str
    guid: str  # the entry's guid, else its link, else a hash of title + summary
    url: str | None
    canonical_url: str | None
    title: str
    summary: str  # plain text, whitespace collapsed
    summary_html: str  # sanitised HTML
    author: str | None
    published: datetime | None
    fetched_at: datetime
    content_hash: str  # of title + summary: detects edits
    feed_title: str | None = None
    source: str | None = None  # the outlet, when the feed is an aggregator's (Google News: <source>)
    feed_tags: tuple[str, ...] = ()  # the feed's tags in feeds.toml (watchlist queries: tag:china)
    comments_url: str | None = None  # its discussion's page (Hacker News, Reddit, Lobsters, a blog's comments)


@dataclass(frozen=True)
class Seed:
    """A seed article the user already has."""

    path: str
    title: str
    published: datetime | None
    text: str
    content_hash: str
    url: str | None = None


@dataclass(frozen=True)
class TopicTag:
    """Why one item carries one topic."""

    topic: str
    score: float
    matched: tuple[str, ...]  # e.g. 'title:"entity list"', 'summary:huawei', 'example:seed 0.41'


@dataclass(frozen=True)
class DedupDecision:
    """What dedup says of a new item. ``level`` is one of: new, same-item, near-duplicate.

    ``story_id`` is the story the item joins (an existing one) or None for a new story;
    ``story_reason`` says why it joined.
    """

    level: str
    duplicate_of: int | None = None  # item id
    duplicate_of_seed: int | None = None  # seed id
    similarity: float | None = None
    reason: str | None = None
    story_id: int | None = None
    story_similarity: float | None = None
    story_reason: str | None = None
