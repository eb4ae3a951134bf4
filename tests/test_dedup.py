"""Dedup at its three levels, on fixtures of syndicated copies (fixtures/dedup/syndication.json: each
item with the level and story expected), and URL canonicalisation (examples and properties)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import parse_qsl, urlsplit

from conftest import FIXTURES, ROOT, rss, write_config
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from aggregator import dedup, delivery
from aggregator.config import load_feeds, load_settings
from aggregator.dedup import BOILERPLATE, FEED_BLURB, filed_elsewhere
from aggregator.digest import shown_summary
from aggregator.explain import explain
from aggregator.models import UNTITLED, Item
from aggregator.normalise import article_slug, canonical_url, clean_link, content_hash, is_tracking_param
from aggregator.poll import CycleReport, Pipeline
from aggregator.store import Store, database_path
from aggregator.watchlist import load_watchlist

T0 = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


def ingest_fixture(tmp_path):
    cfg = write_config(tmp_path, [])
    settings = load_settings(cfg)
    store = Store(database_path(settings.data_dir))
    pipe = Pipeline(store, settings, load_watchlist(cfg))
    fixture = json.loads((FIXTURES / "dedup" / "syndication.json").read_text())
    ids = {}
    report = CycleReport()
    for f in fixture:
        when = T0 + timedelta(hours=f["hours"])
        item = Item(
            feed_url=f"https://{f['feed']}.example/feed",
            guid=f["guid"],
            url=f["link"],
            canonical_url=canonical_url(f["link"]),
            title=f["title"],
            summary=f["summary"],
            summary_html=f["summary"],
            author=None,
            published=when,
            fetched_at=when,
            content_hash=content_hash(f["title"], f["summary"]),
            feed_title=f["feed"],
        )
        with store.transaction():
            ids[f["key"]] = pipe.ingest(item, when, report)
    return store, fixture, ids


def test_every_level_on_syndicated_copies(tmp_path):
    store, fixture, ids = ingest_fixture(tmp_path)
    rows = {k: store.item(v) for k, v in ids.items()}
    for f in fixture:
        row = rows[f["key"]]
        assert row["dup_level"] == f["expect"], (f["key"], row["dup_level"], row["dup_reason"], row["story_reason"])
        if "of" in f:
            assert row["duplicate_of"] == ids[f["of"]], f["key"]
            assert row["dup_reason"]
    # stories: same expected story <=> same stored story (null: not asserted)
    for a in fixture:
        for b in fixture:
            if a["story"] is None or b["story"] is None:
                continue
            same = rows[a["key"]]["story_id"] == rows[b["key"]]["story_id"]
            assert same == (a["story"] == b["story"]), (a["key"], b["key"])
    assert rows["retitled"]["dup_reason"].startswith('near-duplicate of item "US adds 31 Chinese firms')
    assert rows["amp"]["dup_reason"] == "same canonical URL"
    assert rows["reaction"]["story_reason"].startswith("same story as item #")
    store.close()


def test_explain_tells_level_story_and_tags(tmp_path):
    store, _, ids = ingest_fixture(tmp_path)
    text = explain(store, ids["retitled"])
    assert "canonical url: https://paper.example.org/world/ymtc-blacklist" in text
    assert f"near-duplicate of item #{ids['orig']}" in text and 'near-duplicate of item "US adds 31' in text
    assert "story:" in text and "Entity List" in text
    assert "topic:         us-china-tech" in text and "entity list" in text
    # a report that stands alone names the story it came closest to, and why it did not join it
    huawei = store.item(ids["cap3"])
    text = explain(store, ids["cap4"])
    assert (
        f"why:           first item of the story; closest: story #{huawei['story_id']} by item #{ids['cap3']} (" in text
    )
    assert "under the threshold 0.20; shared: huawei)" in text
    assert f"closest:       #{ids['cap3']} https://epoch.example/feed: Deadline looms for BT to remove Huawei" in text
    assert "story #" not in (store.item(ids["orig"])["story_reason"] or "")  # nothing came before it
    store.close()


def test_explain_cli_for_missing_item(tmp_path):
    cfg = write_config(tmp_path, [])
    p = subprocess.run(
        [sys.executable, "-m", "aggregator", "--config", str(cfg), "explain", "999"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert p.returncode == 2 and "no item #999" in p.stderr and "Traceback" not in p.stderr
    huge = str(2**70)  # beyond SQLite's 64-bit integers
    p = subprocess.run(
        [sys.executable, "-m", "aggregator", "--config", str(cfg), "explain", huge],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert p.returncode == 2 and f"no item #{huge}" in p.stderr and "Traceback" not in p.stderr


CANONICAL = [
    ("HTTP://WWW.Example.COM:80/a/b/?utm_source=x&b=2&a=1#frag", "https://example.com/a/b?a=1&b=2"),
    ("https://example.com:443/a?fbclid=1&gclid=2&mc_cid=3&mc_eid=4", "https://example.com/a"),
    ("https://example.com/story/amp", "https://example.com/story"),
    ("https://amp.example.com/story.amp.html", "https://example.com/story.html"),
    ("https://www.google.com/amp/s/example.com/news/1", "https://example.com/news/1"),
    ("https://example-com.cdn.ampproject.org/c/s/example.com/news/1", "https://example.com/news/1"),
    ("https://m.example.co.uk/news?outputType=amp", "https://example.co.uk/news"),
    ("https://example.com/a?id=1", "https://example.com/a?id=1"),
    # the parameters real news feeds add (BBC, NYT, Le Monde, Yahoo)
    ("https://www.bbc.co.uk/news/articles/c1?at_medium=RSS&at_campaign=rss", "https://bbc.co.uk/news/articles/c1"),
    (
        "https://www.nytimes.com/2026/11/28/tech/x.html?partner=rss&emc=rss",
        "https://nytimes.com/2026/11/28/tech/x.html",
    ),
    ("https://www.lemonde.fr/a/article_1.html?xtor=RSS-3208", "https://lemonde.fr/a/article_1.html"),
    ("https://finance.yahoo.com/news/x.html?guccounter=1&guce_referrer=aHR0", "https://finance.yahoo.com/news/x.html"),
    # parameters that mark the link as coming from a feed by their value only (WSJ, Reuters, blogs)
    ("https://www.wsj.com/articles/x-123?mod=rss_Technology", "https://wsj.com/articles/x-123"),
    ("https://www.reuters.com/a?feedType=RSS&feedName=technologyNews", "https://reuters.com/a"),
    ("https://blog.example/p?ref=rss&page=2", "https://blog.example/p?page=2"),
    ("https://blog.example/p?source=rss_feed", "https://blog.example/p"),
    # ...and with another value they may choose what the page shows: kept
    ("https://blog.example/p?ref=v2&source=api", "https://blog.example/p?ref=v2&source=api"),
    # share and newsletter links (NYT, CNBC, FT gift links keep their access token, AP newsletters)
    (
        "https://www.nytimes.com/2026/11/28/x.html?smid=nytcore-ios-share&referringSource=articleShare",
        "https://nytimes.com/2026/11/28/x.html",
    ),
    ("https://www.cnbc.com/x.html?__source=iosappshare%7Ccom.apple", "https://cnbc.com/x.html"),
    ("https://www.ft.com/content/abc?accessToken=zw&sharetype=gift", "https://ft.com/content/abc?accessToken=zw"),
    ("https://apnews.com/article/x-1?user_email=a@b.example", "https://apnews.com/article/x-1"),
    # names that are tracking on one site and may select content on another
    ("https://www.wsj.com/articles/x-123?mod=hp_lead_pos1&st=abc", "https://wsj.com/articles/x-123"),
    (
        "https://www.scmp.com/news/article/1/x?module=perpetual_scroll_0&pgtype=article",
        "https://scmp.com/news/article/1/x",
    ),
    ("https://example.org/index.php?module=news&id=5", "https://example.org/index.php?id=5&module=news"),
    ("https://www.bloomberg.com/news/articles/x?srnd=technology-vp", "https://bloomberg.com/news/articles/x"),
    (
        "http://www.msn.com/en-us/news/politics/x/ar-AA17SLdq?li=BBnbcA1&srcref=rss&ocid=msedgntp",
        "https://msn.com/en-us/news/politics/x/ar-AA17SLdq",
    ),
    (
        "https://edition.cnn.com/2026/11/28/tech/x/index.html?cid=ios_app",
        "https://edition.cnn.com/2026/11/28/tech/x/index.html",
    ),
    ("https://x.com/jane/status/123?s=20&t=abcDEF", "https://x.com/jane/status/123"),
    ("https://policy.substack.com/p/chip-rules?r=2abcd&triedRedirect=true", "https://policy.substack.com/p/chip-rules"),
    ("https://shop.example/search?s=chips&t=2", "https://shop.example/search?s=chips&t=2"),
    ("https://www.politico.com/news/2026/11/28/x-1?_amp=true", "https://politico.com/news/2026/11/28/x-1"),
    ("https://example.com:8080/a", "https://example.com:8080/a"),
    ("https://example.com/%7Euser", "https://example.com/~user"),
    ("https://example.com/a%e2%80%99b", "https://example.com/a%E2%80%99b"),
    ("https://example.com/a\u2019b", "https://example.com/a%E2%80%99b"),
    # an escaped "/" or "%" is data: a%2Fb is another path than a/b, 100%25 is not the broken "100%"
    ("https://example.com/files/a%2fb", "https://example.com/files/a%2Fb"),
    ("https://example.com/100%25-sure", "https://example.com/100%25-sure"),
    # an internationalised host is one host in either spelling
    ("https://www.m\u00fcnchen.de/news/1", "https://xn--mnchen-3ya.de/news/1"),
    ("https://xn--mnchen-3ya.de/news/1", "https://xn--mnchen-3ya.de/news/1"),
    # a server session id is one visit, never the article
    ("https://example.com/story;jsessionid=0A1B2C?id=4", "https://example.com/story?id=4"),
    ("https://example.com/story.php?PHPSESSID=9f8e&id=4", "https://example.com/story.php?id=4"),
    ("https://news.yahoo.com/us-china-1.html?.tsrc=rss", "https://news.yahoo.com/us-china-1.html"),
    (
        "https://www.forbes.com/sites/x/2023/03/23/tiktok/?sh=5c1a3e0f7b2d",
        "https://forbes.com/sites/x/2023/03/23/tiktok",
    ),
    ("https://www.ft.com/content/a1?ftcamp=traffic/partner/feed_headline", "https://ft.com/content/a1"),
    ("https://www.zeit.de/digital/x?wt_zmc=sm.ext.zonaudev.twitter", "https://zeit.de/digital/x"),
    ("https://www.spiegel.de/x-a-1?sara_ecid=soci_upd_KsBF0AFjflf0DZCxpPYDCQgO1dEMph", "https://spiegel.de/x-a-1"),
    (
        "https://www.cnn.com/2026/11/28/tech/x/index.html?iid=cnn_buildContentRecirc_end_recirc",
        "https://cnn.com/2026/11/28/tech/x/index.html",
    ),
    ("https://www.axios.com/2026/11/28/chips?stream=top", "https://axios.com/2026/11/28/chips"),
    ("https://www.politico.com/news/2026/11/28/x-1?cid=apn", "https://politico.com/news/2026/11/28/x-1"),
    ("https://api.example/items?cid=7&stream=top&iid=3", "https://api.example/items?cid=7&iid=3&stream=top"),
    # a YouTube video at any of its addresses is its watch page (the link its channel's feed gives)
    ("https://youtu.be/dQw4w9WgXcQ?si=Xa1b2C3d4E5f&t=42", "https://youtube.com/watch?v=dQw4w9WgXcQ"),
    ("https://m.youtube.com/shorts/dQw4w9WgXcQ?feature=share", "https://youtube.com/watch?v=dQw4w9WgXcQ"),
    ("https://www.youtube.com/embed/dQw4w9WgXcQ?rel=0", "https://youtube.com/watch?v=dQw4w9WgXcQ"),
    ("https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ", "https://youtube.com/watch?v=dQw4w9WgXcQ"),
    ("https://www.youtube.com/live/dQw4w9WgXcQ", "https://youtube.com/watch?v=dQw4w9WgXcQ"),
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s&list=PL1x", "https://youtube.com/watch?v=dQw4w9WgXcQ"),
    # ...and what names no video stays as it is
    ("https://www.youtube.com/watch?list=PL1x", "https://youtube.com/watch?list=PL1x"),
    ("https://www.youtube.com/shorts", "https://youtube.com/shorts"),
    ("https://youtu.be:8443/dQw4w9WgXcQ", "https://youtu.be:8443/dQw4w9WgXcQ"),
    ("mailto:x@example.com", None),
    ("not a url", None),
]


def test_canonical_examples():
    for url, expected in CANONICAL:
        assert canonical_url(url) == expected, url


_seg = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=8)
_urls = st.builds(
    lambda scheme, host, path, params, frag: (
        f"{scheme}://{host}.example/{'/'.join(path)}"
        + ("?" + "&".join(f"{k}={v}" for k, v in params) if params else "")
        + (f"#{frag}" if frag else "")
    ),
    st.sampled_from(["http", "https", "HTTP"]),
    _seg,
    st.lists(_seg, max_size=4),
    st.lists(
        st.tuples(
            st.one_of(
                _seg, st.sampled_from(["utm_source", "utm_medium", "fbclid", "gclid", "mc_cid", "mc_eid", "id", "page"])
            ),
            _seg,
        ),
        max_size=4,
    ),
    st.one_of(st.none(), _seg),
)


@settings(max_examples=300, deadline=None)
@given(_urls)
def test_canonical_is_idempotent_and_drops_tracking(url):
    c = canonical_url(url)
    assert c is not None and canonical_url(c) == c
    query = urlsplit(c).query
    assert not any(is_tracking_param(kv.split("=")[0]) for kv in query.split("&") if kv)
    assert "#" not in c


def test_links_shown_to_readers_lose_only_their_trackers():
    assert (
        clean_link("http://www.example.com/a/?utm_source=rss&id=7&fbclid=x#top") == "http://www.example.com/a/?id=7#top"
    )
    assert clean_link("https://example.com/a?utm_medium=feed") == "https://example.com/a"
    # a server session id is someone's visit: not shown to readers either
    assert clean_link("https://example.com/a;jsessionid=0A1B?id=7&PHPSESSID=x") == "https://example.com/a?id=7"
    for kept in ("https://example.com/a?b=2&a=1", "https://example.com/a", "https://example.com/a?q=x%20y&p="):
        assert clean_link(kept) == kept
    # trackers after "#", as CNET's feeds and French sites write them; a fragment that is not one stays
    assert clean_link("https://www.cnet.com/tech/a/#ftag=CADf328eec") == "https://www.cnet.com/tech/a/"
    assert (
        clean_link("https://lemonde.example/a.html?id=3#xtor=RSS-3208&utm_source=x")
        == "https://lemonde.example/a.html?id=3"
    )
    for kept in ("https://example.com/a#top", "https://example.com/a#page=2", "https://example.com/#/story?id=3"):
        assert clean_link(kept) == kept
    # an AMP version is shown as the regular page (privacy: an AMP cache is someone else's server)
    for amp, page in [
        ("https://amp.news.example.org/world/story-1/amp", "https://www.news.example.org/world/story-1/"),
        (
            "https://www-news-example-org.cdn.ampproject.org/c/s/www.news.example.org/a.html?utm_source=x",
            "https://www.news.example.org/a.html",
        ),
        ("https://www.google.com/amp/s/www.bbc.co.uk/news/world-123.amp", "https://www.bbc.co.uk/news/world-123"),
        ("https://example.com/a.amp.html?amp=1&id=3#x", "https://example.com/a.html?id=3#x"),
    ]:
        assert clean_link(amp) == page and canonical_url(page) == canonical_url(amp), amp
    for kept in ("https://example.com/lamp", "https://amp.dev/documentation", "https://example.com/x.amphtml"):
        assert clean_link(kept) == kept


@settings(max_examples=300, deadline=None)
@given(_urls)
def test_clean_link_drops_trackers_and_keeps_the_article(url):
    parts = urlsplit(url)
    assume(not parts.path.endswith("/amp") and not any(k == "amp" for k, _ in parse_qsl(parts.query)))
    shown = clean_link(url)
    parts, before = urlsplit(shown), urlsplit(url)
    assert not any(is_tracking_param(kv.split("=")[0]) for kv in parts.query.split("&") if kv)
    assert (parts.scheme, parts.netloc, parts.path, parts.fragment) == (
        before.scheme,
        before.netloc,
        before.path,
        before.fragment,
    )
    assert canonical_url(shown) == canonical_url(url)  # still the same article


@settings(max_examples=300, deadline=None)
@given(_urls, _seg)
def test_distinct_articles_never_collapse(url, other):
    # a different path segment or a different non-tracking parameter value is a different article
    base = canonical_url(url)
    p = urlsplit(base)
    changed = base.replace(p.path, p.path.rstrip("/") + "/" + other + "x", 1)
    assert canonical_url(changed) != base
    with_id = canonical_url(url + ("&" if "?" in url.split("#")[0] else "?") + "articleid=" + other)
    if "#" not in url:
        assert with_id != base


def _index_with(stories: dict[int, list[str]], background: int = 60):
    """A story index holding the given stories (story id -> headlines) among unrelated background items."""
    from aggregator.dedup import StoryIndex, story_terms

    index = StoryIndex(timedelta(hours=72))
    key = 0
    for n in range(background):  # document frequencies of ordinary news words
        key += 1
        index.add(key, 10_000 + n, T0 - timedelta(hours=2), story_terms(f"Council {n} budget vote on schools", ""))
    for story_id, titles in stories.items():
        for title in titles:
            key += 1
            index.add(key, story_id, T0 - timedelta(hours=1), story_terms(title, ""))
    return index


HEARING = [
    "TikTok faces Congress over data security",
    "Lawmakers press its boss on China ties",
    "Chew testifies as House weighs a ban",
    "Key moments from the hearing in Washington",
]


def test_a_story_is_joined_on_several_loose_matches_not_one():
    """Outlets cover different angles of one event: an item resembling several members of a story a
    little joins it, though no single member would have been enough."""
    from aggregator.dedup import Thresholds, story_terms

    th = Thresholds()
    new = story_terms("TikTok CEO grilled by lawmakers at House hearing", "")
    index = _index_with({1: HEARING})
    m = index.best_story(new, T0)
    assert m is not None and m.story_id == 1 and m.members >= 3
    assert m.score >= th.story > m.similarity, (m.score, m.similarity)
    # the same item next to a single one of those reports stays a story of its own
    lone = _index_with({2: HEARING[:1]}).best_story(new, T0)
    assert lone is None or lone.score < th.story


def _recent_report_is_read(index) -> None:
    """A hundred and fifty reports of one headline, each its own story, published 70 hours ago, then one
    an hour ago: the same headline now joins the recent one, so it was among the candidates read."""
    from aggregator.dedup import TOP_CANDIDATES, story_terms

    title = "Senate passes chip export bill"
    key = 500
    for n in range(TOP_CANDIDATES * 3):
        key += 1
        index.add(key, 20_000 + n, T0 - timedelta(hours=70), story_terms(title, ""))
    index.add(key + 1, 7, T0 - timedelta(hours=1), story_terms(title, ""))
    m = index.best_story(story_terms(title, ""), T0)
    assert m is not None and m.story_id == 7 and m.doc.key == key + 1


def test_among_equally_close_candidates_the_recent_ones_are_read():
    """Only the closest candidates get an exact cosine; when a busy subject's reports tie on the words they
    share with a new item, the most recent are read first: a report of this morning is not cut for a
    hundred alike of three days ago, which the time penalty makes the weaker matches."""
    from aggregator.dedup import StoryIndex, story_terms

    index = StoryIndex(timedelta(hours=72))
    for n in range(100_000):  # a corpus where the subject's words are common: stored weights that tie
        index.count(story_terms("Senate passes chip export bill", "") if n % 20 == 0 else {f"other{n % 997}": 1.0})
    _recent_report_is_read(index)


def test_a_bursts_first_reports_do_not_crowd_out_its_latest():
    """The first reports of a burst were indexed when its words were rare, so their stored weights are the
    highest; candidates are ranked on each report's unit vector, as the cosine is, not on those weights:
    this morning's report is read, not cut for a hundred and fifty alike of three days ago."""
    _recent_report_is_read(_index_with({}))


