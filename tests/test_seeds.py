"""Seed articles: the three formats, idempotent import, tagging and dedup against them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from conftest import ROOT, rss, write_config

from aggregator.config import load_feeds, load_settings
from aggregator.errors import SeedError
from aggregator.models import Item
from aggregator.normalise import canonical_url, content_hash
from aggregator.poll import CycleReport, Pipeline
from aggregator.seeds import read_seed
from aggregator.store import Store, database_path
from aggregator.watchlist import load_watchlist

SEED = ROOT / "seeds" / "alibaba-cloud-us-probe-2022-01-19.txt"


def pipeline(tmp_path, feeds=()):
    cfg = write_config(tmp_path, list(feeds))
    settings = load_settings(cfg)
    store = Store(database_path(settings.data_dir))
    return store, Pipeline(store, settings, load_watchlist(cfg))


def test_the_seed_article_is_read():
    seed = read_seed(SEED)
    assert seed.title.startswith("Alibaba Cloud is on US")
    assert seed.published == datetime(2022, 1, 19, 18, 19, tzinfo=UTC)
    assert "Clean Network" in seed.text and not seed.text.startswith("Published")


def test_the_seed_matches_shared_copy_when_present():
    shared = ROOT.parent / "shared" / "seeds" / SEED.name
    if shared.exists():
        assert shared.read_text(encoding="utf-8") == SEED.read_text(encoding="utf-8")


def test_markdown_and_html_seeds(tmp_path):
    md = tmp_path / "a.md"
    md.write_text(
        '---\ntitle: "TikTok ban bill advances"\npublished: 2024-03-13\nurl: https://example.org/t\n---\n'
        "The House passed a bill forcing **ByteDance** to [divest](https://x) TikTok.\n"
    )
    s = read_seed(md)
    assert (s.title, s.url, s.published.date().isoformat()) == (
        "TikTok ban bill advances",
        "https://example.org/t",
        "2024-03-13",
    )
    assert "ByteDance to divest TikTok" in s.text
    # clipped without front matter: the byline and date under the heading, in bold or italics
    md.write_text("# TikTok ban bill advances\n\nBy **Jane Doe**\n\n*March 13, 2024*\n\nThe House passed a bill.\n")
    s = read_seed(md)
    assert (s.title, s.published, s.text) == (
        "TikTok ban bill advances",
        datetime(2024, 3, 13, tzinfo=UTC),
        "The House passed a bill.",
    )
    page = tmp_path / "b.html"
    page.write_text(
        '<!doctype html><html><head><title>Site</title><meta property="og:title" content="Huawei cut off">'
        '<meta property="article:published_time" content="2019-05-16T10:00:00Z">'
        '<link rel="canonical" href="https://example.org/h"></head><body><nav>Menu</nav><article>'
        "<h1>Huawei cut off</h1><p>The US added Huawei to the Entity List.</p><script>x()</script>"
        "</article></body></html>"
    )
    h = read_seed(page)
    assert h.title == "Huawei cut off" and h.url == "https://example.org/h"
    assert h.text == "The US added Huawei to the Entity List." and h.published.year == 2019


def test_markdown_from_a_web_clipper_and_a_localised_date(tmp_path):
    """Obsidian's web clipper names the page `source:`; a date as a German site prints it."""
    md = tmp_path / "clip.md"
    md.write_text(
        '---\ntitle: "USA verschärfen Exportkontrollen"\nsource: "https://www.heise.de/news/a-1.html"\n'
        'author:\n  - "[[Jane Doe]]"\npublished: 28. November 2026\ntags:\n  - "clippings"\n---\n'
        "Die US-Regierung setzt weitere chinesische Firmen auf die Entity List.\n"
    )
    s = read_seed(md)
    assert (s.title, s.url) == ("USA verschärfen Exportkontrollen", "https://www.heise.de/news/a-1.html")
    assert s.published == datetime(2026, 11, 28, tzinfo=UTC)
    assert s.text == "Die US-Regierung setzt weitere chinesische Firmen auf die Entity List."


def test_import_is_idempotent_and_tagged(tmp_path):
    store, pipe = pipeline(tmp_path)
    now = datetime.now(UTC)
    first = pipe.import_seeds([SEED.parent], now)
    assert [changed for _, changed in first] == [True]
    again = pipe.import_seeds([SEED.parent], now)
    assert [changed for _, changed in again] == [False]
    seeds = store.seeds()
    assert len(seeds) == 1
    # a seed file edited to give its address (the text unchanged) is imported again, with it
    edited = tmp_path / "seeds" / SEED.name
    edited.parent.mkdir()
    edited.write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    assert [changed for _, changed in pipe.import_seeds([edited.parent], now)] == [True]
    edited.write_text("URL: https://news.example/alibaba-cloud\n" + SEED.read_text(encoding="utf-8"), encoding="utf-8")
    assert [changed for _, changed in pipe.import_seeds([edited.parent], now)] == [True]
    assert store.seeds()[-1]["url"] == "https://news.example/alibaba-cloud"
    assert [changed for _, changed in pipe.import_seeds([edited.parent], now)] == [False]
    topics = store.seed_topics(seeds[0]["id"])
    assert [t["topic"] for t in topics] == ["us-china-tech"]
    assert any("alibaba" in m for m in topics[0]["matched"])
    store.close()


def test_a_feed_copy_of_the_seed_is_a_near_duplicate_and_follow_up(tmp_path, feed_server):
    text = read_seed(SEED).text
    lede = text[text.index("Alibaba Cloud, the cloud computing") :][:900]
    url = feed_server.serve(
        "/s.xml",
        rss(
            [
                {
                    "guid": "s1",
                    "title": "US weighs Alibaba cloud risk",
                    "link": "https://news.example/alibaba?utm_source=x",
                    "description": lede,
                }
            ]
        ),
    )
    store, pipe = pipeline(tmp_path, [url])
    store.sync_feeds(__import__("aggregator.config", fromlist=["x"]).load_feeds(tmp_path / "config"), datetime.now(UTC))
    pipe.import_seeds([SEED], datetime.now(UTC))
    asyncio.run(pipe.poll_once(force=True))
    row = next(store.iter_items())
    assert row["dup_level"] == "near-duplicate" and row["duplicate_of_seed"] == store.seeds()[0]["id"]
    assert row["dup_reason"].startswith('near-duplicate of seed "Alibaba Cloud is on US')
    assert store.story(row["story_id"])["seed_id"] == store.seeds()[0]["id"]
    store.close()


def test_copies_of_a_seed_under_headlines_of_their_own_are_all_copies_of_it(tmp_path, feed_server):
    """Two outlets run the seed article's text under headlines that share no word with it or each other: both
    are copies of the seed (text found under one article and its copy is that article's, not boilerplate)."""
    text = read_seed(SEED).text
    lede = text[text.index("Alibaba Cloud, the cloud computing") :][:900]
    urls = [
        feed_server.serve(
            f"/{n}.xml",
            rss([{"guid": f"{n}1", "title": title, "link": f"https://{n}.example/a", "description": lede}]),
        )
        for n, title in (("one", "US weighs Alibaba cloud risk"), ("two", "Beijing firm's data centres face review"))
    ]
    store, pipe = pipeline(tmp_path, urls)
    store.sync_feeds(load_feeds(tmp_path / "config"), datetime.now(UTC))
    pipe.import_seeds([SEED], datetime.now(UTC))
    asyncio.run(pipe.poll_once(force=True))
    seed_id = store.seeds()[0]["id"]
    assert [(r["dup_level"], r["duplicate_of_seed"]) for r in store.iter_items()] == [("near-duplicate", seed_id)] * 2
    store.close()


ON = "Wed, 19 Jan 2022 10:19:00 GMT"  # the seed article's day: its outlet's feed entry is dated so


def test_the_outlets_own_feed_entry_of_a_seed_article_is_a_copy_of_it(tmp_path, feed_server):
    """The article saved as a seed, and its outlet's feed entry: the same headline, and for text the
    outlet's standfirst, which is not in the article's body (NYT, Global Times...). A copy of the seed,
    not a "follow-up" of it; a report of the same event under its own headline stays a follow-up, even in a
    new install's first poll (three items: no corpus yet to say which words are rare); the very headline
    years later over other text (headlines recur) is another article."""
    seed = read_seed(SEED)
    dek = "The US is said to be reviewing Alibaba's cloud business, experts said on Wednesday."
    assert dek not in seed.text
    url = feed_server.serve(
        "/gt.xml",
        rss(
            [
                {"guid": "g1", "title": seed.title, "link": "https://gt.example/1", "description": dek, "pubDate": ON},
                {
                    "guid": "g4",
                    "title": seed.title,
                    "link": "https://gt.example/4",
                    "description": "Tariffs on solar panels rose again as officials reviewed the trade data.",
                    "pubDate": "Fri, 27 Nov 2026 10:00:00 GMT",
                },
                {
                    "guid": "g3",
                    "title": "Alibaba Cloud on US radar as Washington targets Chinese tech",
                    "link": "https://other.example/3",
                    "description": "Alibaba Cloud, the cloud computing division of Alibaba Group, is now reportedly "
                    "on the US government's radar as the latter once again cited the alleged \"national security "
                    'risk".',
                },
                {
                    "guid": "g2",
                    "title": "US reviewing Alibaba cloud unit over national security risks - sources",
                    "link": "https://wire.example/2",
                    "description": "The Biden administration is reviewing Alibaba Group Holding Ltd's cloud business "
                    "to determine whether it poses a risk to U.S. national security, according to three people "
                    "briefed on the matter.",
                },
            ]
        ),
    )
    store, pipe = pipeline(tmp_path, [url])
    store.sync_feeds(__import__("aggregator.config", fromlist=["x"]).load_feeds(tmp_path / "config"), datetime.now(UTC))
    pipe.import_seeds([SEED], datetime.now(UTC))
    asyncio.run(pipe.poll_once(force=True))
    rows = {r["guid"]: r for r in store.iter_items()}
    seed_id = store.seeds()[0]["id"]
    assert rows["g1"]["dup_level"] == "near-duplicate" and rows["g1"]["duplicate_of_seed"] == seed_id
    assert rows["g1"]["dup_reason"].endswith("the same headline (1.00), each with other text")
    assert rows["g3"]["duplicate_of_seed"] == seed_id  # 20 words of its opening under an edited headline
    assert rows["g4"]["dup_level"] == "new"  # the very headline years later, over other text: another article
    assert rows["g2"]["dup_level"] == "new" and store.story(rows["g2"]["story_id"])["seed_id"] == seed_id
    store.close()


