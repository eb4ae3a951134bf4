"""Every file in fixtures/parse/ is a feed with its expected result beside it (NAME.expected.json).
Adding a case is adding two files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape

import pytest
from conftest import FIXTURES

from aggregator.errors import ParseError
from aggregator.models import Entry
from aggregator.normalise import UNTITLED, html_to_text, normalise_entry
from aggregator.parse import parse_feed

CASES = sorted(p for p in (FIXTURES / "parse").iterdir() if not p.name.endswith(".expected.json"))


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_fixture(path):
    expected = json.loads(path.with_name(path.name + ".expected.json").read_text())
    body = path.read_bytes()
    if "error" in expected:
        with pytest.raises(ParseError) as e:
            parse_feed(body, path.as_uri())
        assert expected["error"] in str(e.value)
        return
    feed = parse_feed(body, path.as_uri())
    assert len(feed.entries) == expected["entries"]
    assert feed.skipped == expected.get("skipped", 0)
    assert (feed.warning is not None) == expected.get("warning", False)
    if "ttl" in expected:
        assert feed.ttl == expected["ttl"]
    first = normalise_entry(feed.entries[0], "https://example.org/feed", datetime.now(UTC), feed.title)
    for key, attr in (
        ("first_title", "title"),
        ("first_summary", "summary"),
        ("first_guid", "guid"),
        ("first_url", "url"),
        ("first_author", "author"),
    ):
        if key in expected:
            value = getattr(first, attr)
            if key == "first_title" and expected[key] == "":
                assert value.startswith("Untitled post about gallium")  # no title: the start of the text
            else:
                assert value == expected[key], key
    if "first_published" in expected:
        assert first.published.isoformat() == expected["first_published"]
    assert "<script" not in first.summary_html and "onclick" not in first.summary_html


def test_relative_links_resolve_against_the_site_then_the_feed():
    rss = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Site</title><link>https://www.site.example/</link>'
        b"<item><title>a</title><link>/news/1</link></item>"
        b"<item><title>b</title><link>news/2?x=1</link></item>"
        b"<item><title>c</title><link>//cdn.site.example/3</link></item>"
        b"<item><title>d</title><link>https://other.example/4</link></item>"
        b"</channel></rss>"
    )
    feed = parse_feed(rss, "https://feeds.host.example/site", base="https://feeds.host.example/site.xml")
    assert [e.url for e in feed.entries] == [
        "https://www.site.example/news/1",
        "https://www.site.example/news/2?x=1",
        "https://cdn.site.example/3",
        "https://other.example/4",
    ]
    # no site link: the feed's own URL (after redirects) is the base; a relative site link resolves too
    atom = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><link rel="alternate" href="/blog/"/>'
        b'<entry><title>a</title><id>1</id><link href="post/1"/></entry></feed>'
    )
    feed = parse_feed(atom, "http://old.example/atom", base="https://new.example/feeds/atom.xml")
    assert feed.link == "https://new.example/blog/"
    assert feed.entries[0].url == "https://new.example/blog/post/1"
    # xml:base, when given, wins (feedparser applies it)
    based = atom.replace(b"<feed ", b'<feed xml:base="https://base.example/x/" ')
    assert parse_feed(based, "https://new.example/a.xml").entries[0].url == "https://base.example/x/post/1"
    # JSON Feed too
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "j",
        "home_page_url": "https://j.example/",
        "items": [{"id": "1", "url": "/p/1", "content_text": "x"}],
    }
    assert parse_feed(json.dumps(doc).encode(), "https://j.example/feed.json").entries[0].url == "https://j.example/p/1"
    # nothing to resolve against: left as it is
    bare = b'<rss version="2.0"><channel><title>t</title><item><title>a</title><link>/n/1</link></item></channel></rss>'
    assert parse_feed(bare, "stdin").entries[0].url == "/n/1"


def test_a_redirector_link_gives_way_to_the_original_address():
    rss = (
        b'<?xml version="1.0"?><rss version="2.0" xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0">'
        b"<channel><title>x</title><item><title>a</title><link>http://feedproxy.google.com/~r/site/~3/abc/</link>"
        b"<feedburner:origLink>https://site.example/2024/a.html?utm_source=feedburner</feedburner:origLink>"
        b'<guid isPermaLink="false">g1</guid></item></channel></rss>'
    )
    [entry] = parse_feed(rss, "https://feeds.example/site").entries
    assert entry.url == "https://site.example/2024/a.html?utm_source=feedburner" and entry.guid == "g1"
    # an empty one with attributes (feedparser gives them as a dict) is no address: the item's link stays
    empty = rss.replace(b"<feedburner:origLink>https://site.example/2024/a.html?utm_source=feedburner", b"").replace(
        b"</feedburner:origLink>", b'<feedburner:origLink type="text"/>'
    )
    assert (
        parse_feed(empty, "https://feeds.example/site").entries[0].url == "http://feedproxy.google.com/~r/site/~3/abc/"
    )


def test_a_date_in_the_future_becomes_the_time_we_saw_the_item_and_the_epoch_no_date():
    rss = (
        b'<rss version="2.0"><channel><title>t</title>'
        b"<item><title>skewed</title><guid>1</guid><pubDate>Sun, 29 Nov 2026 15:00:00 GMT</pubDate></item>"
        b"<item><title>early clock</title><guid>2</guid><pubDate>Sun, 29 Nov 2026 10:05:00 GMT</pubDate></item>"
        b"<item><title>past</title><guid>3</guid><pubDate>Sat, 28 Nov 2026 10:00:00 GMT</pubDate></item>"
        b"<item><title>epoch</title><guid>4</guid><pubDate>Thu, 01 Jan 1970 00:00:00 +0000</pubDate></item>"
        b"<item><title>old web</title><guid>5</guid><pubDate>Mon, 02 Jan 1995 09:00:00 GMT</pubDate></item>"
        b"</channel></rss>"
    )
    seen = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    feed = parse_feed(rss, "https://example.org/feed")
    published = [normalise_entry(e, "https://example.org/feed", seen, "t").published for e in feed.entries]
    assert published == [
        seen,
        datetime(2026, 11, 29, 10, 5, tzinfo=UTC),
        datetime(2026, 11, 28, 10, 0, tzinfo=UTC),
        None,  # the epoch is a CMS's empty date: the item counts as published when seen
        datetime(1995, 1, 2, 9, 0, tzinfo=UTC),
    ]


DATES = [
    # as written by real feeds, and what they mean in UTC (None: not a whole date, no guess)
    ("Sat, 28 Nov 2026 10:00:00 +0100", datetime(2026, 11, 28, 9, 0)),  # feedparser's own reading
    ("Sa, 28 Nov 2026 10:00:00 +0100", datetime(2026, 11, 28, 9, 0)),  # a German weekday
    ("Di, 27 Okt 2026 10:00:00 +0100", datetime(2026, 10, 27, 9, 0)),
    ("mar., 24 nov. 2026 10:00:00 +0100", datetime(2026, 11, 24, 9, 0)),  # French: mardi, not March
    ("28 de noviembre de 2026 10:30", datetime(2026, 11, 28, 10, 30)),
    ("28 novembre 2026 à 10h30", datetime(2026, 11, 28, 10, 30)),
    ("28.11.2026 10:00", datetime(2026, 11, 28, 10, 0)),
    ("2026年11月28日 18:19", datetime(2026, 11, 28, 18, 19)),  # a Chinese site's CMS
    ("November 28, 2026", datetime(2026, 11, 28, 0, 0)),
    ("Nov 28th, 2026 at 9:15 pm EST", datetime(2026, 11, 29, 2, 15)),
    ("11/28/2026 3:05 PM", datetime(2026, 11, 28, 15, 5)),
    ("Saturday, 28-Nov-26 10:00:00 GMT", datetime(2026, 11, 28, 10, 0)),  # RFC 850
    ("2026/11/28 10:00:00", datetime(2026, 11, 28, 10, 0)),  # feedparser: November 1st
    ("Sat, 28 Nov 2026 10:00:00 CEST", datetime(2026, 11, 28, 8, 0)),  # feedparser: 10:00 UTC
    ("Sat, 28 Nov 2026 10:00:00 PST", datetime(2026, 11, 28, 18, 0)),
    ("Sat, 28 Nov 2026 10:00:00 IST", datetime(2026, 11, 28, 4, 30)),  # India's; feedparser: 10:00 UTC
    ("Sat, 28 Nov 2026 10:00:00 AEDT", datetime(2026, 11, 27, 23, 0)),
    ("2026-11-28T10:00:00EET", datetime(2026, 11, 28, 8, 0)),  # ISO with a zone name: feedparser reads UTC
    ("2026-11-28T10:00:00 CEST", datetime(2026, 11, 28, 8, 0)),
    ("1795860000", datetime(2026, 11, 28, 10, 0)),  # seconds since 1970: feedparser reads a day of 2017
    ("1795860000000", datetime(2026, 11, 28, 10, 0)),  # milliseconds
    ("03/04/2026", None),  # March 4th or April 3rd
    ("30 Feb 2026", None),
    ("soon", None),
]


@pytest.mark.parametrize(("written", "meant"), DATES)
def test_dates_as_real_feeds_write_them(written, meant):
    rss = (
        '<rss version="2.0"><channel><title>t</title>'
        f"<item><title>a</title><guid>1</guid><pubDate>{written}</pubDate></item></channel></rss>"
    ).encode()
    [entry] = parse_feed(rss, "https://example.org/feed").entries
    assert entry.published == (meant.replace(tzinfo=UTC) if meant else None)


def test_a_json_feed_date_that_is_not_rfc_3339_is_read_too():
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "items": [
            {"id": "1", "title": "a", "date_published": "2026-11-28 10:00:00 +0100"},
            {"id": "2", "title": "b", "date_published": 1795860000},  # a number: seconds since 1970
        ],
    }
    entries = parse_feed(json.dumps(doc).encode(), "https://example.org/feed.json").entries
    assert [e.published for e in entries] == [
        datetime(2026, 11, 28, 9, 0, tzinfo=UTC),
        datetime(2026, 11, 28, 10, 0, tzinfo=UTC),
    ]


def test_a_json_feed_items_author_as_feeds_write_it():
    """`authors` is a list of objects (1.1), `author` one object (1.0); feeds also write one object where the list
    belongs, or the name alone. A number there made the whole feed an internal error."""
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "items": [
            {"id": "1", "title": "a", "authors": [{"name": ""}, {"name": "Ann Lee"}]},
            {"id": "2", "title": "b", "author": {"name": "Bo Chen"}},
            {"id": "3", "title": "c", "authors": {"name": "Cy Dorn"}},
            {"id": "4", "title": "d", "author": "Di Eng"},
            {"id": "5", "title": "e", "authors": 5, "author": True},
        ],
    }
    entries = parse_feed(json.dumps(doc).encode(), "https://example.org/feed.json").entries
    assert [e.author for e in entries] == ["Ann Lee", "Bo Chen", "Cy Dorn", "Di Eng", None]


def test_references_and_escapes_to_half_a_character_are_read_as_browsers_do():
    """Some CMSs escape an emoji one UTF-16 unit at a time ("&#55357;&#56832;"): feedparser failed on the whole
    feed. A pair is the character it encodes, a lone half U+FFFD, a control character's reference nothing, and
    inside CDATA it is text. In a JSON Feed a lone "\\ud800" (JSON allows it) could not be stored: U+FFFD."""
    rss = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>Chips &#55357;&#56832; &#xD83D;&#xDE00;</title><guid>1</guid></item>"
        b"<item><title>Lone &#xD800; and &#xD83D;&#xD83D;&#xDE00;, &#x1;bell &#xFFFE;</title><guid>2</guid>"
        b"<description><![CDATA[<p>kept &#55357; as text</p>]]></description></item>"
        b"</channel></rss>"
    )
    first, second = parse_feed(rss, "https://example.org/feed").entries
    assert first.title == "Chips \U0001f600 \U0001f600"
    assert second.title == "Lone \ufffd and \ufffd\U0001f600, bell \ufffd"
    assert second.summary_html == "<p>kept &#55357; as text</p>"
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "items": [{"id": "1", "title": "Lone \ud800 half, whole \U0001f600", "content_text": "x \udfff"}],
    }
    [entry] = parse_feed(json.dumps(doc).encode(), "https://example.org/feed.json").entries
    assert (entry.title, entry.summary_html) == ("Lone \ufffd half, whole \U0001f600", "x \ufffd")


def test_json_feed_items_as_link_blogs_podcasts_and_plain_text_write_them():
    """An item with no `url` links to its `external_url` (a link blog), else to its attachment (a
    podcast); `content_text` is plain text, its "<" and "&" kept as text; the feed's title is decoded like RSS's."""
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Links &amp; notes",
        "items": [
            {"id": 1, "content_text": "x < y & z", "external_url": "https://other.example/story"},
            {"id": "2", "title": "Episode 9", "attachments": [{"url": "https://pod.example/9.mp3"}]},
            {"id": "3", "title": "Own page", "url": "https://j.example/3", "external_url": "https://else.example/"},
        ],
    }
    parsed = parse_feed(json.dumps(doc).encode(), "https://j.example/feed.json")
    assert parsed.title == "Links & notes"
    assert [e.url for e in parsed.entries] == [
        "https://other.example/story",
        "https://pod.example/9.mp3",
        "https://j.example/3",
    ]
    item = normalise_entry(parsed.entries[0], "https://j.example/feed.json", datetime.now(UTC), parsed.title)
    assert item.summary == "x < y & z" and item.guid == "1"


@pytest.mark.parametrize(
    ("excerpt", "text"),
    [
        (  # WordPress with Yoast SEO: after every excerpt
            "<p>Commerce widened its chip controls &#8230;</p><p>The post <a href='https://b.example/p'>Chip rules "
            "tighten again</a> appeared first on <a href='https://b.example'>Policy Blog</a>.</p>",
            "Commerce widened its chip controls …",
        ),
        (
            "Notes on the week. <a href='https://b.example/n'>Continue reading <span>&#8594;</span></a>",
            "Notes on the week.",
        ),
        ("The excerpt stops here [&hellip;]", "The excerpt stops here…"),
        ("Le texte. Lire la suite", "Le texte."),
        # the same words as part of the article stay
        ("Officials said they would read more of the files.", "Officials said they would read more of the files."),
        (
            "A video of the ban, which first appeared on Weibo, spread.",
            "A video of the ban, which first appeared on Weibo, spread.",
        ),
        ("The post Other headline appeared first on Weibo.", "The post Other headline appeared first on Weibo."),
        # Hacker News (hnrss.org): a link's entry is only addresses and counts; a post's text keeps its text
        (
            '<p>Article URL: <a href="https://b.example/p">https://b.example/p</a></p><p>Comments URL: <a href='
            '"https://news.ycombinator.com/item?id=1">https://news.ycombinator.com/item?id=1</a></p>'
            "<p>Points: 212</p><p># Comments: 87</p>",
            "",
        ),
        (
            "<p>We track export rules.</p><hr><p>Comments URL: <a href='https://news.ycombinator.com/item?id=2'>"
            "https://news.ycombinator.com/item?id=2</a></p><p>Points: 5</p><p># Comments: 0</p>",
            "We track export rules.",
        ),
        # Reddit: the poster and the [link] [comments] links under every entry
        (
            '<table><tr><td><div class="md"><p>Any news on the chip rules?</p></div> &#32; submitted by &#32; '
            '<a href="https://www.reddit.com/user/some-one"> /u/some-one </a> <br/> <span><a href="https://'
            'b.example/p">[link]</a></span> &#32; <span><a href="https://www.reddit.com/r/x/comments/1/">'
            "[comments]</a></span></td></tr></table>",
            "Any news on the chip rules?",
        ),
        # Hacker News' own feed and Lobsters: a "Comments" link to the thread, after the text if there is one
        ('<a href="https://news.ycombinator.com/item?id=1">Comments</a>', ""),
        (
            '<p>A long look at the rules.</p><p><a href="https://lobste.rs/s/abc123/rules">Comments</a></p>',
            "A long look at the rules.",
        ),
        ("Readers sent 40 comments. Comments (40)", "Readers sent 40 comments."),
        ("Officials invited public Comments", "Officials invited public Comments"),
        # Lemmy before 0.19.4: the poster, the score and the comments, the shared article, then the post's text
        (
            'submitted by <a href="https://lemmy.example/u/bob">bob</a> to <a href="https://lemmy.example/c/tech">'
            'tech</a><br>24 points | <a href="https://lemmy.example/post/1">3 comments</a><br><a href="https://b.'
            'example/p">https://b.example/p</a><p>The rules cover memory chips.</p>',
            "The rules cover memory chips.",
        ),
        (
            "Submitted by readers to the committee: 24 points, 3 comments.",
            "Submitted by readers to the committee: 24 points, 3 comments.",
        ),
        (
            "Reporters asked for the Comments URL: none was given.",
            "Reporters asked for the Comments URL: none was given.",
        ),
        # a picture's caption is not the article's text
        (
            '<figure><img src="https://b.example/i.jpg" alt=""><figcaption>Illustration by Alex Castro / The Verge'
            "</figcaption></figure><p>New rules block the export of most AI chips.</p>",
            "New rules block the export of most AI chips.",
        ),
        # Substack: the subscribe box and the "Subscribe now" button inside every post
        (
            '<p>The rule covers memory chips.</p><div class="subscription-widget-wrap-editor" data-attrs="{}">'
            '<div class="subscription-widget show-subscribe"><div class="preamble"><p class="cta-caption">Thanks '
            "for reading Chip Notes! Subscribe for free to receive new posts and support my work.</p></div><form>"
            '<input type="email" placeholder="Type your email&#8230;"><input type="submit" value="Subscribe">'
            '</form></div></div><p class="button-wrapper"><a class="button primary" href="https://c.substack.com/'
            'subscribe?"><span>Subscribe now</span></a></p><p>It takes effect in 30 days.</p><div class="captioned-'
            'button-wrap" data-attrs="{}"><div class="preamble"><p class="cta-caption">Thanks for reading! This post '
            'is public so feel free to share it.</p></div><p class="button-wrapper"><a class="button primary" '
            'href="https://c.substack.com/p/x?utm_source=share"><span>Share</span></a></p></div>',
            "The rule covers memory chips. It takes effect in 30 days.",
        ),
        # WordPress with Jetpack: share buttons and related posts
        (
            '<p>Officials met on Monday.</p><div class="sharedaddy sd-sharing-enabled"><h3>Share this:</h3><ul>'
            "<li><a>Twitter</a><li><a>Facebook</a></ul></div><div id='jp-relatedposts' class='jp-relatedposts'>"
            "<h3>Related</h3><p>Earlier rules</p></div>",
            "Officials met on Monday.",
        ),
        # a class that only looks like a widget's, on an element holding the article, keeps it; so does a
        # widget never closed
        (
            f'<div class="social-affairs"><p>{"Lawmakers debated the bill. " * 80}</p></div>',
            ("Lawmakers debated the bill. " * 80).strip(),
        ),
        ('<p>Start.</p><div class="share"><p>Rest of the text.', "Start. Rest of the text."),
        # a publisher's copyright line after every excerpt
        (
            "<p>The startup raised $20 million.</p><p>© 2026 TechCrunch. All rights reserved. For personal use "
            "only.</p>",
            "The startup raised $20 million.",
        ),
        ("Officials said. Copyright 2026 NPR. To see more, visit https://www.npr.org.", "Officials said."),
        ("The label (c) 1975 EMI was shown.", "The label (c) 1975 EMI was shown."),
        # a credit line for the syndicated copy; Medium's after the post's own headline
        (
            "<p>The rules take effect in May.</p><p>This article originally appeared on Engadget at "
            "https://www.engadget.com/rules.html?src=rss</p>",
            "The rules take effect in May.",
        ),
        (
            "<p>Text of the post.</p><hr><p><a href='https://medium.com/p/1'>Chip rules tighten again</a> was "
            "originally published in <a href='https://medium.com/pub'>Policy Notes</a> on Medium, where people "
            "are continuing the conversation by highlighting and responding to this story.</p>",
            "Text of the post.",
        ),
        ("A short excerpt. Read the rest", "A short excerpt."),
        (  # RT: its site after every summary, with no full stop before it
            "Chinese companies buy US tools, a monitoring body has revealed Read Full Article at RT.com",
            "Chinese companies buy US tools, a monitoring body has revealed",
        ),
        ("Readers can Read Full Article at home", "Readers can Read Full Article at home"),
        (  # the Guardian's newsletters: the sign-up line between standfirst and lede
            "<p>But fans say the choice should be theirs</p><ul><li><p>Don’t get TechScape delivered to your inbox? "
            "<a href='https://www.theguardian.com/email/techscape'>Sign up here</a></p></li></ul><p>The US battle "
            "with TikTok has been heating up for years.</p>",
            "But fans say the choice should be theirs The US battle with TikTok has been heating up for years.",
        ),
        (  # The Guardian: a link after the standfirst
            "<p>The US has opened a review. <a href='https://b.example/p'>Continue reading...</a></p>",
            "The US has opened a review.",
        ),
        # Medium, and many a CMS's full content: the headline as the first heading
        (
            "<h3>Chip rules tighten again</h3><p>Washington's controls slowed China's chipmakers.</p>",
            "Washington's controls slowed China's chipmakers.",
        ),
        ("<p>Chip rules tighten again. What changes in May.</p>", "What changes in May."),
        ("<p>Chip rules tighten again? Not for long.</p>", "Not for long."),
        ("<p>Chip rules tighten against all odds.</p>", "Chip rules tighten against all odds."),
        # a title made of the text's first words (a micro-blog bridge's): the text goes on in that sentence
        ("<p>Chip rules tighten again in May, officials said.</p>", "Chip rules tighten again in May, officials said."),
        ("<p>Chip rules tighten again: what changes in May.</p>", "Chip rules tighten again: what changes in May."),
        (  # IDG's sites (Computerworld, InfoWorld, CSO...)
            "<p>The FCC voted to ban new equipment.</p><p>To read this article in full, please "
            "<a href='https://www.computerworld.com/a/1'>click here</a></p>",
            "The FCC voted to ban new equipment.",
        ),
        # NPR: the picture's credit after the summary
        (
            "Lawmakers pressed the company on its ties to Beijing. (Image credit: Jane Doe/Getty Images)",
            "Lawmakers pressed the company on its ties to Beijing.",
        ),
        # Feedburner's share links
        (
            '<p>Officials met.</p><div class="feedflare"><a href="http://feeds.feedburner.com/~ff/x?a=1">'
            "Email this</a></div>",
            "Officials met.",
        ),
        # a mailing template's variable left unfilled
        (
            "Welcome to The Hill's Technology newsletter {beacon} The Big Story: FBI warns of hackers.",
            "Welcome to The Hill's Technology newsletter The Big Story: FBI warns of hackers.",
        ),
        ("Set {x} and {0} as before.", "Set {x} and {0} as before."),
        # arXiv: the paper's id and announcement type before every abstract
        (
            "arXiv:2611.01234v1 Announce Type: new \nAbstract: We study export controls on AI chips.",
            "We study export controls on AI chips.",
        ),
        ("arXiv:2611.01234v2 Announce Type: replace-cross Abstract: We revise.", "We revise."),
        # The Guardian: its live blog, newsletters and app, as a list of links between standfirst and lede
        (
            "<p>Prohibition of Chinese social media app follows similar bans in other western countries</p><ul><li>"
            "<p><a href='https://www.theguardian.com/australia-news/live/x'>Follow our Australia news live blog for "
            "the latest updates</a></p></li><li><p>Get our <a href='https://www.theguardian.com/email'>morning and "
            "afternoon news emails</a>, <a href='https://app.adjust.com/w4u7jx3'>free app</a> or <a href='https://"
            "www.theguardian.com/full-story'>daily news podcast</a></p></li></ul><p>The Australian government will "
            "ban TikTok on all federal government devices, following similar moves by the US and UK.</p> <a href="
            "'https://www.theguardian.com/x'>Continue reading...</a>",
            "Prohibition of Chinese social media app follows similar bans in other western countries The Australian "
            "government will ban TikTok on all federal government devices, following similar moves by the US and UK.",
        ),
        (  # a post's related stories after its text
            "<p>Commerce widened its chip controls to cover memory makers and the tools they buy.</p><h4>Related"
            "</h4><OL><li><A href='https://b.example/1'>Huawei ban upheld</A></li><li><a href='https://b.example/2'>"
            "TikTok sale talks</a></li></OL>",
            "Commerce widened its chip controls to cover memory makers and the tools they buy.",
        ),
        # a list that is the text stays: points of its own (few words in links), a newsletter of links
        (
            "<p>The rules:</p><ul><li>cover <a href='https://b.example/m'>memory chips</a> made with US tools</li>"
            "<li>take effect in 30 days</li></ul>",
            "The rules: cover memory chips made with US tools take effect in 30 days",
        ),
        (
            "<p>Today's reading:</p><ul><li><a href='https://b.example/1'>Commerce adds 31 firms to the Entity List"
            "</a></li><li><a href='https://b.example/2'>Dutch curb chip tool exports</a></li></ul>",
            "Today's reading: Commerce adds 31 firms to the Entity List Dutch curb chip tool exports",
        ),
        (  # a list never closed stays
            "<p>Officials met on Monday to discuss it.</p><ul><li><a href='https://b.example/1'>Follow us</a>",
            "Officials met on Monday to discuss it. Follow us",
        ),
    ],
)
def test_what_blog_software_adds_to_every_excerpt_is_not_its_text(excerpt, text):
    entry = Entry(guid="1", url="https://b.example/p", title="Chip rules tighten again", summary_html=excerpt)
    item = normalise_entry(entry, "https://b.example/feed", datetime(2026, 11, 29, tzinfo=UTC), "Policy Blog")
    assert item.summary == text


def test_an_episode_without_a_page_links_to_its_audio():
    rss = (
        b'<rss version="2.0"><channel><title>Podcast</title>'
        b'<item><title>Ep 1</title><guid isPermaLink="false">ep1</guid>'
        b'<enclosure url="https://cdn.example/ep1.mp3" type="audio/mpeg" length="1"/></item>'
        b"<item><title>Ep 2</title><link>https://pod.example/ep2</link>"
        b'<enclosure url="https://cdn.example/ep2.mp3" type="audio/mpeg" length="1"/></item></channel></rss>'
    )
    assert [(e.guid, e.url) for e in parse_feed(rss, "https://pod.example/feed").entries] == [
        ("ep1", "https://cdn.example/ep1.mp3"),
        (None, "https://pod.example/ep2"),  # its page, when it has one
    ]


def _rss(title: str, prolog: str | None) -> str:
    decl = f'<?xml version="1.0" encoding="{prolog}"?>\n' if prolog else ""
    item = f"<item><title>{title}</title><guid>1</guid></item>"
    return f'{decl}<rss version="2.0"><channel><title>t</title>{item}</channel></rss>'


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        # UTF-8 written under a prolog, or a server default, that says ISO-8859-1
        (_rss("Café déjà vu", "ISO-8859-1").encode("utf-8"), None),
        (_rss("Café déjà vu", None).encode("utf-8"), "text/xml; charset=iso-8859-1"),
        # an 8-bit encoding named only by the HTTP header
        (_rss("Новости дня", None).encode("cp1251"), "application/rss+xml; charset=windows-1251"),
        # the prolog is right and the header is a server default
        (_rss("Новости дня", "windows-1251").encode("cp1251"), "text/xml; charset=utf-8"),
        (_rss("Café déjà vu", "windows-1252").encode("cp1252"), None),
        (_rss("Новости дня", "utf-16").encode("utf-16"), None),
        # a UTF-8 byte-order mark under a prolog that says otherwise
        (b"\xef\xbb\xbf" + _rss("Café déjà vu", "ISO-8859-1").encode("utf-8"), None),
        # UTF-8 with a smart quote pasted in as windows-1252: only those bytes are read as windows-1252
        (_rss("Café déjà vu", "utf-8").encode("utf-8").replace(b"vu<", b"vu\x93<"), None),
        # a byte-order mark over a prolog that names no encoding
        (b"\xef\xbb\xbf" + _rss("Café déjà vu", None).replace("<rss", '<?xml version="1.0"?><rss').encode(), None),
        # blank lines before the prolog (a CMS template's stray newline), after a byte-order mark or not
        (b"\n\r\n  " + _rss("Café déjà vu", "UTF-8").encode("utf-8"), None),
        (b"\xef\xbb\xbf\n " + _rss("Café déjà vu", "utf-8").encode("utf-8"), None),
    ],
    ids=[
        "utf8-under-latin1-prolog",
        "utf8-under-latin1-header",
        "header-only",
        "prolog-over-header",
        "cp1252",
        "utf16",
        "bom-over-prolog",
        "mixed",
        "bom-over-bare-prolog",
        "blank-lines-first",
        "bom-then-blank-lines",
    ],
)
def test_the_text_is_decoded_in_the_encoding_it_is_really_in(body, content_type):
    feed = parse_feed(body, "https://example.org/feed", content_type)
    assert feed.entries[0].title in ("Café déjà vu", "Новости дня", "Café déjà vu“")
    assert feed.warning is None


_NEWS = {
    "ru": "Правительство объявило о новых ограничениях на экспорт микросхем в Китай и о проверке поставщиков",
    "ja": "経済産業省は半導体製造装置の輸出管理を強化すると発表した。対象は先端品に限られる見通しだ",
    "zh": "美国商务部宣布对中国芯片企业实施新的出口管制措施，多家公司被列入实体清单",
    "ko": "정부는 반도체 장비 수출 규제를 강화한다고 발표했다. 업계는 영향을 분석하고 있다",
    "es": "El Gobierno español estudia restricciones a la exportación de chips; la compañía dice «no habrá cambios»",
}


@pytest.mark.parametrize(
    ("lang", "encoding", "prolog", "content_type"),
    [
        # legacy encodings of other scripts, declared nowhere: recognised (charset_normalizer)
        ("ru", "koi8-r", None, None),
        ("ru", "cp1251", None, "text/xml"),
        ("ja", "shift_jis", None, None),
        ("zh", "gb18030", None, None),
        ("ko", "euc-kr", None, None),
        # ...or declared as what they are not
        ("ja", "euc-jp", "utf-8", None),
        # a Latin-alphabet text that declares nothing is windows-1252 (guesses between Latin code pages fail)
        ("es", "cp1252", None, None),
        # labels read as browsers read them: "GB2312" with GBK's characters, "ISO-8859-1" with curly quotes
        ("zh", "gbk", "gb2312", None),
        ("es", "cp1252", "iso-8859-1", None),
    ],
)
def test_a_feed_in_a_legacy_encoding_is_read_in_it(lang, encoding, prolog, content_type):
    text = _NEWS[lang] + {"cp1252": "“”", "gbk": "朱镕基"}.get(encoding, "")  # 镕 is in GBK, not GB2312
    feed = parse_feed(_rss(text, prolog).encode(encoding), "https://example.org/feed", content_type)
    assert feed.entries[0].title == text


def test_text_in_another_encoding_than_declared_is_said_so_not_called_malformed():
    """A feed in windows-1252 that declares UTF-8, or nothing (XML's default is UTF-8), is read right, and its
    warning says what is wrong in those words: feedparser's ("malformed feed, read anyway:
    CharacterEncodingOverride: document declared as utf-8") named a declaration the feed may not have."""
    text = _NEWS["es"] + "“”"
    bare = parse_feed(_rss(text, None).encode("cp1252"), "https://example.org/feed")
    declared = parse_feed(_rss(text, "utf-8").encode("cp1252"), "https://example.org/feed")
    assert bare.entries[0].title == text == declared.entries[0].title
    assert bare.warning == (
        "encoding: its text is not utf-8, as XML assumes without a declaration; read as windows-1252 "
        "(if accents look wrong, tell the publisher)"
    )
    assert declared.warning is not None
    assert declared.warning.startswith("encoding: its text is not utf-8, as its XML declaration says; read as windows")


_JSON = '{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1", "title": "Новости"}]}'


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (("\ufeff" + _JSON).encode("utf-8"), None),
        (_JSON.encode("utf-16"), None),
        (_JSON.encode("cp1251"), "application/feed+json; charset=windows-1251"),
    ],
    ids=["utf8-bom", "utf16-bom", "header-charset"],
)
def test_a_json_feed_is_recognised_and_decoded_whatever_its_encoding(raw, content_type):
    assert [e.title for e in parse_feed(raw, "https://example.org/feed.json", content_type).entries] == ["Новости"]


