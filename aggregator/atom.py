"""`aggregator export feed TOPIC`: an Atom 1.0 feed (RFC 4287) of a topic's stories, one entry per
story (its highest-scored original item with a title of its own), newest first."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from xml.sax.saxutils import escape as _escape

from aggregator import __version__
from aggregator.digest import lead_report, shared_texts, shown_summary
from aggregator.errors import AggregatorError
from aggregator.normalise import clean_link, xml_safe
from aggregator.store import Store, iso
from aggregator.watchlist import Watchlist


def escape(text: str, entities: dict[str, str] | None = None) -> str:
    """Text for an XML document: escaped, and without the characters XML cannot carry (a feed's title may
    hold a stray control character; the export must stay well-formed)."""
    return _escape(xml_safe(text), entities or {})


def topic_feed(store: Store, wl: Watchlist, topic_id: str, now: datetime, days: int = 30) -> str:
    topic = wl.topic(topic_id)
    if topic is None:
        raise AggregatorError(f"no topic {topic_id!r}", hint="`aggregator watchlist list` shows the ids")
    rows = store.execute(
        """SELECT i.id, i.story_id, i.feed_url, i.title, i.url, i.comments_url, i.summary, i.dup_reason, i.published,
                  i.fetched_at, t.score, t.matched, coalesce(i.source, f.title, i.feed_url) AS source
           FROM items i JOIN item_topics t ON t.item_id = i.id AND t.topic = ?
           LEFT JOIN feeds f ON f.url = i.feed_url
           WHERE i.fetched_at >= ? AND i.dup_level = 'new'
           ORDER BY t.score DESC, i.id""",
        (topic_id, iso(now - timedelta(days=days))),
    ).fetchall()
    reports: dict[int, list[sqlite3.Row]] = {}
    latest: dict[int, str] = {}  # a story's entry is updated when any of its reports arrives
    for r in rows:
        reports.setdefault(r["story_id"], []).append(r)
        when = r["published"] or r["fetched_at"]
        latest[r["story_id"]] = max(latest.get(r["story_id"], when), when)
    best = [lead_report(story) for story in reports.values()]  # the story's headline, as the digest picks it
    shared = shared_texts(rows)
    entries = sorted(best, key=lambda r: latest[r["story_id"]], reverse=True)
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"  <title>{escape(topic.name)}</title>",
        f"  <id>urn:aggregator:topic:{escape(topic_id)}</id>",
        f"  <updated>{iso(now)}</updated>",
        f'  <generator version="{__version__}">aggregator</generator>',
    ]
    for r in entries:
        updated = latest[r["story_id"]]
        out += [
            "  <entry>",
            f"    <title>{escape(r['title'])}</title>",
            f"    <id>urn:aggregator:story:{r['story_id']}</id>",
            f"    <updated>{updated}</updated>",
            f"    <author><name>{escape(r['source'])}</name></author>",
        ]
        if r["url"]:
            out.append(f'    <link rel="alternate" href="{escape(clean_link(r["url"]), {chr(34): "&quot;"})}"/>')
        if r["comments_url"]:  # its discussion (RFC 4685)
            link = escape(clean_link(r["comments_url"]), {chr(34): "&quot;"})
            out.append(f'    <link rel="replies" type="text/html" href="{link}"/>')
        if text := shown_summary(r, shared):
            out.append(f"    <summary>{escape(text[:600])}</summary>")
        out.append("  </entry>")
    out += ["</feed>", ""]
    return "\n".join(out)