def test_a_story_of_copies_of_a_seed_alone_is_not_in_the_digest(tmp_path, feed_server):
    """The reader has the article (seeds/): its copies in feeds are stored and exported, and the digest does
    not show them, not even as a "follow-up"; a new report of the event would be."""
    from datetime import timedelta

    from aggregator import delivery
    from aggregator.render import render_text

    seed = read_seed(SEED)
    url = feed_server.serve(
        "/gt.xml",
        rss(
            [
                {
                    "guid": "g1",
                    "title": seed.title,
                    "link": "https://gt.example/1",
                    "description": "Washington has opened a national security review of Alibaba's cloud "
                    "business, experts said on Wednesday.",
                    "pubDate": ON,
                }
            ]
        ),
    )
    store, pipe = pipeline(tmp_path, [url])
    store.sync_feeds(__import__("aggregator.config", fromlist=["x"]).load_feeds(tmp_path / "config"), datetime.now(UTC))
    pipe.import_seeds([SEED], datetime.now(UTC))
    asyncio.run(pipe.poll_once(force=True))
    [row] = store.iter_items()
    assert row["duplicate_of_seed"] == store.seeds()[0]["id"] and row["story_id"] is not None
    assert store.execute("SELECT count(*) FROM item_topics WHERE item_id = ?", (row["id"],)).fetchone()[0] == 1
    now = datetime.now(UTC)
    digest = delivery.compose(store, pipe.settings, pipe.watchlist, now - timedelta(days=1), now)
    assert digest.empty and "Follow-up" not in render_text(digest)
    store.close()


LEDE = (
    "The Commerce Department is reviewing Alibaba's cloud business to determine whether it poses a risk "
    "to US national security, according to three people briefed on the matter."
)
MORE = (
    "The review is focused on how the company stores customer data, including personal information and "
    "intellectual property, and whether the Chinese government could gain access to it."
)


def test_html_seed_is_the_article_not_the_page(tmp_path):
    """A saved news page: menus, a teaser <article>, share buttons, a captioned photo and a footer
    around the story. The seed's text is the story; its title loses the site's name. A blog's share, like and
    related-posts widgets inside the post's content are not its text either."""
    page = tmp_path / "page.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>US probes Alibaba cloud unit | Example News</title>"
        '<meta property="og:site_name" content="Example News"><meta property="og:url" content="https://news.example/a">'
        "</head><body><header><ul><li><a href=/>Home</a></li><li><a href=/world>World</a></li>"
        "<li><a href=/tech>Technology</a></li></ul></header>"
        "<aside><article><h3>Related</h3><p>Markets rally as rates hold steady for a third month.</p></article></aside>"
        '<main><article><h1>US probes Alibaba cloud unit</h1><div class="share-tools"><p>Share on X</p></div>'
        f"<p>{LEDE}</p><figure><img src=a.jpg><figcaption>The company headquarters in Hangzhou.</figcaption>"
        f"</figure><p>{MORE}</p><p>Alibaba did not respond to a request for comment.</p></article></main>"
        '<div class="newsletter-signup"><p>Sign up for our daily briefing, delivered every morning.</p></div>'
        "<footer><p>© 2022 Example News. All rights reserved.</p></footer></body></html>"
    )
    s = read_seed(page)
    assert s.title == "US probes Alibaba cloud unit" and s.url == "https://news.example/a"
    assert s.text == f"{LEDE} {MORE} Alibaba did not respond to a request for comment."
    # WordPress with Jetpack: its share, like and related-posts widgets sit inside the post's content
    jetpack = (
        '<div class="sharedaddy sd-block sd-like jetpack-likes-widget-wrapper"><h3 class="sd-title">Like this:</h3>'
        '<div class="likes-widget-placeholder"><span>Like</span> <span class="loading">Loading...</span></div></div>'
        '<div id="jp-relatedposts" class="jp-relatedposts"><h3 class="jp-relatedposts-headline"><em>Related</em>'
        "</h3></div>"
    )
    page.write_text(
        '<html><body><article class="post"><h1 class="entry-title">US probes Alibaba cloud unit</h1>'
        f'<div class="entry-content"><p>{LEDE}</p><p><strong>READ MORE:</strong> <a href="/x">China hits back at '
        f"chip curbs</a></p><p>{MORE}</p><p>More than 30 firms were added.</p>{jetpack}</div></article></body></html>"
    )
    # and a line sending the reader to another article ("READ MORE: <headline>") is not its text
    assert read_seed(page).text == f"{LEDE} {MORE} More than 30 firms were added."
    # nor are the lines marking an advertisement between paragraphs, or Reuters' standards line under it
    ads = (
        '<div class="ad"><p>Advertisement</p></div><p>SKIP ADVERTISEMENT</p><p>Story continues below advertisement</p>'
        "<p>Continue reading the main story</p><p>SCROLL TO CONTINUE WITH CONTENT</p>"
    )
    page.write_text(
        f'<html><body><article><div class="article-body"><p>{LEDE}</p>{ads}<p>{MORE}</p><p>Reporting by Jane Doe; '
        "Editing by John Roe</p><p>Our Standards: The Thomson Reuters Trust Principles.</p></div></article>"
        "</body></html>"
    )
    assert read_seed(page).text == f"{LEDE} {MORE} Reporting by Jane Doe; Editing by John Roe"
    # an article pasted from the browser brings them as lines of their own
    pasted = tmp_path / "pasted.txt"
    pasted.write_text(
        f"US probes Alibaba cloud unit\n\n{LEDE}\n\nAdvertisement\n\nContinue reading the main story\n\n"
        f"Read more: China hits back at chip curbs\n\n{MORE}\n\nAdvertisement - Scroll to continue\n"
    )
    assert read_seed(pasted).text == f"{LEDE} {MORE}"
    # a sentence that only begins like one of them is the article's
    pasted.write_text(f"US probes Alibaba cloud unit\n\nAdvertising revenue fell by a third.\n\n{LEDE}\n")
    assert read_seed(pasted).text == f"Advertising revenue fell by a third. {LEDE}"


def test_html_seed_from_json_ld_and_from_plain_paragraphs(tmp_path):
    import json

    ld = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebPage", "name": "x"},
            {
                "@type": "NewsArticle",
                "headline": "US probes Alibaba cloud unit",
                "datePublished": "2022-01-18T09:00:00Z",
                "articleBody": f"{LEDE} {MORE}",
                "mainEntityOfPage": {"@id": "https://news.example/2022/01/18/alibaba-cloud"},
            },
        ],
    }
    page = tmp_path / "ld.html"
    page.write_text(
        f'<html><head><script type="application/ld+json">{json.dumps(ld)}</script></head>'
        "<body><div id=app>Loading...</div></body></html>"
    )
    s = read_seed(page)
    assert (s.title, s.text, s.published.isoformat(), s.url) == (
        "US probes Alibaba cloud unit",
        f"{LEDE} {MORE}",
        "2022-01-18T09:00:00+00:00",
        "https://news.example/2022/01/18/alibaba-cloud",  # the page names its address in JSON-LD alone
    )
    plain = tmp_path / "plain.html"
    plain.write_text(
        "<html><head><title>US probes Alibaba cloud unit over data risks - Example Daily News</title></head>"
        "<body><div class=top-nav><a href=/>Home</a> <a href=/news>News</a></div>"
        "<h1>US probes Alibaba cloud unit</h1><div class=content>"
        f"<p>{LEDE}</p><p>{MORE}</p><ul><li><a href=/1>More news</a></li></ul></div></body></html>"
    )
    p = read_seed(plain)
    assert p.title == "US probes Alibaba cloud unit" and p.text == f"{LEDE} {MORE}"


def ingest_link(store, pipe, link, now):
    """An aggregator's feed item that is a headline and a link, with no text to compare: its stored row."""
    item = Item(
        "https://agg.example/feed", "x1", link, canonical_url(link), "Alibaba cloud under review", "", "", None,
        now, now, content_hash("Alibaba cloud under review", ""), "Aggregator",
    )  # fmt: skip
    with store.transaction():
        item_id = pipe.ingest(item, now, CycleReport())
    return store.item(item_id)