def test_a_big_story_does_not_absorb_an_item_by_its_size():
    from aggregator.dedup import story_terms

    new = story_terms("Montana governor signs TikTok ban into law", "")
    other = ["Montana governor weighs TikTok bill"] + [f"Local team wins match number {n}" for n in range(15)]
    small = _index_with({1: other[:1]}).best_story(new, T0)
    big = _index_with({1: other}).best_story(new, T0)
    assert small is not None and big is not None
    assert big.score < small.score / 3  # one matching member among 16 weighs a quarter of one alone


def test_a_photo_caption_is_no_summary_for_stories_or_snippets():
    from aggregator.dedup import story_terms
    from aggregator.normalise import is_photo_caption

    caption = (
        "The TikTok logo is displayed on a phone in this illustration taken on Aug. 22, 2022. (Dado Ruvic/Reuters)"
    )
    assert is_photo_caption(caption) and is_photo_caption("Hikvision cameras in Hangzhou. (STR/AFP via Getty Images)")
    assert not is_photo_caption("The Commerce Department added 31 Chinese companies to its Entity List on Thursday.")
    # any photographer and outlet, under the picture's date or "file photo"
    for credited in (
        "The TikTok startup page is displayed on an iPhone in Ottawa on Feb. 27, 2023. (The Canadian Press/Sean "
        "Kilpatrick)",
        "Signage of a Huawei office is pictured in Kanata, Ont., on May 24, 2022. (Sean Kilpatrick/The Canadian Press)",
        "The building in downtown Ottawa, on June, 30, 2020. (Adrian Wyld/The Canadian Press)",
        "A camera at a station in Hong Kong. File photo. (Song Bi-lung/The Epoch Times)",
        "An MP speaks at an event in Ottawa on May 10, 2023. (Annie Wu/NTD)",
    ):
        assert is_photo_caption(credited), credited
    for text in (
        "The bill passed the committee on March 1, 2023 (House Energy/Commerce)",  # within the sentence
        "Two firms were named on May 5, 2023. (Huawei/ZTE)",  # no photographer's name
        "The panel heard from two groups (Freedom House/Human Rights Watch)",  # no picture's date
    ):
        assert not is_photo_caption(text), text
    assert story_terms("Montana bans TikTok", caption) == story_terms("Montana bans TikTok", "")


