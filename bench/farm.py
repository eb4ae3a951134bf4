"""A deterministic feed farm: N feeds x M items of realistic size, served on 127.0.0.1 with ETag and
Last-Modified (conditional GET answers 304). Feeds alternate RSS 2.0 and Atom 1.0.

    python bench/farm.py --feeds 500 --items 50     # serves until Ctrl-C, prints the base URL
"""

from __future__ import annotations

import argparse
import hashlib
import random
import re
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

import corpus

SUBJECTS = [
    "Regulators",
    "Lawmakers",
    "The Commerce Department",
    "Chipmakers",
    "Beijing",
    "Brussels",
    "Investors",
    "Analysts",
    "A federal judge",
    "The central bank",
    "Researchers",
    "Union leaders",
    "The ministry",
    "Shareholders",
    "Engineers",
    "City officials",
    "Health experts",
    "The court",
    "Farmers",
    "Airlines",
]
VERBS = [
    "weigh",
    "unveil",
    "approve",
    "reject",
    "delay",
    "expand",
    "tighten",
    "ease",
    "probe",
    "announce",
    "criticise",
    "back",
    "block",
    "review",
    "extend",
    "challenge",
    "defend",
    "launch",
    "cut",
    "raise",
]
OBJECTS = [
    "new export rules",
    "a merger",
    "interest rates",
    "a data centre",
    "battery subsidies",
    "a privacy law",
    "chip tariffs",
    "a rail strike",
    "drug prices",
    "a climate plan",
    "the budget",
    "AI safety rules",
    "port fees",
    "a telecom licence",
    "fishing quotas",
    "a vaccine rollout",
    "crypto oversight",
    "housing targets",
    "wage talks",
    "satellite launches",
]
PLACES = [
    "in Washington",
    "in Brussels",
    "in Beijing",
    "in London",
    "in Tokyo",
    "in Berlin",
    "in Ottawa",
    "in Canberra",
    "in Delhi",
    "in Seoul",
    "after a long review",
    "amid protests",
    "as talks stall",
    "ahead of elections",
    "despite warnings",
    "under pressure",
    "for the first time",
    "this week",
]
FILLER = (
    "The decision follows months of consultation with industry groups, consumer advocates and officials "
    "from several agencies. Critics say the measure goes too far, while supporters argue it is overdue. "
    "Markets reacted calmly, and analysts expect further details in the coming weeks. Officials declined "
    "to say when the rules would take effect or how they would be enforced across borders."
).split()


_VOCAB: list[str] = []
_WEIGHTS: list[float] = []


def item_text(rng: random.Random, feed: int, n: int) -> tuple[str, str]:
    """A headline and a ~600-character HTML summary: real function words, a Zipf-distributed vocabulary
    (bench/corpus.py), and a few fixed news phrases, so that text looks like news to every stage."""
    if not _VOCAB:
        _VOCAB.extend(corpus.vocabulary(20000, random.Random(7)))
        _WEIGHTS.extend(1 / (i + 1) for i in range(len(_VOCAB)))
    words = rng.choices(_VOCAB, _WEIGHTS, k=7)
    title = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {' '.join(words[:4])} {rng.choice(PLACES)}"
    body = rng.choices(_VOCAB, _WEIGHTS, k=rng.randint(45, 60)) + [rng.choice(FILLER) for _ in range(25)]
    rng.shuffle(body)
    summary = f"<p>{escape(title)}. " + " ".join(body) + f' <a href="https://site{feed}.example/more/{n}">More</a></p>'
    return title, summary


def item_link(feed: int, n: int, title: str) -> str:
    """A news site's address for an item: its headline's words and the article's number, as most sites make it,
    so that the daemon keeps its name as it does a real article's (normalise.article_slug, Pipeline._articles)."""
    slug = "-".join(w for w in re.findall(r"[a-z0-9]+", title.lower())[:8])
    return f"https://site{feed}.example/news/{slug}-{feed:04d}{n:06d}"


