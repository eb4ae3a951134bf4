"""Run in the bench-only venv that has lemon24's `reader`: update every farm feed (first poll, every feed
changed three times, every feed 304) with a given number of workers. Prints JSON. Imports nothing of
aggregator's.

    reader_part.py URLS_FILE WORKERS NEW_ITEMS_PER_FEED"""

import atexit
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.request import urlopen

from peak import peak_rss_mb
from reader import make_reader

urls = json.loads(Path(sys.argv[1]).read_text())
workers = int(sys.argv[2])
new = int(sys.argv[3])
tmp = tempfile.mkdtemp()
atexit.register(shutil.rmtree, tmp, ignore_errors=True)
db = Path(tmp) / "reader.sqlite"
with make_reader(str(db)) as r:
    for u in urls:
        r.add_feed(u)
    t0 = time.perf_counter()
    r.update_feeds(workers=workers, scheduled=False)  # every feed now, like `aggregator poll --force`
    full = time.perf_counter() - t0
    entries = r.get_entry_counts().total
    base = urls[0].rsplit("/", 1)[0]
    times = []
    for k in range(1, 4):  # as bench/run.py CHANGES: the best of three changed cycles
        with urlopen(f"{base}/_version/{new * k}") as answer:  # every feed publishes `new` items (bench/farm.py)
            answer.read()
        before = r.get_entry_counts().total
        t0 = time.perf_counter()
        r.update_feeds(workers=workers, scheduled=False)
        times.append(time.perf_counter() - t0)
        changed_entries = r.get_entry_counts().total - before
    changed = min(times)
    again_times = []
    for _ in range(3):  # likewise, the best of three 304 cycles
        t0 = time.perf_counter()
        r.update_feeds(workers=workers, scheduled=False)
        again_times.append(time.perf_counter() - t0)
    again = min(again_times)
    with urlopen(f"{base}/_version/0") as answer:
        answer.read()
print(
    json.dumps(
        {
            "workers": workers,
            "full_seconds": full,
            "changed_seconds": changed,
            "changed_entries": changed_entries,
            "not_modified_seconds": again,
            "entries": entries,
            "peak_rss_mb": peak_rss_mb(),
        }
    )
)