def test_an_amount_is_its_figure_however_its_scale_is_written():
    """The BBC's "$300m penalty" and the WSJ's "$300 Million" for one fine: the figure is a term both share."""
    from aggregator.dedup import story_terms

    bbc = story_terms("US imposes $300m penalty over hard disk drive exports to Huawei", "")
    wsj = story_terms("Seagate to Pay $300 Million for Violating Export Restrictions", "")
    ft = story_terms("Seagate to pay $300mn and $1.1bn settlement", "")
    assert "300" in bbc and "300" in wsj and "300" in ft and "300m" not in bbc
    assert "11" in ft and "11" in story_terms("Sales of $1.1 billion", "")  # words() reads "1.1" as "11"
    assert "5g" in story_terms("Germany to ban Huawei from 5G networks", "")  # not an amount
    assert "7nm" in story_terms("SMIC makes 7nm chips", "") and "4k" in story_terms("A 4K screen", "")


def decided_against(cand, title, text, feed="https://b.example/feed"):
    """The dedup decision for a new item of ``feed`` published at T0 with one near candidate."""
    from aggregator.dedup import StoryIndex, Thresholds, decide

    th = Thresholds()
    return decide(
        title=title,
        text=text,
        when=T0,
        same_url=None,
        near=[cand],
        stories=StoryIndex(th.window),
        terms={},
        th=th,
        feed_url=feed,
    )


def test_a_url_or_article_name_seen_before_is_the_same_item_unless_another_article_is_there_much_later():
    """The same canonical URL, or the same article's name at another address of its site: the same item, under
    an edited headline too; a new headline sharing few words, outside the window, is another article at that
    address (a living page), and the reason says which kind of match it was."""
    from aggregator.dedup import SameUrl, StoryIndex, Thresholds, decide

    th = Thresholds()

    def decided(same: SameUrl, title: str, when: datetime):
        return decide(
            title=title, text="", when=when, same_url=same, near=[], stories=StoryIndex(th.window), terms={}, th=th
        )

    old = "TikTok Seeks Montana Lifeline as State Ban Looms"
    edited = "TikTok tried to persuade a federal judge to block Montana's ban"
    other = "Daily briefing: markets rally as inflation cools"
    for filed_at, word in ((None, "same URL"), ("https://wsj.example/articles/x-cec4bab5", "same article name")):
        same = SameUrl(7, 3, old, T0, filed_at)
        d = decided(same, edited, T0 + timedelta(hours=15))
        assert (d.level, d.duplicate_of, d.story_id) == ("same-item", 7, 3)
        assert d.reason == (filed_elsewhere(filed_at) if filed_at else "same canonical URL")
        later = decided(same, other, T0 + th.window + timedelta(hours=1))
        assert later.level == "new" and later.duplicate_of is None
        assert later.reason == f"{word} as item #7, but now another article"


def test_a_headline_alone_is_a_copy_of_the_report_under_that_headline_within_the_window():
    """An aggregator's entry (the headline, no text) and the outlet's own report, in either order; not a
    recurring headline a year apart, not a short generic one. Two reports that both have text are one
    article under the very same long headline (an excerpt and a standfirst), not under a shorter or an edited
    one, and not within one feed."""
    from aggregator.dedup import NearCandidate, shingles
    from aggregator.normalise import strip_source

    headline = "US adds 36 Chinese companies to trade blacklist over chip concerns"
    report = "The Commerce Department added 36 Chinese companies, including chipmaker YMTC, to its Entity List. " * 3
    assert strip_source(headline + " - Reuters", "Reuters") == headline
    assert strip_source("Talks end - for now", "Reuters") == "Talks end - for now"

    def placed(title, text, cand_title, cand_text, hours_apart=1.0, feed="https://b.example/feed"):
        cand = NearCandidate(
            1,
            None,
            cand_title,
            frozenset(shingles(cand_title, cand_text)),
            7,
            None,
            "https://a.example/feed",
            T0 - timedelta(hours=hours_apart),
        )
        return decided_against(cand, title, text, feed)

    second = placed(headline, "", headline, report)  # the aggregator's entry comes second
    assert second.level == "near-duplicate" and "the same headline (1.00), one without text" in second.reason
    assert placed(headline, report, headline, "").level == "near-duplicate"  # or first
    assert placed(headline, "", headline, report, hours_apart=24 * 365).level == "new"
    assert placed("Markets wrap up the week", "", "Markets wrap up the week", report).level == "new"
    other = "Beijing says it will respond to the new US restrictions on its firms with its own measures. " * 3
    both = placed(headline, other, headline, report)
    assert both.level == "near-duplicate" and "the same headline (1.00), each with other text" in both.reason
    edited = "US adds 36 Chinese firms to its trade blacklist citing chip worries"
    assert placed(edited, other, headline, report).level == "new"
    assert placed(headline, other, headline, report, feed="https://a.example/feed").level == "new"
    assert placed(headline, other, headline, report, hours_apart=24 * 365).level == "new"  # headlines recur
    short = "US adds Chinese chip firms to blacklist"  # 7 words: many a report could carry it
    assert placed(short, other, short, report).level == "new"


def _pipeline(tmp_path):
    cfg = write_config(tmp_path, [])
    settings = load_settings(cfg)
    store = Store(database_path(settings.data_dir))
    return store, Pipeline(store, settings, load_watchlist(cfg))


def _item(feed, guid, title, summary, published, fetched, source=None):
    link = f"https://{feed}.example/{guid}"
    return Item(
        feed_url=f"https://{feed}.example/feed",
        guid=guid,
        url=link,
        canonical_url=canonical_url(link),
        title=title,
        summary=summary,
        summary_html=summary,
        author=None,
        published=published,
        fetched_at=fetched,
        content_hash=content_hash(title, summary),
        feed_title=feed,
        source=source,
    )


REPLY_TEXT = (
    "BEIJING (Wire) - China's commerce ministry said on Sunday it would take necessary measures to protect the "
    "rights of Chinese companies after Washington restricted exports of advanced chips, calling the rules an "
    "abuse of export controls that would hurt global supply chains and American firms alike."
)
WIRE_TEXT = (
    "WASHINGTON (Wire) - The U.S. Commerce Department on Friday added 27 Chinese companies and research "
    "institutes to its Entity List, citing support for China's military modernisation and its hypersonic "
    "weapons programme. Firms on the list need a licence for most American technology exports."
)


def test_the_earliest_published_is_the_original_whatever_feed_came_first(tmp_path):
    """A syndicating paper's feed polled before the wire's: the wire's report, published first, becomes the
    original, and the copies point at it; once a digest has shown the copy as the report, it stays so."""
    store, pipe = _pipeline(tmp_path)
    report = CycleReport()
    seen = T0 + timedelta(hours=4)  # one cycle finds all three

    def add(feed, title, hours):
        return pipe.ingest(_item(feed, f"{feed}-1", title, WIRE_TEXT, T0 + timedelta(hours=hours), seen), seen, report)

    with store.transaction():
        paper = add("paper", "Washington blacklists 27 Chinese companies", 3)
        radio = add("radio", "27 Chinese firms added to US Entity List", 2)
        wire = add("wire", "US adds 27 Chinese firms to trade blacklist", 0)
    rows = {r["id"]: r for r in store.execute("SELECT * FROM items")}
    assert rows[wire]["dup_level"] == "new" and rows[wire]["duplicate_of"] is None
    assert rows[paper]["duplicate_of"] == wire and rows[radio]["duplicate_of"] == wire
    assert rows[paper]["dup_level"] == rows[radio]["dup_level"] == "near-duplicate"
    assert rows[radio]["dup_reason"].startswith('near-duplicate of item "US adds 27 Chinese firms')
    assert len({r["story_id"] for r in rows.values()}) == 1 and report.duplicates == 2
    # a digest has shown the paper's copy as the report: a wire report found after that does not take over
    store.execute(
        "INSERT INTO digests (window_start, window_end, created_at, status, recipients, message_id, subject, stories) "
        "VALUES (?, ?, ?, 'sent', '[]', '<m@x>', 's', 1)",
        ((T0 - timedelta(days=1)).isoformat(), (T0 + timedelta(hours=30)).isoformat(), T0.isoformat()),
    )
    later = T0 + timedelta(hours=31)
    shown = _item("paper", "p2", "Beijing vows response to US chip curbs", REPLY_TEXT, later, T0 + timedelta(hours=29))
    earlier = _item(
        "wire", "w2", "China vows response to new US chip curbs", REPLY_TEXT, T0 + timedelta(hours=28), later
    )
    with store.transaction():
        first = pipe.ingest(shown, later, report)
        wire2 = pipe.ingest(earlier, later, report)
    assert store.item(wire2)["duplicate_of"] == first and store.item(first)["duplicate_of"] is None