def feed_body(feed: int, items: int, version: int = 0) -> bytes:
    """Feed number ``feed``; ``version`` > 0 adds that many new items on top, the oldest ones falling off (the
    farm 'changed': every feed published since the last poll). An item's text and date never change."""
    rng = random.Random(feed * 7919 + 17)
    base = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    entries = []
    for n in range(items + version):
        title, summary = item_text(rng, feed, n)
        when = base - timedelta(minutes=37 * (items - n) + feed)
        entries.append((n, title, summary, when))
    entries.reverse()
    entries = entries[:items]
    if feed % 2 == 0:
        parts = [
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Farm feed {feed}</title>'
            f"<link>https://site{feed}.example/</link><description>bench</description>"
        ]
        for n, title, summary, when in entries:
            parts.append(
                f"<item><title>{escape(title)}</title><link>{item_link(feed, n, title)}</link>"
                f'<guid isPermaLink="false">site{feed}-{n}</guid><pubDate>{format_datetime(when)}</pubDate>'
                f"<description>{escape(summary)}</description></item>"
            )
        parts.append("</channel></rss>")
    else:
        parts = [
            f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Farm feed {feed}</title><id>urn:farm:{feed}</id><updated>{base.isoformat()}</updated>"
            f'<link href="https://site{feed}.example/"/>'
        ]
        for n, title, summary, when in entries:
            parts.append(
                f'<entry><title>{escape(title)}</title><link href="{item_link(feed, n, title)}"/>'
                f"<id>urn:site{feed}:{n}</id><updated>{when.isoformat()}</updated>"
                f'<summary type="html">{escape(summary)}</summary><author><name>Desk {feed}</name></author>'
                "</entry>"
            )
        parts.append("</feed>")
    return "".join(parts).encode()


def set_version(base: str, version: int) -> None:
    """Make every feed of the farm at ``base`` (http://127.0.0.1:PORT) serve ``version``."""
    from urllib.request import urlopen

    with urlopen(f"{base}/_version/{version}") as r:
        r.read()


class Farm:
    """The farm's HTTP server. ``version`` can be raised (GET /_version/N) to make every feed change."""

    def __init__(self, feeds: int, items: int) -> None:
        self.feeds, self.items, self.version = feeds, items, 0
        self.cache: dict[tuple[int, int], tuple[bytes, str]] = {}
        farm = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in two writes: with Nagle's algorithm the body waits for the client's
            # delayed ACK of the headers, 40 ms per response, which no real server adds
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                if self.path.startswith("/_version/"):  # the bench's parts make every feed change this way
                    farm.version = int(self.path.rsplit("/", 1)[1])
                    self.send_response(204)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                try:
                    n = int(self.path.strip("/").split(".")[0].removeprefix("feed"))
                except ValueError:
                    n = -1
                if not 0 <= n < farm.feeds:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body, etag = farm.body(n)
                last_modified = format_datetime(
                    datetime(2026, 11, 28, tzinfo=UTC) + timedelta(minutes=farm.version), usegmt=True
                )
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml" if n % 2 == 0 else "application/atom+xml")
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", last_modified)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def body(self, n: int) -> tuple[bytes, str]:
        key = (n, self.version)
        if key not in self.cache:
            body = feed_body(n, self.items, self.version)
            self.cache[key] = (body, '"' + hashlib.sha1(body).hexdigest()[:20] + '"')
        return self.cache[key]

    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{self.port}/feed{n}.xml" for n in range(self.feeds)]

    def start(self, versions: tuple[int, ...] = (0,)) -> Farm:
        for version in versions:  # render every body before timing anything
            self.version = version
            for n in range(self.feeds):
                self.body(n)
        self.version = 0
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--feeds", type=int, default=500)
    ap.add_argument("--items", type=int, default=50)
    a = ap.parse_args()
    farm = Farm(a.feeds, a.items).start()
    print(f"farm of {a.feeds} feeds x {a.items} items at http://127.0.0.1:{farm.port}/feed0.xml ...", flush=True)
    try:
        farm.thread.join()
    except KeyboardInterrupt:
        farm.stop()
