"""The whole pipeline against a real HTTP server: poll, 304s, one change, digest."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import FIXTURES, rss, write_config

from aggregator import delivery
from aggregator.config import load_feeds, load_settings
from aggregator.poll import Pipeline
from aggregator.render import render_text
from aggregator.store import Store, database_path
from aggregator.watchlist import load_watchlist

FEEDS = FIXTURES / "feeds"


def open_pipeline(cfg: Path) -> tuple[Store, Pipeline]:
    settings = load_settings(cfg)
    store = Store(database_path(settings.data_dir))
    store.sync_feeds(load_feeds(cfg), datetime.now(UTC))
    return store, Pipeline(store, settings, load_watchlist(cfg))


def test_poll_then_304_then_one_change_then_digest(tmp_path, feed_server):
    urls = [
        feed_server.serve(
            "/wire.xml", (FEEDS / "wire.xml").read_bytes(), headers={"Content-Type": "application/rss+xml"}
        ),
        feed_server.serve("/policy.atom", (FEEDS / "policy.atom").read_bytes()),
        feed_server.serve(
            "/briefs.json", (FEEDS / "briefs.json").read_bytes(), headers={"Content-Type": "application/feed+json"}
        ),
    ]
    cfg = write_config(tmp_path, urls)
    store, pipe = open_pipeline(cfg)

    first = asyncio.run(pipe.poll_once(force=True))
    assert (first.fetched, first.failed, first.new_items) == (3, 0, 25)
    assert store.count_items() == 25
    titles = {r["title"] for r in store.iter_items()}
    assert "Appeals court weighs TikTok divest-or-ban law" in titles
    assert "Washington puts 27 more Chinese companies on trade blacklist" in titles  # from the JSON Feed

    second = asyncio.run(pipe.poll_once(force=True))
    assert (second.not_modified, second.new_items, second.fetched) == (3, 0, 0)
    for path in ("/wire.xml", "/policy.atom", "/briefs.json"):
        assert feed_server.statuses(path) == [200, 304]
    sent = [h for p, _, h in feed_server.log if p == "/wire.xml"][-1]
    assert sent.get("If-None-Match", "").startswith('"') and sent.get("If-Modified-Since")
    assert store.count_items() == 25

    body = (
        (FEEDS / "wire.xml")
        .read_text()
        .replace(
            "<item>",
            "<item><title>US bars exports of chipmaking tools to Chinese foundry</title>"
            "<link>https://wire.example.com/2026/11/28/tools</link><guid>wire-2000</guid>"
            "<pubDate>Sat, 28 Nov 2026 07:00:00 GMT</pubDate><description>The Commerce Department barred exports "
            "of chipmaking equipment to a Chinese foundry under new export controls.</description></item><item>",
            1,
        )
    )
    feed_server.serve("/wire.xml", body)
    third = asyncio.run(pipe.poll_once(force=True))
    assert (third.fetched, third.not_modified, third.new_items) == (1, 2, 1)
    assert store.count_items() == 26

    now = datetime.now(UTC)
    d = delivery.compose(store, pipe.settings, pipe.watchlist, None, now)
    sections = {s.topic_id: s for s in d.sections}
    assert [s.topic_id for s in d.sections] == ["us-china-tech", "ai-regulation", "data-breaches"]
    china = [e.title for e in sections["us-china-tech"].entries]
    assert "US bars exports of chipmaking tools to Chinese foundry" in china
    assert sum("TikTok" in t and ("appeal" in t.lower() or "court" in t.lower()) for t in china) == 1
    assert not any("bakery" in t.lower() or "marathon" in t.lower() for t in china)
    # the three copies of the Entity List story are one entry, with the other outlets named
    entity = [e for e in sections["us-china-tech"].entries if "27" in e.title]
    assert len(entity) == 1 and len(entity[0].also) == 2
    store.close()


def test_edited_item_is_updated_in_place(tmp_path, feed_server):
    item = {
        "guid": "e-1",
        "title": "Huawei barred from 5G network",
        "link": "https://example.org/e1",
        "description": "The government barred Huawei from the 5G network.",
        "pubDate": "Sat, 28 Nov 2026 08:00:00 GMT",
    }
    url = feed_server.serve("/e.xml", rss([item]))
    store, pipe = open_pipeline(write_config(tmp_path, [url]))
    asyncio.run(pipe.poll_once(force=True))
    feed_server.serve("/e.xml", rss([{**item, "title": "Huawei barred from 5G network (updated)"}]))
    report = asyncio.run(pipe.poll_once(force=True))
    assert (report.edited, report.new_items) == (1, 0)
    rows = list(store.iter_items())
    assert len(rows) == 1 and rows[0]["title"].endswith("(updated)") and rows[0]["edits"] == 1
    old = store.execute("SELECT old_title FROM item_edits").fetchone()
    assert old["old_title"] == "Huawei barred from 5G network"
    # an entry that changes at every poll (a points or comments count in its text): its first version and
    # the latest ones are kept, not one row per poll for ever
    from aggregator.store import MAX_EDITS

    for n in range(MAX_EDITS + 10):
        feed_server.serve("/e.xml", rss([{**item, "description": f"{item['description']} Points: {n}"}]))
        asyncio.run(pipe.poll_once(force=True))
    versions = [r["old_summary"] for r in store.execute("SELECT old_summary FROM item_edits ORDER BY id")]
    assert len(versions) == MAX_EDITS and store.item(rows[0]["id"])["edits"] == MAX_EDITS + 11
    assert versions[0] == item["description"] and versions[-1].endswith(f"Points: {MAX_EDITS + 8}")
    store.close()


def test_an_entry_whose_guid_changed_is_the_same_item_and_entries_sharing_a_page_are_not(tmp_path, feed_server):
    """Some feeds make a new guid on every fetch, or re-post an edited article under a new one: the old guid
    is gone from the feed, the URL is the same: one item, edited in place. Entries of one document that share
    a URL (a feed linking every entry to its front page or a listing page) are separate items, and a URL
    that carries another article days later (a daily briefing page) is a new item."""
    day = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)

    def entry(guid, title, link, text, when=day):
        return {
            "guid": guid,
            "title": title,
            "link": link,
            "description": text,
            "pubDate": when.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        }

    article = entry("a-1", "Huawei barred from 5G network", "https://example.org/a", "The government barred Huawei.")
    pointers = [
        entry(f"p-{n}", title, link, f"Notice {n}: {title}.")
        for n, (title, link) in enumerate(
            [
                ("Ministry publishes chip import statistics", "https://example.org/"),
                ("Ministry opens consultation on cloud rules", "https://example.org/"),
                ("Agency lists new licence conditions for exporters", "https://example.org/notices"),
                ("Agency extends deadline for comments on licences", "https://example.org/notices"),
            ]
        )
    ]
    url = feed_server.serve("/g.xml", rss([article, *pointers]))
    store, pipe = open_pipeline(write_config(tmp_path, [url]))
    first = asyncio.run(pipe.poll_once(force=True, now=day))
    assert (first.new_items, first.duplicates) == (5, 0)
    # the next fetch: the same entries under new guids, one headline edited
    reissued = [{**article, "guid": "a-2", "title": "Huawei barred from 5G network, ministry says"}]
    reissued += [{**p, "guid": p["guid"] + "-b"} for p in pointers]
    feed_server.serve("/g.xml", rss(reissued))
    second = asyncio.run(pipe.poll_once(force=True, now=day + timedelta(hours=1)))
    assert (second.new_items, second.edited) == (0, 1)
    rows = list(store.iter_items())
    assert len(rows) == 5 and rows[0]["edits"] == 1 and rows[0]["title"].endswith("ministry says")
    # the older notices leave the feed and a new one links the same listing page: a new item, no copy
    notice = entry("p-9", "Agency publishes licence guidance for chip exporters", "https://example.org/notices", "New.")
    feed_server.serve("/g.xml", rss([notice]))
    fourth = asyncio.run(pipe.poll_once(force=True, now=day + timedelta(hours=2)))
    assert (fourth.new_items, fourth.edited, fourth.duplicates) == (1, 0, 0)
    # the next day the article's URL carries the day's briefing under a new guid: another headline and text,
    # so a new item, although the URL was seen a day ago
    daily = entry(
        "a-4",
        "Daily briefing: ports reopen after storm",
        "https://example.org/a",
        "Ports reopened.",
        day + timedelta(days=1),
    )
    feed_server.serve("/g.xml", rss([daily]))
    fifth = asyncio.run(pipe.poll_once(force=True, now=day + timedelta(days=1)))
    assert (fifth.new_items, fifth.edited, fifth.duplicates) == (1, 0, 0)
    # a week later the URL carries another article: a new item, not an edit of the old one
    briefing = entry(
        "a-3", "Chipmakers report record quarter", "https://example.org/a", "Sales rose.", day + timedelta(days=7)
    )
    feed_server.serve("/g.xml", rss([briefing]))
    third = asyncio.run(pipe.poll_once(force=True, now=day + timedelta(days=7)))
    assert (third.new_items, third.edited, third.duplicates) == (1, 0, 0)
    store.close()


def test_entries_sharing_one_guid_are_kept_apart(tmp_path, feed_server):
    """A CMS that writes the site's address into every guid: three different entries, three items, and no
    edit on the next fetch; once only one entry is left with that guid, it is still its own item."""
    entries = [
        {
            "guid": "https://example.org/",
            "title": title,
            "link": f"https://example.org/news/{n}",
            "description": f"{title}, the council said.",
            "pubDate": "Sat, 28 Nov 2026 08:00:00 GMT",
        }
        for n, title in enumerate(
            ["Council approves school budget", "US adds Chinese chipmakers to Entity List", "Rail strike called off"]
        )
    ]
    url = feed_server.serve("/s.xml", rss(entries))
    store, pipe = open_pipeline(write_config(tmp_path, [url]))
    first = asyncio.run(pipe.poll_once(force=True))
    assert (first.new_items, first.edited, first.duplicates) == (3, 0, 0)
    feed_server.serve("/s.xml", rss(entries[::-1]))
    again = asyncio.run(pipe.poll_once(force=True))
    feed_server.serve("/s.xml", rss(entries[1:2]))
    last = asyncio.run(pipe.poll_once(force=True))
    assert (again.new_items, again.edited, last.new_items, last.edited) == (0, 0, 0, 0)
    assert sorted(r["title"] for r in store.iter_items()) == sorted(e["title"] for e in entries)
    store.close()


def test_paragraphs_keep_their_spaces_and_text_stored_glued_is_no_edit(tmp_path, feed_server):
    """'<p>One.</p><p>Two</p>' is 'One. Two'. An item stored by an older version as 'One.Two' is
    brought up to date on its next poll without counting as an edit."""
    from aggregator import __version__
    from aggregator.normalise import content_hash

    item = {
        "guid": "p-1",
        "title": "Dutch curb chip tool exports",
        "link": "https://example.org/p1",
        "description": "<p>The Dutch government curbed exports.</p><p>ASML must apply for licences.</p>",
        "pubDate": "Sat, 28 Nov 2026 08:00:00 GMT",
    }
    url = feed_server.serve("/p.xml", rss([item]))
    store, pipe = open_pipeline(write_config(tmp_path, [url]))
    asyncio.run(pipe.poll_once(force=True))
    row = next(store.iter_items())
    assert row["summary"] == "The Dutch government curbed exports. ASML must apply for licences."
    glued = "The Dutch government curbed exports.ASML must apply for licences."
    store.execute(
        "UPDATE items SET summary = ?, content_hash = ? WHERE id = ?",
        (glued, content_hash(row["title"], glued), row["id"]),
    )
    # stored by an older release: the entries it read are read again by this one (poll.ENTRIES_FORMAT)
    store.execute("UPDATE feed_entries SET entries = replace(entries, ?, '0.0.0')", (__version__,))
    other = {**item, "guid": "p-2", "link": "https://example.org/p2", "title": "Another story"}
    feed_server.serve("/p.xml", rss([item, other]))  # the feed changes, so the item is read again
    report = asyncio.run(pipe.poll_once(force=True))
    row = next(r for r in store.iter_items() if r["guid"] == "p-1")
    assert report.new_items == 1 and report.edited == 0 and row["edits"] == 0 and "exports. ASML" in row["summary"]
    assert store.execute("SELECT count(*) FROM item_edits").fetchone()[0] == 0
    store.close()


_POST = (
    "US adds Chinese chipmakers to the Entity List, citing their military ties to the army "
    "https://www.reuters.com/technology/us-adds-chipmakers/ #China #chips"
)


@pytest.mark.parametrize(
    ("title", "text", "clean", "old"),
    [
        (
            "US blacklists 14 Chinese chip companies | News Channel",
            "The Commerce Department added 14 Chinese chip firms to the Entity List.",
            "US blacklists 14 Chinese chip companies",
            "US blacklists 14 Chinese chip companies | News Channel",
        ),
        (  # a post without a title, headed by its words up to the link it shares (once by its first 100 characters)
            None,
            _POST,
            "US adds Chinese chipmakers to the Entity List, citing their military ties to the army",
            "US adds Chinese chipmakers to the Entity List, citing their military ties to the army…",
        ),
    ],
)
def test_a_headline_stored_with_its_channels_name_is_brought_up_to_date_without_an_edit(
    tmp_path, feed_server, title, text, clean, old
):
    """An older release kept "... | News Channel" in the headline; this one drops the channel's name. An
    older one made the headline of a post without one from its first 100 characters, link and all. The
    entry read again is the same item, its title cleaned, and no edit is recorded."""
    from aggregator import __version__
    from aggregator.normalise import content_hash

    item = {
        "guid": "v-1",
        "link": "https://video.example/watch?v=1",
        "description": text,
        "pubDate": "Sat, 28 Nov 2026 08:00:00 GMT",
    }
    if title:
        item["title"] = title
    url = feed_server.serve("/v.xml", rss([item], title="News Channel"))
    store, pipe = open_pipeline(write_config(tmp_path, [url]))
    asyncio.run(pipe.poll_once(force=True))
    row = next(store.iter_items())
    assert row["title"] == clean
    store.execute(
        "UPDATE items SET title = ?, content_hash = ? WHERE id = ?",
        (old, content_hash(old, row["summary"]), row["id"]),
    )
    store.execute("UPDATE feed_entries SET entries = replace(entries, ?, '0.0.0')", (__version__,))
    other = {**item, "guid": "v-2", "link": "https://video.example/watch?v=2", "title": "Another video"}
    feed_server.serve("/v.xml", rss([item, other], title="News Channel"))
    report = asyncio.run(pipe.poll_once(force=True))
    row = next(r for r in store.iter_items() if r["guid"] == "v-1")
    assert (report.new_items, report.edited, row["edits"]) == (1, 0, 0)
    assert row["title"] == clean
    assert store.execute("SELECT count(*) FROM item_edits").fetchone()[0] == 0
    store.close()


def _hn_entry(n: int, points: int) -> dict[str, str]:
    """An entry as hnrss.org writes it: the article's and the thread's addresses, the points and comments."""
    thread = f"https://news.ycombinator.com/item?id={n}"
    return {
        "guid": thread,
        "title": f"Export rules for chip tools, part {n}",
        "link": f"https://b.example/{n}",
        "description": f'<p>Article URL: <a href="https://b.example/{n}">https://b.example/{n}</a></p>'
        f'<p>Comments URL: <a href="{thread}">{thread}</a></p><p>Points: {points}</p>'
        f"<p># Comments: {points // 3}</p>",
        "pubDate": "Sat, 28 Nov 2026 08:00:00 GMT",
    }


def _lemmy_entry(n: int, points: int) -> dict[str, str]:
    """An entry as Lemmy (0.19.4 on) writes it: linked to the post, the poster, the community, the comments
    and the score first, then the article a link post shares."""
    post = f"https://lemmy.example/post/{n}"
    return {
        "guid": post,
        "title": f"Export rules for chip tools, part {n}",
        "link": post,
        "comments": post,
        "description": f'Submitted by <a href="https://lemmy.example/u/bob">bob</a> to <a href="https://lemmy.'
        f'example/c/tech">tech</a><br>Comments: {points // 3} | Score: {points}<br><a href="{post}">View post</a>'
        f'<br><a href="https://b.example/{n}">https://b.example/{n}</a>',
        "pubDate": "Sat, 28 Nov 2026 08:00:00 GMT",
    }


_OLD_TEXT = {  # what an older release stored as the text of entry 2 (4 points)
    "hn": "Article URL: https://b.example/2 Comments URL: https://news.ycombinator.com/item?id=2 Points: 4 "
    "# Comments: 1",
    "lemmy": "Submitted by bob to tech Comments: 1 | Score: 4 View post https://b.example/2",
}


@pytest.mark.parametrize("kind", ["hn", "lemmy"])
def test_a_link_aggregators_changing_points_and_comments_are_no_edit(tmp_path, feed_server, kind):
    """Hacker News feeds (hnrss.org) and Lemmy's give each entry's points and comments as they are at the
    time: every poll sees other numbers. They are not the entry's text, so they make no edit; nor does an
    entry stored with them by an older release. A Lemmy link post links to the article it shares."""
    from aggregator import __version__
    from aggregator.normalise import content_hash

    entry = _hn_entry if kind == "hn" else _lemmy_entry
    url = feed_server.serve("/hn.xml", rss([entry(1, 10), entry(2, 4)]))
    store, pipe = open_pipeline(write_config(tmp_path, [url]))
    first = asyncio.run(pipe.poll_once(force=True))
    assert first.new_items == 2 and {r["summary"] for r in store.iter_items()} == {""}
    assert sorted(r["url"] for r in store.iter_items()) == ["https://b.example/1", "https://b.example/2"]
    # item 2 as an older release stored it: the trailer in its text
    old = _OLD_TEXT[kind]
    row = next(r for r in store.iter_items() if r["url"] == "https://b.example/2")
    store.execute(
        "UPDATE items SET summary = ?, content_hash = ? WHERE id = ?", (old, content_hash(row["title"], old), row["id"])
    )
    store.execute("UPDATE feed_entries SET entries = replace(entries, ?, '0.0.0')", (__version__,))
    feed_server.serve("/hn.xml", rss([entry(1, 250), entry(2, 31)]))
    again = asyncio.run(pipe.poll_once(force=True))
    assert (again.new_items, again.edited) == (0, 0)
    assert store.execute("SELECT count(*) FROM item_edits").fetchone()[0] == 0
    assert {r["summary"] for r in store.iter_items()} == {""}  # brought up to date all the same
    store.close()


def test_feed_urls_as_file_url_and_plain_path(tmp_path):
    wire = tmp_path / "wire.xml"
    wire.write_bytes((FEEDS / "wire.xml").read_bytes())
    atom = tmp_path / "policy.atom"
    atom.write_bytes((FEEDS / "policy.atom").read_bytes())
    cfg = write_config(tmp_path, [wire.as_uri(), "../policy.atom"])
    store, pipe = open_pipeline(cfg)
    report = asyncio.run(pipe.poll_once(force=True))
    assert (report.fetched, report.failed) == (2, 0)
    assert {f.url for f in store.feeds()} == {wire.as_uri(), atom.resolve().as_uri()}
    again = asyncio.run(pipe.poll_once(force=True))
    assert again.not_modified == 2 and again.new_items == 0
    store.close()


def test_a_new_report_on_a_story_already_sent_comes_back_as_an_update(tmp_path, feed_server):
    """The story was in yesterday's digest; today another outlet reports the decision itself: today's
    digest shows that report, marked as an update. A mere copy of the old report brings nothing back."""
    first = {
        "guid": "u-1",
        "title": "Netherlands weighs joining US curbs on ASML chip machine exports to China",
        "link": "https://a.example.org/1",
        "description": "Dutch officials are weighing new export curbs on ASML lithography machines to China.",
        "pubDate": "Fri, 27 Nov 2026 08:00:00 GMT",
    }
    url = feed_server.serve("/a.xml", rss([first]))
    other = feed_server.serve("/b.xml", rss([], title="Other outlet"))
    store, pipe = open_pipeline(write_config(tmp_path, [url, other]))
    asyncio.run(pipe.poll_once(force=True))
    sent_until = datetime.now(UTC)
    copy = {**first, "guid": "b-1", "link": "https://b.example.org/copy"}
    feed_server.serve("/b.xml", rss([copy], title="Other outlet"))
    asyncio.run(pipe.poll_once(force=True))
    assert delivery.compose(store, pipe.settings, pipe.watchlist, sent_until, datetime.now(UTC)).empty
    news = {
        "guid": "b-2",
        "title": "Netherlands curbs ASML chip machine exports to China, joining US",
        "link": "https://b.example.org/2",
        "description": "The Dutch government announced export curbs on ASML lithography machines bound for China.",
        "pubDate": "Sat, 28 Nov 2026 09:00:00 GMT",
    }
    feed_server.serve("/b.xml", rss([news, copy], title="Other outlet"))
    asyncio.run(pipe.poll_once(force=True))
    rows = {r["guid"]: r for r in store.iter_items()}
    assert rows["b-2"]["story_id"] == rows["u-1"]["story_id"] and rows["b-2"]["dup_level"] == "new"
    d = delivery.compose(store, pipe.settings, pipe.watchlist, sent_until, datetime.now(UTC))
    [entry] = [e for s in d.sections for e in s.entries]
    assert entry.title == news["title"] and entry.earlier == 1
    assert entry.update_of == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # its first report's date, not when fetched
    text = render_text(d)
    assert "Update: first reported Fri 27 Nov" in text and "(1 earlier report)" in text
    store.close()


def test_reports_published_long_before_they_are_fetched_still_form_their_story(tmp_path):
    """A feed added today brings reports from ten days ago; another feed's report of the same event, fetched
    in a later cycle or after a restart, joins their story (the window is by published time, whenever the
    reports are fetched)."""
    now = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    then = now - timedelta(days=10)

    def feed(name, items):
        path = tmp_path / f"{name}.xml"
        path.write_bytes(
            rss(
                [
                    {
                        "guid": f"{name}-{n}",
                        "title": title,
                        "link": f"https://{name}.example/{n}",
                        "description": text,
                        "pubDate": (then + timedelta(hours=n)).strftime("%a, %d %b %Y %H:%M:%S GMT"),
                    }
                    for n, (title, text) in enumerate(items)
                ],
                title=name,
            )
        )
        return path.as_uri()

    first = feed(
        "wire",
        [
            ("US adds YMTC and 35 Chinese chip firms to Entity List", "Commerce put 36 firms on the Entity List."),
            ("Council approves school budget after long debate", "The council voted on the budget."),
            ("Rail strike called off after overnight talks", "Unions and operators reached a deal."),
        ],
    )
    later = feed(
        "paper",
        [("Entity List: YMTC among 36 Chinese chip firms added by US", "The Commerce Department added 36 firms.")],
    )
    cfg = write_config(tmp_path, [first])
    store, pipe = open_pipeline(cfg)
    asyncio.run(pipe.poll_once(force=True, now=now))
    (cfg / "feeds.toml").write_text(f'[[feed]]\nurl = "{first}"\n\n[[feed]]\nurl = "{later}"\n')
    store.close()
    store, pipe = open_pipeline(cfg)  # a restart: the index is rebuilt from the database
    asyncio.run(pipe.poll_once(force=True, now=now + timedelta(hours=1)))
    rows = {r["guid"]: r for r in store.iter_items()}
    assert rows["paper-0"]["story_id"] == rows["wire-0"]["story_id"], rows["paper-0"]["story_reason"]
    assert rows["wire-1"]["story_id"] != rows["wire-0"]["story_id"]
    store.close()


def test_an_entry_that_cannot_be_stored_costs_its_feed_nothing_else(tmp_path, feed_server):
    """A write that fails for one entry (here a real SQLite trigger refuses it) is undone alone: the feed's
    other entries are stored, the feed is not in error, and the entry is tried again on the next fetch."""
    entries = [
        {"guid": f"x-{n}", "title": title, "link": f"https://example.org/x{n}", "description": f"{title}."}
        for n, title in enumerate(["Council approves school budget", "Poisoned entry", "Rail strike called off"])
    ]
    url = feed_server.serve("/x.xml", rss(entries))
    store, pipe = open_pipeline(write_config(tmp_path, [url]))
    store.execute(
        "CREATE TEMP TRIGGER refuse BEFORE INSERT ON items WHEN NEW.title LIKE 'Poisoned%' "
        "BEGIN SELECT RAISE(ABORT, 'refused for the test'); END"
    )
    report = asyncio.run(pipe.poll_once(force=True))
    assert (report.new_items, report.skipped_entries, report.failed) == (2, 1, 0)
    assert any("entry x-1 skipped" in e and "refused for the test" in e for e in report.errors)
    assert sorted(r["guid"] for r in store.iter_items()) == ["x-0", "x-2"]
    assert store.feeds()[0].error_count == 0
    store.execute("DROP TRIGGER refuse")
    feed_server.serve("/x.xml", rss(entries + [{"guid": "x-3", "title": "New", "link": "https://example.org/x3"}]))
    again = asyncio.run(pipe.poll_once(force=True))
    assert again.new_items == 2 and sorted(r["guid"] for r in store.iter_items()) == ["x-0", "x-1", "x-2", "x-3"]
    store.close()


def test_a_database_that_cannot_be_written_stops_the_cycle_and_loses_nothing(tmp_path, feed_server):
    """Another program holding the write lock (a sqlite3 shell, a backup), then a full disk (a real SQLite
    page limit): the cycle stops with one line saying what to do, nothing is half stored, and every feed not
    stored is still due, so the next cycle stores it all."""
    import sqlite3

    import pytest

    from aggregator.errors import StoreError

    urls = [
        feed_server.serve(
            f"/f{n}.xml",
            rss(
                [
                    {
                        "guid": f"{n}-{k}",
                        "title": f"Report {n}.{k} on the port strike",
                        "link": f"https://e.org/{n}/{k}",
                        "description": f"Dockers in port {n} walked out on day {k}. " * 60,
                    }
                    for k in range(3)
                ]
            ),
        )
        for n in range(3)
    ]
    cfg = write_config(tmp_path, urls)
    settings = load_settings(cfg)
    path = database_path(settings.data_dir)
    store = Store(path, busy_timeout=0.2)
    store.sync_feeds(load_feeds(cfg), datetime.now(UTC))
    pipe = Pipeline(store, settings, load_watchlist(cfg))
    other = sqlite3.connect(str(path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(StoreError, match="database locked by another program") as caught:
        asyncio.run(pipe.poll_once())
    assert caught.value.hint and "close the other program" in caught.value.hint
    other.execute("ROLLBACK")
    other.close()
    assert store.execute("SELECT count(*) FROM items").fetchone()[0] == 0
    assert len(pipe.due_feeds(datetime.now(UTC), force=False)) == 3  # all still due
    # a full disk: SQLite cannot grow the file past its current size
    pages = store.execute("PRAGMA page_count").fetchone()[0]
    store.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreError, match="the disk is full"):
        asyncio.run(pipe.poll_once())
    assert store.execute("SELECT count(*) FROM items").fetchone()[0] == 0
    store.execute("PRAGMA max_page_count = 1073741823")
    report = asyncio.run(pipe.poll_once())
    assert (report.fetched, report.new_items, report.failed) == (3, 9, 0)
    assert pipe.due_feeds(datetime.now(UTC), force=False) == []
    store.close()


def behind_its_back(store: Store, guid: str) -> None:
    """Change an item's stored text and its hash, as a release that read it otherwise would have stored it."""
    from aggregator.normalise import content_hash

    title = store.execute("SELECT title FROM items WHERE guid = ?", (guid,)).fetchone()[0]
    store.execute(
        "UPDATE items SET summary = 'changed behind its back', content_hash = ? WHERE guid = ?",
        (content_hash(title, "changed behind its back"), guid),
    )