def test_html_entities_bare_ampersands_and_control_characters_do_not_make_a_feed_malformed():
    """&nbsp; &rsquo; &eacute; outside CDATA (only a DTD defines them in XML), a bare ampersand ("AT&T", a link's
    "?a=1&b=2") and control characters pasted into a headline made expat give up and the feed "malformed, read
    anyway", and the loose parser garbled it ("AT&amp;T;"): they are read as what they mean, and the feed as the
    well-formed one it otherwise is. CDATA is left as it is. A name HTML does not know still makes it malformed."""
    item = (
        "<item><title>Chip\x0bcurbs\x1a widen &mdash; China&rsquo;s reply to AT&T</title><guid>1</guid>"
        "<link>https://example.org/a?id=1&ref=rss</link>"
        "<description>a&nbsp;b &eacute; &lt;b&gt;bold&lt;/b&gt; &amp; Q&A</description></item>"
        "<item><title>Two</title><guid>2</guid><description><![CDATA[<p>x&nbsp;y R&D</p>]]></description></item>"
    )
    body = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>{item}</channel></rss>'
    feed = parse_feed(body.encode(), "https://example.org/feed")
    assert feed.warning is None
    assert [html_to_text(e.title) for e in feed.entries] == ["Chipcurbs widen — China’s reply to AT&T", "Two"]
    assert feed.entries[0].url == "https://example.org/a?id=1&ref=rss"
    assert feed.entries[0].summary_html == "a\xa0b é <b>bold</b> & Q&A"
    assert feed.entries[1].summary_html == "<p>x&nbsp;y R&D</p>"
    unknown = parse_feed(body.replace("&mdash;", "&notanentity;").encode(), "https://example.org/feed")
    assert unknown.warning and "malformed" in unknown.warning and len(unknown.entries) == 2