def test_a_feeds_recurring_headline_is_not_a_copy_but_an_aggregators_two_outlets_are(tmp_path):
    """One feed, the same headline on two days and no text (a daily briefing): two items. A news
    aggregator's feed listing one wire story at two outlets (same headline, outlets named): a copy."""
    store, pipe = _pipeline(tmp_path)
    report = CycleReport()
    briefing = "The China tech briefing: what you need to know"
    day = timedelta(days=1)
    with store.transaction():
        for n in range(2):
            pipe.ingest(_item("daily", f"b{n}", briefing, "", T0 + n * day, T0 + n * day), T0 + n * day, report)
        headline = "US adds 36 Chinese companies to trade blacklist over chip concerns"
        for outlet in ("Reuters", "Yahoo News"):
            pipe.ingest(_item("news", outlet, headline, "", T0, T0, source=outlet), T0, report)
    levels = [r["dup_level"] for r in store.execute("SELECT dup_level FROM items ORDER BY id")]
    assert levels == ["new", "new", "new", "near-duplicate"]


def test_a_sites_articles_under_one_headline_are_its_series_issues_not_copies(tmp_path):
    """A site's roundup under one headline, its text written to one template, each issue at an address with an
    id of its own: the next issue, not a copy of the last (one was hidden as a copy of another three weeks
    older). The same text filed again at another of its addresses is still a copy, and so is the roundup in
    another outlet's feed."""
    store, pipe = _pipeline(tmp_path)
    report = CycleReport()
    title = "Tech, Media & Telecom Roundup: Market Talk"
    template = (
        "Find insight on {} and more in the latest Market Talks covering the Technology, Media and Telecom sector."
    )

    def roundup(feed, article_id, companies, when):
        link = f"https://www.wsj.example/articles/tech-media-telecom-roundup-market-talk-{article_id}"
        item = replace(_item(feed, article_id, title, template.format(companies), when, when), url=link)
        return pipe.ingest(replace(item, canonical_url=canonical_url(link)), when, report)

    week, hour = timedelta(days=7), timedelta(hours=1)
    with store.transaction():
        first = roundup("wsj", "87de0d04", "Weibo, SMIC", T0)
        issues = [roundup("wsj", "30e4e9ad", "Huawei, Axiata Group", T0 + 3 * week)]
        issues.append(roundup("wsj", "5b1c2d3e", "Baidu, Sony", T0 + 3 * week + 24 * hour))  # the next day's
        refiled = roundup("wsj", "c0ffee12", "Huawei, Axiata Group", T0 + 3 * week + hour)
        syndicated = roundup("portal", "30e4e9ad", "Huawei, Axiata Group", T0 + 3 * week + 2 * hour)
    rows = {r["id"]: r for r in store.execute("SELECT * FROM items")}
    assert [rows[i]["dup_level"] for i in (first, *issues)] == ["new", "new", "new"]
    assert rows[refiled]["dup_level"] == "near-duplicate" and rows[refiled]["duplicate_of"] == issues[0]
    assert rows[syndicated]["duplicate_of"] == issues[0]


def test_a_feeds_recurring_short_headline_joins_no_story_by_itself(tmp_path):
    """A newsletter's "Morning Briefing" every day, each issue on other news, and a column's "Weekly links"
    with no text: the headline names the series, so the issues are not one story (before, each issue joined
    the last one, a chain as long as the newsletter). An issue still joins the story its text is about, and a
    longer headline again in one feed (an article, then its video) still joins its story."""
    store, pipe = _pipeline(tmp_path)
    report = CycleReport()
    issues = [
        "Harbour workers walked out at dawn over pay, halting ferry crossings to the islands for the day.",
        "The central bank held interest rates for a third month, citing slowing inflation in services.",
        "A wildfire north of the city forced hundreds of families to leave their homes overnight.",
    ]
    strike = "Harbour ferry strike halts island crossings as workers walk out over pay"
    with store.transaction():
        pipe.ingest(_item("port", "s1", strike, issues[0], T0, T0), T0, report)
        for n, text in enumerate(issues):
            when = T0 + timedelta(days=n, hours=1)
            pipe.ingest(_item("letter", f"m{n}", "Morning Briefing", text, when, when), when, report)
            pipe.ingest(_item("column", f"w{n}", "Weekly links", "", when, when), when, report)
        video = T0 + timedelta(hours=3)
        for guid, when in (("v1", T0 + timedelta(hours=2)), ("v2", video)):
            pipe.ingest(_item("tv", guid, strike, "Video: " + issues[0], when, when), when, report)
    rows = {r["guid"]: r for r in store.execute("SELECT guid, story_id, story_reason FROM items")}
    assert len({rows[f"m{n}"]["story_id"] for n in range(3)}) == 3
    assert len({rows[f"w{n}"]["story_id"] for n in range(3)}) == 3
    assert rows["m0"]["story_id"] == rows["s1"]["story_id"]  # its text is the strike's
    assert rows["v1"]["story_id"] == rows["v2"]["story_id"] == rows["s1"]["story_id"]
    assert "recurring" in rows["m1"]["story_reason"] and "tells no story" in rows["w2"]["story_reason"]
    # after a restart (the story index rebuilt from the database), the issues are indexed without their
    # headline still: another newsletter's first "Morning Briefing" (a greeting for its text) is no part of theirs
    store.close()
    store, restarted = _pipeline(tmp_path)
    when = T0 + timedelta(days=3, hours=1)
    with store.transaction():
        other = "Good morning, readers."
        restarted.ingest(_item("gazette", "g0", "Morning Briefing", other, when, when), when, report)
        restarted.ingest(_item("column", "w3", "Weekly links", "", when, when), when, report)
    stories = [r["story_id"] for r in store.execute("SELECT story_id FROM items")]
    assert len(set(stories)) == len(stories) - 3  # the strike's three other reports are still all it shares


def test_the_daemon_sees_the_items_a_poll_beside_it_stored(tmp_path):
    """`poll --once` run while the daemon runs stores items the daemon's story index has not read: the
    daemon reads them before storing its own (in its write transaction), so its next report of their story
    joins it, and a seed imported by another process counts too."""
    from email.utils import format_datetime

    from aggregator.config import load_feeds

    now = datetime.now(UTC)
    wire, paper = tmp_path / "wire.xml", tmp_path / "paper.xml"
    wire.write_bytes(
        rss(
            [
                {
                    "guid": "w1",
                    "title": "US adds 27 Chinese firms to Entity List over military ties",
                    "link": "https://wire.example/entity-list",
                    "description": "The Commerce Department added 27 Chinese companies to the Entity List on "
                    "Thursday, including two suppliers to Huawei, citing support for military modernisation.",
                    "pubDate": format_datetime(now - timedelta(hours=2), usegmt=True),
                }
            ]
        )
    )
    paper.write_bytes(rss([]))
    cfg = write_config(tmp_path, [wire.as_uri(), paper.as_uri()])
    settings = load_settings(cfg)
    daemon_store = Store(database_path(settings.data_dir))
    daemon_store.sync_feeds(load_feeds(cfg), now)
    daemon = Pipeline(daemon_store, settings, load_watchlist(cfg))  # started before the other poll
    other_store = Store(database_path(settings.data_dir))
    other = Pipeline(other_store, settings, load_watchlist(cfg))
    asyncio.run(other.poll_once(force=True))
    seed = tmp_path / "probe.txt"
    seed.write_text(
        "US reviews Alibaba cloud unit over national security risks\nPublished: Jan 19, 2022 06:19 PM\n\n"
        "The Biden administration is reviewing Alibaba Group's cloud business to determine whether it poses a "
        "risk to US national security, according to three people briefed on the matter."
    )
    other.import_seeds([seed], now)  # `seeds import` beside the daemon
    other_store.close()
    paper.write_bytes(
        rss(
            [
                {
                    "guid": "p1",
                    "title": "Washington blacklists 27 Chinese companies, Huawei suppliers among them",
                    "link": "https://paper.example/blacklist",
                    "description": "Two Huawei suppliers are among 27 Chinese companies the US put on its Entity "
                    "List, a trade blacklist, over ties to China's military.",
                    "pubDate": format_datetime(now - timedelta(hours=1), usegmt=True),
                },
                {
                    "guid": "p2",
                    "title": "Alibaba cloud business under US national security review",
                    "link": "https://paper.example/alibaba",
                    "description": "Officials are examining whether Alibaba's cloud unit could give Beijing access "
                    "to American clients' data.",
                    "pubDate": format_datetime(now - timedelta(hours=1), usegmt=True),
                },
            ]
        )
    )
    asyncio.run(daemon.poll_once(force=True))
    rows = {r["guid"]: r for r in daemon_store.execute("SELECT guid, story_id, dup_level FROM items")}
    assert rows["p1"]["dup_level"] == "new"  # another article, not a copy: the story index decided
    assert rows["p1"]["story_id"] == rows["w1"]["story_id"], dict(rows)
    seed_story = daemon_store.execute("SELECT story_id FROM seeds").fetchone()["story_id"]
    assert (rows["p2"]["dup_level"], rows["p2"]["story_id"]) == ("new", seed_story)