def test_a_feed_item_linking_to_a_seed_article_is_a_copy_of_it(tmp_path):
    """A feed item with the seed's own address (as its page gave it) is that article, even when the
    feed sends no text to compare: an AMP or tracking variant of the URL too."""
    store, pipe = pipeline(tmp_path)
    seed = tmp_path / "seedpages"
    seed.mkdir()
    (seed / "a.md").write_text(
        "---\ntitle: US opens review of Alibaba cloud unit\nurl: https://news.example/tech/alibaba-cloud\n---\n"
        "The Commerce Department is reviewing Alibaba's cloud business over national security concerns.\n"
    )
    now = datetime.now(UTC)
    pipe.import_seeds([seed], now)
    row = ingest_link(store, pipe, "https://www.news.example/tech/alibaba-cloud/amp?utm_source=feed", now)
    seed_row = store.seeds()[0]
    assert (row["dup_level"], row["duplicate_of_seed"]) == ("near-duplicate", seed_row["id"])
    assert row["dup_reason"] == 'same URL as seed "US opens review of Alibaba cloud unit"'
    assert row["story_id"] == seed_row["story_id"]
    store.close()


def test_seeds_saved_in_other_encodings_and_names_are_read(tmp_path):
    """What people save: Notepad's UTF-16 "Unicode", windows-1252 with curly quotes, a GBK page that says so
    in <meta charset>, a Shift_JIS page that does not, a file without a suffix. A PDF in the folder is
    reported, not silently ignored."""
    folder = tmp_path / "seeds"
    folder.mkdir()
    text = (
        "US widens the “Entity List” to 140 firms\nPublished: 2024-12-02\n\n"
        "The Commerce Department’s rule hits chip toolmakers.\n"
    )
    (folder / "notepad.txt").write_bytes(text.replace("140", "141").encode("utf-16"))
    (folder / "windows.txt").write_bytes(text.replace("140", "142").encode("cp1252"))
    (folder / "no-suffix").write_text(text.replace("140", "143"), encoding="utf-8")
    gbk = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk">'
        "<title>美国商务部将140家中国实体列入清单</title></head><body><article><h1>美国商务部将140家中国实体列入清单</h1>"
        "<p>美国商务部周一宣布，将140家中国半导体企业列入实体清单。</p></article></body></html>"
    )
    (folder / "xinhua.htm").write_bytes(gbk.encode("gbk"))
    nikkei = (  # a page saved in Shift_JIS that says nothing of it
        "<html><head><title>経済産業省、半導体装置の輸出管理を強化</title></head><body><article>"
        "<h1>経済産業省、半導体装置の輸出管理を強化</h1><p>経済産業省は先端半導体の製造装置など23品目を輸出管理の"
        "対象に加えると発表した。</p></article></body></html>"
    )
    (folder / "nikkei.html").write_bytes(nikkei.encode("shift_jis"))
    (folder / "report.pdf").write_bytes(b"%PDF-1.7\n\xe2\xe3\xcf\xd3\n")
    store, pipe = pipeline(tmp_path)
    problems: list[str] = []
    done = pipe.import_seeds([folder], datetime.now(UTC), problems)
    titles = sorted(seed.title for seed, _ in done)
    assert titles == [
        "US widens the “Entity List” to 141 firms",
        "US widens the “Entity List” to 142 firms",
        "US widens the “Entity List” to 143 firms",
        "経済産業省、半導体装置の輸出管理を強化",
        "美国商务部将140家中国实体列入清单",
    ]
    by_title = {seed.title: seed for seed, _ in done}
    assert (
        by_title["US widens the “Entity List” to 142 firms"].text
        == "The Commerce Department’s rule hits chip toolmakers."
    )
    assert "半导体企业" in by_title["美国商务部将140家中国实体列入清单"].text
    assert len(problems) == 1 and "report.pdf: unknown format" in problems[0]
    store.close()


def test_a_page_without_metadata_gives_its_headline_and_byline_date(tmp_path):
    """A saved page with no Open Graph, JSON-LD or <time> (as some news sites are): the title loses the
    " - Site" suffix when the page shows the headline alone, and the date comes from the visible byline.
    A title whose tail is part of the headline keeps it."""
    body = (
        "Alibaba Cloud, the cloud computing division of Alibaba Group, is reportedly on the US government's "
        "radar as Washington cites national security risks. " * 3
    )
    page = tmp_path / "gt.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>Alibaba Cloud is on US radar over data - Global Times</title></head>"
        '<body><ul class="nav"><li>HOME</li><li>CHINA</li></ul>'
        '<div class="article_title">Alibaba Cloud is on US radar over data</div>'
        '<span class="byline">By GT staff reporters</span><span class="pub_time">Published: Jan 19, 2022 06:19 PM'
        f'</span><div class="article_right">{body}<br><br>{body}</div></body></html>'
    )
    seed = read_seed(page)
    assert seed.title == "Alibaba Cloud is on US radar over data"
    assert seed.published == datetime(2022, 1, 19, 18, 19, tzinfo=UTC)
    assert seed.text.startswith("Alibaba Cloud, the cloud computing division")
    other = tmp_path / "wire.html"
    other.write_text(
        "<html><head><title>US probes Alibaba cloud unit - sources</title></head><body>"
        f"<article><p>{body}</p></article></body></html>"
    )
    assert read_seed(other).title == "US probes Alibaba cloud unit - sources"
    # no label, but an element the page calls its byline or date
    for byline in (
        '<div class="byline">By Jane Reporter · January 18, 2022 · 4 min read</div>',
        '<p class="article-date">18.01.2022 09:30</p>',
        "<span class=post-date>January 18, 2022</span>",  # minified: no quotes
        "<div id=byline class=meta>By Jane Reporter, 18 January 2022</div>",
    ):
        other.write_text(
            f"<html><body><h1>US probes Alibaba</h1>{byline}<article><p>{body}</p></article></body></html>"
        )
        assert read_seed(other).published.date().isoformat() == "2022-01-18", byline


def test_a_seed_imported_by_its_url_is_saved_and_recognised_in_feeds(tmp_path, feed_server):
    """`seeds import URL`: the page is fetched and saved into seeds_dir (with its address, which it did not
    name), imported, and a feed item linking to it (trackers and all) is that seed; a missing page, a PDF
    and a bot check are one-line errors."""
    import json
    import os
    import subprocess
    import sys

    page = (
        "<!doctype html><html><head><title>US reviews Alibaba cloud business - Example News</title></head><body>"
        "<nav>Home | World | Tech</nav><article><h1>US reviews Alibaba cloud business</h1>"
        "<p>The Commerce Department is reviewing Alibaba's cloud business to determine whether it poses a risk "
        "to US national security, according to three people briefed on the matter.</p>"
        "<p>The focus of the probe is how the company stores the data of its US clients.</p></article></body></html>"
    )
    url = feed_server.serve("/tech/2026/us-reviews-alibaba-cloud.html", page, headers={"Content-Type": "text/html"})
    feed = feed_server.serve(
        "/feed.xml",
        rss([{"guid": "x1", "title": "Alibaba cloud under US review", "link": url + "?utm_source=rss"}]),
    )
    cfg = write_config(tmp_path, [feed])

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "aggregator", "--config", str(cfg), *args],
            capture_output=True, text=True, timeout=120, cwd=ROOT, env=dict(os.environ),
        )  # fmt: skip

    p = run("seeds", "import", url)
    assert p.returncode == 0, p.stdout + p.stderr
    [saved] = (tmp_path / "seeds").glob("*.html")
    assert (
        saved.name == "127.0.0.1-us-reviews-alibaba-cloud.html" and f'rel="canonical" href="{url}"' in saved.read_text()
    )
    assert "imported: US reviews Alibaba cloud business" in p.stdout
    assert run("poll", "--once").returncode == 0
    [item] = [json.loads(line) for line in run("export", "items", "--format", "jsonl").stdout.splitlines()]
    assert item["duplicate_of_seed"] == 1 and item["duplicate_of"] == -1
    assert run("seeds", "import", url).stdout.count("unchanged") == 1  # again: the same file, nothing new
    feed_server.serve(url.split(":" + str(feed_server.port))[1], page.replace("three people", "four people"),
                      headers={"Content-Type": "text/html"})  # fmt: skip
    again = run("seeds", "import", url)
    assert "imported: US reviews Alibaba" in again.stdout  # corrected since: the seed is updated, not doubled
    assert len(list((tmp_path / "seeds").glob("*.html"))) == 1
    assert run("seeds", "list").stdout.count("\n") == 1
    feed_server.serve("/report.pdf", b"%PDF-1.4", headers={"Content-Type": "application/pdf"})
    feed_server.serve("/blocked", "<html><title>Just a moment...</title></html>", headers={"Content-Type": "text/html"})
    for path, message in (
        ("/missing", "answered 404"),
        ("/report.pdf", "not a web page (application/pdf)"),
        ("/blocked", "bot check"),
    ):
        p = run("seeds", "import", feed_server.url(path))
        assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr, p.stderr


