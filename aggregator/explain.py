"""`aggregator explain ITEM_ID_OR_URL`: why an item was merged, clustered and tagged."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from aggregator.config import is_web_url
from aggregator.dates import shown
from aggregator.dedup import closest_seed, closest_story
from aggregator.errors import AggregatorError
from aggregator.normalise import canonical_url, title_is_made
from aggregator.store import Store


def explain(store: Store, item: int | str, now: datetime | None = None, tz: str | None = None) -> str:
    """``item``: an item's id, or a link to it (the digest shows links, not ids). With ``now`` and ``tz``
    (an IANA name), times read as local times with how long ago (else as stored, ISO 8601 in UTC)."""
    item_id = find_item(store, item)
    row = store.item(item_id)
    assert row is not None
    lines = [
        f"item #{row['id']}: {row['title']}",
        f"  feed:          {row['feed_url']}" + (f"   (outlet: {row['source']})" if row["source"] else ""),
        f"  url:           {row['url'] or '-'}",
        f"  canonical url: {row['canonical_url'] or '-'}",
        *([f"  comments:      {row['comments_url']}"] if row["comments_url"] else []),
        f"  published:     {shown(row['published'], now, tz) or '-'}   fetched: {shown(row['fetched_at'], now, tz)}",
    ]
    if row["edits"]:
        lines.append(f"  edited:        {row['edits']} time(s), last at {shown(row['updated_at'], now, tz)}")
    if row["dup_level"] == "new":
        lines.append(f"  dedup:         new ({row['dup_reason'] or 'no earlier copy found'})")
    else:
        target = f"seed #{row['duplicate_of_seed']}" if row["duplicate_of_seed"] else f"item #{row['duplicate_of']}"
        lines.append(f"  dedup:         {row['dup_level']} of {target}: {row['dup_reason']}")
    story = store.story(row["story_id"]) if row["story_id"] else None
    if story is not None:
        members = store.story_members(story["id"])
        # named by its earliest headline of its own (an outlet's), not one made from a post's first words
        title = next((m["title"] for m in members if not title_is_made(m["title"], m["summary"] or "")), None)
        lines.append(
            f'  story:         #{story["id"]} "{title or story["title"]}"'
            + (f" (follow-up of seed #{story['seed_id']})" if story["seed_id"] else "")
        )
        lines.append(f"  why:           {row['story_reason'] or 'first item of the story'}")
        closest = closest_story(row["story_reason"])
        near = store.item(closest[1]) if closest else None
        if closest and near is not None and near["story_id"]:  # the report it was not close enough to, named
            # as the members below are; it may have joined another story since (a report that stood alone)
            moved = (
                ""
                if near["story_id"] == closest[0]
                else " (since joined to this story)"
                if near["story_id"] == story["id"]
                else f" (now in story #{near['story_id']})"
            )
            for m in (m for m in store.story_members(near["story_id"]) if m["id"] == near["id"]):
                lines.append(
                    f"  closest:       #{m['id']} {m['feed_title'] or m['feed_url']}: {m['title'][:80]}{moved}"
                )
        seed = store.seed(seed_id) if (seed_id := closest_seed(row["story_reason"])) is not None else None
        if seed is not None:  # the seed it fell short of following up
            lines.append(f"  closest:       seed #{seed['id']}: {seed['title'][:80]} ({Path(seed['path']).name})")
        for m in members:
            mark = "*" if m["id"] == row["id"] else " "
            lines.append(
                f"   {mark} #{m['id']} [{m['dup_level']}] {m['feed_title'] or m['feed_url']}: {m['title'][:80]}"
            )
    topics = store.topics_of(row["id"])
    if not topics:
        lines.append("  topics:        none")
    for t in topics:
        lines.append(f"  topic:         {t['topic']} (score {t['score']}): {', '.join(t['matched'])}")
    return "\n".join(lines)


def find_item(store: Store, item: int | str) -> int:
    """The id of an item given by its id or by a link to it: the feed's link or the digest's (which has no
    trackers): matched on the canonical URL, the original report first; else the link to its discussion."""
    text = str(item).strip()
    if re.fullmatch(r"-?\d+", text):
        item_id = int(text)
        if 0 < item_id < 2**63 and store.item(item_id) is not None:  # SQLite ids are 64-bit
            return item_id
        raise AggregatorError(f"no item #{text}", hint="`aggregator export items` lists the ids")
    key = canonical_url(text) if is_web_url(text) else None
    row = (
        store.execute(
            "SELECT id FROM items WHERE canonical_url = ? ORDER BY dup_level != 'new', id LIMIT 1", (key,)
        ).fetchone()
        if key
        else None
    )
    if row is None and key:  # the link to its discussion (the digest's "comments")
        row = store.execute("SELECT id FROM items WHERE comments_url = ? ORDER BY id LIMIT 1", (text,)).fetchone()
    if row is None:
        raise AggregatorError(
            f"no item with the link {text}" if key else f"{text!r} is neither an item id nor a link",
            hint="give the id (`aggregator export items` lists them) or the link the digest shows",
        )
    return int(row["id"])