def test_a_feed_using_the_usual_prefixes_without_declaring_them_is_well_formed():
    """A hand-made feed or a podcast tool's writes `<itunes:author>`, `<content:encoded>`, `<dc:creator>` in a bare
    `<rss>`: expat refuses the undeclared prefixes, and the feed was read by the loose parser, "malformed". Their
    usual namespaces are declared for it: read as the well-formed feed it means to be, nothing lost. An unknown
    prefix still makes it malformed (read anyway)."""
    body = (
        '<rss version="2.0"><channel><title>Pod</title><itunes:author>Jane</itunes:author><item><title>Ep 1</title>'
        "<link>https://p.example/1</link><content:encoded><![CDATA[<p>Export curbs, explained.</p>]]></content:encoded>"
        "<dc:creator>Jane Doe</dc:creator><dc:date>2026-11-28T10:00:00Z</dc:date></item></channel></rss>"
    )
    feed = parse_feed(body.encode(), "https://p.example/feed")
    assert feed.warning is None and feed.title == "Pod"
    [entry] = feed.entries
    assert (entry.summary_html, entry.author) == ("<p>Export curbs, explained.</p>", "Jane Doe")
    assert entry.published == datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    odd = parse_feed(body.replace("itunes:author", "mine:author").encode(), "https://p.example/feed")
    assert odd.warning and "malformed" in odd.warning and len(odd.entries) == 1