def test_a_saved_bot_check_is_no_seed_and_an_article_with_cloudflares_script_is_one(tmp_path):
    """A page saved while Cloudflare's "Just a moment..." was showing is refused with what to do; an article
    from a site whose every page carries Cloudflare's detection script (challenge-platform/scripts/jsd) is
    the article (from the seeds folder, and fetched by `seeds import URL`, which checks the same way)."""
    challenge = tmp_path / "saved.html"
    challenge.write_text(
        "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><p>Verifying you are human. This "
        "may take a few seconds.</p><script src='/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1'></script>"
        "</body></html>"
    )
    with pytest.raises(SeedError, match="a bot check .* saved in place of the article") as caught:
        read_seed(challenge)
    assert "save the page again" in (caught.value.hint or "")
    article = tmp_path / "article.html"
    jsd = "<script>a.src='/cdn-cgi/challenge-platform/scripts/jsd/main.js';</script>"
    article.write_text(
        f"<html><head><title>US probes Alibaba cloud unit</title></head><body><article><p>{LEDE}</p>"
        f"<p>{MORE}</p></article>{jsd}</body></html>"
    )
    assert read_seed(article).text == f"{LEDE} {MORE}"
    # an article that quotes a challenge page's words is the article
    about = " ".join([LEDE, MORE] * 6)
    article.write_text(f"<html><head><title>Are you a robot?</title></head><body><article><p>{about}</p></article>")
    assert read_seed(article).title == "Are you a robot?"
    article.write_text(
        f"<html><head><title>US probes Alibaba cloud unit</title></head><body><article><p>{LEDE}</p>"
        f"<p>{MORE}</p></article>{jsd}</body></html>"
    )
    from aggregator.parse import is_bot_check

    assert is_bot_check(challenge.read_bytes()) and not is_bot_check(article.read_bytes())
    # Imperva's script, in every page of its sites: a challenge only in a page as small as its block page
    imperva = b'<script src="/_Incapsula_Resource?SWJIYLWA=719d34d31c8e3a6e6fffd425f7e032f3"></script>'
    block = b'<html><head><META NAME="robots" CONTENT="noindex,nofollow">' + imperva + b"</head><body></body></html>"
    page = article.read_bytes().replace(b"</head>", imperva + b"</head>") + b"<!-- " + b"x" * 40_000 + b" -->"
    assert is_bot_check(block) and not is_bot_check(page)


def test_html_seed_whose_body_is_named_not_an_article_element(tmp_path):
    """No <article> around the story, but a body the CMS names (itemprop="articleBody", "entry-content"),
    and teasers of other stories in <article> elements below: the story's text only."""
    story = (
        "<p>The Dutch government on Friday published rules requiring exporters of advanced lithography "
        "equipment to apply for a licence before shipping to China.</p>"
        "<p>ASML said the rules would affect a small share of its sales and that it expected licences for "
        "most existing orders, which it would ship as planned.</p>"
    )
    teasers = (
        '<section class="grid"><article><h3>Apple unveils new iPhone</h3><p>Apple on Tuesday unveiled '
        "its latest phone with a faster chip and a better camera.</p></article><article><h3>Bitcoin rallies</h3>"
        "<p>Bitcoin rose above a key level on Wednesday as investors returned.</p></article></section>"
    )
    for opening in ('<div itemprop="articleBody">', '<div class="entry-content clearfix">'):
        page = tmp_path / "asml.html"
        page.write_text(
            "<html><head><title>Netherlands restricts ASML exports | Daily Tech</title></head><body>"
            f"<h1>Netherlands restricts ASML exports</h1>{opening}{story}</div>{teasers}</body></html>"
        )
        seed = read_seed(page)
        assert seed.text.startswith("The Dutch government on Friday") and seed.text.endswith("ship as planned.")


def test_a_newsletter_saved_from_the_mail_client_is_a_seed(tmp_path):
    """A newsletter kept as .eml: its subject, its date and the text of its HTML part (links, the
    unsubscribe footer, the "view in browser" line and the hidden preheader are not the article); a plain-text
    mail too."""
    from email.message import EmailMessage

    body = (
        "The Commerce Department added 36 Chinese companies to the Entity List on Thursday, including "
        "memory chipmaker YMTC's suppliers, in the widest round of export restrictions this year."
    )
    msg = EmailMessage()
    msg["Subject"] = "China Tech Weekly: the Entity List grows again"
    msg["From"] = "China Tech Weekly <news@weekly.example>"
    msg["Date"] = "Fri, 16 Dec 2022 09:00:00 +0000"
    msg.set_content(f"{body}\n\nUnsubscribe: https://weekly.example/u\n")
    msg.add_alternative(
        '<html><body><span style="display: none !important; font-size: 0">Plus: the suppliers of the memory maker '
        "named in the new rules, and who may be next</span>"
        '<div style="max-height:0px;overflow:hidden;mso-hide:all">&#847; &zwnj; &nbsp; &#847; &zwnj;</div>'
        '<table><tr><td><a href="https://weekly.example/web">View in browser</a></td></tr>'
        f"<tr><td><h1>The Entity List grows again</h1><p>{body}</p></td></tr>"
        '<tr><td class="footer"><a href="https://weekly.example/u">Unsubscribe</a></td></tr>'
        "<tr><td><p>You are receiving this email because you signed up at weekly.example. Forward this email to a "
        'friend &middot; <a href="https://weekly.example/p">Manage preferences</a> &middot; China Tech Weekly, '
        "1 Main Street, Springfield</p></td></tr></table></body></html>",
        subtype="html",
    )
    (tmp_path / "weekly.eml").write_bytes(bytes(msg))
    seed = read_seed(tmp_path / "weekly.eml")
    assert seed.title == "China Tech Weekly: the Entity List grows again"
    assert seed.published == datetime(2022, 12, 16, 9, 0, tzinfo=UTC)
    assert body in seed.text and "Unsubscribe" not in seed.text and "View in browser" not in seed.text
    assert "receiving" not in seed.text and "Main Street" not in seed.text  # the footer's prose too
    assert seed.text.startswith("The Commerce Department")  # the hidden preheader and its spacers are not text
    plain = EmailMessage()
    plain["Subject"] = "Note"
    plain.set_content(f"{body}\n\nTo unsubscribe, reply STOP.")
    (tmp_path / "note.eml").write_bytes(bytes(plain))
    assert read_seed(tmp_path / "note.eml").text == body


