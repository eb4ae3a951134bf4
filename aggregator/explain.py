"""`aggregator explain ITEM_ID`: why an item was merged, clustered and tagged."""

from __future__ import annotations

from aggregator.errors import AggregatorError
from aggregator.store import Store


def explain(store: Store, item_id: int) -> str:
    row = store.item(item_id) if 0 < item_id < 2**63 else None  # SQLite ids are 64-bit
    if row is None:
        raise AggregatorError(f"no item #{item_id}", hint="`aggregator export items` lists the ids")
    lines = [
        f"item #{row['id']}: {row['title']}",
        f"  feed:          {row['feed_url']}" + (f"   (outlet: {row['source']})" if row["source"] else ""),
        f"  url:           {row['url'] or '-'}",
        f"  canonical url: {row['canonical_url'] or '-'}",
        f"  published:     {row['published'] or '-'}   fetched: {row['fetched_at']}",
    ]
    if row["edits"]:
        lines.append(f"  edited:        {row['edits']} time(s), last at {row['updated_at']}")
    if row["dup_level"] == "new":
        lines.append("  dedup:         new (no earlier copy found)")
    else:
        target = f"seed #{row['duplicate_of_seed']}" if row["duplicate_of_seed"] else f"item #{row['duplicate_of']}"
        lines.append(f"  dedup:         {row['dup_level']} of {target}: {row['dup_reason']}")
    story = store.story(row["story_id"]) if row["story_id"] else None
    if story is not None:
        lines.append(
            f'  story:         #{story["id"]} "{story["title"]}"'
            + (f" (follow-up of seed #{story['seed_id']})" if story["seed_id"] else "")
        )
        lines.append(f"  why:           {row['story_reason'] or 'first item of the story'}")
        for m in store.story_members(story["id"]):
            mark = "*" if m["id"] == row["id"] else " "
            lines.append(
                f"   {mark} #{m['id']} [{m['dup_level']}] {m['feed_title'] or m['feed_url']}: {m['title'][:80]}"
            )
    topics = store.topics_of(item_id)
    if not topics:
        lines.append("  topics:        none")
    for t in topics:
        lines.append(f"  topic:         {t['topic']} (score {t['score']}): {', '.join(t['matched'])}")
    return "\n".join(lines)
