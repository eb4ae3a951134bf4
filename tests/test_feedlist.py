"""Feed discovery, OPML import (lenient) and export, and editing feeds.toml."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, rss, write_config

from aggregator.config import load_feeds
from aggregator.errors import ConfigError, OpmlError
from aggregator.feedlist import add_feed, export_opml, import_opml, read_opml, remove_feed

SHARED_OPML = ROOT.parent / "shared" / "data" / "opml"

AMP = b"""<?xml version="1.0"?><opml version="1.0"><body><outline text="AU" title="AU">
<outline text="KUSA" xmlUrl="http://rssfeeds.example.com/kusa/home&x=1" type="rss"/>
<outline text="B &amp; C" xmlUrl="https://b.example/rss?a=1&amp;b=2" type="rss"/>
</outline></body></opml>"""
QUOTES = b"""<?xml version="1.0"?><opml version="1.0"><body><outline text="RU" title="RU">
<outline text="The "Moscow" Times" title="The "Moscow" Times" xmlUrl="https://m.example/rss" type="rss" />
<outline text="Plain" title="Plain" xmlUrl="https://p.example/rss" type="rss" />
<outline text="Broken" title="Broken" xmlUrl= type="rss" />
</outline></body></opml>"""


def test_lenient_opml_recovers_ampersands_and_quotes():
    amp = read_opml(AMP.decode())
    assert [f.url for f in amp.feeds] == ["http://rssfeeds.example.com/kusa/home&x=1", "https://b.example/rss?a=1&b=2"]
    assert all(f.tags == ("AU",) for f in amp.feeds)
    q = read_opml(QUOTES.decode(), "q.opml")
    assert [f.url for f in q.feeds] == ["https://m.example/rss", "https://p.example/rss"]
    assert q.feeds[0].title == 'The "Moscow" Times' and q.feeds[0].tags == ("RU",)
    assert q.problems == ["q.opml:4: an outline with an unreadable xmlUrl"]


def test_opml_addresses_without_their_scheme_are_https_as_feeds_add_reads_them():
    """A protocol-relative "//host/feed" and a bare "host.example/feed" (hand-edited lists) were reported as no
    http(s) address: they are https, as `feeds add` takes them; a file name or a word is still reported."""
    outlines = "".join(
        f'<outline text="{n}" xmlUrl="{u}"/>'
        for n, u in [("A", "//a.example/feed"), ("B", "b.example/rss.xml"), ("C", "feed.xml"), ("D", "news")]
    )
    report = read_opml(f"<opml><body>{outlines}</body></opml>".encode())
    assert [f.url for f in report.feeds] == ["https://a.example/feed", "https://b.example/rss.xml"]
    assert report.problems == ["feed.xml: not an http(s) feed URL", "news: not an http(s) feed URL"]


def test_opml_as_other_exporters_write_it():
    """Latin-1 with a declaration, attribute names in other cases, feed:// URLs, a link outline, a site
    without its feed's address and a page FreshRSS scrapes (all reported, with how to add them: `feeds add`
    finds a page's feed)."""
    latin = (
        '<?xml version="1.0" encoding="ISO-8859-1"?><opml version="1.1"><body><outline text="Presse"'
        ' title="Presse"><outline TEXT="Le Monde diplomatique" xmlURL="https://monde.example/rss"/>'
        '<outline text="Caf\u00e9 tech" type="rss" xmlurl="feed://cafe.example/feed"/>'
        '<outline text="Secure" xmlUrl="feed:https://secure.example/atom.xml"/>'
        '<outline text="Just a page" type="link" url="https://page.example/"/>'
        '<outline text="A site" htmlUrl="https://site.example/"/>'
        '<outline text="Scraped" type="HTML+XPath" xmlUrl="https://scraped.example/news" frss:xPathItem="//li"/>'
        "</outline></body></opml>"
    ).encode("latin-1")
    report = read_opml(latin, "latin.opml")
    assert [(f.url, f.title, f.tags) for f in report.feeds] == [
        ("https://monde.example/rss", "Le Monde diplomatique", ("Presse",)),
        ("http://cafe.example/feed", "Caf\u00e9 tech", ("Presse",)),
        ("https://secure.example/atom.xml", "Secure", ("Presse",)),
    ]
    assert [p.split(" (")[0] for p in report.problems] == [
        "Just a page: https://page.example/ is listed as a page, not as a feed",
        "A site: https://site.example/ is listed as a page, not as a feed",
        "Scraped: https://scraped.example/news is a page another reader scrapes",  # FreshRSS's own scraping
    ]
    assert "`aggregator feeds add https://site.example/` finds the feed" in report.problems[1]
    # the same, broken (an unescaped &), goes through the lenient paths with its encoding understood
    broken = latin.replace(b'Presse"', b'Presse & Co"')
    report = read_opml(broken, "broken.opml")
    assert [f.title for f in report.feeds][1] == "Caf\u00e9 tech" and report.feeds[0].tags == ("Presse & Co",)
    assert len(report.problems) == 3 and report.problems[1].startswith("A site: https://site.example/")
    assert report.problems[2].startswith("Scraped: https://scraped.example/news is a page another reader scrapes")
    # saved by Windows tools: UTF-16 with a byte-order mark, and windows-1252 under a prolog saying UTF-8
    text = broken.decode("latin-1").replace("Caf\u00e9", "Caf\u00e9 \u201cnews\u201d")
    for data in (
        text.replace("ISO-8859-1", "UTF-16").encode("utf-16"),
        text.replace("ISO-8859-1", "UTF-8").encode("cp1252"),
    ):
        report = read_opml(data, "windows.opml")
        assert [f.title for f in report.feeds][1] == "Caf\u00e9 \u201cnews\u201d tech", report.feeds
        assert report.feeds[0].tags == ("Presse & Co",)


