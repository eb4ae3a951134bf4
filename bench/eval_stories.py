"""Replay a labelled JSONL file through the real pipeline and score story clustering and tagging.

    python bench/eval_stories.py [FILE.jsonl] [--topic us-china-tech] [--threshold 0.5] [--window 72h]
                                 [--headlines-only] [--slices N] [--seeds DIR] [--seed-stories SLUG,...]

Default FILE: ../shared/data/topic-dev/entries.jsonl (read in place, never copied: it is GPL-3.0).
Each line: id, source, link, published, title, description, label (0/1), story (slug or null). Only a title or
a link is needed: a line without an id is known by sha1(link) as topic-dev's are; without a source, by its
link's host; without a date, it comes where the file puts it (the date of the dated line before it); a line
that is not a JSON object is skipped with its line number. A line with a story is a gold positive for
clustering, whatever its label; tagging is scored over the lines that have a label (0/1 or true/false).
Items are ingested in published order into a fresh SQLite store, exactly as a poll would store them
(canonical URL, near-duplicate and story decisions, tags). Scored as in the set's README:
  - tagging: precision / recall / F1 of the topic over the labelled lines;
  - clustering, over gold positives only: pairwise precision / recall / F1, B-cubed precision / recall,
    the same without the largest gold story, and the items the near-duplicate level merged across
    different gold stories (target: none).
--slices N: a new install's first N items instead: 24 runs, each replaying N consecutive lines (starting
throughout the year) into its own fresh store; pairwise figures summed over the runs, and per run.
--seeds DIR: seed files imported before the first item (as a seeds folder is); --seed-stories SLUG,...: seeds
cut from the set itself into a scratch folder, one per story (its first report with a description, dated).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import shutil
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import make_item, scratch_dir, temp_config  # noqa: E402

from aggregator.config import load_settings, parse_duration  # noqa: E402
from aggregator.normalise import html_to_text  # noqa: E402
from aggregator.poll import CycleReport, Pipeline  # noqa: E402
from aggregator.store import Store  # noqa: E402
from aggregator.watchlist import load_watchlist  # noqa: E402

DEFAULT = ROOT.parent / "shared" / "data" / "topic-dev" / "entries.jsonl"


def replay(
    rows: list[dict], threshold: float | None, window: str | None, near: float | None, seeds: Path | None = None
):
    extra = (
        "[dedup]\n"
        + (f"story_threshold = {threshold}\n" if threshold else "")
        + (f'story_window = "{window}"\n' if window else "")
        + (f"near_duplicate_threshold = {near}\n" if near else "")
    )
    cfg = temp_config(extra)
    settings = load_settings(cfg)
    store = Store(settings.data_dir / "eval.sqlite3")
    pipe = Pipeline(store, settings, load_watchlist(cfg), now=datetime(2000, 1, 1, tzinfo=UTC))
    if seeds is not None:
        # indexed before the first item, as a seeds folder is at the daemon's start, but imported as of the last
        # one: a seed's date after its import would be read as its import (a mistyped year)
        last = datetime.fromisoformat(rows[-1]["published"].replace("Z", "+00:00")) if rows else datetime.now(UTC)
        problems: list[str] = []
        pipe.import_seeds([seeds], last, problems=problems)
        for problem in problems:
            print(f"seed skipped: {problem}", file=sys.stderr)
    report = CycleReport()
    ids: dict[str, int] = {}
    began = time.perf_counter()
    last_prune = None
    with store.transaction():
        for r in rows:
            when = datetime.fromisoformat(r["published"].replace("Z", "+00:00"))
            if last_prune is None or when - last_prune > timedelta(hours=6):
                pipe.stories.prune(when)
                last_prune = when
            title, summary = html_to_text(r["title"]), html_to_text(r.get("description") or "")
            item = make_item(f"dev:{r['source']}", r["id"], title, summary, when, url=r["link"])
            item_id = pipe.ingest(item, when, report)
            if item_id:
                ids[r["id"]] = item_id
    elapsed = time.perf_counter() - began
    return store, ids, elapsed


def replay_patched(rows: list[dict], threshold: float | None, patch) -> str:
    """Replay with a trial's change in place (``patch()`` makes it and returns the function that undoes it);
    the clustering figures as the cells of a Markdown table row: pairwise P | R | F1 | B-cubed P | R."""
    undo = patch()
    try:
        store, ids, _ = replay(rows, threshold, None, None)
    finally:
        undo()
    r = score(rows, store, ids, "us-china-tech")
    return " | ".join(
        f"{r[k]:.3f}" for k in ("pair_precision", "pair_recall", "pair_f1", "bcubed_precision", "bcubed_recall")
    )


def score(rows, store, ids, topic):
    by_id = {r["id"]: r for r in rows}
    pred_story, pred_label, original = {}, {}, {}
    rid_of = {item_id: rid for rid, item_id in ids.items()}
    for rid, item_id in ids.items():
        row = store.execute("SELECT story_id, dup_level, duplicate_of FROM items WHERE id = ?", (item_id,)).fetchone()
        pred_story[rid] = row["story_id"]
        if row["dup_level"] != "new" and row["duplicate_of"] in rid_of:
            original[rid] = rid_of[row["duplicate_of"]]
        pred_label[rid] = bool(
            store.execute("SELECT 1 FROM item_topics WHERE item_id = ? AND topic = ?", (item_id, topic)).fetchone()
        )
    labelled = {i: r["label"] for i, r in by_id.items() if r["label"] is not None}
    tp = sum(1 for i, label in labelled.items() if label and pred_label.get(i))
    fp = sum(1 for i, label in labelled.items() if not label and pred_label.get(i))
    fn = sum(1 for i, label in labelled.items() if label and not pred_label.get(i))
    p = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    out = {
        "labelled": len(labelled),
        "tag_precision": p,
        "tag_recall": rec,
        "tag_f1": 2 * p * rec / (p + rec) if p + rec else 0.0,
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }
    pos = [i for i, r in by_id.items() if r["story"] and i in pred_story]
    out["positives"] = len(pos)
    if not pos:
        return out
    sizes = defaultdict(int)
    for i in pos:
        sizes[by_id[i]["story"]] += 1
    biggest = max(sizes, key=sizes.get)
    out["stories"] = len(sizes)
    for name, subset in (("", pos), ("_without_biggest", [i for i in pos if by_id[i]["story"] != biggest])):
        out.update({k + name: v for k, v in _cluster_scores(subset, by_id, pred_story).items()})
    # copies (near-duplicate or same URL) whose original is a positive of another gold story
    out["near_dup_wrong_merges"] = sum(
        1
        for i in pos
        if i in original and by_id[original[i]]["story"] and by_id[original[i]]["story"] != by_id[i]["story"]
    )
    out["biggest_story"] = biggest
    return out


def _cluster_scores(pos, by_id, pred_story):
    def pairs(key):
        groups = defaultdict(list)
        for i in pos:
            groups[key(i)].append(i)
        return {frozenset(p) for g in groups.values() for p in itertools.combinations(g, 2)}

    if not pos:
        zero = dict.fromkeys(("pair_precision", "pair_recall", "pair_f1", "bcubed_precision", "bcubed_recall"), 0.0)
        return {**zero, "wrong_pairs": 0}
    gold = pairs(lambda i: by_id[i]["story"])
    pred = pairs(lambda i: pred_story.get(i) or ("single", i))
    both = len(gold & pred)
    pp = both / len(pred) if pred else 0.0
    pr = both / len(gold) if gold else 0.0
    g, s = defaultdict(set), defaultdict(set)
    for i in pos:
        g[by_id[i]["story"]].add(i)
        s[pred_story.get(i) or ("single", i)].add(i)
    bp = sum(
        len(g[by_id[i]["story"]] & s[pred_story.get(i) or ("single", i)]) / len(s[pred_story.get(i) or ("single", i)])
        for i in pos
    ) / len(pos)
    br = sum(
        len(g[by_id[i]["story"]] & s[pred_story.get(i) or ("single", i)]) / len(g[by_id[i]["story"]]) for i in pos
    ) / len(pos)
    return {
        "pair_precision": pp,
        "pair_recall": pr,
        "pair_f1": 2 * pp * pr / (pp + pr) if pp + pr else 0.0,
        "bcubed_precision": bp,
        "bcubed_recall": br,
        "wrong_pairs": len(pred - gold),
    }


def slices(
    rows: list[dict], n: int, threshold: float | None, window: str | None, near: float | None, seeds: Path | None
) -> int:
    """Story clustering from a fresh start: 24 slices of ``n`` consecutive rows, each its own new install."""
    totals = [0, 0, 0]
    step = max(1, (len(rows) - n) // 24)
    for start in range(0, max(1, len(rows) - n), step)[:24]:
        part = rows[start : start + n]
        store, ids, _ = replay(part, threshold, window, near, seeds)
        story = {
            rid: store.execute("SELECT story_id FROM items WHERE id = ?", (i,)).fetchone()[0] for rid, i in ids.items()
        }
        store.close()
        gold = {r["id"]: r["story"] for r in part if r["story"]}
        counts = [0, 0, 0]  # same story in both, only in ours, only in the gold
        for a, b in itertools.combinations(gold, 2):
            ours, same = story.get(a) is not None and story.get(a) == story.get(b), gold[a] == gold[b]
            if ours or same:
                counts[0 if ours and same else 1 if ours else 2] += 1
        totals = [t + c for t, c in zip(totals, counts, strict=True)]
        print(f"from line {start}: same-story pairs found {counts[0]}, wrong {counts[1]}, missed {counts[2]}")
    tp, fp, fn = totals
    print(f"{n} items from a fresh start, 24 times: pairwise P {tp / max(1, tp + fp):.3f} R {tp / max(1, tp + fn):.3f}")
    return 0


def seed_folder(rows: list[dict], slugs: list[str], more: Path | None) -> Path:
    """A scratch folder of seeds cut from the set (never copied into the project): for each story slug, its
    first report with a description of 200+ characters (else its first), as a .txt with a "Published:" date
    (a day, as people write it); with the files of ``more`` beside them."""
    folder = scratch_dir("eval-seeds-")
    for slug in slugs:
        reports = [r for r in rows if r.get("story") == slug]
        if not reports:
            raise SystemExit(f"--seed-stories: no story {slug!r} in the set")
        r = next((r for r in reports if len(r.get("description") or "") >= 200), reports[0])
        day = datetime.fromisoformat(r["published"].replace("Z", "+00:00")).strftime("%d %b %Y")
        text = html_to_text(r.get("description") or "")
        (folder / f"{slug}.txt").write_text(f"{html_to_text(r['title'])}\nPublished: {day}\n\n{text}\n")
    if more is not None:
        for path in more.iterdir():
            if path.is_file():
                shutil.copy(path, folder / path.name)
    return folder


def load_rows(path: Path) -> list[dict]:
    """The lines of a labelled JSONL file as rows with every field the replay reads (see the module docstring),
    sorted by date; a line that cannot be read is reported on stderr with its number and skipped."""
    rows: list[dict] = []
    seen: set[str] = set()
    last = None  # the date of the last dated line, in file order
    undated = 0
    for n, line in enumerate(path.read_text(encoding="utf-8-sig", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as e:
            print(f"{path}:{n}: not JSON ({e.msg} at column {e.colno}): line skipped", file=sys.stderr)
            continue
        if not isinstance(raw, dict):
            print(f"{path}:{n}: not a JSON object: line skipped", file=sys.stderr)
            continue
        link = str(raw.get("link") or raw.get("url") or "").strip() or None
        title = str(raw.get("title") or "")
        if not (title.strip() or link):
            print(f"{path}:{n}: neither a title nor a link: line skipped", file=sys.stderr)
            continue
        rid = str(raw.get("id") or (hashlib.sha1(link.encode()).hexdigest()[:12] if link else f"line-{n}"))
        if rid in seen:
            rid = f"{rid}-line-{n}"
        seen.add(rid)
        dated = _when(raw.get("published"))
        undated += dated is None
        last = dated or last
        label = raw.get("label")
        rows.append(
            {
                **raw,
                "id": rid,
                "link": link,
                "title": title,
                "description": str(raw.get("description") or raw.get("summary") or ""),
                "source": str(raw.get("source") or (urlsplit(link).hostname if link else None) or "unknown"),
                "story": str(raw["story"]) if raw.get("story") not in (None, "") else None,
                "label": int(label) if label in (0, 1) else None,  # True and False are 1 and 0
                "published": dated or last,
            }
        )
    first = next((r["published"] for r in rows if r["published"] is not None), datetime(2000, 1, 1, tzinfo=UTC))
    for r in rows:  # a line before any dated one comes at the first date
        r["published"] = (r["published"] or first).strftime("%Y-%m-%dT%H:%M:%SZ")
    if undated:
        print(
            f"{path}: {undated} lines without a readable date, each at the date of the line before it", file=sys.stderr
        )
    rows.sort(key=lambda r: (r["published"], r["id"]))
    return rows


def _when(value: object) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        d = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (d if d.tzinfo else d.replace(tzinfo=UTC)).astimezone(UTC)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--topic", default="us-china-tech")
    ap.add_argument("--threshold", type=float)
    ap.add_argument("--near", type=float)
    ap.add_argument("--window")
    ap.add_argument(
        "--headlines-only", action="store_true", help="drop every description first (as feeds without summaries)"
    )
    ap.add_argument("--slices", type=int, metavar="N", help="24 fresh stores of N consecutive items each")
    ap.add_argument("--seeds", type=Path, metavar="DIR", help="seed files imported before the first item")
    ap.add_argument(
        "--seed-stories",
        metavar="SLUG,...",
        help="seeds cut from the set: each story's first report with a description, as a .txt with its date",
    )
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    if not a.file.exists():
        print(f"{a.file}: not found (the dev set lives in ../shared/data/topic-dev/)", file=sys.stderr)
        return 2
    rows = load_rows(a.file)
    if not rows:
        print(f"{a.file}: no line to replay", file=sys.stderr)
        return 2
    if a.headlines_only:
        rows = [{**r, "description": ""} for r in rows]
    if a.window:
        parse_duration(a.window)
    seeds = a.seeds
    if a.seed_stories:
        seeds = seed_folder(rows, a.seed_stories.split(","), seeds)
    if a.slices:
        return slices(rows, a.slices, a.threshold, a.window, a.near, seeds)
    store, ids, elapsed = replay(rows, a.threshold, a.window, a.near, seeds)
    result = score(rows, store, ids, a.topic)
    result["items"] = len(rows)
    result["seconds"] = round(elapsed, 2)
    if a.json:
        print(json.dumps(result))
        return 0
    print(f"{len(rows)} items replayed in {elapsed:.1f} s ({1000 * elapsed / len(rows):.2f} ms per item)")
    if result["labelled"]:
        print(
            f"tagging {a.topic}: precision {result['tag_precision']:.3f}  recall {result['tag_recall']:.3f}  "
            f"F1 {result['tag_f1']:.3f}  (tp {result['tp']}, fp {result['fp']}, fn {result['fn']})"
        )
    else:
        print(f"tagging {a.topic}: not scored (no line has a label)")
    if not result["positives"]:
        print("stories: not scored (no line has a story)")
        return 0
    parts = [("", "all gold positives"), ("_without_biggest", f"without {result['biggest_story']}")]
    for suffix, label in parts[: 1 if result["stories"] < 2 else 2]:
        print(
            f"stories, {label}: pairwise P {result['pair_precision' + suffix]:.3f} "
            f"R {result['pair_recall' + suffix]:.3f} "
            f"F1 {result['pair_f1' + suffix]:.3f}; B-cubed P {result['bcubed_precision' + suffix]:.3f} "
            f"R {result['bcubed_recall' + suffix]:.3f}; wrong pairs {result['wrong_pairs' + suffix]}"
        )
    print(f"items merged across different stories by the near-duplicate level: {result['near_dup_wrong_merges']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
