"""How much of a real news page's article text a saved-page seed holds, measured on newspaper4k's test pages.

    pip download --no-binary :all: --no-deps newspaper4k==0.9.6 -d /tmp/n4k && tar xzf /tmp/n4k/*.tar.gz -C /tmp/n4k
    python bench/seed_pages.py /tmp/n4k/newspaper4k-0.9.6/tests/data

newspaper4k's source distribution holds real news pages (`html/NAME.html`: CNN, Wired, Time, the BBC in
Chinese and Burmese, Arabic, Japanese, Thai, Latvian sites...) with the article text its maintainers expect
(`txt/NAME.txt`). Each page is read as a seed (`aggregator.seeds.read_seed`, as `seeds import` reads a saved
page) and compared with the expected text by word 3-grams (characters for Chinese, Japanese and Thai, which
have no spaces): the share of the expected 3-grams the seed's text holds (what a copy of the article would be
matched on) and how long the seed's text is against the expected one (what it holds besides). The figures are
in README.md ("Seed files"). Not part of `make bench`: the pages are not ours to ship.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aggregator.dedup import words  # noqa: E402
from aggregator.seeds import read_seed  # noqa: E402


def tokens(text: str) -> list[str]:
    """Words; the characters of a text written without spaces (its "words" are whole sentences)."""
    found = list(words(text.lower()))
    if len(found) < 50 and len(text) > 200:
        return [c for c in text if not c.isspace()]
    return found


def grams(toks: list[str], k: int = 3) -> set[tuple[str, ...]]:
    return {tuple(toks[i : i + k]) for i in range(len(toks) - k + 1)}


def main(data: Path) -> None:
    rows = []
    for page in sorted((data / "html").glob("*.html")):
        expected_file = data / "txt" / f"{page.stem}.txt"
        if not expected_file.exists():
            continue
        expected = grams(tokens(expected_file.read_text(encoding="utf-8", errors="replace")))
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


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/n4k/newspaper4k-0.9.6/tests/data"))