@pytest.mark.skipif(not SHARED_OPML.exists(), reason="../shared not present")
def test_real_opml_files_all_recover():
    for path in sorted(SHARED_OPML.glob("*.opml")):
        text = path.read_text(encoding="utf-8")
        report = read_opml(text, path.name)
        assert len(report.feeds) == text.count("xmlUrl="), path.name
        assert not report.problems
        assert ("without_category" in path.name) == all(not f.tags for f in report.feeds)


def test_opml_categories_and_a_feed_in_two_folders(tmp_path):
    """OPML 2.0 `category` (tags, or slash paths) adds to the folder; a feed listed in two folders is one
    feed with both tags; every tag survives an export and a new import."""
    opml = tmp_path / "subs.opml"
    opml.write_text(
        '<opml version="2.0"><body><outline text="News">'
        '<outline text="Wire" xmlUrl="https://wire.example/rss" category="/World/Asia,china"/>'
        '<outline text="Tech" xmlUrl="https://tech.example/rss"/></outline>'
        '<outline text="Tech"><outline text="Tech" xmlUrl="https://tech.example/rss"/></outline></body></opml>',
        encoding="utf-8",
    )
    cfg = write_config(tmp_path, [])
    report = import_opml(cfg, opml)
    assert (report.added, report.known) == (2, 0)
    feeds = load_feeds(cfg)
    assert [(f.url, f.tags) for f in feeds] == [
        ("https://wire.example/rss", ("News", "Asia", "china")),
        ("https://tech.example/rss", ("News", "Tech")),
    ]
    assert [(f.url, f.tags) for f in read_opml(export_opml(feeds)).feeds] == [(f.url, f.tags) for f in feeds]
    # a tag of ours with a slash in it is a tag, not a path, when it comes back
    slashed = [
        replace(feeds[0], tags=("tech/china", "Politik & Wirtschaft", "ü")),
        replace(feeds[1], tags=("a", "b/c")),
    ]
    assert [f.tags for f in read_opml(export_opml(slashed)).feeds] == [f.tags for f in slashed]


