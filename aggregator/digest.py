"""Digest building: the rows of a window -> a Digest, ready to render. Pure.

Rules:
  - one section per topic, in watchlist order; topics with no story are left out;
  - one entry per story: its headline item is the highest-scored original (not a duplicate) of
    the story carrying the topic, one with a title of its own before a post whose title is made from
    its text; entries ranked by the story's best score, then time;
  - "also reported by": the other sources of the story (near-duplicates and same-story items), each
    article once (the same URL in another feed of its outlet is not another report);
  - a story whose seed is known is marked as a follow-up of that seed;
  - a topic whose new-story count today is at least twice its 7-day average (and >= 3) spikes;
  - feed health lists feeds failing for more than 24 h, feeds never read yet and feeds that are gone.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import zip_longest
from typing import Any
from zoneinfo import ZoneInfo

from aggregator.dedup import BOILERPLATE, FEED_BLURB, words
from aggregator.errors import redact, without_subject
from aggregator.normalise import article_slug, canonical_url, clean_link, is_photo_caption, title_is_made

SNIPPET = 250


@dataclass(frozen=True)
class Entry:
    story_id: int
    title: str
    url: str | None
    source: str
    when: datetime
    snippet: str
    score: float
    matched: tuple[str, ...]
    also: tuple[str, ...]  # other sources
    follow_up_of: str | None  # seed title
    duplicates: int
    update_of: datetime | None = None  # for an update: when the story was first reported (before the window)
    earlier: int = 0  # for an update: how many of its reports came before the window
    also_urls: tuple[str | None, ...] = ()  # beside ``also``: the link to each one's report (when known)
    comments_url: str | None = None  # the page of the heading report's discussion (Hacker News, Reddit...)


@dataclass(frozen=True)
class Section:
    topic_id: str
    name: str
    entries: tuple[Entry, ...]
    spike: str | None = None  # "7 new stories today, 7-day average 1.4"
    more: int = 0  # stories left out by max_stories_per_topic


@dataclass(frozen=True)
class FeedHealth:
    url: str
    title: str
    state: str  # "failing" | "gone"
    since: datetime | None
    error: str


@dataclass(frozen=True)
class Digest:
    window_start: datetime | None
    window_end: datetime
    timezone: str
    sections: tuple[Section, ...]
    items_seen: int
    duplicates: int
    health: tuple[FeedHealth, ...] = ()
    spikes: tuple[str, ...] = field(default_factory=tuple)
    health_more: int = 0  # failing feeds left out of the feed-health section (`status` lists them all)
    # every story of the window and the updates among them, by id: those the sections left out ("...and N
    # more") too; None: the stories shown
    all_stories: frozenset[int] | None = None
    all_updates: frozenset[int] | None = None

    @property
    def story_count(self) -> int:
        """Stories of the window, one under two topics once, those a section had no room for too: the subject's
        figure is what happened, not what fitted."""
        if self.all_stories is not None:
            return len(self.all_stories)
        return len({e.story_id for s in self.sections for e in s.entries})

    @property
    def update_count(self) -> int:
        if self.all_updates is not None:
            return len(self.all_updates)
        return len({e.story_id for s in self.sections for e in s.entries if e.update_of is not None})

    def counts_text(self) -> str:
        """'12 new stories and 2 updates on 3 topics'."""
        new, updates, t = self.story_count - self.update_count, self.update_count, len(self.sections)
        text = f"{new} new stor{'y' if new == 1 else 'ies'}"
        if updates:
            text += f" and {updates} update{'' if updates == 1 else 's'}"
        return text + f" on {t} topic{'' if t == 1 else 's'}"

    def preview_text(self, limit: int = 160) -> str:
        """The line a mail client shows under the subject in the inbox: the top headlines, the first of each
        topic, then the second of each..., as many as fit in ``limit`` characters (one at least, cut)."""
        ranked = [e.title for rank in zip_longest(*(s.entries for s in self.sections)) for e in rank if e]
        out: list[str] = []
        for title in dict.fromkeys(ranked):  # a story under two topics once
            if out and len(" · ".join([*out, title])) > limit:
                break
            out.append(title if out or len(title) <= limit else title[: limit - 1].rstrip() + "…")
        return " · ".join(out)

    def seen_text(self, sep: str = ", ") -> str:
        """'40 items seen, 1 duplicate suppressed'."""
        n, d = self.items_seen, self.duplicates
        return f"{n} item{'' if n == 1 else 's'} seen{sep}{d} duplicate{'' if d == 1 else 's'} suppressed"

    @property
    def empty(self) -> bool:
        return self.story_count == 0

    def subject(self) -> str:
        day = self.window_end.astimezone(ZoneInfo(self.timezone)).strftime("%Y-%m-%d")
        n, t = self.story_count, len(self.sections)
        if not n:
            return f"Digest {day}: nothing new"
        return f"Digest {day}: {n} stor{'y' if n == 1 else 'ies'} on {t} topic{'' if t == 1 else 's'}"


_BARE_LINK = re.compile(r"\bhttps?://\S")
_LINK_LABEL = re.compile(r"\s+[^.!?:]{1,40}:$")  # "Subscribe:", "Read the report:"
_AFTER_SENTENCE = re.compile(r"(?:[.!?…:]|#[^\s#]+)$")  # a link of its own, not one a sentence runs through
_HASHTAGS = re.compile(r"(?:\s+#[^\s#]+)+$")


def without_trailer(text: str) -> str:
    """The text less a video's or post's trailer: the channel's links ("Subscribe: https://..."), from the
    first link that stands on its own after a sentence or two, and the hashtags that end it."""
    text = " ".join(text.split())
    if (m := _BARE_LINK.search(text, 60)) is not None and _AFTER_SENTENCE.search(head := text[: m.start()].rstrip()):
        text = _LINK_LABEL.sub("", head)
    if len(stripped := _HASHTAGS.sub("", text)) >= 40:
        text = stripped
    return text


def snippet(text: str, limit: int = SNIPPET) -> str:
    """The text's opening (without_trailer), cut between words."""
    text = without_trailer(text)
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:.-–")
    return cut + "…"