def test_html_entities_under_a_doctype_are_read_not_dropped():
    """Under a DOCTYPE naming an outside DTD (RSS 0.91's Netscape one, as old CMSs still write it) the XML
    parser skips the entities that DTD would define, silently: "Caf&eacute;" was "Caf", the feed not even
    marked malformed. They are read as what they mean."""
    doctype = (
        '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        '"http://my.netscape.com/publish/formats/rss-0.91.dtd">'
    )
    body = (
        f'<?xml version="1.0" encoding="ISO-8859-1"?>{doctype}<rss version="0.91"><channel><title>Caf&eacute;</title>'
        "<link>https://example.org/</link><item><title>R&eacute;sum&eacute; &mdash; \xe9t\xe9</title>"
        "<link>https://example.org/1</link><description>Le caf&eacute; &copy; 2023</description></item>"
        "</channel></rss>"
    ).encode("latin-1")
    feed = parse_feed(body, "https://example.org/feed")
    assert feed.title == "Café" and feed.warning is None
    assert [(html_to_text(e.title), html_to_text(e.summary_html)) for e in feed.entries] == [
        ("Résumé — été", "Le café © 2023")
    ]


def test_markup_leaving_thousands_of_blocks_open_is_read_as_its_text():
    """An HTML parser looks through the elements still open at each block tag: an entry leaving 20,000 <div>s
    open took seconds (200,000, hours, every poll). Such markup is read as its text, tags dropped; an
    article of thousands of closed blocks keeps its markup, and "<" in a tag's text or "vector<int>" as
    text stay what they were."""
    from aggregator.normalise import sanitise_html

    hostile = "<div class='x'><figure>" * 10_000 + "<p>Rules tighten.</p>"
    assert html_to_text(hostile) == "Rules tighten."
    assert "<div" not in sanitise_html(hostile) and "Rules tighten." in sanitise_html(hostile)
    article = "<div><p>Rules tighten.</p></div>" * 3_000
    assert sanitise_html(article).count("<div>") == 3_000
    feed = (
        '<rss version="2.0"><channel><title>t</title><item><title>Deep</title><link>https://b.example/1</link>'
        f"<description><![CDATA[{hostile}]]></description></item></channel></rss>"
    )
    entry = parse_feed(feed.encode(), "https://b.example/feed").entries[0]
    assert html_to_text(entry.summary_html) == "Rules tighten."