def test_a_short_or_missing_headline_alone_makes_no_copy(tmp_path):
    """Headlines without text in different feeds: a short one ("Morning Briefing": each outlet's own) and the
    placeholder of an entry with neither title nor text (an image post) identify no article, nor story; the
    same long headline is a copy within the story window only."""
    store, pipe = _pipeline(tmp_path)
    report = CycleReport()
    headline = "US adds 36 Chinese companies to trade blacklist over chip concerns"
    with store.transaction():
        for outlet in ("nyt", "axios", "ft"):
            for guid, title in (("brief", "Morning Briefing"), ("image", UNTITLED), ("wire", headline)):
                pipe.ingest(_item(outlet, guid, title, "", T0, T0), T0, report)
        later = T0 + timedelta(days=200)  # the same headline months later: another article
        pipe.ingest(_item("wsj", "wire", headline, "", later, later), later, report)
    rows = store.execute("SELECT guid, dup_level, story_id FROM items ORDER BY id").fetchall()
    levels = {(r["guid"], r["dup_level"]) for r in rows}
    assert levels == {("brief", "new"), ("image", "new"), ("wire", "new"), ("wire", "near-duplicate")}
    assert sum(r["dup_level"] == "near-duplicate" for r in rows) == 2  # the wire headline in axios and ft
    images = [r["story_id"] for r in rows if r["guid"] == "image"]
    assert len(set(images)) == 3  # three image posts are not one story either
    briefs = [r["story_id"] for r in rows if r["guid"] == "brief"]
    assert len(set(briefs)) == 3  # nor three outlets' "Morning Briefing": a short headline alone tells no story


def test_a_publishers_boilerplate_under_every_article_makes_no_copy(tmp_path):
    """One publisher's section feeds give every article the same paywall notice as its description. Articles
    of other feeds under other headlines are not copies of the first one with that text: the text is in two
    different articles already, so it is nobody's. A wire story's copy under its own headline still is."""
    store, pipe = _pipeline(tmp_path)
    report = CycleReport()
    notice = (
        "This article is only available to subscribers of The Daily Example. Subscribe today to get unlimited "
        "access to all of our journalism, including exclusive analysis, newsletters and the full archive, for "
        "less than the price of a coffee each week. Already a subscriber? Log in to continue reading this story."
    )
    world = [
        ("w1", "Netherlands tightens ASML export licences for China"),
        ("w2", "Local council approves new bike lanes downtown"),
    ]
    tech = [
        ("t1", "Chinese EV maker BYD opens first European plant in Hungary"),
        ("t2", "Rain expected across the region this weekend, forecasters say"),
    ]
    with store.transaction():
        for feed, entries in (("world", world), ("tech", tech)):
            for n, (guid, title) in enumerate(entries):
                when = T0 + timedelta(hours=n)
                pipe.ingest(_item(feed, guid, title, notice, when, when), when, report)
        wire = REPLY_TEXT
        pipe.ingest(
            _item("wire", "r1", "China vows to protect its firms after US chip curbs", wire, T0, T0), T0, report
        )
        pipe.ingest(_item("paper", "p1", "Beijing pledges steps to shield companies", wire, T0, T0), T0, report)
    rows = {r["guid"]: r for r in store.execute("SELECT id, guid, dup_level, duplicate_of FROM items")}
    assert [g for g, r in rows.items() if r["dup_level"] != "new"] == ["p1"], dict(rows)
    # `explain` says why an item with another article's text is no copy
    assert "dedup:         new (its text is also under other articles" in explain(store, rows["t2"]["id"])


CLIPS = [
    "Kanye's AI voice is unsettling",
    "This fast-food trend has people talking",
    "The bizarre natural phenomenon called STEVE",
    "Robot shopping carts are here",
    "Sony and Apple work together",
    "What is going on with the esports team?",
    "Costco samples upgrade has people divided",
    "Twitter is about to get stranger",
]


def _clip_blurb(n: int) -> str:
    stream, video = ("Out of Hand", "tZ3a") if n % 2 else ("Ban Week", "QTaj")  # two streams' clips, mixed
    return f"Clip from Gadget Talk Live ({stream}...) - https://youtube.com/live/{video}"


def test_a_channels_blurb_under_every_clip_joins_no_story(tmp_path, feed_server):
    """A clips channel describes every clip as "Clip from <show> (<stream>) - <link>": unrelated clips must not
    become one story by that text: not on the channel's first poll (its document shows the blurb), not one
    clip at a time later, nor after a restart (the feed's recent texts are read again). The digest does not
    show the blurb as the clip's summary."""
    url = feed_server.serve(
        "/clips.rss",
        rss(
            [
                {
                    "guid": f"c{n}",
                    "title": title,
                    "link": f"https://youtube.example/watch?v=c{n}",
                    "description": _clip_blurb(n),
                    "pubDate": format_datetime(T0 - timedelta(hours=n)),
                }
                for n, title in enumerate(CLIPS[:6])
            ],
            title="Gadget Talk Clips",
        ),
    )
    cfg = write_config(tmp_path, [url])
    store = Store(database_path(load_settings(cfg).data_dir))
    store.sync_feeds(load_feeds(cfg), T0)
    asyncio.run(Pipeline(store, load_settings(cfg), load_watchlist(cfg), now=T0).poll_once(force=True))
    rows = {r["guid"]: r for r in store.execute("SELECT id, guid, story_id, dup_reason FROM items")}
    assert len({r["story_id"] for r in rows.values()}) == 6, [dict(r) for r in rows.values()]
    # the first of each stream's clips by its blurb; the others may be found by their copies too (BOILERPLATE)
    assert rows["c0"]["dup_reason"] == rows["c1"]["dup_reason"] == FEED_BLURB
    assert all(r["dup_reason"] in (FEED_BLURB, BOILERPLATE) for r in rows.values())
    assert f"dedup:         new ({FEED_BLURB})" in explain(store, rows["c1"]["id"])
    summary = store.execute("SELECT *, ? AS dup_reason FROM items WHERE guid = 'c1'", (FEED_BLURB,)).fetchone()
    assert summary["summary"] == _clip_blurb(1) and shown_summary(summary) == ""
    # later clips of new streams (a text never seen: no copy of another) one at a time, each after a restart:
    # the new pipeline reads the channel's recent texts again
    report = CycleReport()
    for n in (6, 7):
        pipe = Pipeline(store, load_settings(cfg), load_watchlist(cfg), now=T0)
        when = T0 + timedelta(hours=n)
        blurb = f"Clip from Gadget Talk Live (Finale {n}...) - https://youtube.com/live/Zx{n}"
        with store.transaction():
            item_id = pipe.ingest(
                replace(_item("clips", f"c{n}", CLIPS[n], blurb, when, when), feed_url=url), when, report
            )
        row = store.execute("SELECT story_id, dup_reason FROM items WHERE id = ?", (item_id,)).fetchone()
        assert row["dup_reason"] == FEED_BLURB and row["story_id"] not in {r["story_id"] for r in rows.values()}


def test_article_names_in_addresses():
    """An address names its article by the site's number for it (seven or more digits, not a date) at the end of
    its last segment or before a slug, or by a slug of three or more words ending in an id or a date; a slug
    alone, a front page, a short number do not."""
    named = {
        "https://www.wsj.com/tech/tiktok-seeks-montana-lifeline-as-state-ban-looms-cec4bab5?mod=rss": (
            "wsj.com/tiktok-seeks-montana-lifeline-as-state-ban-looms-cec4bab5"
        ),
        "https://www.reuters.com/technology/us-reviewing-alibabas-cloud-business-2022-01-18/": (
            "reuters.com/us-reviewing-alibabas-cloud-business-2022-01-18"
        ),
        # the site's number names the article whatever its slug says (a slug follows an edited headline)
        "https://www.channelnewsasia.com/business/china-bans-export-rare-earths-processing-technologies-4004411": (
            "channelnewsasia.com#4004411"
        ),
        "https://www.computerworld.com/article/3704610/us-fuels-tech-trade-war-with-china.html": (
            "computerworld.com#3704610"
        ),
        "https://timesofindia.indiatimes.com/world/us/curb-on-graphite-export/articleshow/104611803.cms": (
            "timesofindia.indiatimes.com#104611803"
        ),
        "https://www.engadget.com/utah-sues-tiktok-over-child-safety-issues-085516390.html": "engadget.com#085516390",
        "https://www.bbc.co.uk/news/business-67153669": "bbc.co.uk#67153669",
        # an id of letters and digits only with its slug: its last word alone may be a product's name
        "https://example.org/news/nvidia-bans-sales-of-rtx4090": "example.org/nvidia-bans-sales-of-rtx4090",
    }
    for url, name in named.items():
        assert article_slug(canonical_url(url)) == name
    for url in (
        "https://www.nytimes.com/2023/05/17/business/montana-tiktok-ban.html",
        "https://example.org/best-phones-of-2023",
        "https://example.org/a/323761",  # six digits: a year and month as often as an id
        "https://example.org/2023/10/17/20231017/one-two-three",  # a date, not an id
        "https://example.org/news/chips-20231017",
        "https://example.org/",
        "not a url",
    ):
        assert article_slug(canonical_url(url)) is None, url


