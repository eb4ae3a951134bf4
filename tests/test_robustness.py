"""Far more broken input than our own fixtures: feedparser's test corpus through the whole pipeline,
a bounded fuzz of parse + normalise, and digest rendering on arbitrary feed text."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
from conftest import ROOT, write_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aggregator import delivery
from aggregator.config import load_feeds, load_settings
from aggregator.digest import Digest, Entry, Section
from aggregator.errors import ParseError
from aggregator.normalise import normalise_entry
from aggregator.parse import parse_feed
from aggregator.poll import Pipeline
from aggregator.render import build_message, render_html
from aggregator.store import Store, database_path
from aggregator.watchlist import load_watchlist

CORPUS = ROOT / ".cache" / "feedparser-tests"
EVERYTHING = '[[topic]]\nid = "all"\nname = "Everything"\nquery = "NOT zzqqxxjj"\nmin_score = 0\n'
DANGER = re.compile(r"<\s*script|\bon[a-z]+\s*=|javascript:|<\s*iframe|<\s*object|<\s*embed", re.I)


@pytest.mark.slow
def test_feedparser_corpus_through_the_whole_pipeline(tmp_path, feed_server):
    if not (CORPUS / ".done").exists():
        pytest.skip("feedparser's corpus is fetched by `make test` (.cache/feedparser-tests)")
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix not in (".py",) and p.name != ".done")
    assert len(files) > 2000
    urls = [feed_server.serve("/" + str(p.relative_to(CORPUS)), p.read_bytes()) for p in files]
    cfg = write_config(
        tmp_path,
        urls,
        watchlist=EVERYTHING,
        settings=(
            '[poll]\nhost_gap = "0s"\nper_host = 32\nconcurrency = 32\ntotal_timeout = "20s"\n'
            "[digest]\nmax_stories_per_topic = 1000\n"
        ),
    )
    s = load_settings(cfg)
    store = Store(database_path(s.data_dir))
    store.sync_feeds(load_feeds(cfg), datetime.now(UTC))
    pipe = Pipeline(store, s, load_watchlist(cfg))
    report = asyncio.run(pipe.poll_once(force=True))  # no exception escapes the cycle
    assert report.fetched + report.failed + report.not_modified == len(urls)
    feeds = store.feeds()
    assert all(f.last_fetch_at is not None for f in feeds)
    assert all(f.last_success_at is not None or (f.last_error_kind and f.last_error) for f in feeds)
    assert report.fetched > len(urls) * 0.8  # feedparser reads nearly all of its own corpus
    d = delivery.compose(store, s, pipe.watchlist, None, datetime.now(UTC))
    html = render_html(d)
    # the corpus holds ~970 entries, most of them copies of a few URLs (http://example.com/...):
    # they are all seen, and the digest shows one entry per story
    assert d.items_seen > 900 and d.story_count > 100
    assert not DANGER.search(html), DANGER.search(html)
    sanitize = [r for r in store.iter_items() if "/sanitize/" in r["feed_url"]]
    assert len(sanitize) > 100
    for row in sanitize:  # the stored HTML is sanitised too, not only the digest
        assert not DANGER.search(row["summary_html"]), row["feed_url"]


@pytest.mark.slow
def test_feedparser_corpus_read_without_known_entries_gives_the_same_entries():
    """Every document of feedparser's corpus (encodings, namespaces, xml:base, ill-formed ones): an entry
    parsed with the others known and left out is the entry parsed whole (tests/test_parse.py)."""
    if not (CORPUS / ".done").exists():
        pytest.skip("feedparser's corpus is fetched by `make test` (.cache/feedparser-tests)")
    from test_parse import incremental_matches_whole

    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix not in (".py",) and p.name != ".done")
    counts = [incremental_matches_whole(p.read_bytes(), p.as_uri()) for p in files]
    left_out, made = sum(c[0] for c in counts), sum(c[1] for c in counts)
    # most of its files hold one entry; each of those with several is cut, and no shortened one fails a check
    assert made > 0 and left_out == made


_fragments = st.sampled_from(
    [
        "<title>",
        "</title>",
        "<item>",
        "</item>",
        "<entry>",
        "</entry>",
        "<description>",
        "</description>",
        "<![CDATA[",
        "]]>",
        "&amp;",
        "&lt;script&gt;",
        "&#0;",
        "&#xD800;",
        "&nbsp;",
        "<script>alert(1)</script>",
        '<a href="javascript:x" onclick="y">',
        "<link>http://x/</link>",
        "<guid>",
        "</guid>",
        "\x00",
        "\r\n",
        "é",
        "<pubDate>Mon, 32 Foo 99999</pubDate>",
        # what the readers of dates, excerpts, CJK text and link unwrapping see in real feeds
        "<pubDate>Sa, 28 Okt 2026 10:00:00 CEST</pubDate>",
        "<pubDate>2026年11月28日 18:19</pubDate>",
        "<pubDate>31.02.2026 25:61</pubDate>",
        "<updated>03/04/2026 9:15 pm EST</updated>",
        "The post ",
        " appeared first on ",
        "Continue reading →",
        " […]",
        "美国商务部将华为列入实体清单",
        "<link>https://news.google.com/rss/articles/CBMiAAAA?oc=5</link>",
        '<enclosure url="https://cdn.example/a.mp3" type="audio/mpeg"/>',
        '<?xml version="1.0" encoding="utf-16"?>',
        "<rss version='2.0'>",
        "<channel>",
        "</channel>",
        "</rss>",
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        "</feed>",
        '{"version": "https://jsonfeed.org/version/1.1", "items": [',
        '{"title": ',
        '"x"',
        "}",
        "]",
        ",",
        "null",
    ]
)
_documents = st.one_of(
    st.lists(st.one_of(_fragments, st.text(max_size=20)), max_size=40).map(
        lambda xs: "".join(xs).encode("utf-8", "surrogatepass")
    ),
    st.binary(max_size=400),
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_documents)
def test_fuzz_parse_and_normalise(body):
    try:
        feed = parse_feed(body, "https://fuzz.example/feed")
    except ParseError:
        return
    now = datetime.now(UTC)
    for entry in feed.entries:
        item = normalise_entry(entry, "https://fuzz.example/feed", now, feed.title)
        assert item.guid and item.title and item.content_hash
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", item.title + item.summary)
        assert not DANGER.search(item.summary_html)


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=120)


@settings(max_examples=300, deadline=None)
@given(title=_text, feed_title=_text, summary=_text, sender=st.sampled_from(["a <d@example.org>", "x\r\nBcc: y@z"]))
def test_any_feed_text_renders_a_valid_message_with_clean_headers(title, feed_title, summary, sender):
    when = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
    entry = Entry(
        story_id=1,
        title=title or "x",
        url="https://example.org/a",
        source=feed_title,
        when=when,
        snippet=summary,
        score=0.5,
        matched=("title:x",),
        also=(feed_title,),
        follow_up_of=title or None,
        duplicates=0,
    )
    d = Digest(None, when, "Europe/London", (Section("t", feed_title or "Topic", (entry,)),), 3, 1)
    msg = build_message(d, sender=sender, to=("me@example.org",), now=when)
    raw = msg.as_bytes()
    parsed = message_from_bytes(raw, policy=policy.default)
    for name, value in parsed.items():
        assert not re.search(r"[\x00-\x1f\x7f]", str(value)), (name, value)
    assert parsed["Bcc"] is None
    assert parsed.get_body(("plain",)) is not None and parsed.get_body(("html",)) is not None
    html = parsed.get_body(("html",)).get_content()
    assert not DANGER.search(html.replace("&lt;", "").replace("&gt;", "")) or "<script" not in html


_date_like = st.builds(
    lambda day, month, year, clock, zone: f"{day} {month} {year} {clock} {zone}",
    st.integers(0, 40),
    st.sampled_from(["Jan", "okt", "Mär", "nov.", "13", "décembre", "maio", "x"]),
    st.integers(0, 9999),
    st.sampled_from(["10:00", "25:61", "9:15 pm", "13:00 am", "10h30", ""]),
    st.sampled_from(["+0100", "GMT+01:00", "CEST", "EST", "-9999", "UTC", ""]),
)


@settings(max_examples=800, deadline=None)
@given(st.one_of(st.text(max_size=80), _date_like))
def test_any_date_text_is_a_utc_date_or_none(text):
    from aggregator.dates import misread_by_feedparser, read_date

    misread_by_feedparser(text)
    got = read_date(text)
    assert got is None or got.utcoffset() == timedelta(0)


@settings(max_examples=500, deadline=None)
@given(_text, _text)
def test_excerpt_cleaning_only_ever_cuts_the_end(text, title):
    from aggregator.normalise import strip_boilerplate

    cleaned = strip_boilerplate(text, title)
    stem = cleaned[:-1] if cleaned.endswith("…") else cleaned
    assert text.startswith(stem.rstrip()) or text.replace("[…]", "…").startswith(stem.rstrip())


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60))
def test_cjk_pieces_and_google_news_ids_never_raise(text):
    from aggregator.normalise import cjk_split
    from aggregator.parse import unwrap_redirect

    assert "".join(cjk_split(text, 1)) == text
    unwrap_redirect("https://news.google.com/rss/articles/" + text)
