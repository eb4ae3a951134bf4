"""`aggregator watchlist test`: try a topic (saved, or a query not yet saved) before relying on it.

On stored items: lists the matches with what matched. With --labels FILE.jsonl (objects with
`title`, `description` or `summary`, `label` 0/1, optional `id` and `source`): tags every line
and prints precision, recall and F1, then the misses and the false hits.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aggregator.config import parse_since
from aggregator.errors import AggregatorError
from aggregator.query import parse
from aggregator.store import iso
from aggregator.tag import CompiledTopic
from aggregator.watchlist import Watchlist


def compile_for_test(pipe: Any, wl: Watchlist, topic_id: str, query: str | None, exclude: str | None) -> CompiledTopic:
    saved = wl.topic(topic_id)
    if query is not None:
        return CompiledTopic(
            topic_id,
            parse(query, wl.lists),
            parse(exclude, wl.lists) if exclude else None,
            saved.min_score if saved else 0.3,
            saved.example_threshold if saved else 0.5,
        )
    if saved is None:
        raise AggregatorError(f"no topic {topic_id!r}", hint="give --query to test a topic not yet saved")
    return next(t for t in pipe.topics if t.id == topic_id)


def score_labels(
    pipe: Any, topic: CompiledTopic, path: Path
) -> tuple[dict[str, float], list[dict], list[dict], list[str]]:
    """Tag every labelled line; returns metrics, misses, false hits and the lines skipped (each "FILE:LINE: why":
    not a JSON object, or no 0/1 label). A file with no line to score is an error."""
    tp = fp = fn = tn = 0
    misses, false_hits, skipped = [], [], []
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        why = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
        raise AggregatorError(f"{path}: cannot read the labels: {why}") from e
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as e:
            skipped.append(f"{path}:{n}: expected a JSON object with a 0/1 label: {e}")
            continue
        if not isinstance(obj, dict):
            skipped.append(f"{path}:{n}: expected a JSON object with a 0/1 label, got a JSON {type(obj).__name__}")
            continue
        raw = obj.get("label")
        # 1, true, 1.0 and "1" alike (True and 1.0 are the key 1)
        label = {0: 0, 1: 1, "0": 0, "1": 1}.get(raw) if isinstance(raw, int | float | str) else None
        if label is None:
            got = "no label" if raw is None else f"label {json.dumps(raw)}"
            skipped.append(f"{path}:{n}: expected a JSON object with a 0/1 label, got {got}")
            continue
        summary = obj.get("description") or obj.get("summary") or ""
        tags = pipe.tag_text(str(obj.get("title") or ""), str(summary), str(obj.get("source") or ""), "", [topic])
        hit = bool(tags)
        tp += hit and label == 1
        fp += hit and label == 0
        fn += (not hit) and label == 1
        tn += (not hit) and label == 0
        if hit and not label:
            false_hits.append({**obj, "matched": tags[0].matched})
        elif label and not hit:
            misses.append(obj)
    if not tp + fp + fn + tn:
        what = f"{path}: no line to score" if len(skipped) != 1 else skipped[0]
        raise AggregatorError(
            what + (f" (the first: {skipped[0]})" if len(skipped) > 1 else ""),
            hint='each line a JSON object such as {"title": "...", "description": "...", "label": 1}',
        )
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f1, "tp": tp, "fp": fp, "fn": fn, "tn": tn}, misses, false_hits, skipped


def run(ctx: Any, wl: Watchlist, args: Any) -> Iterator[str]:
    pipe = ctx.pipeline()
    topic = compile_for_test(pipe, wl, args.topic, args.query, args.exclude)
    if args.labels:
        m, misses, false_hits, skipped = score_labels(pipe, topic, args.labels)
        yield (
            f"{topic.id} on {args.labels}: precision {m['precision']:.3f}  recall {m['recall']:.3f}  "
            f"F1 {m['f1']:.3f}  (tp {m['tp']}, fp {m['fp']}, fn {m['fn']}, tn {m['tn']})"
        )
        if skipped:
            yield f"lines skipped ({len(skipped)}):"
            yield from (f"  ! {why[:160]}" for why in skipped[: args.show])
        yield f"misses ({len(misses)}):"
        for obj in misses[: args.show]:
            yield f"  - {obj.get('title', '')[:110]}"
        yield f"false hits ({len(false_hits)}):"
        for obj in false_hits[: args.show]:
            yield f"  + {obj.get('title', '')[:110]}  [{', '.join(obj['matched'])}]"
        return
    now = datetime.now(UTC)
    since = parse_since(args.since, now) or now - timedelta(days=30)
    n = hits = 0
    shown: list[str] = []
    for row in ctx.store.execute(
        "SELECT i.id, i.title, i.summary, i.author, coalesce(i.published, i.fetched_at) AS t, f.title AS ft, "
        "f.tags AS feed_tags "
        "FROM items i LEFT JOIN feeds f ON f.url = i.feed_url WHERE coalesce(i.published, i.fetched_at) >= ? "
        "ORDER BY t DESC",
        (iso(since),),
    ):
        n += 1
        feed_tags = json.loads(row["feed_tags"] or "[]")
        tags = pipe.tag_text(
            row["title"], row["summary"], row["ft"] or "", row["author"] or "", [topic], tags=feed_tags
        )
        if tags:
            hits += 1
            if len(shown) < args.show:
                shown.append(
                    f"  #{row['id']} {row['t'][:10]} {row['title'][:90]}\n"
                    f"      score {tags[0].score}: {', '.join(tags[0].matched)}"
                )
    yield f"{topic.id}: {hits} of {n} stored items since {since.date()} match"
    yield from shown
