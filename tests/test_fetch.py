"""Polite, resilient fetching against a local server that misbehaves on purpose."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import urlsplit

import pytest
from conftest import FIXTURES, gzip_bomb, rss, write_config

from aggregator.config import load_feeds, load_settings
from aggregator.fetch import Fetcher, FetchLimits, parse_retry_after
from aggregator.models import Validators
from aggregator.poll import Pipeline
from aggregator.store import Store, database_path
from aggregator.watchlist import load_watchlist

GOOD = rss(
    [
        {
            "guid": "g1",
            "title": "US curbs chip exports to China",
            "link": "https://example.org/g1",
            "description": "New export controls.",
            "pubDate": "Sat, 28 Nov 2026 08:00:00 GMT",
        }
    ]
)
SETTINGS = (
    '[poll]\nhost_gap = "0s"\nconnect_timeout = "2s"\nread_timeout = "2s"\ntotal_timeout = "4s"\nmax_body = "1MiB"\n'
)


def redirect(to: str, status: int = 301):
    def handle(h):
        h.send_response(status)
        h.send_header("Location", to)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return handle


def drip(h):
    h.send_response(200)
    h.send_header("Content-Type", "application/rss+xml")
    h.send_header("Content-Length", "100000")
    h.end_headers()
    try:
        for _ in range(30):  # bounded: 30 s at most, the client gives up after 4 s
            h.wfile.write(b"<")
            h.wfile.flush()
            time.sleep(1)
    except OSError:
        pass


def endless(h):
    h.send_response(200)
    h.send_header("Content-Type", "application/rss+xml")
    h.end_headers()  # no Content-Length: the body runs until the connection closes
    h.close_connection = True
    chunk = b"<item><title>x</title></item>" * 1000
    try:
        for _ in range(10_000):  # bounded: at most ~300 MB if nobody hangs up
            h.wfile.write(chunk)
    except OSError:
        pass


def changing_etag():
    counter = itertools.count()

    def handle(h):
        n = next(counter)
        body = GOOD
        h.send_response(200)
        h.send_header("ETag", f'"v{n}"')
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return handle


def bomb(h):
    body = gzip_bomb(50 * 2**20)
    h.send_response(200)
    h.send_header("Content-Type", "application/rss+xml")
    h.send_header("Content-Encoding", "gzip")
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def cookie_wall(h):
    """A feed behind a cookie check (space.com's, a CDN's): without the cookie, a redirect to a page that sets it
    and redirects back."""
    if "checked=1" in (h.headers.get("Cookie") or ""):
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Content-Length", str(len(GOOD)))
        h.end_headers()
        h.wfile.write(GOOD)
    else:
        redirect("/cookie-check", 302)(h)


def cookie_check(h):
    h.send_response(302)
    h.send_header("Location", "/cookie.xml")
    h.send_header("Set-Cookie", "checked=1; Path=/")
    h.send_header("Content-Length", "0")
    h.end_headers()


def setup_server(s):
    later = format_datetime(datetime.now(UTC) + timedelta(hours=2), usegmt=True)
    s.serve("/good.xml", GOOD)
    s.serve("/good2.atom", (FIXTURES / "feeds" / "policy.atom").read_bytes())
    s.serve("/html-type.xml", GOOD, headers={"Content-Type": "text/html; charset=utf-8"})
    s.serve("/etag.xml", handler=changing_etag())
    s.serve("/old.xml", handler=redirect("/mid.xml", 301))
    s.serve("/mid.xml", handler=redirect("/new.xml", 308))
    s.serve("/new.xml", GOOD)
    s.serve("/temp.xml", handler=redirect("/temp-target.xml", 302))
    s.serve("/temp-target.xml", GOOD)
    s.serve("/cookie.xml", handler=cookie_wall)
    s.serve("/cookie-check", handler=cookie_check)
    s.serve("/loop1.xml", handler=redirect("/loop2.xml", 302))
    s.serve("/loop2.xml", handler=redirect("/loop1.xml", 302))
    for i in range(8):
        s.serve(f"/chain{i}.xml", handler=redirect(f"/chain{i + 1}.xml", 302))
    s.serve("/bad-location.xml", handler=redirect("http://[::1/feed.xml", 301))  # a broken IPv6 literal
    s.serve("/bad-port.xml", handler=redirect("http://127.0.0.1:http/feed.xml", 302))
    # a host with an unclosed "[": httpx takes it, urlsplit refuses it (it stopped the whole cycle)
    s.serve("/unclosed.xml", handler=redirect("http://[your-domain/feed.xml", 302))
    s.serve("/far-port.xml", handler=redirect("http://127.0.0.1:99999/feed.xml", 302))  # an ExceptionGroup deep down
    s.serve("/gone.xml", b"gone", status=410)
    s.serve("/busy.xml", b"slow down", status=429, headers={"Retry-After": "7200"})
    s.serve("/maint.xml", b"maintenance", status=503, headers={"Retry-After": later})
    s.serve("/error.xml", b"oops", status=500)
    s.serve("/drip.xml", handler=drip)
    s.serve("/endless.xml", handler=endless)
    s.serve("/bomb.xml", handler=bomb)
    s.serve("/invalid.xml", b"this is not XML, not JSON, not a feed at all\n")
    s.serve(
        "/bozo.xml",
        b"<rss version='2.0'><channel><title>broken</title><item><title>US bans x</title>"
        b"<link>https://example.org/b</link></item><item><title>y</item></channel></rss>",
    )
    s.serve("/empty.xml", b"")
    s.serve("/notfeed.html", b"<html><body><p>Just a page</p></body></html>", headers={"Content-Type": "text/html"})
    consent = b"<html><head><title>Before you continue</title></head><body><button>Accept all</button></body></html>"
    login = b'<html><body><form action="/login"><input name="u"><input type="password" name="p"></form></body></html>'
    s.serve("/members.xml", login, headers={"Content-Type": "text/html; charset=utf-8"})  # an expired private feed
    s.serve("/consent", consent, headers={"Content-Type": "text/html"})  # Yahoo's feeds from the EU: guce.yahoo.com
    s.serve("/consented.xml", status=302, headers={"Location": s.url("/consent") + "?next=/consented.xml"})
    s.serve(  # a CDN's bot check, answered with a 200 in place of the feed
        "/challenge.xml",
        b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
        b"<script src='/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1'></script></body></html>",
        headers={"Content-Type": "text/html; charset=UTF-8"},
    )


BAD = {
    "/loop1.xml": "redirect-loop",
    "/chain0.xml": "too-many-redirects",
    "/bad-location.xml": "redirect",
    "/bad-port.xml": "redirect",
    "/unclosed.xml": "redirect",
    "/far-port.xml": "redirect",
    "/gone.xml": "gone",
    "/busy.xml": "http-429",
    "/maint.xml": "http-503",
    "/error.xml": "http-500",
    "/drip.xml": "timeout",
    "/endless.xml": "too-large",
    "/bomb.xml": "too-large",
    "/invalid.xml": "parse",
    "/empty.xml": "parse",
    "/notfeed.html": "parse",
    "/consented.xml": "parse",
    "/members.xml": "parse",
    "/challenge.xml": "parse",
}
GOOD_PATHS = [
    "/good.xml",
    "/good2.atom",
    "/html-type.xml",
    "/etag.xml",
    "/old.xml",
    "/temp.xml",
    "/bozo.xml",
    "/cookie.xml",
]
SLOW_DOWN = ("/busy.xml",)  # a host answering 429 is left alone: this one is served under another name


def _url(server, path: str) -> str:
    return f"http://localhost:{server.port}{path}" if path in SLOW_DOWN else server.url(path)


def test_one_cycle_with_every_misbehaviour(tmp_path, feed_server):
    setup_server(feed_server)
    cfg = write_config(tmp_path, [_url(feed_server, p) for p in GOOD_PATHS + list(BAD)], settings=SETTINGS)
    settings = load_settings(cfg)
    store = Store(database_path(settings.data_dir))
    now = datetime.now(UTC)
    store.sync_feeds(load_feeds(cfg), now)
    pipe = Pipeline(store, settings, load_watchlist(cfg))
    began = time.monotonic()
    report = asyncio.run(pipe.poll_once(force=True, now=now))
    elapsed = time.monotonic() - began
    assert elapsed < 4 + 4  # everything runs concurrently: the slowest is cut at total_timeout (4 s)
    assert report.failed == len(BAD) and report.fetched == len(GOOD_PATHS)
    feeds = {urlsplit(f.url).path: f for f in store.feeds()}
    # every good feed is stored; the 301+308 chain moved the feed, the 302 did not
    assert "/old.xml" not in feeds and feeds["/new.xml"].moved_from == feed_server.url("/old.xml")
    assert feeds["/temp.xml"].error_count == 0 and feeds["/temp.xml"].moved_from is None
    for path in [
        "/good.xml",
        "/good2.atom",
        "/html-type.xml",
        "/etag.xml",
        "/new.xml",
        "/temp.xml",
        "/bozo.xml",
        "/cookie.xml",
    ]:
        f = feeds[path]
        assert f.error_count == 0 and f.last_success_at is not None, path
        assert store.execute("SELECT count(*) FROM items WHERE feed_url = ?", (f.url,)).fetchone()[0] >= 1, path
    # every bad feed has its stored error and its next poll time
    for path, kind in BAD.items():
        f = feeds[path]
        assert f.last_error_kind == kind, (path, f.last_error_kind, f.last_error)
        assert f.error_count == 1 and f.last_error
        # one line: what went wrong, where, and what to do
        assert "\n" not in f.last_error and f.url in f.last_error and "; " in f.last_error, f.last_error
        if kind == "gone":
            assert f.gone and f.next_poll_at is None
        else:
            assert f.next_poll_at is not None and f.next_poll_at > now
    assert "bot check" in feeds["/challenge.xml"].last_error and "bot check" not in feeds["/notfeed.html"].last_error
    assert "this is a web page: `aggregator feeds add URL`" in feeds["/notfeed.html"].last_error
    assert "cookie-consent page" in feeds["/consented.xml"].last_error
    assert "login page" in feeds["/members.xml"].last_error and "user:password@" in feeds["/members.xml"].last_error
    assert feeds["/busy.xml"].next_poll_at >= now + timedelta(seconds=7200)
    assert feeds["/maint.xml"].next_poll_at >= now + timedelta(hours=2) - timedelta(seconds=5)
    assert feeds["/bozo.xml"].warning.startswith("malformed feed, read anyway")  # bozo: stored with a warning
    from aggregator import status

    st = status.collect(store, settings, cfg, now)
    assert [w["url"] for w in st["feeds"]["warnings"]] == [feeds["/bozo.xml"].url]
    assert f"warning:   {feeds['/bozo.xml'].url}: malformed feed" in status.render(st)
    assert feeds["/good.xml"].warning is None
    # a second cycle: conditional GETs answer 304; the changing ETag is fetched but not new
    report2 = asyncio.run(pipe.poll_once(force=True, now=now + timedelta(minutes=1)))
    assert feed_server.statuses("/good.xml")[-1] == 304
    assert report2.new_items == 0
    assert report2.feeds == len(GOOD_PATHS) + len(BAD) - 1  # the gone feed is no longer polled
    store.close()


def test_a_host_that_asks_to_slow_down_is_left_alone_as_long_as_it_asks(feed_server):
    """A 429 to one feed holds its whole host: a rate limit is the client's, not one feed's, so the host's
    other feeds are not requested until it said, each stored as asked to wait; other hosts go on. A 503 (one
    feed's backend down, even with a Retry-After) holds that feed only."""
    feed_server.serve("/limited.xml", b"slow down", status=429, headers={"Retry-After": "120"})
    feed_server.serve("/down.xml", b"down", status=503, headers={"Retry-After": "60"})
    feed_server.serve("/other.xml", GOOD)
    elsewhere = f"http://localhost:{feed_server.port}"

    async def go():
        async with Fetcher(FetchLimits(host_gap=0)) as f:
            down = await f.fetch(f"{elsewhere}/down.xml")
            after_down = await f.fetch(f"{elsewhere}/other.xml")
            limited = await f.fetch(feed_server.url("/limited.xml"))
            held = await f.fetch(feed_server.url("/other.xml"))
            return down, after_down, limited, held

    down, after_down, limited, held = asyncio.run(go())
    assert down.error_kind == "http-503" and after_down.ok
    assert limited.error_kind == "http-429" and limited.retry_after == 120
    assert held.error_kind == "http-429" and "not requested" in held.error and 100 < held.retry_after <= 120
    assert held.hint and "slow down" in held.hint
    assert feed_server.statuses("/other.xml") == [200]  # asked once, by the host that did not ask to wait


def test_waiting_for_its_turn_on_a_busy_host_is_no_timeout(tmp_path, feed_server):
    """Four feeds of one host, one request at a time (per_host = 1), each answered in 1.2 s, with a 2 s
    total timeout: the last waits 3.6 s for its turn, which is politeness, not its server's slowness, so
    every feed is stored. A feed whose own answer takes longer than the timeout still times out."""

    def slow(h):
        time.sleep(1.2)
        body = rss([{"guid": h.path, "title": f"Report {h.path}", "link": f"https://e.example{h.path}"}])
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def slower(h):
        time.sleep(2.5)
        slow(h)

    paths = [f"/busy{n}.xml" for n in range(4)]
    for path in paths:
        feed_server.serve(path, handler=slow)
    feed_server.serve("/too-slow.xml", handler=slower)
    settings = (
        '[poll]\nhost_gap = "0s"\nper_host = 1\nconnect_timeout = "2s"\nread_timeout = "5s"\ntotal_timeout = "2s"\n'
    )
    cfg = write_config(tmp_path, [feed_server.url(p) for p in [*paths, "/too-slow.xml"]], settings=settings)
    store = Store(database_path(load_settings(cfg).data_dir))
    store.sync_feeds(load_feeds(cfg), datetime.now(UTC))
    pipe = Pipeline(store, load_settings(cfg), load_watchlist(cfg))
    report = asyncio.run(pipe.poll_once(force=True))
    assert (report.fetched, report.new_items, report.failed) == (4, 4, 1), report.errors
    assert [f.last_error_kind for f in store.feeds() if f.error_count] == ["timeout"]
    store.close()


def test_failing_feed_backs_off_but_is_never_dropped(tmp_path, feed_server):
    feed_server.serve("/flaky.xml", b"oops", status=500)
    cfg = write_config(tmp_path, [feed_server.url("/flaky.xml")], settings=SETTINGS)
    settings = load_settings(cfg)
    store = Store(database_path(settings.data_dir))
    now = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    store.sync_feeds(load_feeds(cfg), now)
    pipe = Pipeline(store, settings, load_watchlist(cfg), now=now)
    waits = []
    for _ in range(10):
        f = store.feeds()[0]
        now = f.next_poll_at or now
        report = asyncio.run(pipe.poll_once(now=now))
        assert report.failed == 1
        f = store.feeds()[0]
        waits.append((f.next_poll_at - now).total_seconds())
    f = store.feeds()[0]
    assert f.error_count == 10 and not f.gone and f.next_poll_at is not None
    assert waits[1] > waits[0] and max(waits) <= 24 * 3600 * 1.05 and waits[-1] >= 23 * 3600
    feed_server.serve("/flaky.xml", GOOD)
    report = asyncio.run(pipe.poll_once(now=f.next_poll_at))
    f = store.feeds()[0]
    assert report.fetched == 1 and f.error_count == 0 and f.last_error is None and f.failing_since is None
    store.close()


def test_a_feed_that_answers_with_a_web_page_is_told_apart_from_a_page_pasted_by_mistake(tmp_path, feed_server):
    """A page where a feed was read before is an error page or a moved feed, not a site's page pasted into
    feeds.toml: the stored error says so, with when the feed was last read; the feed back, the error is gone."""
    page = "<!doctype html><html><head><title>Service unavailable</title></head><body>Try later</body></html>"
    feed_server.serve("/feed.xml", GOOD)
    feed_server.serve("/site.html", page, headers={"Content-Type": "text/html"})
    cfg = write_config(tmp_path, [feed_server.url("/feed.xml"), feed_server.url("/site.html")], settings=SETTINGS)
    settings = load_settings(cfg)
    store = Store(database_path(settings.data_dir))
    now = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    store.sync_feeds(load_feeds(cfg), now)
    pipe = Pipeline(store, settings, load_watchlist(cfg), now=now)
    assert asyncio.run(pipe.poll_once(now=now)).fetched == 1
    feed_server.serve("/feed.xml", page, headers={"Content-Type": "text/html"})
    report = asyncio.run(pipe.poll_once(now=now + timedelta(days=1), force=True))
    errors = {f.url.rsplit("/", 1)[1]: f.last_error for f in store.feeds()}
    assert report.failed == 2
    assert "a web page instead of the feed it gave until 2026-11-28 08:00 UTC" in errors["feed.xml"]
    assert "a temporary error page (retried later), or the feed has moved" in errors["feed.xml"]
    assert "this is a web page: `aggregator feeds add URL` discovers the feeds" in errors["site.html"]
    feed_server.serve("/feed.xml", GOOD)  # back as it was: not modified, and no longer failing
    assert asyncio.run(pipe.poll_once(now=now + timedelta(days=2), force=True)).not_modified == 1
    assert [f.error_count for f in store.feeds() if f.url.endswith("/feed.xml")] == [0]
    store.close()


def test_per_host_limit_and_user_agent(feed_server):
    active = {"now": 0, "max": 0}
    lock = threading.Lock()
    agents = []

    def slow(h):
        with lock:
            active["now"] += 1
            active["max"] = max(active["max"], active["now"])
            agents.append(h.headers.get("User-Agent"))
        time.sleep(0.3)
        with lock:
            active["now"] -= 1
        h.send_response(200)
        h.send_header("Content-Length", str(len(GOOD)))
        h.end_headers()
        h.wfile.write(GOOD)

    for i in range(6):
        feed_server.serve(f"/s{i}.xml", handler=slow)

    async def go():
        async with Fetcher(FetchLimits(per_host=2, host_gap=0.0)) as f:
            return await asyncio.gather(*(f.fetch(feed_server.url(f"/s{i}.xml")) for i in range(6)))

    results = asyncio.run(go())
    assert all(r.ok for r in results)
    assert active["max"] == 2
    assert all(a and a.startswith("aggregator/") and "+http" in a for a in agents)


def test_host_gap_spaces_requests(feed_server):
    feed_server.serve("/a.xml", GOOD)

    async def go():
        async with Fetcher(FetchLimits(host_gap=0.4)) as f:
            t0 = time.monotonic()
            for _ in range(3):
                await f.fetch(feed_server.url("/a.xml"))
            return time.monotonic() - t0

    assert asyncio.run(go()) >= 0.8  # two gaps of 0.4 s between three requests


def test_body_identical_to_last_one_is_not_parsed_again(feed_server):
    feed_server.serve("/same.xml", GOOD, conditional=False)

    async def go():
        async with Fetcher(FetchLimits(host_gap=0)) as f:
            first = await f.fetch(feed_server.url("/same.xml"))
            second = await f.fetch(feed_server.url("/same.xml"), first.validators)
            return first, second

    first, second = asyncio.run(go())
    assert not first.not_modified and second.not_modified and second.status == 200


def test_a_feed_still_gzipped_is_read_and_a_gzipped_bomb_cut_off(tmp_path, feed_server):
    """feed.xml.gz served as it is (no Content-Encoding), or compressed twice: decompressed under the cap;
    a gzip bomb sent that way is cut off like any other. Files too."""
    import gzip

    from aggregator.parse import parse_feed

    feed_server.serve("/feed.xml.gz", gzip.compress(GOOD), headers={"Content-Type": "application/x-gzip"})
    feed_server.serve("/bomb.xml.gz", gzip_bomb(20 * 2**20), headers={"Content-Type": "application/x-gzip"})
    local = tmp_path / "feed.xml.gz"
    local.write_bytes(gzip.compress(GOOD))

    async def go():
        async with Fetcher(FetchLimits(host_gap=0, max_body=2**20)) as f:
            return [await f.fetch(u) for u in (feed_server.url("/feed.xml.gz"), feed_server.url("/bomb.xml.gz"))]

    packed, bomb = asyncio.run(go())
    assert packed.ok and packed.body == GOOD and parse_feed(packed.body, packed.url).entries
    assert bomb.error_kind == "too-large" and bomb.body is None
    from_file = asyncio.run(_fetch_file(local.as_uri()))
    assert from_file.ok and from_file.body == GOOD


def test_a_body_labelled_compressed_is_read_as_it_really_is(feed_server):
    """Content-Encoding as servers really send it: gzip on a plain body (a plugin adding the header), deflate
    raw or zlib-wrapped, plain under "deflate": each read; a corrupt gzip body is an error that says so."""
    import gzip
    import zlib

    plain = {"Content-Encoding": "gzip"}
    raw_deflate = zlib.compress(GOOD)[2:-4]
    feed_server.serve("/plain-as-gzip.xml", GOOD, headers=plain)
    feed_server.serve("/gzip.xml", gzip.compress(GOOD), headers=plain)
    feed_server.serve("/deflate.xml", zlib.compress(GOOD), headers={"Content-Encoding": "deflate"})
    feed_server.serve("/raw-deflate.xml", raw_deflate, headers={"Content-Encoding": "deflate"})
    feed_server.serve("/plain-as-deflate.xml", GOOD, headers={"Content-Encoding": "deflate"})
    feed_server.serve("/corrupt.xml", gzip.compress(GOOD)[:12] + bytes(range(256)), headers=plain)
    feed_server.serve("/brotli.xml", b"\x1b\x03\x00\xf8", headers={"Content-Encoding": "br"})
    paths = ["/plain-as-gzip.xml", "/gzip.xml", "/deflate.xml", "/raw-deflate.xml", "/plain-as-deflate.xml"]

    async def go():
        async with Fetcher(FetchLimits(host_gap=0)) as f:
            return [await f.fetch(feed_server.url(p)) for p in [*paths, "/corrupt.xml", "/brotli.xml"]]

    *read, corrupt, brotli = asyncio.run(go())
    assert [r.body == GOOD for r in read] == [True] * len(paths)
    assert corrupt.error_kind == "encoding" and "compressed as gzip (Content-Encoding), is corrupt" in corrupt.error
    assert corrupt.hint and "retried later" in corrupt.hint
    assert brotli.error_kind == "encoding" and "'br', which we did not ask for" in brotli.error


async def _fetch_file(url):
    async with Fetcher() as f:
        return await f.fetch(url)


def test_retry_after_forms():
    now = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after("Sat, 28 Nov 2026 09:00:00 GMT", now) == 3600
    assert parse_retry_after("999999", now) == 24 * 3600
    assert parse_retry_after("soon", now) is None


def test_unsupported_scheme_or_a_malformed_address_is_a_stored_error():
    async def go(url):
        async with Fetcher() as f:
            return await f.fetch(url, Validators())

    assert asyncio.run(go("ftp://example.org/feed.xml")).error_kind == "scheme"
    bad = asyncio.run(go("http://[example.org/feed.xml"))  # urlsplit raises on it: no traceback
    assert (bad.error_kind, bad.error) == ("url", "http://[example.org/feed.xml: not a valid URL: Invalid IPv6 URL")


def test_a_site_whose_certificate_is_not_valid_is_a_tls_error():
    """An HTTPS feed behind a certificate no CA vouches for (expired, self-signed, another host's): its
    stored error says so, not "check the host name and the network"."""
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    trustme = pytest.importorskip("trustme")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.end_headers()
            self.wfile.write(GOOD)

        def log_message(self, *args):
            pass

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(context)
    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:

        async def fetch():
            async with Fetcher() as fetcher:
                return await fetcher.fetch(f"https://127.0.0.1:{server.server_address[1]}/feed.xml")

        result = asyncio.run(fetch())
    finally:
        server.shutdown()
    assert result.error_kind == "tls" and "CERTIFICATE_VERIFY_FAILED" in result.error
    assert result.hint and "certificate is not valid" in result.hint


def test_an_http_proxy_from_the_environment_is_used(monkeypatch):
    """Behind a corporate proxy: HTTP_PROXY / HTTPS_PROXY / NO_PROXY are honoured (httpx reads them). The
    feed's host does not resolve here, so only the proxy can have answered."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    asked: list[str] = []

    class Proxy(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            asked.append(self.path)  # a proxy is sent the absolute URL
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(GOOD)))
            self.end_headers()
            self.wfile.write(GOOD)

        def log_message(self, *args):
            pass

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_port}")

        async def go():
            async with Fetcher(FetchLimits(host_gap=0)) as f:
                return await f.fetch("http://feeds.invalid/news.xml")

        result = asyncio.run(go())
    finally:
        proxy.shutdown()
    assert result.ok and result.body == GOOD and asked == ["http://feeds.invalid/news.xml"]


def test_a_site_page_in_feeds_toml_is_followed_to_the_feed_it_announces(tmp_path, feed_server):
    """People paste the site's address into feeds.toml. A page that announces its feed is polled through
    that feed from then on (a move, like a 301: feeds.toml keeps the page's address); a page that
    announces none has its feed looked for where sites keep it, on its first poll (`feeds add`'s probe),
    else stays a stored error; a feed served as text/html is read as the feed it is."""

    feed = rss([{"guid": "n1", "title": "News one", "link": "https://site.example/n1"}])
    feed_server.serve("/feed.xml", feed)
    page = feed_server.serve(
        "/",
        '<!DOCTYPE html><html><head><link rel="alternate" type="application/rss+xml" title="Comments" '
        'href="/comments/feed"><link rel="alternate" type="application/rss+xml" href="/feed.xml"></head>'
        "<body>Welcome</body></html>",
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    bare = feed_server.serve("/about", "<html><body>No feed here</body></html>", headers={"Content-Type": "text/html"})
    # a WordPress category page that announces nothing: its feed is where WordPress keeps it (.../feed)
    quiet = feed_server.serve("/cat/chips/", "<!doctype html><html><body>Chips</body></html>")
    feed_server.serve("/cat/chips/feed", rss([{"guid": "q1", "title": "Chips", "link": "https://site.example/q1"}]))
    mislabelled = feed_server.serve("/rss", feed.replace(b"n1", b"m1"), headers={"Content-Type": "text/html"})
    cfg = write_config(tmp_path, [page, bare, mislabelled, quiet])
    settings = load_settings(cfg)
    store = Store(database_path(settings.data_dir))
    store.sync_feeds(load_feeds(cfg), datetime.now(UTC))
    pipe = Pipeline(store, settings, load_watchlist(cfg))
    report = asyncio.run(pipe.poll_once(force=True))
    assert report.new_items == 3 and report.failed == 1, report.line()
    assert store.feed(feed_server.url("/cat/chips/feed")).moved_from == quiet
    feed_url = feed_server.url("/feed.xml")
    moved = f"{page}: a web page; polling the feed it announces instead, {feed_url} (put that in feeds.toml)"
    assert moved in report.warnings and len(report.warnings) == 2
    assert [i["guid"] for i in store.execute("SELECT guid FROM items WHERE feed_url = ?", (feed_url,))] == ["n1"]
    assert store.feed(feed_url).moved_from == page
    assert "web page" in store.feed(bare).last_error
    # the next start reads feeds.toml (still the page's address) and keeps polling the feed
    store.sync_feeds(load_feeds(cfg), datetime.now(UTC))
    assert asyncio.run(pipe.poll_once(force=True)).not_modified == 3
    assert store.feed(page) is None and store.feed(feed_url).in_config
    store.close()
    import os
    import subprocess
    import sys

    env = {**os.environ, "AGGREGATOR_CONFIG": str(cfg), "AGGREGATOR_DATA_DIR": str(settings.data_dir)}
    listed = subprocess.run(
        [sys.executable, "-m", "aggregator", "feeds", "list"], capture_output=True, text=True, env=env
    )
    assert f"ok       {feed_url}  (Fixture feed)  (feeds.toml says {page}: it moved here)" in listed.stdout
    # removed by the address `feeds list` shows: the entry feeds.toml has for it goes
    gone = subprocess.run(
        [sys.executable, "-m", "aggregator", "feeds", "remove", feed_url], capture_output=True, text=True, env=env
    )
    assert gone.returncode == 0 and f"removed {page} (now {feed_url})" in gone.stdout, gone.stdout + gone.stderr
    assert f'url = "{page}"\n' not in (cfg / "feeds.toml").read_text()


def test_connections_to_a_host_are_kept_alive_and_reused_across_requests():
    """Requests in flight to one host never outnumber its limit, and a second round of fetches reuses the
    connections of the first (kept alive in the Fetcher's pools) instead of opening new ones."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    peers: list[tuple[str, int]] = []
    in_flight = [0, 0]  # now, most
    lock = threading.Lock()

    class Feed(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802
            with lock:
                peers.append(self.client_address)
                in_flight[0] += 1
                in_flight[1] = max(in_flight)
            time.sleep(0.01)
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(GOOD)))
            self.end_headers()
            self.wfile.write(GOOD)
            with lock:
                in_flight[0] -= 1

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Feed)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    urls = [f"http://127.0.0.1:{server.server_port}/feed{n}.xml" for n in range(60)]

    async def two_rounds():
        async with Fetcher(FetchLimits(concurrency=16, per_host=6, host_gap=0)) as fetcher:
            for _ in range(2):
                results = await asyncio.gather(*(fetcher.fetch(u) for u in urls))
                assert all(r.ok and r.body == GOOD for r in results)

    try:
        asyncio.run(two_rounds())
    finally:
        server.shutdown()
        server.server_close()
    assert len(peers) == 120 and in_flight[1] <= 6
    assert len(set(peers)) <= 6  # 120 requests over at most 6 connections


def test_a_feed_asking_to_be_read_daily_is_read_before_its_entries_fall_off(tmp_path, feed_server):
    """<sy:updatePeriod>daily</sy:updatePeriod> is honoured for a slow feed; a busy one (its 10 listed entries
    span 3 hours) is read again within half of that, or a day's entries would fall off it unread."""
    now = datetime.now(UTC)

    def feed(step: timedelta) -> bytes:
        items = "".join(
            f"<item><title>Entry {k}</title><link>https://e.example/{k}</link><guid>{k}</guid>"
            f"<pubDate>{format_datetime(now - k * step)}</pubDate></item>"
            for k in range(10)
        )
        return (
            '<?xml version="1.0"?><rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">'
            f"<channel><title>t</title><sy:updatePeriod>daily</sy:updatePeriod>{items}</channel></rss>"
        ).encode()

    feed_server.serve("/busy.xml", feed(timedelta(minutes=20)))
    feed_server.serve("/slow.xml", feed(timedelta(days=2)))
    cfg = write_config(tmp_path, [feed_server.url("/busy.xml"), feed_server.url("/slow.xml")])
    settings = load_settings(cfg)
    store = Store(database_path(settings.data_dir))
    store.sync_feeds(load_feeds(cfg), now)
    asyncio.run(Pipeline(store, settings, load_watchlist(cfg)).poll_once(force=True, now=now))
    feeds = {f.url.rsplit("/", 1)[1]: f for f in store.feeds()}
    assert feeds["busy.xml"].next_poll_at <= now + timedelta(minutes=90) * 1.1  # half of its 3 hours
    assert feeds["slow.xml"].next_poll_at >= now + timedelta(days=1) * 0.9  # as it asks
    store.close()