def test_a_changed_feed_reads_only_its_new_and_edited_entries(tmp_path, feed_server):
    """A feed that published one entry, edited another and dropped its oldest: the new entry is stored, the
    edit recorded, and the entry unchanged since the last poll is not read again (a text changed in the
    database behind its back stays as it is); the publishing rate still counts every entry listed."""

    def entry(n: int, title: str | None = None) -> dict[str, str]:
        return {
            "guid": f"c-{n}",
            "title": title or f"Port workers strike on day {n} over automation",
            "link": f"https://example.org/c{n}",
            "description": f"Report {n}: dockers walked out over automated cranes at terminal {n}.",
            "pubDate": f"Sat, 28 Nov 2026 0{n}:00:00 GMT",
        }

    url = feed_server.serve("/c.xml", rss([entry(3), entry(2), entry(1)]))
    store, pipe = open_pipeline(write_config(tmp_path, [url]))
    asyncio.run(pipe.poll_once(force=True))
    assert store.execute("SELECT count(*) FROM items").fetchone()[0] == 3
    behind_its_back(store, "c-2")
    feed_server.serve("/c.xml", rss([entry(4), entry(3), entry(2, "Port workers end strike on day 2")]))
    report = asyncio.run(pipe.poll_once(force=True))
    assert (report.new_items, report.edited) == (1, 1)
    rows = {r["guid"]: r for r in store.iter_items()}
    assert set(rows) == {"c-1", "c-2", "c-3", "c-4"}
    assert rows["c-2"]["title"] == "Port workers end strike on day 2" and rows["c-2"]["edits"] == 1
    assert rows["c-2"]["summary"].startswith("Report 2:")  # an edited entry is read again, all of it
    assert rows["c-4"]["title"].endswith("day 4 over automation")
    assert store.feed(url).mean_gap == 3600
    # the entry not read again: its text changed behind its back (hash and all, as if stored so) stays; read, it
    # would differ from what is stored, and be taken for an edit
    behind_its_back(store, "c-3")
    feed_server.serve("/c.xml", rss([entry(5), entry(4), entry(3)]))
    report = asyncio.run(pipe.poll_once(force=True))
    assert report.new_items == 1 and report.edited == 0
    assert next(r for r in store.iter_items() if r["guid"] == "c-3")["summary"] == "changed behind its back"
    store.close()