def test_an_article_its_site_files_at_another_address_is_the_same_item(tmp_path, feed_server):
    """A site that moves an article to another section lists it again under the new address, often with its
    first sentence for a headline: the same article, not a second report; whichever of the two is read first,
    the one published first is the original, also after a restart. A slug without the site's id under another
    date stays apart; so does the same article filed again long after the story window."""
    slug = "tiktok-seeks-montana-lifeline-as-state-ban-looms-cec4bab5"
    text = "The social-media platform sued the state to stop a law that would bar the app for residents."
    first = {
        "guid": "w1",
        "title": "TikTok Seeks Montana Lifeline as State Ban Looms",
        "link": f"https://www.wsj.example/articles/{slug}?mod=rss_Technology",
        "description": text,
        "pubDate": format_datetime(T0),
    }
    moved = {
        "guid": "w2",
        "title": "TikTok tried to persuade a federal judge to block Montana's ban of the social-media app.",
        "link": f"https://www.wsj.example/tech/{slug}",
        "description": "TikTok tried to persuade a federal judge to block Montana's ban of the social-media app.",
        "pubDate": format_datetime(T0 + timedelta(hours=15)),
    }
    montana = [
        {
            "guid": "n1",
            "title": "Montana Governor Bans TikTok in the State",
            "link": "https://www.nyt.example/2026/11/25/business/montana-tiktok-ban.html",
            "description": "The governor signed a law banning the app from the state from January.",
            "pubDate": format_datetime(T0 - timedelta(hours=30)),
        },
        {
            "guid": "n2",
            "title": "How Montana's Attorney General Made Banning TikTok a Priority",
            "link": "https://www.nyt.example/2026/11/26/business/media/montana-tiktok-ban.html",
            "description": "Austin Knudsen has spent years pressing the case against the video app in court.",
            "pubDate": format_datetime(T0 - timedelta(hours=2)),
        },
    ]
    rare = {
        "guid": "c1",
        "title": "China bans export of rare earths processing technologies",
        "link": "https://www.cna.example/business/china-bans-export-rare-earths-processing-technologies-4004411",
        "description": "China banned the export of technology to extract and separate rare earths on Thursday.",
        "pubDate": format_datetime(T0),
    }
    # the headline edited, and the slug with it; the site's number for the article stays
    rare_edited = {
        **rare,
        "guid": "c2",
        "title": "China bans export of rare earth processing tech over national security",
        "link": "https://www.cna.example/business/china-bans-export-rare-earth-processing-tech-4004411",
        "pubDate": format_datetime(T0 + timedelta(hours=2)),
    }
    wsj = feed_server.serve("/wsj.rss", rss([first]))
    nyt = feed_server.serve("/nyt.rss", rss([*montana, rare]))
    both = feed_server.serve("/both.rss", rss([moved, {**first, "guid": "b1"}]))  # the newer address listed first
    cfg = write_config(tmp_path / "one", [wsj, nyt])
    store = Store(database_path(load_settings(cfg).data_dir))
    store.sync_feeds(load_feeds(cfg), T0)
    pipe = Pipeline(store, load_settings(cfg), load_watchlist(cfg), now=T0)
    asyncio.run(pipe.poll_once(force=True))
    feed_server.serve("/wsj.rss", rss([moved, first]))
    feed_server.serve("/nyt.rss", rss([rare_edited, *montana, rare]))
    pipe = Pipeline(store, load_settings(cfg), load_watchlist(cfg), now=T0)  # a restart: the index read again
    report = asyncio.run(pipe.poll_once(force=True))
    assert (report.new_items, report.duplicates) == (2, 2)
    rows = {r["guid"]: r for r in store.iter_items()}
    assert rows["w2"]["dup_level"] == "same-item" and rows["w2"]["duplicate_of"] == rows["w1"]["id"]
    assert rows["w2"]["dup_reason"] == filed_elsewhere(f"https://wsj.example/articles/{slug}")
    assert rows["w2"]["story_id"] == rows["w1"]["story_id"]
    assert "its site filed it at another address" in explain(store, rows["w2"]["id"])
    assert rows["n1"]["dup_level"] == rows["n2"]["dup_level"] == "new"
    assert rows["c2"]["duplicate_of"] == rows["c1"]["id"] and "filed it at another address" in rows["c2"]["dup_reason"]
    entries = [
        e
        for s in delivery.compose(store, pipe.settings, pipe.watchlist, None, T0 + timedelta(days=1)).sections
        for e in s.entries
    ]
    assert not any(e.title.startswith("TikTok tried") for e in entries)
    assert sum(e.title == first["title"] for e in entries) <= 1
    store.close()

    cfg = write_config(tmp_path / "two", [both])
    store = Store(database_path(load_settings(cfg).data_dir))
    store.sync_feeds(load_feeds(cfg), T0)
    asyncio.run(Pipeline(store, load_settings(cfg), load_watchlist(cfg), now=T0).poll_once(force=True))
    rows = {r["guid"]: r for r in store.iter_items()}
    assert rows["b1"]["dup_level"] == "new" and rows["w2"]["duplicate_of"] == rows["b1"]["id"]
    assert rows["w2"]["dup_reason"] == filed_elsewhere(f"https://wsj.example/articles/{slug}")
    # a month later, under yet another address: the original is out of the story window (recent articles only)
    late = T0 + timedelta(days=30)
    feed_server.serve(
        "/both.rss",
        rss(
            [
                {
                    **moved,
                    "guid": "w3",
                    "link": f"https://www.wsj.example/business/{slug}",
                    "pubDate": format_datetime(late),
                }
            ]
        ),
    )
    asyncio.run(Pipeline(store, load_settings(cfg), load_watchlist(cfg), now=late).poll_once(force=True, now=late))
    row = store.execute("SELECT dup_level, dup_reason FROM items WHERE guid = 'w3'").fetchone()
    assert row["dup_level"] == "new" and "another address" not in (row["dup_reason"] or "")
    store.close()


def test_a_desk_whose_summaries_share_words_still_joins_stories(tmp_path):
    """A news desk whose every summary speaks of China, chips and export rules is compared as usual (its
    texts are not a blurb): another outlet's report of one of its events joins the desk's story."""
    store, pipe = _pipeline(tmp_path)
    report = CycleReport()
    desk = [
        "Nvidia designs a new chip for China to stay within export rules",
        "ASML says Dutch licences will limit its China sales of chip tools",
        "China's chip imports fall for a fifth month",
        "Huawei phone's chip puzzles analysts in China",
        "SMIC shares jump on China chip subsidy hopes",
    ]
    with store.transaction():
        for n, title in enumerate(desk):
            when = T0 + timedelta(hours=n)
            text = f"{title}. Reporting on China, chips and the export rules from our technology desk in Beijing."
            pipe.ingest(_item("desk", f"d{n}", title, text, when, when), when, report)
        when = T0 + timedelta(hours=6)
        wire = _item(
            "wire",
            "w1",
            "SMIC shares surge as traders bet on new China chip subsidies",
            "Shares of SMIC, China's biggest chipmaker, jumped on hopes of fresh state subsidies for chips.",
            when,
            when,
        )
        pipe.ingest(wire, when, report)
    rows = {r["guid"]: r for r in store.execute("SELECT guid, story_id, dup_reason FROM items")}
    assert rows["w1"]["story_id"] == rows["d4"]["story_id"]
    assert not any(r["dup_reason"] == FEED_BLURB for r in rows.values())


HEARING_DAY = [  # guid, headline, summary: the first, a preview, has few words in common with any one report
    (
        "early",
        "TikTok boss Chew heads to Washington",
        "The app's chief executive will face Congress on Thursday about its links to Beijing and the safety of "
        "young users.",
    ),
    (
        "grill",
        "Lawmakers grill TikTok CEO Shou Chew over China ties",
        "Members of the House energy and commerce committee pressed Shou Chew for five hours on data security, "
        "ByteDance and China.",
    ),
    (
        "hours",
        "House committee grills TikTok's Shou Chew for five hours",
        "The House energy and commerce committee questioned TikTok's Shou Chew on ByteDance, China and the safety "
        "of young users.",
    ),
]


def test_a_report_that_came_before_its_story_joins_it_once_the_story_has_grown(tmp_path):
    """The first report of an event was compared only with what there was then, and stood alone; when a later
    report joins the story that grew without it and is close to it, it is scored against the story as it is
    now and joins it (on a stricter bar than a new report's). Its own story is gone; `explain` tells why, and
    a report whose closest story that was names where that report is now."""
    store, pipe = _pipeline(tmp_path)
    report = CycleReport()
    ids = {}
    with store.transaction():
        for n in range(40):  # document frequencies of ordinary news
            when = T0 - timedelta(hours=30) + timedelta(minutes=n)
            text = f"The council of district {n} voted on the budget for schools and roads."
            pipe.ingest(_item("bg", f"bg{n}", f"Council {n} votes on school budget", text, when, when), when, report)
        for n, (guid, title, text) in enumerate(HEARING_DAY):
            when = T0 + timedelta(hours=2 * n)
            ids[guid] = pipe.ingest(_item(f"outlet{n}", guid, title, text, when, when), when, report)
            if guid == "grill":  # the second report starts a story of its own: the preview is not close enough
                first, second = store.item(ids["early"]), store.item(ids["grill"])
                assert first["story_id"] != second["story_id"]
                assert second["story_reason"].startswith(
                    f"first item of the story; closest: story #{first['story_id']}"
                )
    early, grill, hours = (store.item(ids[k]) for k in ("early", "grill", "hours"))
    assert early["story_id"] == grill["story_id"] == hours["story_id"]
    assert store.story(first["story_id"]) is None  # the preview's own story, left empty, is gone
    assert early["story_reason"].startswith("same story as item #")
    assert early["story_reason"].endswith(
        f"it came first and stood alone, and joined when item #{ids['hours']} showed the story had grown"
    )
    assert early["story_similarity"] >= 0.2 * 1.35
    text = explain(store, ids["early"])
    assert f"why:           {early['story_reason']}" in text and f"* #{ids['early']}" in text
    text = explain(store, ids["grill"])
    assert (
        f"closest:       #{ids['early']} https://outlet0.example/feed: TikTok boss Chew heads to Washington "
        "(since joined to this story)" in text
    )
    # a restarted daemon's index, rebuilt from the database, has one story of three
    again = Pipeline(store, pipe.settings, pipe.watchlist, now=T0 + timedelta(hours=6))
    assert again.stories.story_size[grill["story_id"]] == 3 and first["story_id"] not in again.stories.story_size
    store.close()


def test_a_report_that_stood_alone_stays_alone_when_the_grown_story_is_not_its_own(tmp_path):
    """Only a report still alone in its story moves, and only into a story it scores with now: a report of
    another event that a new member of a story resembles a little stays where it is, and so does one whose
    story has a copy of it (no longer alone)."""
    store, pipe = _pipeline(tmp_path)
    report = CycleReport()
    ids = {}
    other = (
        "ferry",
        "TikTok creators rally against Montana ban",
        "Creators gathered in Helena against the state's "
        "TikTok ban, the first in the US, which the governor signed this week.",
    )
    with store.transaction():
        for n in range(40):
            when = T0 - timedelta(hours=30) + timedelta(minutes=n)
            text = f"The council of district {n} voted on the budget for schools and roads."
            pipe.ingest(_item("bg", f"bg{n}", f"Council {n} votes on school budget", text, when, when), when, report)
        for n, (guid, title, text) in enumerate([other, *HEARING_DAY[1:]]):
            when = T0 + timedelta(hours=2 * n)
            ids[guid] = pipe.ingest(_item(f"outlet{n}", guid, title, text, when, when), when, report)
    rows = {k: store.item(v) for k, v in ids.items()}
    assert rows["grill"]["story_id"] == rows["hours"]["story_id"] != rows["ferry"]["story_id"]
    assert store.story(rows["ferry"]["story_id"]) is not None
    # the store refuses to move a report that is not alone in its story, whatever the index says
    assert not store.join_story(ids["grill"], rows["ferry"]["story_id"], 0.5, "test")
    assert store.item(ids["grill"])["story_id"] == rows["grill"]["story_id"]
    store.close()