def test_import_export_round_trip_keeps_comments(tmp_path):
    cfg = write_config(tmp_path, ["https://existing.example/feed"])
    (cfg / "feeds.toml").write_text("# my feeds\n" + (cfg / "feeds.toml").read_text())
    opml = tmp_path / "subs.opml"
    opml.write_bytes(AMP)
    report = import_opml(cfg, opml)
    assert (report.added, report.known) == (2, 0)
    again = import_opml(cfg, opml)
    assert (again.added, again.known) == (0, 2)
    feeds = load_feeds(cfg)
    assert (cfg / "feeds.toml").read_text().startswith("# my feeds\n") and len(feeds) == 3
    back = read_opml(export_opml(feeds))
    assert [(f.url, f.tags) for f in back.feeds] == [(f.url, f.tags) for f in feeds]  # every tag, not the folder
    remove_feed(cfg, "https://existing.example/feed")
    assert len(load_feeds(cfg)) == 2
    with pytest.raises(ConfigError):
        remove_feed(cfg, "https://existing.example/feed")


def test_remove_takes_out_a_bad_entry_and_says_what_else_is_wrong(tmp_path):
    """Removing is how a bad entry goes (the daemon reports it and polls its last good list): a feeds.toml that
    does not load is edited all the same, and what is still wrong with it is returned. It used to refuse (the
    check of the result found the other bad entry, and named its scratch copy) or fail with a traceback (an
    address urlsplit refuses, no feeds.toml at all, a file that is not TOML)."""
    cfg = write_config(tmp_path, [])
    (cfg / "feeds.toml").write_text(
        '[[feed]]\nurl = "http://[your-domain]/feed"\n\n[[feed]]\nurl = "ftp://old.example/feed"\n\n'
        '[[feed]]\nurl = "https://ok.example/feed"\n'
    )
    left = remove_feed(cfg, "http://[your-domain]/feed")
    assert left is not None and left.startswith(f"{cfg / 'feeds.toml'}: feed #1: url:") and "'ftp'" in left
    assert remove_feed(cfg, "ftp://old.example/feed") is None
    assert [f.url for f in load_feeds(cfg)] == ["https://ok.example/feed"]
    with pytest.raises(ConfigError, match="no feed with url http://\\[x"):
        remove_feed(cfg, "http://[x")
    (cfg / "feeds.toml").write_text('[[feed]]\nurl = "https://ok.example/feed"\n[[feed\n')
    with pytest.raises(ConfigError, match="invalid TOML"):
        remove_feed(cfg, "https://ok.example/feed")
    (cfg / "feeds.toml").unlink()
    with pytest.raises(ConfigError, match="no feed with url"):
        remove_feed(cfg, "https://ok.example/feed")


def test_outlines_naming_other_lists_or_nothing(tmp_path):
    """An outline of another OPML list (type "include", or a link to a .opml file, as listparser's cases
    write them) is reported with the command that imports it; a blank htmlUrl or xmlUrl names nothing."""
    opml = (
        '<opml version="2.0"><body>'
        '<outline text="Sublist" type="include" url=" https://lists.example/sub/ "/>'
        '<outline text="Linked" type="LINK" url="https://lists.example/more.opml"/>'
        '<outline text="Blank" type="rss" xmlUrl="" htmlUrl=" "/>'
        '<outline text="Wire" xmlUrl=" https://wire.example/rss "/></body></opml>'
    )
    for text in (opml, opml.replace("<body>", "<body><broken>")):  # the strict parse, and the lenient scan
        report = read_opml(text, "lists.opml")
        assert [f.url for f in report.feeds] == ["https://wire.example/rss"]
        assert report.problems == [
            "Sublist: https://lists.example/sub/ is another OPML list, not a feed"
            " (`aggregator feeds import https://lists.example/sub/` adds its feeds)",
            "Linked: https://lists.example/more.opml is another OPML list, not a feed"
            " (`aggregator feeds import https://lists.example/more.opml` adds its feeds)",
        ]
    with pytest.raises(OpmlError, match="no feed found"):
        read_opml('<opml><body><outline text="Blank" xmlUrl=" " htmlUrl=""/></body></opml>', "blank.opml")