def test_a_new_entry_with_the_guid_of_a_known_one_is_read_with_the_whole_feed(tmp_path, feed_server):
    """A CMS that writes one guid into every entry: the new entry shares its guid with an entry left unparsed,
    so the whole document is read again and each entry is known by its link (two items, not one edited)."""
    first = {"guid": "same", "title": "Council approves the budget", "link": "https://example.org/budget"}
    url = feed_server.serve("/g.xml", rss([first]))
    store, pipe = open_pipeline(write_config(tmp_path, [url]))
    asyncio.run(pipe.poll_once(force=True))
    second = {"guid": "same", "title": "Floods close the ring road", "link": "https://example.org/floods"}
    feed_server.serve("/g.xml", rss([second, first]))
    report = asyncio.run(pipe.poll_once(force=True))
    titles = sorted(r["title"] for r in store.iter_items())
    assert titles == ["Council approves the budget", "Floods close the ring road"]
    assert report.new_items == 1 and report.edited == 0
    store.close()


def test_what_a_feed_held_last_time_unreadable_is_read_again_whole(tmp_path, feed_server):
    """The remembered entries of a feed (table feed_entries) damaged, or written by another release: the
    feed is read whole again, nothing is lost or doubled, and what is remembered is rewritten."""

    def entry(n: int) -> dict[str, str]:
        return {"guid": f"d-{n}", "title": f"Dock strike day {n}", "link": f"https://example.org/d{n}"}

    url = feed_server.serve("/d.xml", rss([entry(2), entry(1)]))
    store, pipe = open_pipeline(write_config(tmp_path, [url]))
    asyncio.run(pipe.poll_once(force=True))
    stored = json.loads(store.feed_entries(url))
    damaged = {key: [7, "not a date"] for key in stored["entries"]}
    for n, text in enumerate(["{not json", json.dumps({**stored, "entries": damaged}), '{"format": "0/0.0.0"}']):
        store.execute("UPDATE feed_entries SET entries = ? WHERE url = ?", (text, url))
        feed_server.serve("/d.xml", rss([entry(3 + n), entry(2), entry(1)]))
        report = asyncio.run(pipe.poll_once(force=True))
        assert (report.failed, report.new_items, report.edited) == (0, 1, 0), report.line()
        assert len(json.loads(store.feed_entries(url))["entries"]) == 3
    assert store.execute("SELECT count(*) FROM items").fetchone()[0] == 5
    store.close()