def test_pruning_forgets_old_documents_and_keeps_matching_the_rest():
    """Documents past the horizon leave the index; once their postings are compacted the vocabulary holds
    the live documents' terms only, and the live documents match as before, with the same shared terms."""
    from aggregator.dedup import StoryIndex, story_terms

    index = StoryIndex(timedelta(hours=72))
    old = T0 - timedelta(days=10)
    for n in range(200):  # last week's news, all about other things
        index.add(n + 1, n + 1, old, story_terms(f"Harbour ferry strike day {n} talks stall over wages", ""))
    index.add(500, 77, T0, story_terms("Dutch government restricts exports of ASML lithography machines", ""))
    query = story_terms("Netherlands curbs ASML lithography machine exports", "")
    before = index.best_story(query, T0)
    index.prune(T0)
    after = index.best_story(query, T0)
    assert list(index.docs) == [500]
    assert "ferry" not in index.term_id and "ferry" not in index.postings
    assert index.term_of[index.term_id["asml"]] == "asml"
    assert before is not None and after is not None
    assert (after.story_id, after.shared) == (before.story_id, before.shared) == (77, before.shared)
    assert "asml" in after.shared and after.similarity == before.similarity
    assert index.best_story(story_terms("Harbour ferry strike talks stall", ""), T0) is None


def test_chinese_copies_stories_and_topics(tmp_path):
    """Chinese is written without spaces: a syndicated copy under another headline is found, another report
    of the event joins its story, and a watchlist topic written in Chinese matches inside the text."""
    topic = '[[topic]]\nid = "huawei-zh"\nname = "华为"\nquery = "华为 AND (实体清单 OR 禁令 OR 出口管制)"\n'
    cfg = write_config(tmp_path, [], watchlist=topic)
    settings = load_settings(cfg)
    store = Store(database_path(settings.data_dir))
    pipe = Pipeline(store, settings, load_watchlist(cfg))
    text = (
        "美国商务部周五宣布，将华为技术有限公司及其在二十多个国家的六十八家关联企业列入实体清单，"
        "美国企业向这些公司出售技术须获得许可证。中国外交部表示坚决反对，将采取必要措施维护中国企业的正当权益。"
    )
    other = "中国商务部周六回应称，美方将华为列入实体清单是滥用出口管制措施，中方将坚决维护中国企业的合法权益。"
    report = CycleReport()
    background = [  # the rest of the day's news: what makes a shared word rare or common
        ("北京明天有雨", "北京气象台预报明天有中到大雨，气温下降五度，市民出行请携带雨具。"),
        ("国足客场战平对手", "中国男足周五在客场与对手战成一比一平，积分暂列小组第三。"),
        ("央行下调存款准备金率", "中国人民银行宣布下调金融机构存款准备金率零点五个百分点，释放长期资金。"),
        ("上海车展开幕", "第二十届上海国际汽车工业展览会开幕，多家企业发布新能源车型。"),
        ("春运火车票开售", "铁路部门表示春运火车票将于下周开始发售，旅客可通过官方网站购票。"),
        ("美国商务部发布就业数据", "美国商务部发布的数据显示，上月非农就业人数增加二十万人，失业率持平。"),
    ]
    with store.transaction():
        for n, (title, body) in enumerate(background):
            when = T0 - timedelta(hours=10 - n)
            pipe.ingest(_item("bg", f"b{n}", title, body, when, when), when, report)
        wire = pipe.ingest(_item("xinhua", "x1", "美国将华为列入实体清单", text, T0, T0), T0, report)
        copy = pipe.ingest(_item("paper", "p1", "华为被美方列入出口管制实体清单", text, T0 + timedelta(hours=2),
                                 T0 + timedelta(hours=2)), T0 + timedelta(hours=2), report)  # fmt: skip
        reply = pipe.ingest(_item("cctv", "c1", "商务部回应美方将华为列入实体清单", other, T0 + timedelta(hours=20),
                                  T0 + timedelta(hours=20)), T0 + timedelta(hours=20), report)  # fmt: skip
    assert store.item(copy)["duplicate_of"] == wire and store.item(copy)["dup_level"] == "near-duplicate"
    assert store.item(reply)["dup_level"] == "new" and store.item(reply)["story_id"] == store.item(wire)["story_id"]
    assert len({r["story_id"] for r in store.execute("SELECT story_id FROM items")}) == len(background) + 1
    tagged = {r["item_id"] for r in store.execute("SELECT item_id FROM item_topics WHERE topic = 'huawei-zh'")}
    assert tagged == {wire, copy, reply}
    why = json.loads(store.execute("SELECT matched FROM item_topics WHERE item_id = ?", (wire,)).fetchone()[0])
    assert 'title:"华为"' in why and 'title:"实体清单"' in why, why  # as the query wrote them, without spaces


def test_a_short_excerpt_under_an_edited_headline_is_a_copy_under_an_unrelated_one_is_not():
    """Twenty words of one article's opening under an edited headline (a syndicated copy, a seed's lede in
    another feed) make a copy; the same twenty words under an unrelated headline (a reused caption or
    boilerplate) do not: about 30 shared words are needed then."""
    from aggregator.dedup import NearCandidate, shingles

    title = "Alibaba Cloud is on US radar as Washington targets Chinese high-tech sector"
    body = (
        "Alibaba Cloud, the cloud computing division of Alibaba Group, is now reportedly on the US government's "
        "radar as the latter once again cited the alleged national security risk in its attempt. " * 2
    )
    excerpt = " ".join(body.split()[:22])
    cand = NearCandidate(None, 4, title, frozenset(shingles(title, body)), 9)

    def placed(new_title):
        return decided_against(cand, new_title, excerpt)

    copy = placed("Scrutiny of Alibaba cloud unit grows as Washington targets tech")
    assert copy.level == "near-duplicate" and copy.duplicate_of_seed == 4
    assert placed("Weekend sport: the scores and the highlights").level == "new"


def test_a_new_install_groups_a_report_with_the_seed_of_its_event():
    """On a first poll the index holds a handful of documents: every word is in most of them, and plain
    IDF would call "alibaba" and "cloud" common. With the prior of PRIOR_DOCS documents the words the two
    reports share still count, and a wire report of the seed's event joins the seed's story."""
    from aggregator.dedup import StoryIndex, Thresholds, story_terms
    from aggregator.seeds import read_seed

    seed = read_seed(ROOT / "seeds" / "alibaba-cloud-us-probe-2022-01-19.txt")
    th = Thresholds()
    index = StoryIndex(th.window)
    index.add(-1, 1, None, story_terms(seed.title, seed.text))
    index.count(story_terms(seed.title, ""))  # the outlet's own entry and a copy, both counted
    index.count(story_terms("Alibaba Cloud on US radar as Washington targets Chinese tech", ""))
    report = story_terms(
        "US reviewing Alibaba cloud unit over national security risks - sources",
        "The Biden administration is reviewing Alibaba Group Holding Ltd's cloud business to determine whether "
        "it poses a risk to U.S. national security, according to three people briefed on the matter.",
    )
    match = index.best_story(report, T0)
    assert match is not None and match.story_id == 1 and match.score >= th.story, match
    assert {"alibaba", "cloud", "security"} <= set(match.shared)


def test_an_item_with_a_whole_article_keeps_the_keys_of_its_opening_only(tmp_path):
    """A feed that carries whole articles stores candidate keys for the first BAND_WORDS words, not for all
    of them; copies of the opening are found whichever comes first, the whole article or the excerpt."""
    from aggregator.dedup import BAND_WORDS

    store, pipe = _pipeline(tmp_path)
    report = CycleReport()
    vocab = [f"w{n}x" for n in range(3000)]
    article = " ".join(vocab[(n * 7919) % 3000] for n in range(4 * BAND_WORDS))  # no 3-word run repeats
    opening = " ".join(article.split()[:60])
    title = "Commerce widens chip tool rules to cover more Chinese fabs"
    with store.transaction():
        whole = pipe.ingest(_item("blog", "a1", title, article, T0, T0), T0, report)
        copy = pipe.ingest(_item("site", "c1", "Chip tool rules widen", opening, T0, T0), T0, report)
        first = pipe.ingest(_item("wire", "e1", "US chip tool rules cover more fabs", opening, T0, T0), T0, report)
        later = pipe.ingest(_item("blog2", "a2", title, article, T0, T0), T0, report)
    keys = dict(store.execute("SELECT item_id, count(*) FROM item_bands GROUP BY item_id").fetchall())
    assert keys[whole] <= BAND_WORDS // 8 + 40 < len(article.split()) // 8  # about 1 in 8 shingles, title too
    rows = {r["id"]: r for r in store.execute("SELECT id, duplicate_of FROM items")}
    assert rows[copy]["duplicate_of"] == whole
    assert rows[later]["duplicate_of"] in (whole, first)


def test_candidate_keys_stay_those_earlier_releases_stored():
    """Near-duplicate keys are persisted (item_bands): a faster hash that changed their values would
    leave every stored item unfindable by its copies. These are blake2b's 8-byte digests, as stored."""
    from aggregator import dedup

    title = "US adds Huawei to the Entity List"
    assert sorted(dedup.shingles(title)) == [
        -7473015773397305992,
        1085440529399287695,
        1093362972124302517,
        2086450937267008545,
        2115678346411695616,
    ]
    assert dedup.title_key(title) == 1236220351594380833


def _seeded_index(dated: datetime | None):
    """A story index as the pipeline builds it, with one seed (story 7) and news sharing its subject's words."""
    from aggregator.dedup import FOLLOW_UP, StoryIndex, Thresholds, story_terms

    th = Thresholds()
    index = StoryIndex(th.window, follow_up=th.story * FOLLOW_UP)
    for n in range(60):
        title = (
            f"Council {n} budget vote on schools"
            if n % 2
            else f"US and Chinese officials {n} talk tech and security risks"
        )
        index.add(n + 1, 10_000 + n, T0 - timedelta(hours=2), story_terms(title, ""))
    seed = story_terms(
        "US reviews Alibaba's cloud unit over national security risks",
        "The administration is reviewing Alibaba's cloud business to determine whether it poses a risk to "
        "national security, people briefed on the matter said.",
    )
    index.add(-1, 7, None, seed)
    index.date_seed(-1, dated)
    return index