def test_a_forwarded_newsletter_is_the_newsletter_it_forwards(tmp_path):
    """Newsletters reach the seeds folder forwarded: inline by Gmail (HTML and plain parts, the forwarded header
    block split by <br>s), by Outlook in German (a rule of underscores in the plain part, a bordered block in the
    HTML one: "Von:", "Betreff:"), by Apple Mail and Thunderbird (each header's name apart from its value), or as
    an attached message. The seed is the newsletter: its subject without
    "Fwd:"/"WG:", its date, its text without the forwarder's note and the header block."""
    from email.message import EmailMessage

    body = (
        "The Commerce Department opened a national security review of Alibaba Cloud on Monday, examining "
        "whether the company stores the data of American clients where the Chinese government could reach it."
    )
    header = (
        "From: China Briefing <news@brief.example>",
        "Date: Mon, Nov 23, 2026 at 7:00 AM",
        "Subject: China Briefing: US opens review of Alibaba Cloud",
        "To: <me@example.org>",
    )
    gmail = EmailMessage()
    gmail["Subject"] = "Fwd: China Briefing: US opens review of Alibaba Cloud"
    gmail["Date"] = "Tue, 24 Nov 2026 08:00:00 +0000"
    gmail.set_content(
        "FYI, for the archive\n\n---------- Forwarded message ---------\n" + "\n".join(header) + "\n\n" + body
    )
    gmail.add_alternative(
        '<div dir="ltr">FYI, for the archive<br><br><div class="gmail_quote"><div class="gmail_attr">'
        "---------- Forwarded message ---------<br>"
        'From: <strong class="gmail_sendername">China Briefing</strong> <span>&lt;news@brief.example&gt;</span><br>'
        + "<br>".join(h.replace("<", "&lt;").replace(">", "&gt;") for h in header[1:])
        + "<br></div><br><table><tr><td><p>The <b>Commerce Department</b>"
        + body.removeprefix("The Commerce Department")
        + "</p></td></tr>"
        '<tr><td class="footer"><a href="https://brief.example/u">Unsubscribe</a></td></tr></table></div></div>',
        subtype="html",
    )
    outlook = EmailMessage()
    outlook["Subject"] = "WG: Newsletter"
    outlook["Date"] = "Tue, 24 Nov 2026 08:00:00 +0000"
    outlook.set_content(
        "Siehe unten.\n\n________________________________\nVon: China Briefing <news@brief.example>\n"
        "Gesendet: Montag, 23. November 2026 07:00\nAn: Ich\nBetreff: US opens review of Alibaba Cloud\n\n" + body
    )
    outlook.add_alternative(  # Outlook's HTML: no mark, a rule (a border) above From:, Sent:, To:, Subject:
        "<div class=WordSection1><p class=MsoNormal>Siehe unten.</p><div style='border:none;border-top:solid "
        "#E1E1E1 1.0pt'><p class=MsoNormal><b>Von:</b> China Briefing &lt;news@brief.example&gt;<br><b>Gesendet:"
        "</b> Montag, 23. November 2026 07:00<br><b>An:</b> Ich<br><b>Betreff:</b> US opens review of Alibaba "
        f"Cloud</p></div><p class=MsoNormal>{body}</p></div>",
        subtype="html",
    )
    newsletter = EmailMessage()
    newsletter["Subject"] = "China Briefing: US opens review of Alibaba Cloud"
    newsletter["Date"] = "Mon, 23 Nov 2026 07:00:00 +0000"
    newsletter.add_alternative(f"<html><body><p>{body}</p></body></html>", subtype="html")
    attached = EmailMessage()
    attached["Subject"] = "Fw: this one"
    attached["Date"] = "Tue, 24 Nov 2026 08:00:00 +0000"
    attached.set_content("See the attached newsletter.")
    attached.add_attachment(newsletter)
    # Apple Mail and Thunderbird: each header's name and value in spans or table cells of their own
    apple = EmailMessage()
    apple["Subject"] = "Fwd: China Briefing: US opens review of Alibaba Cloud"
    apple["Date"] = "Tue, 24 Nov 2026 08:00:00 +0000"
    apple.set_content("Worth keeping.\n\nBegin forwarded message:\n\n" + "\n".join(header) + "\n\n" + body)
    apple.add_alternative(
        '<div>Worth keeping.</div><div><br><blockquote type="cite"><div>Begin forwarded message:</div><br>'
        + "".join(
            f'<div style="margin: 0px;"><span><b>{name}: </b></span><span>{value}<br></span></div>'
            for name, value in (
                ("From", "China Briefing &lt;news@brief.example&gt;"),
                ("Subject", "<b>China Briefing: US opens review of Alibaba Cloud</b>"),
                ("Date", "23 November 2026 at 07:00:00 GMT"),
                ("To", "me@example.org"),
            )
        )
        + f"<br><div><p>{body}</p></div></blockquote></div>",
        subtype="html",
    )
    thunderbird = EmailMessage()
    thunderbird["Subject"] = "Fwd: China Briefing: US opens review of Alibaba Cloud"
    thunderbird["Date"] = "Tue, 24 Nov 2026 08:00:00 +0000"
    thunderbird.set_content("\n\n-------- Forwarded Message --------\nSubject: \tUS opens review\n\n" + body)
    thunderbird.add_alternative(
        '<p><br></p><div class="moz-forward-container"><br><br>-------- Forwarded Message --------'
        '<table class="moz-email-headers-table"><tbody>'
        "<tr><th>Subject: </th><td>China Briefing: US opens review of Alibaba Cloud</td></tr>"
        "<tr><th>Date: </th><td>Mon, 23 Nov 2026 07:00:00 +0000</td></tr>"
        "<tr><th>From: </th><td>China Briefing &lt;news@brief.example&gt;</td></tr>"
        f"<tr><th>To: </th><td>me@example.org</td></tr></tbody></table><br><br><p>{body}</p></div>",
        subtype="html",
    )
    mails = (("gmail", gmail), ("outlook", outlook), ("attached", attached), ("apple", apple), ("tb", thunderbird))
    for name, msg in mails:
        (tmp_path / f"{name}.eml").write_bytes(bytes(msg))
        seed = read_seed(tmp_path / f"{name}.eml")
        assert seed.title.endswith("US opens review of Alibaba Cloud") and "W" not in seed.title[:3], name
        assert seed.published == datetime(2026, 11, 23, 7, 0, tzinfo=UTC), name
        assert seed.text == body, (name, seed.text)


def test_a_pages_text_keeps_its_links_and_bold_words(tmp_path):
    """A page (or a newsletter) with no <article>: a sentence with a link or a bold name in it is one
    sentence, not pieces of which the short ones were taken for menu items and dropped."""
    sentences = (
        "The <b>Commerce Department</b> added 36 Chinese companies to the Entity List on Thursday.",
        'Officials <a href="https://example.org/r">told reporters</a> that more firms could follow next month, '
        "as the review of <em>cloud</em> providers goes on.",
    )
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>Entity List grows</title></head><body><div>"
        + "".join(f"<p>{s}</p>" for s in sentences)
        + "<p>Three more paragraphs of the same article follow here, long enough to be its prose and not a menu.</p>"
        + '<p><a class="share" href="#">Share</a></p></div></body></html>'
    )
    text = read_seed(page).text
    assert text.startswith("The Commerce Department added 36 Chinese companies")
    assert "Officials told reporters that more firms" in text and "Share" not in text


def test_plain_text_seeds_as_people_paste_them(tmp_path):
    """The address pasted above the headline; labelled lines (Title:, URL:, Date:) in any order; a byline and
    a date under the headline, as an article copied from a browser brings them."""
    pasted = tmp_path / "pasted.txt"
    pasted.write_text(
        "\nhttps://www.reuters.com/tech/us-reviews-alibaba-cloud\nUS reviews Alibaba cloud\n\nThe body.\n"
    )
    seed = read_seed(pasted)
    assert (seed.title, seed.url, seed.text) == (
        "US reviews Alibaba cloud",
        "https://www.reuters.com/tech/us-reviews-alibaba-cloud",
        "The body.",
    )
    labelled = tmp_path / "labelled.txt"
    labelled.write_text("URL: https://e.example/a\nDate: 18.01.2022\nTitle: US reviews Alibaba cloud\n\nThe body.\n")
    seed = read_seed(labelled)
    assert (seed.title, seed.url, seed.published, seed.text) == (
        "US reviews Alibaba cloud",
        "https://e.example/a",
        datetime(2022, 1, 18, tzinfo=UTC),
        "The body.",
    )
    # copied from a browser: the byline and the date on lines of their own under the headline
    copied = tmp_path / "copied.txt"
    for head, when in (
        ("By GT staff reporters\nJanuary 19, 2022", datetime(2022, 1, 19, tzinfo=UTC)),
        ("By Jane Doe · Jan 19, 2022 06:19 PM · 4 min read", datetime(2022, 1, 19, 18, 19, tzinfo=UTC)),
        ("Wed 19 Jan 2022 10.03 GMT\nBy Jane Doe and John Roe", datetime(2022, 1, 19, 10, 3, tzinfo=UTC)),
    ):
        copied.write_text(f"US reviews Alibaba cloud\n{head}\n\nThe body.\n")
        seed = read_seed(copied)
        assert (seed.title, seed.published, seed.text) == ("US reviews Alibaba cloud", when, "The body."), head
    # a first paragraph that opens like a byline or holds a date is the article's
    for body in ("By Monday, officials said.", "Officials met on January 19, 2022", "1642600000"):
        copied.write_text(f"US reviews Alibaba cloud\n{body}\nThe body.\n")
        seed = read_seed(copied)
        assert seed.published is None and seed.text == f"{body} The body.", body
    # an article pasted without its headline: its first paragraph is text, not a title of 300+ characters
    # (the text then lacked the lede that feeds quote), and the seed is headed by its first words
    lede = (
        "WASHINGTON, Jan 18 (Reuters) - The Biden administration is reviewing Alibaba's cloud business to determine "
        "whether it poses a risk to U.S. national security, according to three people briefed on the matter, as the "
        "government ramps up scrutiny of Chinese companies' dealings with American firms."
    )
    for name in ("bodyonly.txt", "bodyonly.md"):
        (tmp_path / name).write_text(f"{lede}\n\nThe review is at an early stage.\n")
        seed = read_seed(tmp_path / name)
        assert seed.text == f"{lede} The review is at an early stage.", name
        assert (
            seed.title
            == "WASHINGTON, Jan 18 (Reuters) - The Biden administration is reviewing Alibaba's cloud business to…"
        )


def test_html_seed_inside_a_page_wide_wrapper_named_like_boilerplate(tmp_path):
    """Real pages wrap everything in a container whose class reads like boilerplate (the BBC's
    "blq-int-nav", a publisher's "advert-content-wrap"): the article inside it is still the text, and a
    sign-up box outside it does not take its place; a teaser <article> in an aside does not either."""
    story = f"<p>{LEDE}</p><p>{MORE}</p>"
    for wrapper in ('<div id="blq-container" class="blq-dotcom blq-int-nav">', '<div class="advert-content-wrap">'):
        page = tmp_path / "wrapped.html"
        page.write_text(
            "<html><head><title>US probes Alibaba cloud unit</title></head><body>"
            '<div class="signup"><p>Sign up for a free account and start engaging with other readers!</p></div>'
            f'{wrapper}<ul class="menu"><li>Home</li><li>World</li></ul><article>{story}</article>'
            "<aside><article><p>Markets rally as rates hold steady for a third month in a row.</p></article>"
            "</aside></div></body></html>"
        )
        assert read_seed(page).text == f"{LEDE} {MORE}", wrapper
    # a short brief beside a long teaser in an <aside>: the teaser is no article of this page, however long
    teaser = "A long teaser of another story, with many words in it. " * 15
    page.write_text(
        f'<html><body><div class="content"><p>{LEDE}</p></div><aside><article><p>{teaser}</p></article></aside>'
        "</body></html>"
    )
    assert read_seed(page).text == LEDE