def test_words_in_angle_brackets_stay_text_and_markup_stays_markup():
    """Atom's text constructs are plain text unless typed html: "vector<int>", "a < b" and "the <dialog> element"
    are words, not tags to strip; so are a headline's, in RSS too, unless it holds HTML markup. A summary that
    holds markup though typed text (a feed that forgot type="html") is read as HTML."""
    atom = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>x</id>'
        "<entry><id>1</id><title>std::vector&lt;int&gt; and the &lt;dialog&gt; element</title>"
        "<summary>Price &lt; 5 &amp; rising</summary></entry>"
        "<entry><id>2</id><title>Typed</title>"
        "<summary>&lt;p&gt;Hello &lt;b&gt;world&lt;/b&gt;&lt;/p&gt;</summary></entry>"
        '<entry><id>3</id><title type="html">An &lt;em&gt;HTML&lt;/em&gt; title</title>'
        '<content type="text">a &lt;tag&gt; here</content></entry></feed>'
    )
    rss = (
        '<rss version="2.0"><channel><title>t</title><item><guid>4</guid>'
        "<title>Fed &lt; forecast: why &lt;dialog&gt; matters</title><description>&lt;p&gt;a&lt;/p&gt;</description>"
        "</item></channel></rss>"
    )
    # a JSON Feed summary is plain text, and a headline's words in angle brackets are words
    json_item = {"id": "5", "title": "Span<T> &amp; you", "summary": "vector<int> tips"}
    json_feed = {"version": "https://jsonfeed.org/version/1.1", "items": [json_item]}
    entries = [
        *parse_feed(atom.encode(), "https://x.example/f").entries,
        *parse_feed(rss.encode(), "https://x").entries,
        *parse_feed(json.dumps(json_feed).encode(), "https://x").entries,
    ]
    assert [(html_to_text(e.title), html_to_text(e.summary_html)) for e in entries] == [
        ("std::vector<int> and the <dialog> element", "Price < 5 & rising"),
        ("Typed", "Hello world"),
        ("An HTML title", "a <tag> here"),
        ("Fed < forecast: why <dialog> matters", "a"),
        ("Span<T> & you", "vector<int> tips"),
    ]


def test_the_body_not_its_label_says_whether_a_feed_is_json():
    """Servers label RSS as JSON and JSON as XML: the body decides; the label only when the body is neither."""
    rss_body = _rss("Café déjà vu", "utf-8").encode("utf-8")
    assert [e.title for e in parse_feed(rss_body, "https://example.org/f", "application/json").entries] == [
        "Café déjà vu"
    ]
    assert parse_feed(_JSON.encode(), "https://example.org/f", "text/xml").entries[0].title == "Новости"
    with pytest.raises(ParseError, match="invalid JSON"):
        parse_feed(b"oops", "https://example.org/f", "application/feed+json")


def test_links_through_a_redirector_become_the_articles_own():
    """Google Alerts and Bing News wrap every link in a click-through redirector; Bing names the outlet in
    <News:Source>. Other links, and redirector-looking links on other hosts, stay as they are."""
    alert = (
        b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        b"<id>tag:google.com,2005:alerts/1</id><title>Google Alert - export controls</title>"
        b"<entry><id>tag:google.com,2013:googlealerts/feed:1</id>"
        b'<title type="html">US tightens chip &lt;b&gt;export controls&lt;/b&gt; on China</title>'
        b'<link href="https://www.google.com/url?rct=j&amp;sa=t&amp;url=https://www.reuters.com/tech/us-1/&amp;ct=ga"/>'
        b"<published>2024-12-02T14:00:00Z</published><content type='html'>The US tightened rules.</content></entry>"
        b"</feed>"
    )
    entry = parse_feed(alert, "https://www.google.com/alerts/feeds/1/2").entries[0]
    assert entry.url == "https://www.reuters.com/tech/us-1/"
    assert entry.source == "reuters.com"  # an alert names no outlet: the article's site is its source
    bing = (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:News="https://www.bing.com/news">'
        b"<channel><title>export controls - Bing News</title><item><title>US tightens chip rules</title>"
        b"<link>http://www.bing.com/news/apiclick.aspx?ref=FexRss&amp;url=https%3a%2f%2fwww.ft.com%2fcontent%2fa1"
        b"&amp;c=1</link><description>The US tightened rules.</description><News:Source>Financial Times</News:Source>"
        b"</item><item><title>Other</title><link>https://example.org/url?url=https://elsewhere.example/</link>"
        b"</item></channel></rss>"
    )
    first, other = parse_feed(bing, "https://www.bing.com/news/search?format=rss").entries
    assert (first.url, first.source) == ("https://www.ft.com/content/a1", "Financial Times")
    assert other.url == "https://example.org/url?url=https://elsewhere.example/"


