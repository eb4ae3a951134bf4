"""How the stages that read what others write (feeds, pages, OPML lists) grow with hostile or broken input.

    python bench/hostile.py [N]

Each case builds an input of N repetitions of one piece (thousands of "<a " never closed, of <div>s left
open, of hashtags, of outlines, of a page's scripts never closed...), then of 4N, and times the stage on
both: time that grows about 4x is linear, 16x quadratic (a pattern that backtracks, a parser that looks
through all it holds at every step). A case growing more than 8x is marked SUPERLINEAR and the script exits
1. Not part of `make bench`: it measures no target, it finds the inputs that would hold up a poll cycle or a
seeds import; run it after changing a pattern or a parser.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import make_item, temp_config  # noqa: E402

from aggregator.config import load_settings  # noqa: E402
from aggregator.dates import read_date  # noqa: E402
from aggregator.feedlist import discover_links, feedish_anchors, read_opml  # noqa: E402
from aggregator.models import Entry  # noqa: E402
from aggregator.normalise import canonical_url, clean_link, headline_of, normalise_entry  # noqa: E402
from aggregator.parse import parse_feed  # noqa: E402
from aggregator.poll import CycleReport, Pipeline  # noqa: E402
from aggregator.seeds import _forwarded, _from_html, _from_markdown  # noqa: E402
from aggregator.store import Store  # noqa: E402
from aggregator.watchlist import load_watchlist  # noqa: E402

# what feeds put in a title or summary, repeated: tags left open, entities, links, boilerplate's first words
TEXT_PIECES = [
    "<a ", "<div class='share'>", "<figure>", "<p ", "<!--", "</a>:", "&#x", "&amp;", "#a ", "http://a.b/", "a.b/",
    "(a/", "[link] ", "submitted by /u/x ", "Submitted by ", "The post ", "Read more ", "© ", "Comments URL: ", "{{",
    "U.S. ", "…", " - ", "<", "<ul><li><a>", "<ul><li><a>x</a></li></ul>",
]  # fmt: skip
# what a saved or fetched page (a seed article) may hold, repeated
PAGE_PIECES = [
    "<p ", "<article>", "<time ", "<script>", '<script type="application/ld+json">{"a":', "<meta ", "<body ",
    "<nav><article>", "<div>", "&#",
]  # fmt: skip
LINKS = ["https://www.reddit.com/r/x/comments/1/", "http://www.techmeme.com/1/p1", "https://b.example/1"]


def _entry_case(piece: str, link: str) -> Callable[[int], object]:
    def run(n: int) -> object:
        body = piece * n + " end"
        doc = (
            f'<rss version="2.0"><channel><title>t</title><item><title>{escape(body[:2000])}</title><link>{link}</link>'
            f"<description>{escape(body)}</description></item></channel></rss>"
        )
        feed = parse_feed(doc.encode(), "https://a.example/feed")
        return [normalise_entry(e, "https://a.example/feed", datetime.now(UTC), "Feed") for e in feed.entries]

    return run


def _untitled_case(piece: str) -> Callable[[int], object]:
    def run(n: int) -> object:
        entry = Entry(guid="1", url="https://a.example/1", title="", summary_html=escape("A post " + piece * n))
        return normalise_entry(entry, "https://a.example/feed", datetime.now(UTC), "Feed").title

    return run


# what an item's text may hold for dedup, stories and tags (the shipped watchlist's words among them)
ITEM_PIECES = ["export controls ", "Huawei ", "U.S. ", "a ", "chip-", "#a ", "中国芯片"]


def _pipeline() -> Pipeline:
    config = temp_config()
    settings = load_settings(config)
    return Pipeline(Store(settings.data_dir / "hostile.sqlite3"), settings, load_watchlist(config))


def _item_case(piece: str, pipe: Pipeline) -> Callable[[int], object]:
    def run(n: int) -> object:
        when = datetime.now(UTC)
        item = make_item("https://a.example/feed", f"{piece}{n}", (piece * n)[:300], piece * n, when)
        return pipe.ingest(item, when, CycleReport())

    return run


def _page_case(piece: str) -> Callable[[int], object]:
    def run(n: int) -> object:
        page = f"<html><head><title>Rules</title></head><body>{piece * n}<p>Rules tighten.</p></body></html>"
        return _from_html(page)

    return run


def cases() -> list[tuple[str, Callable[[int], object]]]:
    out = [(f"feed entry {p!r} at {link.split('/')[2]}", _entry_case(p, link)) for p in TEXT_PIECES for link in LINKS]
    out += [(f"untitled post {piece!r}", _untitled_case(piece)) for piece in ("#a ", "a.b/ ", "http://a ")]
    out += [(f"seed page {piece!r}", _page_case(piece)) for piece in PAGE_PIECES]
    out.append(("seed page of open <div>s, then stray </span>s", lambda n: _from_html("<div>" * n + "</span>" * n)))
    out += [
        (f"Markdown seed {piece!r}", lambda n, piece=piece: _from_markdown("# T\n\n" + piece * n))
        for piece in ("[a](", "![a](b")
    ]
    out.append(("a mail's lines of From:", lambda n: _forwarded(["From: a"] * n)))
    out.append(("a mail's header names apart from their values", lambda n: _forwarded(["From:", "a"] * n)))
    pipe = _pipeline()
    out += [(f"item text {piece!r} (dedup, stories, tags, store)", _item_case(piece, pipe)) for piece in ITEM_PIECES]
    outline = '<outline text="x" xmlUrl="https://a/f"/>'
    out += [
        ("headline of a post of hashtags", lambda n: headline_of("x" * 30 + " #a" * n + " end")),
        ("page links '<a '", lambda n: feedish_anchors("<a " * n, "https://a.example/")),
        ("page links '<link '", lambda n: discover_links("<link " * n, "https://a.example/")),
        ("OPML of outlines", lambda n: read_opml("<opml><body>" + outline * n)),
        ("OPML of open outlines", lambda n: _quiet(read_opml, "<opml><body>" + "<outline>" * n)),
        ("a date of digits", lambda n: read_date("1 " * n)),
        ("a URL of escapes", lambda n: canonical_url("https://a.example/" + "%2F" * n)),
        ("a link of parameters", lambda n: clean_link("https://a.example/?" + "a=1&" * n)),
        ("feed of unclosed items", lambda n: _quiet(parse_feed, b'<rss version="2.0"><channel>' + b"<item>" * n, "a")),
        ("feed of UTF-16 halves' references", lambda n: parse_feed(_feed_of(b"&#55357;&#56832;&#55357;" * n), "a")),
        ("JSON Feed of lone surrogate escapes", lambda n: parse_feed(_json_of("\\ud800 " * n), "a")),
    ]
    return out


def _feed_of(title: bytes) -> bytes:
    return b'<rss version="2.0"><channel><title>t</title><item><title>' + title + b"</title></item></channel></rss>"


def _json_of(title: str) -> bytes:
    head = '{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1", "title": "'
    return (head + title + '"}]}').encode()


def _quiet(f: Callable[..., object], *args: object) -> object:
    try:
        return f(*args)
    except Exception as e:  # the error is the expected answer to broken input; its time is what is measured
        return e


def timed(f: Callable[[int], object], n: int) -> float:
    began = time.perf_counter()
    f(n)
    return time.perf_counter() - began


def main(argv: list[str]) -> int:
    n = int(argv[1]) if len(argv) > 1 else 5_000
    worst = 0.0
    rows = []
    for name, f in cases():
        small, large = timed(f, n), timed(f, 4 * n)
        growth = large / max(small, 1e-4)
        worst = max(worst, growth if large > 0.05 else 0.0)  # below 50 ms the ratio is noise
        rows.append((large, growth, name))
    for large, growth, name in sorted(rows, reverse=True):
        flag = "  SUPERLINEAR" if growth > 8 and large > 0.05 else ""
        print(f"{large:8.3f} s at {4 * n:,}  x{growth:5.1f} from {n:,}  {name}{flag}")
    return 1 if worst > 8 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