def adds_to(summary: str, title: str) -> bool:
    """Whether a summary says more than its headline. A summary that is the headline again, reworded by a
    word or two (a live blog's "Live updates: TikTok testifies..." under "Live updates: TikTok CEO
    testifies..."), or a few of its words ("TikTok"), is not worth a line of the digest."""
    said = words(summary)
    head = set(words(title))
    return len(said) > len(head) + 2 or len(set(said) - head) > 1


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def build_digest(
    *,
    rows: Sequence[Any],
    sources: Mapping[int, Sequence[Any]],
    topics: Sequence[tuple[str, str]],
    window_start: datetime | None,
    window_end: datetime,
    timezone: str,
    items_seen: int,
    duplicates: int,
    health: Iterable[FeedHealth] = (),
    daily_counts: Mapping[str, Mapping[str, int]] | None = None,
    max_per_topic: int = 30,
) -> Digest:
    """``rows``: tagged items of new stories (store.digest_rows); ``sources``: story id -> its items;
    ``topics``: (id, name) in watchlist order."""
    by_topic: dict[str, dict[int, list[Mapping[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        by_topic[r["topic"]][r["story_id"]].append(r)
    shared = shared_texts(rows)
    heads = common_heads(rows)
    sections = []
    spikes = []
    every: set[int] = set()
    updates: set[int] = set()
    for topic_id, name in topics:
        stories = by_topic.get(topic_id)
        if not stories:
            continue
        entries = [
            _entry(story_id, members, sources.get(story_id, ()), window_start, shared, heads.get(story_id))
            for story_id, members in stories.items()
            if not all(_copy_of_seed(m) for m in members)  # the reader has it already (seeds/): nothing new
        ]
        if not entries:
            continue
        entries.sort(key=lambda e: (-rank(e), -e.when.timestamp()))
        every.update(e.story_id for e in entries)
        updates.update(e.story_id for e in entries if e.update_of is not None)
        spike = _spike(daily_counts.get(topic_id, {}) if daily_counts else {}, window_end)
        if spike:
            spikes.append(f"{name}: {spike}")
        sections.append(
            Section(topic_id, name, tuple(entries[:max_per_topic]), spike, max(0, len(entries) - max_per_topic))
        )
    health = list(health)
    return Digest(
        window_start,
        window_end,
        timezone,
        tuple(sections),
        items_seen,
        duplicates,
        tuple(health[:MAX_HEALTH]),
        tuple(spikes),
        max(0, len(health) - MAX_HEALTH),
        frozenset(every),
        frozenset(updates),
    )


def _copy_of_seed(row: Mapping[str, Any]) -> bool:
    return "duplicate_of_seed" in row.keys() and row["duplicate_of_seed"] is not None


MAX_HEALTH = 30  # feeds named in the feed-health section; a host down for days can fail hundreds


def capped(d: Digest, per_topic: int) -> Digest:
    """``d`` with at most ``per_topic`` stories a section, the ones left out counted in its "more"."""
    sections = tuple(
        replace(s, entries=s.entries[:per_topic], more=s.more + max(0, len(s.entries) - per_topic)) for s in d.sections
    )
    return replace(d, sections=sections)


def _entry(
    story_id: int,
    members: Sequence[Mapping[str, Any]],
    sources: Sequence[Mapping[str, Any]],
    window_start: datetime | None = None,
    shared: frozenset[tuple[str, str]] = frozenset(),
    common_head: int | None = None,
) -> Entry:
    """One story's entry: its best-scoring original report (of the window, for an update), or
    ``common_head`` when it is among them (see common_heads)."""
    first = _dt(members[0]["story_first"]) if "story_first" in members[0].keys() else None
    update_of = first if first is not None and window_start is not None and first < window_start else None
    if update_of is not None and "story_published" in members[0].keys():  # "first reported": the report's own
        update_of = _dt(members[0]["story_published"]) or update_of  # date, not when this install first saw it
    earlier: list[Mapping[str, Any]] = []
    if update_of is not None and window_start is not None:  # an update: the window's reports; count the rest
        start = window_start
        earlier = [s for s in sources if (fetched := _dt(s["fetched_at"])) is not None and fetched < start]
        sources = [s for s in sources if s not in earlier]
    originals = [m for m in members if m["dup_level"] == "new"] or list(members)
    score = max(m["score"] for m in originals)
    head = next((m for m in originals if m["id"] == common_head), None) or lead_report(originals)
    if not (head["summary"] or "").strip():  # a headline alone (a news aggregator's entry): show a copy with text
        copies = [m for m in members if "duplicate_of" in m.keys() and m["duplicate_of"] == head["id"]]
        head = next((m for m in copies if (m["summary"] or "").strip()), head)
    when = _dt(head["published"]) or _dt(head["fetched_at"])
    assert when is not None
    summary = shown_summary(head, shared)
    others: dict[str, str | None] = {}  # outlet -> the link to its report
    # articles named already, the head's, then the others', by address and by the name in it (article_slug)
    shown = set(_article_names(head["url"]))
    for s in sources:
        name = redact(s["feed_title"] or "")
        url = s["url"] if "url" in s.keys() else None
        article = _article_names(url)
        if shown.intersection(article):  # the same article again, from another feed of its outlet ("WSJ Tech")
            continue
        if s["id"] != head["id"] and name and name not in others and name != head["feed_title"]:
            others[name] = clean_link(url) if url else None
            shown.update(article)
    matched = json.loads(head["matched"]) if isinstance(head["matched"], str) else list(head["matched"])
    matched = compact_matches(matched)
    return Entry(
        story_id=story_id,
        title=head["title"],
        url=clean_link(head["url"]) if head["url"] else None,
        source=head["feed_title"] or "",
        when=when,
        snippet=snippet(summary),
        score=float(score),
        matched=tuple(matched),
        also=tuple(others),
        also_urls=tuple(others.values()),
        follow_up_of=head["seed_title"],
        duplicates=sum(1 for s in sources if s["dup_level"] != "new"),
        update_of=update_of,
        earlier=len(earlier),
        comments_url=_discussion(head, sources),
    )


def _article_names(url: str | None) -> list[str]:
    """An article's canonical URL and the name its address gives it (normalise.article_slug), as known."""
    canonical = canonical_url(url)
    return [n for n in (canonical, article_slug(canonical)) if n]


def _discussion(head: Mapping[str, Any], sources: Sequence[Mapping[str, Any]]) -> str | None:
    """The page where the story is discussed: the heading report's, else the first other report's that has one
    (a Hacker News or Reddit entry that is a copy of the outlet's report, or another report of the story)."""
    for row in (head, *sources):  # stored only when it is a web address (normalise._discussion)
        if "comments_url" in row.keys() and row["comments_url"]:
            return clean_link(row["comments_url"])
    return None


def common_heads(rows: Iterable[Any]) -> dict[int, int]:
    """Story id -> the report to head it in every section, for a story under several topics: the report
    tagged on most of them (then the best-scored, see lead_report), when one is tagged on two or more. Each
    section heading a story with its own best report showed one event under two headlines, as if two."""
    tagged: dict[int, dict[int, list[Any]]] = defaultdict(lambda: defaultdict(list))  # story -> report -> rows
    topics: dict[int, set[str]] = defaultdict(set)
    for r in rows:
        topics[r["story_id"]].add(r["topic"])
        if r["dup_level"] == "new":
            tagged[r["story_id"]][r["id"]].append(r)
    heads = {}
    for story, reports in tagged.items():
        if len(topics[story]) < 2:
            continue
        own = {i: t for i, t in reports.items() if not title_is_made(t[0]["title"], t[0]["summary"] or "")}
        reports = own or reports  # an outlet's own headline before one made from a post's first words
        widest = max(len(tags) for tags in reports.values())
        if widest >= 2:
            best = [max(tags, key=lambda r: r["score"]) for tags in reports.values() if len(tags) == widest]
            heads[story] = lead_report(best)["id"]
    return heads


def lead_report(reports: Sequence[Any]) -> Any:
    """The report that heads a story: the best-scored, an outlet's own headline before one made from a post's
    first words (Mastodon, Bluesky); the earliest of equals."""
    titled = [r for r in reports if not title_is_made(r["title"], r["summary"] or "")] or reports
    return max(titled, key=lambda r: (r["score"], -(r["id"])))


def shared_texts(rows: Iterable[Any]) -> frozenset[tuple[str, str]]:
    """(feed, text) of the texts a feed gives under more than one headline among ``rows``: a video channel's
    description under every video, a paywall notice."""
    titles: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in rows:
        if r["summary"] and "feed_url" in r.keys():
            titles[(r["feed_url"], r["summary"])].add(r["title"])
    return frozenset(k for k, t in titles.items() if len(t) > 1)


def shown_summary(report: Any, shared: frozenset[tuple[str, str]] = frozenset()) -> str:
    """The text shown under a story's headline (digest, Atom export): none when it is a photo's caption, says
    nothing the headline does not, or is its feed's text under other articles too (dedup found it so, or
    ``shared`` has it), or its feed's blurb."""
    summary = report["summary"] or ""
    if (
        is_photo_caption(summary)
        or not adds_to(without_trailer(summary), report["title"])  # a post's text is its headline and hashtags
        or ("dup_reason" in report.keys() and report["dup_reason"] in (BOILERPLATE, FEED_BLURB))
        or ("feed_url" in report.keys() and (report["feed_url"], summary) in shared)
    ):
        return ""
    return summary


def rank(e: Entry) -> float:
    """Order of a section: the topic score, weighed by how many outlets reported the story in the window
    (x1 for one, x2 for two, x3 for four...): the event everyone covers comes before a lone report."""
    return e.score * (1 + math.log2(1 + len(e.also)))


def compact_matches(matched: Sequence[str], limit: int = 6) -> list[str]:
    """What matched, for a reader: title hits first, each term once, examples last, at most ``limit``. A
    prefix that a more specific term shows already ("chip*" beside "chip", "export*" beside "export
    control*") is left out."""
    terms: dict[str, str] = {}
    examples = []
    for m in matched:
        field_name, _, label = m.partition(":")
        if field_name == "example":
            examples.append(label)
        elif label not in terms or field_name == "title":
            terms[label] = field_name
    for t in [t for t in terms if t.endswith("*") and " " not in t]:  # chip* beside chip, export* in "export control*"
        stem = t.strip('"*').lower()
        if any(
            o != t and (terms[o] == "title" or terms[t] != "title") and any(w.startswith(stem) for w in _words(o))
            for o in terms
        ):
            del terms[t]
    ordered = sorted(terms, key=lambda t: (terms[t] != "title", t))
    out = [f"{t} ({terms[t]})" for t in ordered[:limit]]
    if len(ordered) > limit:
        out.append(f"+{len(ordered) - limit} more")
    return out + [f"similar to {e}" for e in examples]


def _words(label: str) -> list[str]:
    return [w.strip('"*').lower() for w in label.split()]


def _spike(counts: Mapping[str, int], end: datetime) -> str | None:
    today = end.strftime("%Y-%m-%d")
    n = counts.get(today, 0)
    prior = [counts.get((end - timedelta(days=d)).strftime("%Y-%m-%d"), 0) for d in range(1, 8)]
    avg = sum(prior) / 7
    if n >= 3 and sum(prior) > 0 and n >= 2 * avg:  # no history yet: nothing to compare with
        return f"{n} new stories today, 7-day average {avg:.1f}"
    return None


def feed_health(feeds: Iterable[Any], now: datetime) -> list[FeedHealth]:
    """Feeds failing for more than 24 h, feeds never read since they were added (a mistyped address shows
    in the next digest, not a day later), and gone feeds (FeedState objects in, FeedHealth out)."""
    out = []
    for f in feeds:
        name = f.title or redact(f.url)
        error = redact(f.last_error or "")
        if not f.title:  # the entry is headed by the URL already
            error = without_subject(error, name)
        if f.gone:
            out.append(FeedHealth(f.url, name, "gone", f.failing_since, error or "410 Gone"))
        elif f.failing_since and now - f.failing_since > timedelta(hours=24):
            out.append(FeedHealth(f.url, name, "failing", f.failing_since, error))
        elif f.failing_since and f.last_success_at is None:
            out.append(FeedHealth(f.url, name, "never read", f.failing_since, error))
    return out