def test_a_link_aggregators_entry_is_the_article_it_shares():
    """Reddit and Lemmy link posts are the article they share; their text, picture and video posts keep their
    own page. Techmeme's entries are the article they lead with, headed without the author and outlet after
    the headline, the outlet as their source."""
    reddit = parse_feed((FIXTURES / "parse" / "reddit.atom").read_bytes(), "https://www.reddit.com/r/technology/.rss")
    assert [e.url for e in reddit.entries] == [
        "https://www.reuters.com/technology/us-adds-chipmakers-2026-11-30/?utm_source=reddit.com&x=1",
        "https://www.reddit.com/r/technology/comments/1abd/any_news/",  # a text post
        "https://www.reddit.com/r/technology/comments/1abe/chart/",  # a picture on i.redd.it
    ]
    techmeme = parse_feed((FIXTURES / "parse" / "techmeme.xml").read_bytes(), "https://www.techmeme.com/feed.xml")
    assert [(e.url, e.title, e.source) for e in techmeme.entries] == [
        (
            "https://www.reuters.com/technology/us-adds-chipmakers-2026-11-30/?x=1&utm_source=techmeme",
            "US adds Chinese chipmakers to the Entity List, citing military end uses",
            "Reuters",
        ),
        (
            "https://www.bloomberg.com/news/articles/2026-11-30/nvidia-chip",
            "Nvidia shows a chip for the Chinese market",
            "Bloomberg",
        ),
    ]
    assert html_to_text(techmeme.entries[1].summary_html) == "Nvidia showed a chip made to comply with US rules."
    # a headline in parentheses on another site is the headline
    other = b'<rss version="2.0"><channel><item><title>Chips (Intel/AMD)</title><link>https://b.example/1</link>'
    other += b"</item></channel></rss>"
    assert parse_feed(other, "https://b.example/feed").entries[0].title == "Chips (Intel/AMD)"


def test_an_entrys_discussion_is_its_comments_page():
    """The page where an entry is discussed, linked in the digest: a Reddit link post's own page (its link is the
    article), RSS <comments> (Hacker News, Lobsters, WordPress), Atom's rel="replies" page (Blogger); never the
    entry's own link again, nor anything but a web address."""
    reddit = parse_feed((FIXTURES / "parse" / "reddit.atom").read_bytes(), "https://www.reddit.com/r/technology/.rss")
    assert [e.comments for e in reddit.entries] == [
        "https://www.reddit.com/r/technology/comments/1abc/us_adds/",
        None,  # a text post: its page is its link
        None,
    ]
    hn = (
        b'<rss version="2.0"><channel><title>Hacker News</title><item><title>Chip rules</title>'
        b"<link>https://b.example/chips</link><comments>https://news.ycombinator.com/item?id=42</comments></item>"
        b"<item><title>Ask HN: chips?</title><link>https://news.ycombinator.com/item?id=43</link>"
        b"<comments>https://news.ycombinator.com/item?id=43</comments></item>"
        b"<item><title>Odd</title><link>https://b.example/odd</link><comments>javascript:alert(1)</comments></item>"
        b"</channel></rss>"
    )
    assert [e.comments for e in parse_feed(hn, "https://news.ycombinator.com/rss").entries] == [
        "https://news.ycombinator.com/item?id=42",
        None,
        None,
    ]
    blogger = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>Blog</title><entry><id>tag:b,1</id><title>Post</title>'
        b'<link rel="alternate" type="text/html" href="https://blog.example/2026/11/post.html"/>'
        b'<link rel="replies" type="application/atom+xml" href="https://blog.example/feeds/1/comments/default"/>'
        b'<link rel="replies" type="text/html" href="https://www.blogger.com/comment/fullpage/post/1/2"/>'
        b"</entry></feed>"
    )
    entry = parse_feed(blogger, "https://blog.example/feeds/posts/default").entries[0]
    assert entry.comments == "https://www.blogger.com/comment/fullpage/post/1/2"
    item = normalise_entry(entry, "https://blog.example/feed", datetime(2026, 11, 29, tzinfo=UTC), "Blog")
    assert item.comments_url == entry.comments
    # WordPress writes the article's own page (its comment form) into every entry: no page of its own
    wordpress = (
        b'<rss version="2.0"><channel><title>Blog</title><item><title>Post</title>'
        b"<link>https://wp.example/2026/11/post/</link><comments>https://wp.example/2026/11/post/#respond</comments>"
        b"</item></channel></rss>"
    )
    entry = parse_feed(wordpress, "https://wp.example/feed/").entries[0]
    item = normalise_entry(entry, "https://wp.example/feed/", datetime(2026, 11, 29, tzinfo=UTC), "Blog")
    assert (entry.comments, item.comments_url) == ("https://wp.example/2026/11/post/#respond", None)


def test_a_google_news_story_lists_its_reports_which_are_not_the_entrys_text():
    """Google News' top-stories and topic feeds give a story's entry the list of its reports (other outlets'
    headlines, then "View Full Coverage on Google News"): not the entry's text, which is its headline alone."""
    item = (
        "<li><a href='https://news.google.com/rss/articles/CBMi{n}?oc=5'>{h}</a>&nbsp;&nbsp;"
        "<font color='#6f6f6f'>{o}</font></li>"
    )
    listed = "<ol>" + item.format(n="A", h="US adds Chinese chipmakers to Entity List", o="Reuters")
    listed += item.format(n="B", h="Commerce blacklists more Chinese chip firms", o="Bloomberg")
    listed += "<li><strong><a href='https://news.google.com/stories/CAAq'>View Full Coverage on Google News</a>"
    listed += "</strong></li></ol>"
    feed = (
        '<rss version="2.0"><channel><title>Top stories - Google News</title><item>'
        "<title>US adds Chinese chipmakers to Entity List - Reuters</title>"
        "<link>https://news.google.com/rss/articles/CBMiA?oc=5</link>"
        f"<description>{escape(listed)}</description><source url='https://www.reuters.com'>Reuters</source>"
        "</item></channel></rss>"
    )
    entry = parse_feed(feed.encode(), "https://news.google.com/rss").entries[0]
    assert (entry.source, entry.summary_html) == ("Reuters", "")
    item = normalise_entry(entry, "https://news.google.com/rss", datetime(2026, 11, 29, tzinfo=UTC), "Google News")
    assert (item.title, item.summary) == ("US adds Chinese chipmakers to Entity List", "")


def test_a_google_news_link_of_the_older_kind_gives_the_articles_address():
    """Older Google News ids are base64 of a protobuf holding the article's URL; newer ones hold a key only
    Google resolves, and stay as they are (the headline rule finds their copies)."""
    import base64

    from aggregator.parse import unwrap_redirect

    article = "https://www.reuters.com/technology/us-adds-chinese-firms-2026-11-28/"
    packed = b"\x08\x13\x22" + bytes([len(article)]) + article.encode() + b"\xd2\x01\x00"
    old = base64.urlsafe_b64encode(packed).decode().rstrip("=")
    assert unwrap_redirect(f"https://news.google.com/rss/articles/{old}?oc=5") == article
    new = "https://news.google.com/rss/articles/CBMiU0FVX3lxTE1hYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODk?oc=5"
    assert unwrap_redirect(new) == new
    assert unwrap_redirect("https://news.google.com/rss/articles/%%%") == "https://news.google.com/rss/articles/%%%"


