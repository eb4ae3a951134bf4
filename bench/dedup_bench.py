"""Dedup and clustering with 100,000 items already indexed: time per new item, index memory, start-up.

    python bench/dedup_bench.py [--items 100000] [--new 2000] [--json]

Builds a store of N synthetic items (bench/corpus.py) through the real pipeline, then measures, in a
fresh Pipeline on that database:
  - ready: seconds to rebuild the in-memory index at start (what the daemon does), timed as it runs;
  - memory: bytes the index holds in Python (tracemalloc, in a second start) per stored item, and the
    on-disk size of the persisted near-duplicate keys (item_bands) per item;
  - per item: the dedup and clustering of NEW items (canonical-URL lookup, near-duplicate candidates,
    the decision, index update, lone reports of the story it joins scored again), average over --new
    items, tagging excluded; the median of --rounds rounds, each on a fresh copy of the database as built
    (one pass varies by 20% on a shared machine).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
import tracemalloc
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import common  # noqa: E402
import corpus  # noqa: E402
from peak import peak_rss_mb  # noqa: E402

from aggregator import dedup  # noqa: E402
from aggregator.config import load_settings  # noqa: E402
from aggregator.models import Item  # noqa: E402
from aggregator.poll import CycleReport, Pipeline  # noqa: E402
from aggregator.store import Store  # noqa: E402
from aggregator.watchlist import Watchlist  # noqa: E402


def make_item(n: int, title: str, summary: str, when: datetime) -> Item:
    # a news address as most sites make it: the headline's words and the article's id (normalise.article_slug)
    slug = "-".join(title.lower().split()[:8])
    url = f"https://site{n % 997}.example/news/{slug}-{n:08x}"
    return common.make_item(f"site{n % 997}.example", f"g{n}", title, summary, when, url=url)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--new", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3, help="of the new items, each on the database as built")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    tmp = common.scratch_dir("dedup-bench-")
    (tmp / "config").mkdir()
    (tmp / "config" / "aggregator.toml").write_text(f'data_dir = "{tmp}"\n')
    settings = load_settings(tmp / "config")
    empty = Watchlist(topics=())
    store = Store(tmp / "bench.sqlite3")
    stream = corpus.items(a.items + a.new)
    began = time.perf_counter()
    pipe = Pipeline(store, settings, empty)
    report = CycleReport()
    last = None
    batch = 0
    store.conn.execute("BEGIN")
    for n in range(a.items):
        title, summary, when, _ = next(stream)
        if last is None or (when - last).total_seconds() > 6 * 3600:
            pipe.stories.prune(when)
            last = when
        pipe.ingest(make_item(n, title, summary, when), when, report)
        batch += 1
        if batch == 5000:
            store.conn.execute("COMMIT")
            store.conn.execute("BEGIN")
            batch = 0
    store.conn.execute("COMMIT")
    build = time.perf_counter() - began
    store.close()
    shutil.copy(tmp / "bench.sqlite3", tmp / "built.sqlite3")

    # a fresh start on the full database, as the daemon does, under tracemalloc to count the index's bytes;
    # then another, timed without it (tracemalloc slows every allocation: it made the start look 4x slower)
    store = Store(tmp / "bench.sqlite3")
    tracemalloc.start()
    pipe = Pipeline(store, settings, empty, now=last)
    index_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del pipe
    store.close()
    store = Store(tmp / "bench.sqlite3")
    t0 = time.perf_counter()
    pipe = Pipeline(store, settings, empty, now=last)
    ready = time.perf_counter() - t0
    bands_bytes = _table_bytes(store, "item_bands")

    new = [next(stream) for _ in range(a.new)]
    rounds = []
    for r in range(a.rounds):
        if r:  # the same new items again, on the database as it was built, in a fresh pipeline
            store.close()
            store = _fresh_copy(tmp)
            pipe = Pipeline(store, settings, empty, now=last)
        rounds.append(_new_items(pipe, store, new, a.items))
    spent = statistics.median(rounds)
    threshold = pipe.th.near_duplicate
    store.close()
    store = _fresh_copy(tmp)
    store.count_common_bands()  # as Pipeline does at start
    lookup = _band_lookup(store, threshold, new)
    result = {
        "items": a.items,
        "build_seconds": round(build, 1),
        "ready_seconds": round(ready, 2),
        "index_bytes_per_item": round(index_bytes / a.items, 1),
        "window_documents": len(pipe.stories.docs),
        "bands_disk_bytes_per_item": round(bands_bytes / a.items, 1) if bands_bytes else None,
        "dedup_ms_per_item": round(1000 * spent / a.new, 3),
        "dedup_ms_rounds": [round(1000 * r / a.new, 3) for r in rounds],
        **lookup,
    }
    if a.json:
        result["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:28} {v}")
    return result


def _new_items(pipe: Pipeline, store: Store, new: list, first: int) -> float:
    """Seconds spent on the dedup and clustering of ``new`` items: what `Pipeline.ingest` does for a new
    item (the decision, the writes and the index, a lone report of its story scored again), less tagging."""
    spent = 0.0
    store.conn.execute("BEGIN")
    for n, (title, summary, when, _) in enumerate(new, start=first):
        item = make_item(n, title, summary, when)
        t = time.perf_counter()
        decision, sh, keys, terms = pipe.dedup_item(item)
        item_id = pipe.store_new(item, decision, sh, keys, terms, when)
        pipe.gather(item_id, decision, terms)
        spent += time.perf_counter() - t
    store.conn.execute("COMMIT")
    return spent


def _fresh_copy(tmp: Path) -> Store:
    """The database as it was built, in place of the one a round added to."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp / 'bench.sqlite3'}{suffix}").unlink(missing_ok=True)
    shutil.copy(tmp / "built.sqlite3", tmp / "bench.sqlite3")
    return Store(tmp / "bench.sqlite3")


def _band_lookup(store: Store, threshold: float, new: list) -> dict:
    """The near-duplicate key look-up of the new items (the call `Pipeline._near_candidates` makes), two ways
    side by side on one database: `Store.band_candidates` (the common keys read last, for the items the other
    keys found) against the one query it replaced (`Store._shared_keys`, every row of every key). An item's first call
    finds fewer of its pages in SQLite's cache, so which way goes first alternates. Counts differing answers."""
    spent = {"two_phase": 0.0, "one_query": 0.0}
    differ = 0
    for n, (title, summary, _, _) in enumerate(new):
        keys = dedup.band_keys(title, summary)
        need = dedup.keys_needed(keys, threshold)
        answers = []
        for name in ("two_phase", "one_query") if n % 2 else ("one_query", "two_phase"):
            t = time.perf_counter()
            if name == "two_phase":
                answers.append(store.band_candidates(keys, need))
            else:
                answers.append([r[0] for r in store._shared_keys(keys, need, 10)])
            spent[name] += time.perf_counter() - t
        differ += answers[0] != answers[1]
    return {
        "band_lookup_ms": round(1000 * spent["two_phase"] / len(new), 3),
        "band_lookup_one_query_ms": round(1000 * spent["one_query"] / len(new), 3),
        "band_lookup_differing": differ,
    }


def _table_bytes(store: Store, name: str) -> int | None:
    try:
        row = store.execute("SELECT sum(pgsize) FROM dbstat WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row and row[0] else None
    except Exception:  # dbstat is a compile-time option of SQLite
        return None


if __name__ == "__main__":
    main()