def test_html_seed_address_title_date_and_lede_as_real_pages_write_them(tmp_path):
    """What saved pages get wrong: a relative canonical ("8003098": no address; "/a" read against the
    page's <base>), an apostrophe inside a double-quoted og:title, a first <h1> that is the site's logo,
    an ISO date with a zone abbreviation ("2021-01-03T17:40:00EET"), and a standfirst shown above the
    article but outside its JSON-LD articleBody (the feed's summary is often that very paragraph)."""
    import json

    page = tmp_path / "relative.html"
    page.write_text(
        '<html><head><link rel="canonical" href="8003098"><meta property="og:url" content="http://news.example/b">'
        """<meta property="og:title" content="Let me Google that: 2014's most searched recipes"></head>"""
        f"<body><article><p>{LEDE}</p></article></body></html>"
    )
    s = read_seed(page)
    assert (s.url, s.title) == ("http://news.example/b", "Let me Google that: 2014's most searched recipes")
    page.write_text(f'<html><head><link rel="canonical" href="8003098"></head><body><p>{LEDE}</p></body></html>')
    assert read_seed(page).url is None
    page.write_text(
        '<html><head><base href="https://news.example/world/"><link rel="canonical" href="/2023/a.html">'
        f"</head><body><p>{LEDE}</p></body></html>"
    )
    assert read_seed(page).url == "https://news.example/2023/a.html"
    page.write_text(  # a <base> urlsplit refuses (a template's placeholder): no address, the seed still read
        '<html><head><base href="http://[your-domain]/"><link rel="canonical" href="/2023/a.html">'
        f"</head><body><p>{LEDE}</p></body></html>"
    )
    assert read_seed(page).url is None and LEDE in read_seed(page).text
    # minified: attributes unquoted, href before rel
    page.write_text(
        "<html><head><link href=https://news.example/c rel=canonical><meta property=og:title content=Minified>"
        f"</head><body><p>{LEDE}</p></body></html>"
    )
    assert (read_seed(page).url, read_seed(page).title) == ("https://news.example/c", "Minified")

    standfirst = "Rescuers found a fifth body four days after a landslide buried houses in the village of Ask."
    ld = {"@type": "NewsArticle", "datePublished": "2021-01-03T17:40:00EET", "articleBody": f"{LEDE} {MORE}"}
    page = tmp_path / "logo.html"
    page.write_text(
        "<html><head><title>Landslide toll rises to five | Example News</title>"
        f'<meta name="description" content="{standfirst}">'
        f'<script type="application/ld+json">{json.dumps(ld)}</script></head><body>'
        '<h1 id="logo"><a href="/">Example News</a></h1><h1 class="title">Landslide toll rises to five</h1>'
        f'<div class="lead">{standfirst}</div><div class="body"><p>{LEDE}</p><p>{MORE}</p></div></body></html>'
    )
    s = read_seed(page)
    assert s.title == "Landslide toll rises to five"
    assert s.published == datetime(2021, 1, 3, 15, 40, tzinfo=UTC)
    assert s.text == f"{standfirst} {LEDE} {MORE}"
    # in the article's own <header> too; a site's description that the page does not show, or shows in its
    # footer, is no part of the article
    shown = page.read_text()
    for where, expected in (
        (f'<article><header><p class="dek">{standfirst}</p></header></article>', f"{standfirst} {LEDE} {MORE}"),
        ("", f"{LEDE} {MORE}"),
        (f"<footer><p>{standfirst}</p></footer>", f"{LEDE} {MORE}"),
    ):
        page.write_text(shown.replace(f'<div class="lead">{standfirst}</div>', where))
        assert read_seed(page).text == expected, where


def test_a_utf8_page_with_latin1_text_pasted_in_reads_both(tmp_path):
    """A page that declares UTF-8 and is UTF-8 but for text pasted in from Latin-1 (a real Swiss company's
    page: "Über uns" in UTF-8, "naturgr\\xfcn" in Latin-1): each part read in its own encoding, not the whole
    page as windows-1252 ("Ãœber uns")."""
    page = tmp_path / "mixed.html"
    page.write_bytes(
        '<html><head><meta charset="UTF-8"><title>Über uns</title></head><body><article><p>Grüße aus Zürich, '
        "Genève und Köln: Gärten für Häuser, Büros und Höfe. ".encode()
        + b"Die Firma naturgr\xfcn unterh\xe4lt Ihren Garten mit viel Freude, fachm\xe4nnisch und zuverl\xe4ssig.</p>"
        + b"</article></body></html>"
    )
    s = read_seed(page)
    assert s.title == "Über uns"
    assert s.text == (
        "Grüße aus Zürich, Genève und Köln: Gärten für Häuser, Büros und Höfe. "
        "Die Firma naturgrün unterhält Ihren Garten mit viel Freude, fachmännisch und zuverlässig."
    )


def test_a_paywalled_pages_short_json_ld_body_gives_way_to_the_whole_article(tmp_path):
    """JSON-LD's articleBody is the article, unless it is only the opening of the text the page shows (a
    paywalled site's, saved by a subscriber): then the page's article."""
    import json

    rest = " ".join(
        f"Paragraph {n} of the analysis goes on about licences, suppliers and what the rule means for them."
        for n in range(8)
    )
    ld = {"@type": "NewsArticle", "headline": "US probes Alibaba cloud unit", "articleBody": f"{LEDE} {MORE}"}
    page = tmp_path / "paywalled.html"
    page.write_text(
        f'<html><head><script type="application/ld+json">{json.dumps(ld)}</script></head><body><article>'
        f"<p>{LEDE}</p><p>{MORE}</p><p>{rest}</p></article></body></html>"
    )
    assert read_seed(page).text == f"{LEDE} {MORE} {rest}"
    # the page showing no more than the opening: the articleBody stays the text
    page.write_text(page.read_text().replace(f"<p>{rest}</p>", ""))
    assert read_seed(page).text == f"{LEDE} {MORE}"


def test_a_seed_whose_file_is_deleted_is_removed_and_a_moved_one_kept(tmp_path):
    """The seeds folder is the user's corpus: a file deleted from it takes its seed with it (new items are no
    longer its copies, nor in its story), a file renamed or moved within it stays the same seed, and a folder
    that holds no seed file at all (a network folder not mounted) removes nothing."""
    store, pipe = pipeline(tmp_path)
    folder = tmp_path / "seeds"
    (folder / "old").mkdir(parents=True)
    (folder / "probe.txt").write_text(f"US opens review of Alibaba cloud unit\n\n{LEDE} {MORE}\n")
    (folder / "old" / "chips.txt").write_text(
        "Dutch rules on chip tools take effect\n\nExporters of advanced lithography equipment need a licence "
        "before shipping to China from Friday, under rules the Dutch government published in June.\n"
    )
    now = datetime.now(UTC)
    pipe.import_seeds([folder], now)
    chips, probe = store.seeds()  # in the order of their paths: old/chips.txt, probe.txt
    (folder / "old" / "chips.txt").rename(folder / "chips.txt")  # moved: the same seed
    (folder / "probe.txt").unlink()  # deleted: no longer the user's
    removed: list = []
    done = pipe.import_seeds([folder], now, [], removed)
    assert [(s.title, changed) for s, changed in done] == [("Dutch rules on chip tools take effect", False)]
    assert [r["id"] for r in removed] == [probe["id"]]
    assert [(s["id"], s["path"]) for s in store.seeds()] == [(chips["id"], str((folder / "chips.txt").resolve()))]
    assert store.execute("SELECT seed_id FROM stories WHERE id = ?", (probe["story_id"],)).fetchone()[0] is None

    # a copy of the removed seed's text is no copy of anything now, nor in its story
    copy = Item(
        "https://wire.example/feed", "w1", "https://wire.example/1", canonical_url("https://wire.example/1"),
        "Commerce reviews Alibaba cloud business", f"{LEDE} {MORE}", f"{LEDE} {MORE}", None, now, now,
        content_hash("Commerce reviews Alibaba cloud business", LEDE), "Wire",
    )  # fmt: skip
    with store.transaction():
        row = store.item(pipe.ingest(copy, now, CycleReport()))
    assert (row["dup_level"], row["duplicate_of_seed"]) == ("new", None)
    assert row["story_id"] != probe["story_id"]

    # a new seed never takes a removed one's id: items still name it as their original
    (folder / "new.txt").write_text("Another article\n\nIts text, in a file of its own.\n")
    pipe.import_seeds([folder], now)
    assert [s["id"] for s in store.seeds()] == [chips["id"], probe["id"] + 1]
    (folder / "new.txt").unlink()
    pipe.import_seeds([folder], now)

    # an empty folder (not mounted) removes nothing: it says so
    (folder / "chips.txt").unlink()
    problems: list[str] = []
    pipe.import_seeds([folder], now, problems, removed)
    assert [s["id"] for s in store.seeds()] == [chips["id"]]
    assert len(problems) == 1 and "holds no seed file now" in problems[0] and "seeds remove" in problems[0]
    store.close()


def test_a_seed_removed_by_another_process_leaves_the_running_daemons_index(tmp_path, feed_server):
    """`seeds remove` beside the running daemon: the daemon's next cycle no longer files a follow-up report
    under the removed seed's story (its in-memory index is brought up to date, as for seeds added)."""
    report = {
        "guid": "f1",
        "title": "Alibaba shares slide as US weighs Alibaba Cloud national security risk",
        "link": "https://markets.example/alibaba-cloud",
        "description": "Shares of Alibaba fell after reports that the Commerce Department is reviewing Alibaba "
        "Cloud's US business over national security concerns about customer data.",
    }
    url = feed_server.serve("/f.xml", rss([report]))
    stories = {}
    for case in ("kept", "removed"):
        store, pipe = pipeline(tmp_path / case, [url])
        store.sync_feeds(load_feeds(tmp_path / case / "config"), datetime.now(UTC))
        pipe.import_seeds([SEED], datetime.now(UTC))
        seed = store.seeds()[0]
        if case == "removed":  # another process (the CLI) removes it
            other_store, other = pipeline(tmp_path / case)
            other.remove_seed(seed["id"])
            other_store.close()
        asyncio.run(pipe.poll_once(force=True))
        row = next(store.iter_items())
        stories[case] = (row["dup_level"], row["story_id"] == seed["story_id"])
        store.close()
    assert stories == {"kept": ("new", True), "removed": ("new", False)}