def test_a_moved_feed_keeps_what_it_held_under_its_new_address(tmp_path, feed_server):
    """A 301 moves the feed, its items and the entries it remembers to the new URL: the next change there is
    read without the known entries, and only the new one is stored."""
    entries = [{"guid": f"m-{n}", "title": f"Harbour crane order {n}", "link": f"https://e.org/m{n}"} for n in range(3)]
    old_url = feed_server.serve("/old.xml", rss(entries[:2]))
    store, pipe = open_pipeline(write_config(tmp_path, [old_url]))
    asyncio.run(pipe.poll_once(force=True))
    assert store.feed_entries(old_url) is not None
    behind_its_back(store, "m-0")
    new_url = feed_server.serve("/new.xml", rss([entries[2], *entries[:2]]))
    feed_server.serve("/old.xml", status=301, headers={"Location": new_url})
    report = asyncio.run(pipe.poll_once(force=True))
    assert store.feed(new_url) is not None
    assert (report.new_items, report.fetched, report.edited) == (1, 1, 0)
    assert len(json.loads(store.feed_entries(new_url))["entries"]) == 3 and store.feed_entries(old_url) is None
    assert next(r for r in store.iter_items() if r["guid"] == "m-0")["summary"] == "changed behind its back"
    store.close()


def test_a_story_is_headed_by_an_outlets_own_title_without_the_channels_name_or_links(tmp_path, feed_server):
    """A story reported by a Mastodon post (no title: one is made from its text), a video channel (its name
    after every title, its links and hashtags after the description) and a blog: the digest's headline is
    an outlet's own, without the channel's name; the snippet ends before the channel's links."""
    now = datetime.now(UTC)
    when = (now - timedelta(hours=3)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    post = (
        "Breaking: the Commerce Department just added 14 Chinese chip firms to the Entity List, including two "
        "suppliers of Huawei, the department said on Sunday in a notice."
    )
    mastodon = rss(
        [
            {
                "guid": "https://social.example/@jane/1",
                "link": "https://social.example/@jane/1",
                "description": post,
                "pubDate": when,
            }
        ],
        title="Jane Reporter",
    )
    video = rss(
        [
            {
                "guid": "yt:video:abc",
                "link": "https://video.example/watch?v=abc",
                "title": "US blacklists 14 Chinese chip companies | News Channel",
                "description": "The US Commerce Department has added 14 Chinese semiconductor firms to its "
                "Entity List. #china #chips Subscribe: https://video.example/@news More: https://x.example/n",
                "pubDate": when,
            }
        ],
        title="News Channel",
    )
    # the post is stored first: equal topic scores would make it the head by age alone
    urls = [feed_server.serve("/jane.rss", mastodon), feed_server.serve("/video.rss", rss([], title="News Channel"))]
    store, pipe = open_pipeline(write_config(tmp_path, urls))
    asyncio.run(pipe.poll_once(force=True))
    feed_server.serve("/video.rss", video)
    asyncio.run(pipe.poll_once(force=True))
    titles = {r["title"] for r in store.iter_items()}
    assert "US blacklists 14 Chinese chip companies" in titles  # the channel's name is no part of the headline
    assert any(t.startswith("Breaking: the Commerce Department") for t in titles)

    d = delivery.compose(store, pipe.settings, pipe.watchlist, None, datetime.now(UTC))
    entries = [e for s in d.sections for e in s.entries]
    assert len(entries) == 1, [e.title for e in entries]
    head = entries[0]
    assert head.title == "US blacklists 14 Chinese chip companies" and head.also == ("Jane Reporter",)
    assert head.snippet == "The US Commerce Department has added 14 Chinese semiconductor firms to its Entity List."
    from aggregator.explain import explain

    post_id = next(r["id"] for r in store.iter_items() if r["title"].startswith("Breaking"))
    assert '"US blacklists 14 Chinese chip companies"' in explain(store, post_id)  # the story, by its headline
    from aggregator.atom import topic_feed

    atom = topic_feed(store, pipe.watchlist, "us-china-tech", datetime.now(UTC))
    assert "<title>US blacklists 14 Chinese chip companies</title>" in atom and "Breaking:" not in atom
    store.close()


def test_also_reported_by_names_each_article_once(tmp_path, feed_server):
    """One article in three feeds of its outlet (its world and its tech section, the link with other tracking
    parameters; a third under the address of the section it moved to) is one report: the digest does not name
    the other feeds as other outlets."""
    when = (datetime.now(UTC) - timedelta(hours=2)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    article = {
        "title": "US adds 14 Chinese chipmakers to the Entity List",
        "description": "The Commerce Department added 14 Chinese chip firms to its Entity List on Sunday.",
        "pubDate": when,
    }
    slug = "us-adds-14-chinese-chipmakers-to-entity-list-5a1b2c3d"
    world = rss(
        [{**article, "guid": "w-1", "link": f"https://wsj.example/articles/{slug}?mod=rss_world"}],
        title="WSJ World",
    )
    tech = rss(
        [{**article, "guid": "t-1", "link": f"https://wsj.example/articles/{slug}?mod=rss_tech"}],
        title="WSJ Tech",
    )
    moved = rss(
        [
            {
                **article,
                "guid": "c-1",
                "link": f"https://www.wsj.example/world/china/{slug}",
                "title": article["title"] + " - WSJ",
            }
        ],
        title="www.wsj.example",
    )
    other = rss(
        [
            {
                "guid": "r-1",
                "link": "https://wire.example/entity-list",
                "title": "Washington blacklists 14 Chinese chip firms",
                "description": "The US Commerce Department put 14 Chinese chipmakers on the Entity List.",
                "pubDate": when,
            }
        ],
        title="Wire",
    )
    urls = [
        feed_server.serve("/world.rss", world),
        feed_server.serve("/tech.rss", tech),
        feed_server.serve("/china.rss", moved),
        feed_server.serve("/wire.rss", other),
    ]
    store, pipe = open_pipeline(write_config(tmp_path, urls))
    asyncio.run(pipe.poll_once(force=True))
    d = delivery.compose(store, pipe.settings, pipe.watchlist, None, datetime.now(UTC))
    entries = [e for s in d.sections for e in s.entries]
    assert len(entries) == 1
    names = [entries[0].source, *entries[0].also]
    # the feeds are read concurrently: either WSJ feed may hold the original, never both named
    assert sorted(names) in (["WSJ Tech", "Wire"], ["WSJ World", "Wire"], ["Wire", "www.wsj.example"]), names
    assert entries[0].duplicates == 2  # still counted among the copies
    store.close()