def test_imports_into_a_feed_list_written_inline(tmp_path):
    """`feed = []` (or inline tables) written by hand: an import adds [[feed]] tables, the feeds already
    there keep their values, and an import that adds nothing leaves the file alone (or unmade)."""
    cfg = write_config(tmp_path, [])
    opml = tmp_path / "subs.opml"
    opml.write_bytes(AMP)
    for inline in ("feed = []\n", 'feed = [{url = "https://old.example/rss", title = "Old", tags = ["x"]}]\n'):
        (cfg / "feeds.toml").write_text(inline)
        assert import_opml(cfg, opml).added == 2
        feeds = load_feeds(cfg)
        assert [f.url for f in feeds][-2:] == [f.url for f in read_opml(AMP).feeds]
        assert "old" not in inline or (feeds[0].url, feeds[0].title, feeds[0].tags) == (
            "https://old.example/rss",
            "Old",
            ("x",),
        )
    before = (cfg / "feeds.toml").stat().st_mtime_ns
    assert import_opml(cfg, opml).added == 0 and (cfg / "feeds.toml").stat().st_mtime_ns == before
    (cfg / "feeds.toml").unlink()
    pages = tmp_path / "pages.opml"
    pages.write_text('<opml><body><outline text="A site" htmlUrl="https://site.example/"/></body></opml>')
    assert import_opml(cfg, pages).added == 0 and not (cfg / "feeds.toml").exists()


