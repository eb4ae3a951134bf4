"""How much of a real news page's article text a saved-page seed holds, measured on newspaper4k's test pages.

    pip download --no-binary :all: --no-deps newspaper4k==0.9.6 -d /tmp/n4k && tar xzf /tmp/n4k/*.tar.gz -C /tmp/n4k
    python bench/seed_pages.py /tmp/n4k/newspaper4k-0.9.6/tests/data

newspaper4k's source distribution holds real news pages (`html/NAME.html`: CNN, Wired, Time, the BBC in
Chinese and Burmese, Arabic, Japanese, Thai, Latvian sites...) with the article text its maintainers expect
(`txt/NAME.txt`). Each page is read as a seed (`aggregator.seeds.read_seed`, as `seeds import` reads a saved
page) and compared with the expected text by word 3-grams (characters for Chinese, Japanese and Thai, which
have no spaces): the share of the expected 3-grams the seed's text holds (what a copy of the article would be
matched on) and how long the seed's text is against the expected one (what it holds besides). Then the pages
are imported as seeds into a fresh store and copies are polled as other outlets write them (the page's
description as the summary; its first two paragraphs under another headline; the headline alone): how many
the pipeline marks as copies of their seed. The figures are in README.md ("Seed files"). Not part of
`make bench`: the pages are not ours to ship.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import make_item, temp_config  # noqa: E402

from aggregator.config import load_settings  # noqa: E402
from aggregator.dedup import words  # noqa: E402
from aggregator.poll import CycleReport, Pipeline  # noqa: E402
from aggregator.seeds import _Head, read_seed  # noqa: E402
from aggregator.store import Store  # noqa: E402
from aggregator.watchlist import load_watchlist  # noqa: E402


def tokens(text: str) -> list[str]:
    """Words; the characters of a text written without spaces (its "words" are whole sentences)."""
    found = list(words(text.lower()))
    if len(found) < 50 and len(text) > 200:
        return [c for c in text if not c.isspace()]
    return found


def grams(toks: list[str], k: int = 3) -> set[tuple[str, ...]]:
    return {tuple(toks[i : i + k]) for i in range(len(toks) - k + 1)}


def main(data: Path) -> None:
    pages = [p for p in sorted((data / "html").glob("*.html")) if (data / "txt" / f"{p.stem}.txt").exists()]
    rows = []
    for page in pages:
        expected = grams(tokens((data / "txt" / f"{page.stem}.txt").read_text(encoding="utf-8", errors="replace")))
        got = grams(tokens(read_seed(page).text))
        rows.append((page.stem, len(expected & got) / max(1, len(expected)), len(got) / max(1, len(expected))))
    print(f"{'page':24} {'expected text held':>18} {'length ratio':>13}")
    for name, held, ratio in sorted(rows, key=lambda r: r[1]):
        print(f"{name:24} {held:18.3f} {ratio:13.2f}")
    whole = sum(1 for _, held, _ in rows if held == 1.0)
    print(
        f"{len(rows)} pages: the least held {min(r[1] for r in rows):.3f}; all of it in {whole}; "
        f"at least 0.99 in {sum(1 for r in rows if r[1] >= 0.99)}; the longest {max(r[2] for r in rows):.2f}x"
    )
    copies_recognised(pages, data)


def copies_recognised(pages: list[Path], data: Path) -> None:
    cfg = temp_config()
    settings = load_settings(cfg)
    folder = cfg.parent / "seeds"
    folder.mkdir()
    for page in pages:
        (folder / page.name).write_bytes(page.read_bytes())
    store = Store(settings.data_dir / "seed-pages.sqlite3")
    now = datetime(2030, 1, 1, tzinfo=UTC)
    pipe = Pipeline(store, settings, load_watchlist(cfg), now=now)
    pipe.import_seeds([folder], now, [])
    found: dict[str, list[str]] = {}
    for n, page in enumerate(pages):
        seed = read_seed(page)
        paragraphs = [p for p in (data / "txt" / f"{page.stem}.txt").read_text(encoding="utf-8").splitlines() if p]
        meta = _Head(page.read_text(encoding="utf-8", errors="replace")).meta
        copies = {
            "the description as its summary": (seed.title, meta.get("og:description") or meta.get("description")),
            "two paragraphs, another headline": (f"Report: {seed.title[:40]}", " ".join(paragraphs[:2])),
            "the headline alone": (seed.title, ""),
        }
        when = (seed.published or now) + timedelta(hours=3)
        for how, (title, summary) in copies.items():
            item = make_item(f"copy{n}.example", how, title, summary or "", when, url=f"https://copy{n}.example/{how}")
            item_id = pipe.ingest(item, when, CycleReport())
            row = store.execute("SELECT duplicate_of_seed FROM items WHERE id = ?", (item_id,)).fetchone()
            found.setdefault(how, []).extend([] if row["duplicate_of_seed"] is not None else [page.stem])
    for how, missed in found.items():
        print(f"copies with {how}: {len(pages) - len(missed)} of {len(pages)} recognised; missed: {missed or 'none'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/n4k/newspaper4k-0.9.6/tests/data"))