def test_a_seed_is_a_report_of_its_date_and_later_is_followed_up_only_by_a_close_report():
    """A seed kept for months must not gather every later report that shares its subject's words: within the
    story window of its date it is compared as any report of that time; later (or undated), a report follows
    its story up only when it is clearly about the same thing (FOLLOW_UP x the story threshold)."""
    from aggregator.dedup import FOLLOW_UP, Thresholds, story_terms

    th = Thresholds()
    loose = story_terms("Officials look at Alibaba services", "The company's cloud is among them.")
    close = story_terms("Alibaba cloud unit under US national security review", "")
    soon, later = T0 + timedelta(hours=2), T0 + timedelta(days=30)
    m = _seeded_index(T0).best_story(loose, soon)
    assert m is not None and m.story_id == 7 and th.story <= m.score < th.story * FOLLOW_UP, m
    for index in (_seeded_index(T0), _seeded_index(None)):
        m = index.best_story(loose, later)
        assert m is None or m.story_id != 7, m
        m = index.best_story(close, later)
        assert m is not None and m.story_id == 7 and m.doc.key == -1 and m.score >= th.story * FOLLOW_UP, m
    # a report from long before the seed's date does not follow it up, however close
    m = _seeded_index(T0).best_story(close, T0 - timedelta(days=30))
    assert m is None or m.story_id != 7, m


def test_a_seed_dated_without_a_time_of_day_is_that_whole_day():
    """A line "Published: 3 Jul 2023" reads as midnight: a report of that evening is of the seed's time, not 20
    hours after it (the time penalty would otherwise keep the day's own reports out of the seed's story)."""
    from aggregator.dedup import Thresholds, story_terms

    th = Thresholds()
    loose = story_terms("Officials look at Alibaba services", "The company's cloud is among them.")
    close = story_terms("Alibaba cloud unit under US national security review", "")
    day = T0.replace(hour=0)
    evening = day + timedelta(hours=20)
    same_day = _seeded_index(day).best_story(loose, evening)
    assert same_day is not None and same_day.story_id == 7 and same_day.score >= th.story, same_day
    timed = _seeded_index(day + timedelta(minutes=1)).best_story(loose, evening)  # a time was given: 20 h apart
    assert timed is None or timed.story_id != 7 or timed.score < same_day.score, timed
    # a follow-up's similarity is not lowered by time, in the window or after it: a later report never needs more
    for when in (day + timedelta(hours=50), day + timedelta(days=30)):
        m = _seeded_index(day).best_story(close, when)
        assert m is not None and m.story_id == 7 and m.score == _seeded_index(day).best_story(close, evening).score


def test_article_names_keep_the_first_item_of_each_name_and_forget_the_pruned():
    """The story index's article names (`Pipeline._filed_elsewhere`) in about 15 bytes each: a name's item is
    found, the first item with a name keeps it, a pruned item's name is forgotten, and names sharing a bucket
    (the same low bits) stay apart."""
    names = dedup.ArticleNames()
    keys = [dedup.article_name_key(f"site.example/us-adds-{n}-chinese-firms-{n:08x}") for n in range(3000)]
    for n, key in enumerate(keys):
        names.add(key, 10_000 + n)
    names.add(keys[0], 99)  # a later item under a known name: the first keeps it
    same_bucket = [keys[0] ^ (1 << 20), keys[0] ^ (1 << 40)]  # low bits as keys[0]'s, other tags
    for n, key in enumerate(same_bucket):
        names.add(key, 20_000 + n)
    assert len(names) == 3002
    assert [names.get(k) for k in keys[:3]] == [10_000, 10_001, 10_002]
    assert [names.get(k) for k in same_bucket] == [20_000, 20_001]
    assert names.get(dedup.article_name_key("site.example/never-seen-story-abc123")) is None
    names.keep({10_000 + n for n in range(0, 3000, 2)} | {20_001})
    assert len(names) == 1501
    assert (names.get(keys[0]), names.get(keys[1]), names.get(same_bucket[0]), names.get(same_bucket[1])) == (
        10_000,
        None,
        None,
        20_001,
    )


def test_the_words_cache_holds_a_bounded_number_of_words_whatever_the_texts():
    """Feeds that carry whole articles (1,500 words each) kept 26 MB of tokens in a cache of 256 texts: the
    cache also stops at WORDS_BUDGET words, the least recently used going first, and gives the same words."""
    long_texts = [" ".join(f"word{n}x{i}" for i in range(1500)) for n in range(100)]
    first = dedup.words(long_texts[0])
    for text in long_texts:
        dedup.words(text)
    assert dedup._words_held[0] == sum(map(len, dedup._words_cache.values())) <= dedup.WORDS_BUDGET
    assert len(dedup._words_cache) <= dedup.WORDS_CACHE
    assert long_texts[0] not in dedup._words_cache and dedup.words(long_texts[0]) == first  # tokenised again
    assert dedup.words("U.S. curbs on China's chips") == ("us", "curbs", "on", "china", "chips")
    assert "U.S. curbs on China's chips" in dedup._words_cache


def test_common_phrase_keys_read_last_give_the_same_candidates(tmp_path):
    """Keys in many items (a common phrase's) are read only for the items the other keys found: the answer
    is the one reading every key gives, for any threshold, most shared first, the latest first among equals."""
    import random

    from aggregator.store import COMMON_BAND

    rng = random.Random(7)
    path = tmp_path / "bands.sqlite3"
    store = Store(path)
    vocabulary = list(range(1, 400))
    weights = [1 / rank for rank in range(1, 400)]  # Zipf: the first few keys are in most items
    store.conn.execute("BEGIN")
    for item_id in range(1, 601):
        store.add_bands(item_id, sorted(set(rng.choices(vocabulary, weights, k=rng.randint(3, 14)))))
    store.add_bands(-1, [1, 2, 3, 50, 51])  # a seed
    store.conn.execute("COMMIT")
    queries = [
        (sorted(set(rng.choices(vocabulary, weights, k=rng.randint(1, 14)))), rng.randint(1, 6)) for _ in range(300)
    ]
    plain = [store.band_candidates(keys, min_shared=need) for keys, need in queries]
    store.count_common_bands()
    common = set(store._common_bands)
    assert len(common) >= 5 and all(n > COMMON_BAND for n in store._common_bands.values())
    # the path that reads common keys last is taken, with and without its look-up by item
    split = [(keys, need) for keys, need in queries if 0 < len(common.intersection(keys)) < need]
    assert len(split) >= 20
    assert [store.band_candidates(keys, min_shared=need) for keys, need in queries] == plain
    assert any(len(ids) == 10 for ids in plain)  # the limit cut ties: the same ones are kept
    other = Store(path)  # and the answer is what SQL gives, in the order stated
    for (keys, need), ids in zip(queries, plain, strict=True):
        marks = ",".join("?" * len(keys))
        shared = dict(
            other.execute(
                f"SELECT item_id, count(*) FROM item_bands WHERE key IN ({marks}) GROUP BY item_id", keys
            ).fetchall()
        )
        assert ids == sorted((i for i, n in shared.items() if n >= need), key=lambda i: (-shared[i], -i))[:10]


def test_the_common_keys_are_counted_at_start_and_again_as_keys_accumulate(tmp_path):
    from aggregator.store import COMMON_BAND, RECOUNT_BANDS

    feed = tmp_path / "wire.xml"
    feed.write_bytes(
        rss([{"guid": "w1", "title": "US adds 27 Chinese firms to Entity List", "description": WIRE_TEXT}])
    )
    cfg = write_config(tmp_path, [feed.as_uri()])
    settings = load_settings(cfg)
    store = Store(database_path(settings.data_dir))
    store.sync_feeds(load_feeds(cfg), datetime.now(UTC))
    pipe = Pipeline(store, settings, load_watchlist(cfg))
    assert store.bands_since_count == 0 and not store._common_bands  # counted when the index was built
    store.conn.execute("BEGIN")
    for item_id in range(1, COMMON_BAND + 3):
        store.add_bands(item_id, [42, 1000 + item_id])
    store.add_bands(-5, range(10**6, 10**6 + RECOUNT_BANDS))  # a long seed's keys
    store.conn.execute("COMMIT")
    assert store.bands_since_count == RECOUNT_BANDS + 2 * (COMMON_BAND + 2)
    assert 42 not in store._common_bands  # not counted yet: it is read with the others
    assert store.band_candidates([42, 1001, 1002], min_shared=2) == [2, 1]
    asyncio.run(pipe.poll_once(force=True))  # a cycle counts them again before it stores anything
    assert store._common_bands[42] == COMMON_BAND + 2
    assert 0 < store.bands_since_count < 100  # the new item's keys since
    assert store.band_candidates([42, 1001, 1002], min_shared=2) == [2, 1]


def test_many_items_found_by_the_rarer_keys_read_the_common_keys_rows_instead_of_naming_each(tmp_path):
    """Over 500 items found by the other keys are not named one by one in a statement (SQLite caps its
    variables): the common keys' rows are read, and the answer is the same."""
    store = Store(tmp_path / "bands.sqlite3")
    store.conn.execute("BEGIN")
    for item_id in range(1, 3001):
        rare = [100 + (item_id - 1) // 30] if item_id <= 600 else []  # 20 keys, each in 30 items
        store.add_bands(item_id, [1, 2, *rare])  # keys 1 and 2: in every item
    store.conn.execute("COMMIT")
    store.count_common_bands()
    assert set(store._common_bands) == {1, 2}
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    keys = [1, 2, *range(100, 120)]
    found = store.band_candidates(keys, min_shared=3, limit=600)
    store.conn.set_trace_callback(None)
    assert found == list(range(600, 0, -1))  # all 600 share 3 keys: the latest first
    assert all(s.count(",") < 500 for s in statements)
    assert any(s.endswith("WHERE key IN (1,2) GROUP BY item_id") for s in statements)  # the common keys' rows