def test_an_opml_list_online_is_imported_by_its_url(tmp_path, feed_server):
    """A subscription list shared online (a raw GitHub file): `feeds import URL`, through the CLI."""
    import subprocess
    import sys

    cfg = write_config(tmp_path, [])
    url = feed_server.serve("/lists/tech.opml", AMP, headers={"Content-Type": "text/x-opml"})
    p = subprocess.run(
        [sys.executable, "-m", "aggregator", "--config", str(cfg), "feeds", "import", url],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert p.returncode == 0 and p.stdout.startswith(f"2 feeds added, 0 already there, from {url}"), p.stderr
    assert len(load_feeds(cfg)) == 2
    with pytest.raises(OpmlError, match=r"cannot fetch .*/lists/gone.opml: .* answered 404") as caught:
        import_opml(cfg, feed_server.url("/lists/gone.opml"))
    assert caught.value.hint == "check the list's address, or save the list and import the file"  # not a feed's
    with pytest.raises(OpmlError, match=r"not a valid URL: the port must be a number from 0 to 65535"):
        import_opml(cfg, "http://127.0.0.1:99999/tech.opml")  # an error deep in the connection code before
    # a feed, or a site's page, given in place of a list: the error says to add it instead
    feed = feed_server.serve("/feed.xml", rss([{"guid": "1", "title": "One", "link": "https://e.example/1"}]))
    page = feed_server.serve("/news/", b"<!DOCTYPE html><html><body><p>News</p></body></html>")
    for url, hint in [
        (feed, f"it is a feed, not a list of feeds: `aggregator feeds add {feed}`"),
        (page, f"it is a web page, not a list of feeds: `aggregator feeds add {page}` finds the site's feed"),
    ]:
        with pytest.raises(OpmlError, match="no feed found") as caught:
            import_opml(cfg, url)
        assert caught.value.hint == hint
    assert len(load_feeds(cfg)) == 2


def test_edits_write_through_a_symlink_and_fail_in_one_line_when_they_cannot(tmp_path):
    """feeds.toml and watchlist.toml kept elsewhere (a dotfiles repository) and linked into the config folder:
    an edit writes the real file and the link stays. A file that cannot be written is a one-line error that
    leaves it as it was."""
    from aggregator.watchlist import add_topic

    cfg = write_config(tmp_path, ["https://existing.example/feed"])
    kept = tmp_path / "dotfiles"
    kept.mkdir()
    for name in ("feeds.toml", "watchlist.toml"):
        (cfg / name).replace(kept / name)
        (cfg / name).symlink_to(kept / name)
    opml = tmp_path / "subs.opml"
    opml.write_bytes(AMP)
    assert import_opml(cfg, opml).added == 2
    add_topic(cfg, "chips", "Chips", "chip* AND export*")
    for name in ("feeds.toml", "watchlist.toml"):
        assert (cfg / name).is_symlink(), name
    assert len(load_feeds(cfg)) == 3 and "b.example" in (kept / "feeds.toml").read_text()
    assert 'id = "chips"' in (kept / "watchlist.toml").read_text()
    before = (kept / "feeds.toml").read_text()
    (kept / "feeds.toml.tmp").mkdir()  # something in the way of the temporary file: the write fails
    with pytest.raises(ConfigError, match=r"feeds.toml: cannot write: Is a directory"):
        remove_feed(cfg, "https://existing.example/feed")
    assert (kept / "feeds.toml").read_text() == before


def add_page(tmp_path, feed_server, page, **kw):
    """`feeds add` of a site's page served as HTML: the config folder and what the command said."""
    feed_server.serve("/", page, headers={"Content-Type": "text/html"})
    cfg = write_config(tmp_path, [])
    return cfg, asyncio.run(add_feed(cfg, feed_server.url("/"), **kw))


def test_add_discovers_feeds_of_a_page(tmp_path, feed_server):
    feed_server.serve("/feed.xml", rss([{"title": "a", "link": "https://e.example/a"}], title="Site feed"))
    feed_server.serve("/comments.atom", (FIXTURES / "feeds" / "policy.atom").read_bytes())
    page = (
        '<html><head><link rel="alternate" type="application/rss+xml" title="Main" href="/feed.xml">'
        '<link rel="alternate" type="application/atom+xml" href="comments.atom">'
        '<link rel="stylesheet" href="/s.css"></head><body>hi</body></html>'
    )
    cfg, lines = add_page(tmp_path, feed_server, page, tags=["site"])
    # the blog's comments feed is reported, not added
    assert [f.url for f in load_feeds(cfg)] == [feed_server.url("/feed.xml")]
    assert lines[0].startswith("discovered and added") and "Main" in lines[0]
    assert (
        lines[1]
        == f"not added, a comments feed: {feed_server.url('/comments.atom')} (add it by its address if you want it)"
    )
    # already listed: said so, and nothing else (it used to say "added" too); the page again finds it listed
    fetched = len(feed_server.statuses("/feed.xml"))
    direct = asyncio.run(add_feed(cfg, feed_server.url("/feed.xml")))
    assert len(direct) == 1 and direct[0].endswith(f"feeds.toml: {feed_server.url('/feed.xml')}")
    assert direct[0].startswith("already in ") and len(load_feeds(cfg)) == 1
    assert len(feed_server.statuses("/feed.xml")) == fetched  # not even fetched
    again = asyncio.run(add_feed(cfg, feed_server.url("/")))
    assert again[0] == direct[0] and len(load_feeds(cfg)) == 1
    feed_server.serve("/plain", "<html><body>no feeds</body></html>", headers={"Content-Type": "text/html"})
    feed_server.routes.pop("/feed.xml")  # nothing at the usual places either
    with pytest.raises(ConfigError, match="neither a feed nor a page"):
        asyncio.run(add_feed(cfg, feed_server.url("/plain")))


def test_add_passes_over_a_malformed_address_on_the_page(tmp_path, feed_server):
    """A link whose host is a template's placeholder ("http://[your-domain]/feed", which urlsplit refuses) in
    the page's <base>, its feed links or its anchors is passed over; the page's other feed is found."""
    feed_server.serve("/feed.xml", rss([{"title": "a", "link": "https://e.example/a"}], title="Site feed"))
    page = (
        '<html><head><base href="http://[your-domain]/">'
        '<link rel="alternate" type="application/rss+xml" href="http://[your-domain]/feed">'
        '<link rel="alternate" type="application/rss+xml" title="Main" href="/feed.xml"></head>'
        '<body><a href="http://[your-domain]/rss">RSS</a></body></html>'
    )
    cfg, lines = add_page(tmp_path, feed_server, page)
    assert [f.url for f in load_feeds(cfg)] == [feed_server.url("/feed.xml")]
    assert lines[0].startswith("discovered and added") and "Main" in lines[0]


def test_add_reads_a_minified_page_whose_attributes_have_no_quotes(tmp_path, feed_server):
    """Minifiers (Hugo's, most static-site builds') leave out the quotes HTML does not need: the feed a page
    announces so, at an address no guess would try, is found; so is a feed link in its body, and a link
    relative to the page's <base href>."""
    feed_server.serve("/posts/index.rdf", rss([{"title": "a", "link": "https://e.example/a"}], title="Min"))
    feed_server.serve("/j/atom.xml", rss([{"title": "b", "link": "https://e.example/b"}], title="Body link"))
    html = {"Content-Type": "text/html"}
    feed_server.serve(
        "/",
        "<!doctype html><html lang=en><head><meta charset=utf-8><link rel=stylesheet href=/s.css>"
        "<link rel=alternate type=application/rss+xml href=/posts/index.rdf title=Min></head><body>hi</body></html>",
        headers=html,
    )
    feed_server.serve("/other", "<html><body><a class=feed href=/j/atom.xml>RSS</a></body></html>", headers=html)
    cfg = write_config(tmp_path, [])
    lines = asyncio.run(add_feed(cfg, feed_server.url("/")))
    assert lines == [f"discovered and added {feed_server.url('/posts/index.rdf')} (Min)"]
    assert [f.url for f in load_feeds(cfg)] == [feed_server.url("/posts/index.rdf")]
    asyncio.run(add_feed(cfg, feed_server.url("/other")))
    assert [f.url for f in load_feeds(cfg)][1] == feed_server.url("/j/atom.xml")
    # a relative link is read against the page's <base href>, as a browser reads it
    feed_server.serve("/deep/feed.rdf", rss([{"title": "c", "link": "https://e.example/c"}], title="Based"))
    feed_server.serve(
        "/p/q",
        '<html><head><base href="/deep/"><link rel=alternate type=application/rss+xml href=feed.rdf></head></html>',
        headers=html,
    )
    asyncio.run(add_feed(cfg, feed_server.url("/p/q")))
    assert [f.url for f in load_feeds(cfg)][2] == feed_server.url("/deep/feed.rdf")


def test_add_takes_the_pages_main_feed_and_lists_the_others(tmp_path, feed_server):
    """A news site announces its main feed, the same in Atom and a feed per section: the first is added, the
    others are listed to be added by address (adding them all polled one feed twice and sections unasked)."""
    page = (
        '<html><head><link rel="alternate" type="application/rss+xml" title="Top stories" href="/rss.xml">'
        '<link rel="alternate" type="application/atom+xml" title="Top stories (Atom)" href="/atom.xml">'
        '<link rel="alternate" type="application/rss+xml" title="Business" href="/business/rss.xml">'
        "</head><body>news</body></html>"
    )
    cfg, lines = add_page(tmp_path, feed_server, page)
    assert [f.url for f in load_feeds(cfg)] == [feed_server.url("/rss.xml")]
    assert lines == [
        f"discovered and added {feed_server.url('/rss.xml')} (Top stories)",
        f"not added, also on the page: {feed_server.url('/atom.xml')} (Top stories (Atom)) "
        "(add it by its address if you want it)",
        f"not added, also on the page: {feed_server.url('/business/rss.xml')} (Business) "
        "(add it by its address if you want it)",
    ]


def test_add_finds_the_feed_of_the_page_itself(tmp_path, feed_server):
    """A WordPress category page keeps its own feed at .../feed, a subreddit at .../.rss: the page's feed is
    found before the site's main feed at /feed."""
    html = {"Content-Type": "text/html"}
    feed_server.serve("/feed", rss([{"title": "all", "link": "https://e.example/a"}], title="Whole site"))
    feed_server.serve("/category/china/", "<html><body>China posts</body></html>", headers=html)
    feed_server.serve("/category/china/feed", rss([{"title": "c", "link": "https://e.example/c"}], title="China"))
    feed_server.serve("/r/worldnews/", "<html><body>subreddit</body></html>", headers=html)
    feed_server.serve("/r/worldnews/.rss", rss([{"title": "w", "link": "https://e.example/w"}], title="worldnews"))
    cfg = write_config(tmp_path, [])
    for page, feed in (("/category/china/", "/category/china/feed"), ("/r/worldnews/", "/r/worldnews/.rss")):
        lines = asyncio.run(add_feed(cfg, feed_server.url(page)))
        assert lines[0].startswith(f"found by trying and added {feed_server.url(feed)}"), lines
    assert [f.url for f in load_feeds(cfg)] == [
        feed_server.url("/category/china/feed"),
        feed_server.url("/r/worldnews/.rss"),
    ]


def test_add_finds_a_feed_the_page_does_not_announce(tmp_path, feed_server):
    """No <link rel="alternate">: a feed-looking link of the page is tried, then the site's usual feed
    paths (/feed, /rss, /feed.xml, /atom.xml...), as the best readers do."""
    cfg = write_config(tmp_path, [])
    feed_server.serve("/news/rss.xml", rss([{"title": "a", "link": "https://e.example/a"}], title="Linked feed"))
    feed_server.serve("/blog/", '<html><body><a href="/about">About</a> <a href="/news/rss.xml">RSS</a></body></html>',
                      headers={"Content-Type": "text/html"})  # fmt: skip
    lines = asyncio.run(add_feed(cfg, feed_server.url("/blog/")))
    assert lines == [f"found by trying and added {feed_server.url('/news/rss.xml')} (Linked feed)"]
    feed_server.serve("/atom.xml", (FIXTURES / "feeds" / "policy.atom").read_bytes())
    feed_server.serve("/bare", "<html><body>Hello</body></html>", headers={"Content-Type": "text/html"})
    lines = asyncio.run(add_feed(cfg, feed_server.url("/bare")))
    assert lines[0].startswith(f"found by trying and added {feed_server.url('/atom.xml')}")
    tried = [p for p, _, _ in feed_server.log]
    assert tried.index("/feed") < tried.index("/rss") < tried.index("/atom.xml")  # in the documented order
    assert [f.url for f in load_feeds(cfg)] == [feed_server.url("/news/rss.xml"), feed_server.url("/atom.xml")]


def test_add_a_local_path(tmp_path):
    cfg = write_config(tmp_path, [])
    target = Path(tmp_path / "local.xml")
    target.write_bytes((FIXTURES / "feeds" / "wire.xml").read_bytes())
    lines = asyncio.run(add_feed(cfg, str(target), title="Local"))
    assert lines[0].startswith("added feed file://") and load_feeds(cfg)[0].title == "Local"


def test_add_takes_the_forms_people_paste(tmp_path, feed_server):
    """feed:// (a browser's subscribe link) is http://; an unknown scheme is a one-line error, not a
    traceback; feeds.toml may hold feed:// too."""
    url = feed_server.serve("/sub.xml", rss([{"guid": "s1", "title": "One", "link": "https://example.org/1"}]))
    cfg = write_config(tmp_path, [])
    lines = asyncio.run(add_feed(cfg, url.replace("http://", "feed://")))
    assert lines[0].startswith(f"added feed {url}")
    assert [f.url for f in load_feeds(cfg)] == [url]
    with pytest.raises(ConfigError, match="cannot add gopher://x/y: expected an http, https or file URL"):
        asyncio.run(add_feed(cfg, "gopher://x/y"))
    with pytest.raises(ConfigError, match='--interval: expected a duration like "30m"'):
        asyncio.run(add_feed(cfg, url, interval="bogus"))
    (cfg / "feeds.toml").write_text('[[feed]]\nurl = "feed:https://news.example/rss"\n')
    assert [f.url for f in load_feeds(cfg)] == ["https://news.example/rss"]
    # an address written without its scheme is a site; a file name, or a path that exists, stays a file
    (cfg / "local.example").mkdir()
    (cfg / "feeds.toml").write_text(
        "".join(
            f'[[feed]]\nurl = "{u}"\n'
            for u in ("news.example.org/rss", "www.example.com:8080/feed", "wire.xml", "local.example/feed.xml")
        )
    )
    assert [f.url for f in load_feeds(cfg)] == [
        "https://news.example.org/rss",
        "https://www.example.com:8080/feed",
        (cfg / "wire.xml").as_uri(),
        (cfg / "local.example" / "feed.xml").as_uri(),
    ]
    (cfg / "feeds.toml").write_text('[[feed]]\nurl = "feed:https://news.example/rss"\n')
    challenge = feed_server.serve(
        "/protected.xml",
        b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>cf-chl</body></html>",
        headers={"Content-Type": "text/html"},
    )
    with pytest.raises(ConfigError, match="answered with a bot check"):
        asyncio.run(add_feed(cfg, challenge))
    consent = feed_server.serve("/consent", b"<html><title>Before you continue</title></html>")
    walled = feed_server.serve("/walled.xml", status=302, headers={"Location": consent + "?continue=/walled.xml"})
    with pytest.raises(ConfigError, match="cookie-consent page"):
        asyncio.run(add_feed(cfg, walled))
    # mistyped URLs: one line each, nothing fetched, nothing written
    for bad, why in [
        ("", "no URL given"),
        ("http://[::1", "Invalid IPv6 URL"),
        ("http://example.com:abc/feed", "Port could not be cast"),
        ("https://example.com:99999/feed", "Port out of range"),
    ]:
        with pytest.raises(ConfigError, match=re.escape(why)):
            asyncio.run(add_feed(cfg, bad))
    assert [f.url for f in load_feeds(cfg)] == ["https://news.example/rss"]
    (cfg / "feeds.toml").write_text('[[feed]]\nurl = "https://news.example:port/rss"\n')
    with pytest.raises(ConfigError, match=r"feeds.toml: feed #1: url: .*Port could not be cast"):
        load_feeds(cfg)


def test_a_file_with_no_feed_is_an_error_even_when_well_formed():
    from aggregator.errors import OpmlError

    for text in ("<html><body><p>hi</p></body></html>", '<opml version="2.0"><body></body></opml>'):
        with pytest.raises(OpmlError, match="page.opml: no feed found"):
            read_opml(text, "page.opml")


def test_urls_with_a_space_in_the_path_are_recovered_and_hostless_ones_reported(tmp_path):
    report = read_opml(
        '<opml><body><outline xmlUrl="https://example.com/my feed.xml"/><outline xmlUrl="http://"/></body></opml>'
    )
    assert [f.url for f in report.feeds] == ["https://example.com/my%20feed.xml"]
    assert report.problems == ["http://: not an http(s) feed URL"]
    cfg = write_config(tmp_path, ["https://example.com/my feed.xml"])
    assert [f.url for f in load_feeds(cfg)] == ["https://example.com/my%20feed.xml"]