def test_text_escaped_twice_by_the_feed_is_decoded_twice():
    """Some feeds escape their HTML twice ("&amp;lt;p&amp;gt;", "&amp;#8217;"): their tags and entities
    never show as text; text escaped once keeps its "<", ">" and "&"."""
    rss = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Tech &amp;amp; Policy</title>'
        b"<item><title>Apple&amp;#8217;s chip &amp;amp; China</title><link>https://e.org/1</link>"
        b"<description>&amp;lt;p&amp;gt;Text &amp;amp;amp; more&amp;lt;/p&amp;gt;</description></item>"
        b"<item><title><![CDATA[Huawei&#8217;s <b>phone</b>]]></title><link>https://e.org/2</link>"
        b"<description><![CDATA[<p>Hi &amp;nbsp;there</p>]]></description></item>"
        b"<item><title>AT&amp;T &lt;3 5G</title><link>https://e.org/3</link>"
        b"<description>x &lt; y and R&amp;D &gt; b</description></item>"
        b"</channel></rss>"
    )
    seen = datetime(2026, 11, 29, tzinfo=UTC)
    parsed = parse_feed(rss, "https://e.org/feed")
    assert parsed.title == "Tech & Policy"  # the feed's own title too (feeds list, the digest's feed health)
    items = [normalise_entry(e, "https://e.org/feed", seen, "t") for e in parsed.entries]
    assert [(i.title, i.summary) for i in items] == [
        ("Apple\u2019s chip & China", "Text & more"),
        ("Huawei\u2019s phone", "Hi there"),
        ("AT&T <3 5G", "x < y and R&D > b"),
    ]


def test_an_id_that_is_no_address_is_never_the_link():
    """feedparser puts an entry's id where its link is missing; "urn:uuid:..." or "12345" is no page to
    open (and "12345" would resolve to a page that does not exist): the enclosure, else no link. An id
    that is an address (RSS's permalink guid) stays the link."""
    rss = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://s.example/</link>'
        b"<item><title>a</title><guid>12345</guid></item>"
        b"<item><title>b</title><guid>https://s.example/p/2</guid></item>"
        b"<item><title>c</title><guid>/p/3</guid></item>"
        b'<item><title>d</title><guid>tag:s.example,2026:4</guid><enclosure url="https://s.example/4.mp3" '
        b'type="audio/mpeg" length="1"/></item>'
        b"</channel></rss>"
    )
    assert [e.url for e in parse_feed(rss, "https://s.example/feed").entries] == [
        None,
        "https://s.example/p/2",
        "https://s.example/p/3",
        "https://s.example/4.mp3",
    ]
    atom = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        b'<entry><title>e</title><id>urn:uuid:1234</id><link rel="enclosure" href="https://s.example/5.mp3"/>'
        b"</entry></feed>"
    )
    assert [e.url for e in parse_feed(atom, "https://s.example/atom").entries] == ["https://s.example/5.mp3"]


def test_a_malformed_address_in_a_feed_is_kept_as_given_and_costs_nothing_else():
    """urlsplit raises on a bracketed host that is no IPv6 address: a template's placeholder left in
    ("http://[your-domain]/") cost the whole feed. Such a site link is no base (relative links resolve against
    the feed's address), an entry's link stays as written, and a redirector's malformed target is not
    unwrapped."""
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>http://[your-domain]/</link>'
        b"<item><title>a</title><link>http://[your-domain]/a</link></item>"
        b"<item><title>b</title><link>/b</link></item>"
        b"<item><title>c</title><link>https://www.google.com/url?q=http://[bad/&amp;sa=U</link></item>"
        b"</channel></rss>"
    )
    parsed = parse_feed(body, "https://s.example/feed")
    assert parsed.link == "http://[your-domain]/"
    assert [e.url for e in parsed.entries] == [
        "http://[your-domain]/a",
        "https://s.example/b",
        "https://www.google.com/url?q=http://[bad/&sa=U",
    ]


def test_parsing_a_feed_looks_for_no_module_on_disk():
    """feedparser asks xml.sax for libxml2's driver at every parse; where it is missing, each failed import
    searched sys.path on disk. A parse now imports nothing (nor does httpcore's sniffio lookup fail)."""
    import importlib.util
    import sys

    asked: list[str] = []

    class Recorder:
        def find_spec(self, name, path=None, target=None):
            asked.append(name)
            return None

    rss = b'<rss version="2.0"><channel><title>t</title><item><title>a</title></item></channel></rss>'
    parse_feed(rss, "https://e.example/feed")  # anything imported once on first use is imported now
    sys.meta_path.insert(0, Recorder())
    try:
        for _ in range(3):
            parse_feed(rss, "https://e.example/feed")
    finally:
        sys.meta_path.pop(0)
    assert asked == [] or importlib.util.find_spec("drv_libxml2") is not None, asked
    assert importlib.util.find_spec("sniffio") is not None


# --- a changed feed's known entries are not parsed again -------------------------------------------------


def incremental_matches_whole(body: bytes, url: str) -> tuple[int, int]:
    """Parse ``body`` whole, then once per entry with every other entry known: each time the result must be
    that entry alone (the others named as unparsed), or, where the shortened document does not check out,
    the whole result. Returns how many of those parses left entries out, and how many were made."""
    try:
        whole = parse_feed(body, url)
    except ParseError:
        return 0, 0
    if whole.keys is None:
        return 0, 0
    keys = list(whole.keys) + list(whole.skipped_keys)
    left_out = made = 0
    for n, key in enumerate(whole.keys):
        known = set(keys) - {key}
        if not known:
            continue
        made += 1
        part = parse_feed(body, url, known=known)
        if part.unparsed:
            left_out += 1
            assert part.entries == (whole.entries[n],) and part.keys == (key,), (url, n)
            assert set(part.unparsed) == known
            assert (part.title, part.link, part.ttl) == (whole.title, whole.link, whole.ttl)
        else:
            assert part.entries == whole.entries and part.keys == whole.keys
    return left_out, made


def _three(head: bytes, entry: bytes, tail: bytes, sep: bytes = b"") -> bytes:
    """A document of three entries: ``entry`` with each %d the entry's number (1 to 3)."""
    return head + sep.join(entry % ((n,) * entry.count(b"%d")) for n in range(1, 4)) + tail


_RSS2 = _three(
    b"<?xml version='1.0' encoding='utf-8'?><rss version='2.0' xmlns:dc='http://purl.org/dc/elements/1.1/' "
    b"xmlns:content='http://purl.org/rss/1.0/modules/content/'><channel><title>Wire &amp; more</title>"
    b"<link>https://wire.example/</link><ttl>30</ttl>\n",
    b"<item><title>Story %d</title><link>/news/%d</link><guid isPermaLink='false'>w-%d</guid>"
    b"<dc:creator>Desk %d</dc:creator><pubDate>Sat, 28 Nov 2026 0%d:00:00 GMT</pubDate>"
    b"<description><![CDATA[<p>Text <b>%d</b> with <a href='/x'>a link</a>.</p>]]></description>"
    b"<content:encoded>&lt;p&gt;Full text %d.&lt;/p&gt;</content:encoded></item>",
    b"\n<image><url>https://wire.example/logo.png</url></image></channel></rss>",
    sep=b"\n",
)
_ATOM1 = _three(
    b"<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom' "
    b"xml:base='https://atom.example/blog/'><title type='html'>Atom &lt;i&gt;news&lt;/i&gt;</title>"
    b"<link href='https://atom.example/'/><id>urn:feed</id>",
    b"\n  <entry><title>Entry %d</title><id>urn:e%d</id><link href='posts/%d'/>"
    b"<updated>2026-11-28T0%d:00:00Z</updated><summary type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'>"
    b"<p>Summary %d</p></div></summary><author><name>A %d</name></author></entry>",
    b"\n</feed>",
)
_ATOM03 = _three(
    b"<?xml version='1.0'?><feed version='0.3' xmlns='http://purl.org/atom/ns#'><title>Old atom</title>"
    b"<link rel='alternate' type='text/html' href='https://old.example/'/>",
    b"<entry><title>Old %d</title><link rel='alternate' type='text/html' href='https://old.example/%d'/>"
    b"<id>tag:old.example,2026:%d</id><issued>2026-11-28T0%d:00:00Z</issued><modified>2026-11-28T0%d:00:00Z"
    b"</modified><summary>Old summary %d</summary></entry>",
    b"</feed>",
)
_RSS1 = _three(
    b"<?xml version='1.0'?><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#' "
    b"xmlns='http://purl.org/rss/1.0/' xmlns:dc='http://purl.org/dc/elements/1.1/'>"
    b"<channel rdf:about='https://rdf.example/'><title>RDF</title><link>https://rdf.example/</link>"
    b"<items><rdf:Seq><rdf:li resource='https://rdf.example/1'/></rdf:Seq></items></channel>",
    b"<item rdf:about='https://rdf.example/%d'><title>RDF %d</title><link>https://rdf.example/%d</link>"
    b"<dc:date>2026-11-28T0%d:00:00Z</dc:date><description>About %d</description></item>",
    b"</rdf:RDF>",
)
_RSS091 = _three(
    b"<?xml version='1.0' encoding='ISO-8859-1'?><rss version='0.91'><channel><title>Caf\xe9</title>"
    b"<link>https://cafe.example/</link><language>fr</language>",
    b"<item><title>Caf\xe9 %d</title><link>https://cafe.example/%d</link><description>D\xe9j\xe0 %d"
    b"</description></item>",
    b"</channel></rss>",
)