def test_a_page_saved_by_its_url_whose_canonical_is_relative_keeps_its_address(tmp_path, feed_server):
    """A fetched page naming its canonical address relative to the site ("/news/a.html"): the page's own
    address is written in as its <base>, so that the saved seed knows the article's full address."""
    from aggregator.seeds import download_seed

    page = (
        '<html><head><link rel="canonical" href="/news/a.html"></head>'
        f"<body><article><p>{LEDE}</p></article></body></html>"
    )
    url = feed_server.serve("/news/a.html", page, headers={"Content-Type": "text/html"})
    saved = asyncio.run(download_seed(url + "?ref=home", tmp_path / "seeds"))
    assert f'<base href="{url}?ref=home">' in saved.read_text()
    assert read_seed(saved).url == feed_server.url("/news/a.html")


def test_a_page_that_redirects_to_a_cookie_consent_page_is_not_saved_as_a_seed(tmp_path, feed_server):
    """An EU reader asking for an article is often sent to the site's consent page first: that page is no
    article, and saving it as a seed would make a seed of "We value your privacy". An article whose own
    address says "consent" is an article."""
    from aggregator.seeds import download_seed

    consent = feed_server.serve(
        "/consent", "<html><title>We value your privacy</title><body>Accept all</body></html>",
        headers={"Content-Type": "text/html"},
    )  # fmt: skip
    url = feed_server.serve("/news/b.html", status=302, headers={"Location": consent + "?next=/news/b.html"})
    with pytest.raises(SeedError) as e:
        asyncio.run(download_seed(url, tmp_path / "seeds"))
    assert "cookie-consent page" in e.value.one_line() and "save the page" in e.value.one_line()
    assert not (tmp_path / "seeds").exists() or not list((tmp_path / "seeds").iterdir())
    article = feed_server.serve(
        "/news/consent-decree.html", f"<html><body><article><p>{LEDE}</p></article></body></html>",
        headers={"Content-Type": "text/html"},
    )  # fmt: skip
    moved = feed_server.serve("/news/c.html", status=301, headers={"Location": article})
    assert read_seed(asyncio.run(download_seed(moved, tmp_path / "seeds"))).text == LEDE


def test_a_seed_too_short_to_be_an_article_is_imported_with_a_warning(tmp_path):
    """A paywall's shell or a teaser saved as a seed can only match copies of its few words: `seeds import` says
    so (exit 0: a short note may be meant) and says what to do; a whole article, in any script, gets no warning."""
    import os
    import subprocess
    import sys

    cfg = write_config(tmp_path, [])
    seeds = tmp_path / "seeds"
    seeds.mkdir(exist_ok=True)
    (seeds / "teaser.html").write_text(
        "<html><head><title>Chip curbs widen</title></head><body><p>Subscribe to read this article.</p></body></html>"
    )
    (seeds / "article.txt").write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    (seeds / "zh.txt").write_text("美国扩大芯片出口管制\n\n" + "美国商务部宣布对中国芯片企业实施新的出口管制措施。" * 4)
    p = subprocess.run(
        [sys.executable, "-m", "aggregator", "--config", str(cfg), "seeds", "import"],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=dict(os.environ),
    )  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    warnings = [line for line in p.stdout.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "teaser.html" in warnings[0], p.stdout
    assert "only 5 words of text" in warnings[0] and "save the whole article from your browser" in warnings[0]
    assert "3 seeds, 3 new or changed" in p.stdout


def test_a_pdf_or_a_word_file_is_refused_as_a_seed_with_what_to_do(tmp_path):
    """Given by name, a PDF or a Word file was read as text and made a seed of its bytes: it is refused in one
    line that says what to do, and the other seeds are imported."""
    store, pipe = pipeline(tmp_path)
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n")
    (tmp_path / "notes.txt").write_bytes(b"PK\x03\x04\x14\x00\x06\x00word/document.xml")  # a .docx renamed
    (tmp_path / "ok.txt").write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    problems: list[str] = []
    files = [tmp_path / "report.pdf", tmp_path / "notes.txt", tmp_path / "ok.txt"]
    done = pipe.import_seeds(files, datetime(2026, 11, 28, tzinfo=UTC), problems)
    assert [seed.path.rsplit("/", 1)[-1] for seed, _ in done] == ["ok.txt"]
    assert len(problems) == 2 and "report.pdf: a PDF, not text" in problems[0]
    assert "notes.txt: a Word, OpenDocument, EPUB or ZIP file, not text" in problems[1]
    assert all("save the article's text (.txt) or its web page (.html)" in p for p in problems)
    # a file far larger than any article (a video saved under .txt) is refused before it is read into memory
    with open(tmp_path / "huge.txt", "wb") as fh:
        fh.truncate(65 * 2**20)  # sparse: no disk used
    problems = []
    assert pipe.import_seeds([tmp_path / "huge.txt"], datetime(2026, 11, 28, tzinfo=UTC), problems) == []
    assert len(problems) == 1 and "huge.txt: 65 MiB, too large for an article (at most 64 MiB)" in problems[0]
    # Outlook's own message format, given by name or in the folder: what to save it as instead
    folder = tmp_path / "mails"
    folder.mkdir()
    (folder / "newsletter.msg").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    for given in (folder / "newsletter.msg", folder):
        problems = []
        assert pipe.import_seeds([given], datetime(2026, 11, 28, tzinfo=UTC), problems) == []
        assert len(problems) == 1 and "newsletter.msg: an Outlook message (.msg)" in problems[0], problems
        assert "save it from Outlook as .eml" in problems[0]
    # a link dragged from the browser into the folder (Windows' .url, macOS' .webloc, XML or binary, a Linux
    # desktop's .desktop) is no article: it says the command that imports the article it links to
    import plistlib

    links = tmp_path / "links"
    links.mkdir()
    url = "https://news.example/2026/11/28/chip-curbs"
    (links / "Chip curbs.url").write_bytes(f"[InternetShortcut]\r\nURL={url}\r\n".encode())
    (links / "Chip curbs.webloc").write_bytes(plistlib.dumps({"URL": url}))
    (links / "binary.webloc").write_bytes(plistlib.dumps({"URL": url}, fmt=plistlib.FMT_BINARY))
    (links / "chip-curbs.desktop").write_text(f"[Desktop Entry]\nName=Chip curbs\nType=Link\nURL={url}\n")
    for given, shortcuts in (([links], 4), ([links / "Chip curbs.url"], 1)):
        problems = []
        assert pipe.import_seeds(given, datetime(2026, 11, 28, tzinfo=UTC), problems) == []
        assert len(problems) == shortcuts, problems
        for problem in problems:
            assert f"a link to {url}, not the article: `aggregator seeds import {url}`" in problem, problem
    store.close()


def _mhtml(page: str, address: str, subject: str) -> bytes:
    """A page as Chrome's "Save as... Webpage, Single File" writes it: Blink's header, the page quoted-printable
    with no charset on its part, then its images and frames as further parts."""
    import quopri
    from email.header import Header

    boundary = "----MultipartBoundary--8FvK2yNcTzPiJLgWj0zY7Ksz9XbQw1iL4wUeHqjYdS----"
    html_part = quopri.encodestring(page.encode("utf-8")).decode("ascii")
    return (
        "From: <Saved by Blink>\r\n"
        f"Snapshot-Content-Location: {address}\r\n"
        f"Subject: {Header(subject, 'utf-8').encode()}\r\n"
        "Date: Mon, 30 Nov 2026 08:14:03 -0000\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/related;\r\n\ttype="text/html";\r\n\tboundary="{boundary}"\r\n\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/html\r\nContent-ID: <frame-5A1B@mhtml.blink>\r\n"
        f"Content-Transfer-Encoding: quoted-printable\r\nContent-Location: {address}\r\n\r\n{html_part}\r\n"
        f"--{boundary}\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
        "Content-Location: https://news.example/logo.png\r\n\r\niVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGBgAAAABQABpfZFQAAAAABJRU5ErkJggg==\r\n"
        f"--{boundary}\r\nContent-Type: text/html\r\nContent-ID: <frame-9C2D@mhtml.blink>\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\nContent-Location: https://ads.example/frame\r\n\r\n"
        "<html><body><p>Advertisement</p></body></html>\r\n"
        f"--{boundary}--\r\n"
    ).encode("ascii")


def test_a_page_saved_by_chrome_as_a_single_file_is_a_seed(tmp_path):
    """Chrome's and Edge's "Webpage, Single File" (.mhtml) is how many people keep an article: it was skipped
    in the seeds folder, and read as text (MIME headers and quoted-printable) when named. It is the page
    inside: its title, date and article text, its address from the page or from where it was saved, and a
    feed item linking there is a copy of it. The date the file was saved is not the article's."""
    body = "Washington is reviewing Alibaba’s cloud business over national security concerns. " * 6
    page = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>US opens review of Alibaba’s cloud unit - News</title>'
        '<meta property="article:published_time" content="2026-11-27T09:30:00Z"></head><body>'
        '<nav><a href="/">Home</a> <a href="/tech">Tech</a></nav>'
        f"<article><h1>US opens review of Alibaba’s cloud unit</h1><p>{body}</p>"
        "<p>The company said it would cooperate with the review.</p></article>"
        "<footer>Subscribe to our newsletter</footer></body></html>"
    )
    folder = tmp_path / "seeds"
    folder.mkdir()
    address = "https://news.example/tech/alibaba-cloud-review"
    (folder / "US opens review.mhtml").write_bytes(_mhtml(page, address, "US opens review of Alibaba’s cloud unit"))
    seed = read_seed(folder / "US opens review.mhtml")
    assert seed.title == "US opens review of Alibaba’s cloud unit"
    assert seed.url == address  # the page names none itself: where the browser saved it from
    assert seed.published == datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    assert seed.text.startswith("Washington is reviewing Alibaba’s cloud business") and "cooperate" in seed.text
    assert "Advertisement" not in seed.text and "Subscribe" not in seed.text and "=3D" not in seed.text
    # under another name (a download renamed) the file is recognised by Blink's header
    (tmp_path / "saved-page").write_bytes((folder / "US opens review.mhtml").read_bytes())
    assert read_seed(tmp_path / "saved-page").text == seed.text

    store, pipe = pipeline(tmp_path)
    now = datetime.now(UTC)
    problems: list[str] = []
    done = pipe.import_seeds([folder], now, problems)
    assert len(done) == 1 and problems == []  # read from the folder, not skipped as another kind of file
    assert ingest_link(store, pipe, address + "?utm_source=rss", now)["duplicate_of_seed"] == store.seeds()[0]["id"]
    store.close()