@pytest.mark.parametrize(
    "body", [_RSS2, _ATOM1, _ATOM03, _RSS1, _RSS091], ids=["rss2", "atom1", "atom03", "rss1", "rss091"]
)
def test_a_changed_feed_is_read_without_its_known_entries_and_gives_the_same_entries(body):
    assert incremental_matches_whole(body, "https://feeds.example/feed") == (3, 3)


def test_leaving_out_known_entries_never_changes_a_fixture_entry():
    for path in CASES:
        incremental_matches_whole(path.read_bytes(), path.as_uri())


@pytest.mark.parametrize(
    "body",
    [
        # a comment between two entries
        b"<rss version='2.0'><channel><title>t</title><item><title>a</title></item><!-- x -->"
        b"<item><title>b</title></item></channel></rss>",
        # an entry's HTML in CDATA holding what looks like the end of an entry
        b"<rss version='2.0'><channel><title>t</title><item><title>a</title><description><![CDATA[<item>x</item>"
        b" more]]></description></item><item><title>b</title></item></channel></rss>",
        # prefixed entries (an RSS 1.0 document with a default namespace elsewhere)
        b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#' xmlns:rss='http://purl.org/rss/1.0/'>"
        b"<rss:channel><rss:title>t</rss:title></rss:channel><item><title>a</title></item>"
        b"<rss:item><rss:title>b</rss:title></rss:item></rdf:RDF>",
        # an entry never closed
        b"<rss version='2.0'><channel><title>t</title><item><title>a</title></channel></rss>",
    ],
)
def test_documents_that_cannot_be_cut_cleanly_are_parsed_whole(body):
    from aggregator.parse import split_entries

    assert split_entries(body) is None
    whole = parse_feed(body, "https://example.org/feed")
    assert whole.keys is None
    assert parse_feed(body, "https://example.org/feed", known={"0" * 20}).entries == whole.entries


def test_a_document_whose_pieces_are_not_its_entries_is_parsed_whole():
    """The cut takes the first `<entry>` for the entry tag, but this RSS document's entries are its `<item>`s
    (the `<entry>` is a child of its description): feedparser finds another number of entries than there are
    pieces, so no key is given and nothing is ever left out."""
    from aggregator.parse import split_entries

    body = (
        b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title><description>d</description>"
        b"<x:meta xmlns:x='urn:x'><entry>not an entry</entry></x:meta>"
        b"<item><title>one</title><link>https://e.org/1</link></item>"
        b"<item><title>two</title><link>https://e.org/2</link></item></channel></rss>"
    )
    split = split_entries(body)
    assert split is not None and len(split.chunks) == 1
    whole = parse_feed(body, "https://e.org/feed")
    assert [e.title for e in whole.entries] == ["one", "two"] and whole.keys is None
    part = parse_feed(body, "https://e.org/feed", known=set(split.keys))
    assert part.entries == whole.entries and part.unparsed == ()


def test_a_whole_post_as_the_title_is_headed_by_its_first_sentence_and_is_the_text():
    """Some micro-blog bridges and CMSs put a whole post or article in the title: the digest would show it all
    as the headline. Over 300 characters, it is the text, headed like a post without a title."""
    post = "The Commerce Department added 36 Chinese firms to the Entity List. " + "It cited military end uses. " * 12
    for summary in ("", "<p>36 firms added.</p>", post):
        entry = Entry(guid="1", url="https://b.example/1", title=post, summary_html=summary)
        item = normalise_entry(entry, "https://b.example/feed", datetime(2026, 11, 29, tzinfo=UTC), "Feed")
        assert (item.title, item.summary) == (
            "The Commerce Department added 36 Chinese firms to the Entity List.",
            post.strip(),
        )
    headline = "US adds 36 Chinese firms to the Entity List, citing military end uses | Technology | Example News"
    entry = Entry(guid="2", url="https://b.example/2", title=headline, summary_html="<p>36 firms added.</p>")
    assert normalise_entry(entry, "https://b.example/feed", datetime(2026, 11, 29, tzinfo=UTC), None).title == headline


def test_a_post_without_a_title_is_headed_by_its_first_sentence_or_words():
    """Mastodon and Bluesky feeds have no titles: the digest and `explain` need a headline all the same."""
    posts = [
        (  # a Mastodon post: HTML, escaped in the description
            "<p>The Dutch government expanded export controls on ASML&#39;s DUV machines. "
            '<a href="https://mastodon.social/tags/chips" class="mention hashtag">#<span>chips</span></a> '
            "More on what it means for the fabs in China, in a thread below.</p>",
            "The Dutch government expanded export controls on ASML's DUV machines.",
        ),
        (  # no short first sentence: the first words, cut between two of them
            "Commerce Secretary Gina M. Raimondo said the U.S. would widen the Entity List to cover subsidiaries "
            "of listed firms, closing a loophole",
            "Commerce Secretary Gina M. Raimondo said the U.S. would widen the Entity List to cover subsidiaries…",
        ),
        ("Chip rules, again", "Chip rules, again"),
        (  # an outlet's post of its article: the headline ends before the link and the hashtags
            '<p>US adds Chinese chipmakers to Entity List, citing military ties <a href="https://www.reuters.com/'
            'technology/us-adds/"><span class="invisible">https://www.</span><span class="ellipsis">reuters.com/'
            'technology/us-adds</span></a> <a href="https://mastodon.social/tags/China" class="mention hashtag">'
            "#<span>China</span></a></p>",
            "US adds Chinese chipmakers to Entity List, citing military ties",
        ),
        (  # Bluesky writes a link short, without its scheme
            "US adds Chinese chipmakers to Entity List, citing military ties reut.rs/4abc",
            "US adds Chinese chipmakers to Entity List, citing military ties",
        ),
        # a hashtag inside the sentence is a word of it
        ("Congress passed the #TikTok bill on Friday", "Congress passed the #TikTok bill on Friday"),
        (  # Bluesky writes this line in place of each picture, video or quoted post: not the post's text
            "China bans gallium exports to the US, effective today.\n\n[contains quote post or other embedded content]",
            "China bans gallium exports to the US, effective today.",
        ),
    ]
    for text, headline in posts:
        entry = Entry(guid="1", url="https://mastodon.social/@jane/1", title=None, summary_html=text)
        item = normalise_entry(entry, "https://mastodon.social/@jane.rss", datetime(2026, 11, 29, tzinfo=UTC), "Jane")
        assert item.title == headline
        assert item.summary.startswith(headline.rstrip("…")) and "[contains" not in item.summary
    picture = Entry(guid="2", url="https://bsky.app/profile/j/post/2", title=None, summary_html=text.split("\n")[-1])
    item = normalise_entry(picture, "https://bsky.app/profile/j/rss", datetime(2026, 11, 29, tzinfo=UTC), "Jane")
    assert (item.title, item.summary) == (UNTITLED, "")  # a picture alone: no text to head it


@pytest.mark.parametrize(
    ("channel", "seconds"),
    [
        ("<ttl>120</ttl>", 7200),
        # the syndication module, as WordPress writes it into every feed: once an hour
        ("<sy:updatePeriod>\n\thourly\t</sy:updatePeriod><sy:updateFrequency>\n\t1\t</sy:updateFrequency>", 3600),
        ("<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>", 1800),
        ("<sy:updatePeriod>daily</sy:updatePeriod>", 86400),  # the frequency defaults to once
        ("<sy:updatePeriod>Daily</sy:updatePeriod><sy:updateFrequency>often</sy:updateFrequency>", 86400),
        ("<ttl>120</ttl><sy:updatePeriod>hourly</sy:updatePeriod>", 7200),  # the longer of the two
        ("<ttl>soon</ttl><sy:updatePeriod>sometimes</sy:updatePeriod>", None),
        ("", None),
    ],
)
def test_how_often_a_feed_asks_to_be_read(channel, seconds):
    body = (
        '<?xml version="1.0"?><rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">'
        f"<channel><title>t</title>{channel}<item><title>a</title><guid>1</guid></item></channel></rss>"
    ).encode()
    assert parse_feed(body, "https://f.example/feed").ttl == seconds