def test_a_single_file_archive_with_no_page_and_a_safari_archive_are_refused(tmp_path):
    (tmp_path / "empty.mhtml").write_bytes(
        b"From: <Saved by Blink>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: image/png\r\n\r\nxx\r\n--b--\r\n"
    )
    with pytest.raises(SeedError, match="empty.mhtml: a single-file web archive with no web page in it"):
        read_seed(tmp_path / "empty.mhtml")
    (tmp_path / "page.webarchive").write_bytes(b"bplist00\xd4\x01\x02\x03\x04\x05\x06\x07\x0a")
    with pytest.raises(SeedError, match="a Safari web archive"):
        read_seed(tmp_path / "page.webarchive")


def test_a_page_saved_complete_brings_no_seeds_or_complaints_from_its_resources_folder(tmp_path):
    """ "Web Page, complete" saves page.html and page_files/ with the page's scripts, pictures and framed ads
    (often .html themselves): those were imported as seeds (an ad as an article) or reported one by one as
    unknown formats at every import. So were an Obsidian vault's .obsidian/ settings and Windows' Thumbs.db.
    A folder named like that with no page beside it is the user's own, and is read."""
    folder = tmp_path / "seeds"
    (folder / "US opens review_files").mkdir(parents=True)
    (folder / ".obsidian").mkdir()
    (folder / "notes_files").mkdir()
    page = (
        "<html><head><title>US opens review of Alibaba cloud unit</title></head><body><article><p>"
        + "Washington is reviewing Alibaba's cloud business over national security concerns. " * 5
        + "</p></article></body></html>"
    )
    (folder / "US opens review.html").write_text(page, encoding="utf-8")
    resources = folder / "US opens review_files"
    (resources / "saved_resource.html").write_text("<html><body><p>Buy now! Limited offer.</p></body></html>")
    (resources / "app.js").write_text("var x = 1;")
    (resources / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (folder / ".obsidian" / "workspace.json").write_text("{}")
    (folder / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    (folder / "notes_files" / "chips.txt").write_text(
        "Dutch widen chip-tool export licences\n" + "The Dutch government will require more licences. " * 6
    )
    store, pipe = pipeline(tmp_path)
    problems: list[str] = []
    done = pipe.import_seeds([folder], datetime.now(UTC), problems)
    assert sorted(seed.title for seed, _ in done) == [
        "Dutch widen chip-tool export licences",
        "US opens review of Alibaba cloud unit",
    ]
    assert problems == []
    # a stray file of another kind is still reported
    (folder / "report.pdf").write_bytes(b"%PDF-1.7\n")
    problems = []
    pipe.import_seeds([folder], datetime.now(UTC), problems)
    assert len(problems) == 1 and "report.pdf: unknown format" in problems[0]
    store.close()


def test_a_saved_page_without_a_canonical_address_keeps_the_one_the_browser_wrote(tmp_path):
    """Browsers mark a page they save with where it came from (<!-- saved from url=(0044)https://... -->).
    A page naming no address of its own is that article; its relative canonical is read against it."""
    body = (
        "<article><p>" + "The Dutch government will require export licences for more machines. " * 5 + "</p></article>"
    )
    mark = "<!-- saved from url=(0044)https://news.example/tech/dutch-chip-licences -->\n"
    (tmp_path / "a.html").write_text(
        mark + f"<html><head><title>Dutch widen chip licences</title></head><body>{body}</body></html>"
    )
    assert read_seed(tmp_path / "a.html").url == "https://news.example/tech/dutch-chip-licences"
    (tmp_path / "b.html").write_text(
        mark.replace("dutch-chip-licences", "story?id=3")
        + '<html><head><link rel="canonical" href="/tech/dutch-chip-licences"><title>Dutch widen chip licences'
        + f"</title></head><body>{body}</body></html>"
    )
    assert read_seed(tmp_path / "b.html").url == "https://news.example/tech/dutch-chip-licences"
    (tmp_path / "c.html").write_text(f"<html><head><title>Dutch widen chip licences</title></head><body>{body}")
    assert read_seed(tmp_path / "c.html").url is None


def _dutch_seed(tmp_path, published: str):
    """A seeds folder holding one article on the Dutch ASML export rules, dated ``published``."""
    folder = tmp_path / "myseeds"
    folder.mkdir()
    (folder / "asml.txt").write_text(
        f"Netherlands restricts ASML chipmaking tool exports to China\nPublished: {published}\n\n"
        "The Dutch government said it will require licences for exports of advanced ASML lithography "
        "machines, joining US curbs on China's chipmaking.\n"
    )
    return folder


def _store_report(store, pipe, guid: str, title: str, text: str, now: datetime):
    """A wire report published and fetched ``now``, stored: its row."""
    url = f"https://wire.example/{guid}"
    item = Item(
        "https://wire.example/feed", guid, url, canonical_url(url), title, text, text, None, now, now,
        content_hash(title, text), "Wire",
    )  # fmt: skip
    with store.transaction():
        return store.item(pipe.ingest(item, now, CycleReport()))


def test_a_seed_dated_after_its_import_is_a_report_of_its_import(tmp_path):
    """A mistyped year ("Published: 3 Jul 2099") would put every report before the seed, so none could
    follow it up: a seed's date after its import is its import, as a feed's future date is the time it is
    read, and stays so after a restart."""
    folder = _dutch_seed(tmp_path, "3 Jul 2099")
    now = datetime.now(UTC)
    store, pipe = pipeline(tmp_path)
    pipe.import_seeds([folder], now)
    story = store.seeds()[0]["story_id"]
    title = "Dutch curbs on ASML chipmaking tool exports to China take effect"
    assert _store_report(store, pipe, "a1", title, "Licences now needed.", now)["story_id"] == story
    store.close()
    store, pipe = pipeline(tmp_path)  # a restart reads the seed's date from the database
    title = "ASML says Dutch export curbs on chipmaking tools for China are in force"
    assert _store_report(store, pipe, "a2", title, "China objects.", now)["story_id"] == story
    store.close()


def test_a_report_too_loose_to_follow_up_an_older_seed_says_so(tmp_path):
    """A report after the seed's time follows it up only when clearly about the same thing; one that falls short
    says which seed it came closest to and the similarity it needed (`explain` shows the reason)."""
    folder = _dutch_seed(tmp_path, "3 Jul 2023")
    now = datetime.now(UTC)
    store, pipe = pipeline(tmp_path)
    pipe.import_seeds([folder], now)
    seed = store.seeds()[0]
    close = _store_report(
        store,
        pipe,
        "close",
        "Netherlands weighs more export rules",
        "Officials said more machines could need licences.",
        now,
    )
    assert close["story_id"] == seed["story_id"]
    assert close["story_reason"].startswith(f"same story as seed #{seed['id']} (")
    loose = _store_report(
        store, pipe, "loose", "Dutch chip tool makers face new licence rules", "Exports to China need approval.", now
    )
    assert loose["story_id"] != seed["story_id"]
    assert loose["story_reason"].startswith(f"first item of the story; closest: seed #{seed['id']} (0.")
    assert "under the 0.30 a report needs to follow up a seed after its time; shared: " in loose["story_reason"]
    from aggregator.explain import explain

    shown = explain(store, loose["id"])
    assert (
        f"  closest:       seed #{seed['id']}: Netherlands restricts ASML chipmaking tool exports to China (asml.txt)"
        in shown
    )
    store.close()
