"""Topic tracking end to end: hot reload in a running daemon, backtests, trends, the Atom export."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import feedparser
from conftest import FIXTURES, ROOT, wait_for, write_config

from aggregator.digest import _spike

AI_TOPIC = '\n[[topic]]\nid = "storms"\nname = "Storms"\nquery = "storm* OR gust*"\n'


def cli(*args, env):
    return subprocess.run(
        [sys.executable, "-m", "aggregator", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )


def topics_of(env, guid):
    items = [json.loads(x) for x in cli("export", "items", "--format", "jsonl", env=env).stdout.splitlines()]
    return [t["topic"] for i in items if i["guid"] == guid for t in i["topics"]]


def test_hot_reload_applies_edits_rejects_broken_ones_and_obeys_sighup(tmp_path):
    feed = tmp_path / "wire.xml"
    feed.write_bytes((FIXTURES / "feeds" / "wire.xml").read_bytes())
    cfg = write_config(tmp_path, [feed.as_uri()], settings='[watchlist]\nreload_every = "1s"\n')
    env = {**os.environ, "AGGREGATOR_CONFIG": str(cfg), "AGGREGATOR_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "aggregator", "run"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    try:
        assert wait_for(lambda: (tmp_path / "data" / "outbox" / "preview.html").exists(), 60)
        assert topics_of(env, "wire-1004") == []  # the storm warning matches no shipped topic
        good = (cfg / "watchlist.toml").read_text()
        (cfg / "watchlist.toml").write_text(good + AI_TOPIC)
        assert wait_for(lambda: topics_of(env, "wire-1004") == ["storms"], 15)  # applied to past items
        (cfg / "watchlist.toml").write_text(good + AI_TOPIC.replace("storm* OR gust*", "(storm* OR"))
        assert wait_for(
            lambda: "watchlist" in json.loads(cli("status", "--json", env=env).stdout)["rejected_by_daemon"], 15
        )
        status = json.loads(cli("status", "--json", env=env).stdout)
        assert not status["healthy"] and "watchlist" in status["config_errors"]
        assert cli("status", "--check", env=env).returncode == 1
        assert proc.poll() is None  # still running on the last good watchlist
        assert topics_of(env, "wire-1004") == ["storms"]
        # SIGHUP: with the file fixed, a reload on the signal
        (cfg / "aggregator.toml").write_text((cfg / "aggregator.toml").read_text().replace('"1s"', '"1h"'))
        (cfg / "watchlist.toml").write_text(good)
        proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: topics_of(env, "wire-1004") == [], 15)
        assert wait_for(lambda: json.loads(cli("status", "--json", env=env).stdout)["healthy"], 15)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    log = proc.stderr.read()
    assert "watchlist not reloaded, the last good one stays active" in log and "Traceback" not in log


def test_backtest_on_stored_items_and_on_labels(tmp_path):
    feed = tmp_path / "wire.xml"
    feed.write_bytes((FIXTURES / "feeds" / "wire.xml").read_bytes())
    cfg = write_config(tmp_path, [feed.as_uri()])
    env = {**os.environ, "AGGREGATOR_CONFIG": str(cfg), "AGGREGATOR_DATA_DIR": str(tmp_path / "data")}
    assert cli("poll", "--once", env=env).returncode == 0
    p = cli("watchlist", "test", "us-china-tech", "--since", "3650d", env=env)
    assert p.returncode == 0 and "us-china-tech: 5 of 12 stored items" in p.stdout, p.stdout
    assert "Entity List" in p.stdout and "score" in p.stdout
    # a date, as the other commands' --since take it (it was a traceback here)
    p = cli("watchlist", "test", "us-china-tech", "--since", "2000-01-01", env=env)
    assert p.returncode == 0 and "us-china-tech: 5 of 12 stored items since 2000-01-01" in p.stdout, p.stderr
    p = cli("watchlist", "test", "weather", "--query", "storm* OR rates", "--since", "3650d", env=env)
    assert "weather: 2 of 12 stored items" in p.stdout and "Storm warning" in p.stdout  # a topic not yet saved
    labels = tmp_path / "labels.jsonl"
    labels.write_text(
        "\n".join(
            json.dumps(x)
            for x in [
                {"id": "a", "title": "US adds Huawei suppliers to Entity List", "description": "", "label": 1},
                {"id": "b", "title": "Bakery wins bread award", "description": "", "label": 0},
                {
                    "id": "c",
                    "title": "Netherlands curbs ASML chip tool exports to China",
                    "description": "",
                    "label": 1,
                },
                {"id": "d", "title": "New smartphone reviewed", "description": "", "label": 1},
            ]
        )
        + "\n"
    )
    p = cli("watchlist", "test", "us-china-tech", "--labels", str(labels), env=env)
    assert "precision 1.000  recall 0.667" in p.stdout and "- New smartphone reviewed" in p.stdout
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "x"}\n')
    p = cli("watchlist", "test", "us-china-tech", "--labels", str(bad), env=env)
    assert p.returncode == 2 and "bad.jsonl:1: expected a JSON object with a 0/1 label, got no label" in p.stderr
    # lines that cannot be scored are skipped and listed; the others are scored (true, "1" and 1.0 are 1)
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(
        '{"title": "US adds Huawei suppliers to Entity List", "label": true}\nnot json\n'
        '{"title": "Bakery wins bread award", "label": "0"}\n["a list"]\n{"title": "x", "label": 2}\n'
        '{"title": "Netherlands curbs ASML chip tool exports to China", "label": 1.0}\n'
    )
    p = cli("watchlist", "test", "us-china-tech", "--labels", str(mixed), env=env)
    assert p.returncode == 0 and "precision 1.000  recall 1.000" in p.stdout and "(tp 2, fp 0, fn 0, tn 1)" in p.stdout
    assert "lines skipped (3):" in p.stdout and "mixed.jsonl:2: expected a JSON object" in p.stdout
    assert "mixed.jsonl:4: expected a JSON object with a 0/1 label, got a JSON list" in p.stdout
    assert "mixed.jsonl:5: expected a JSON object with a 0/1 label, got label 2" in p.stdout


def test_spike_marks_a_day_well_above_its_average():
    end = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
    day = lambda d: (end - timedelta(days=d)).strftime("%Y-%m-%d")  # noqa: E731
    quiet = {day(d): 1 for d in range(1, 8)}
    assert _spike({**quiet, day(0): 6}, end) == "6 new stories today, 7-day average 1.0"
    assert _spike({**quiet, day(0): 2}, end) is None
    assert _spike({day(0): 9}, end) is None  # no history yet: nothing to compare with


def test_atom_export_is_a_valid_feed_of_the_topic(tmp_path):
    feed = tmp_path / "wire.xml"
    feed.write_bytes((FIXTURES / "feeds" / "wire.xml").read_bytes())
    cfg = write_config(tmp_path, [feed.as_uri()])
    env = {**os.environ, "AGGREGATOR_CONFIG": str(cfg), "AGGREGATOR_DATA_DIR": str(tmp_path / "data")}
    cli("poll", "--once", env=env)
    p = cli("export", "feed", "us-china-tech", env=env)
    parsed = feedparser.parse(p.stdout.encode())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10" and parsed.feed.title == "US–China tech restrictions"
    titles = [e.title for e in parsed.entries]
    assert "US adds 27 Chinese firms to Entity List over military ties" in titles
    assert not any("bakery" in t.lower() for t in titles)
    assert cli("export", "feed", "nope", env=env).returncode == 2


def test_exports_stay_well_formed_xml_whatever_the_titles_hold(tmp_path):
    """A feed title with a control character (a TOML escape, a broken feed): the Atom and OPML exports drop
    what XML cannot carry and parse cleanly."""
    from xml.etree import ElementTree

    feed = tmp_path / "wire.xml"
    feed.write_bytes((FIXTURES / "feeds" / "wire.xml").read_bytes())
    cfg = write_config(tmp_path, [])
    (cfg / "feeds.toml").write_text(
        f'[[feed]]\nurl = "{feed.as_uri()}"\ntitle = "Wire\\u0001 News\\u001b"\ntags = ["a\\u0002b"]\n'
    )
    env = {**os.environ, "AGGREGATOR_CONFIG": str(cfg), "AGGREGATOR_DATA_DIR": str(tmp_path / "data")}
    cli("poll", "--once", env=env)
    atom = cli("export", "feed", "us-china-tech", env=env).stdout
    root = ElementTree.fromstring(atom.encode())
    names = {e.text for e in root.iter("{http://www.w3.org/2005/Atom}name")}
    assert names == {"Wire News"}
    opml = cli("feeds", "export", env=env).stdout
    outline = next(o for o in ElementTree.fromstring(opml.encode()).iter("outline") if o.get("xmlUrl"))
    assert outline.get("title") == "Wire News" and outline.get("category") == "ab"


def test_atom_entry_of_a_story_is_updated_by_its_latest_report(tmp_path):
    from aggregator.atom import topic_feed
    from aggregator.config import load_settings
    from aggregator.models import Item
    from aggregator.normalise import canonical_url, content_hash
    from aggregator.poll import CycleReport, Pipeline
    from aggregator.store import Store, database_path
    from aggregator.watchlist import load_watchlist

    cfg = write_config(tmp_path, [])
    settings = load_settings(cfg)
    store = Store(database_path(settings.data_dir))
    pipe = Pipeline(store, settings, load_watchlist(cfg))
    t0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    text = "The Dutch government announced export curbs on ASML lithography machines bound for China."
    for n, (title, hours) in enumerate(
        [
            ("Netherlands curbs ASML chip machine exports to China", 0),
            ("ASML chip machine exports to China: Netherlands curbs explained", 5),
        ]
    ):
        when = t0 + timedelta(hours=hours)
        url = f"https://site{n}.example/asml"
        item = Item(
            f"https://site{n}.example/feed", f"g{n}", url, canonical_url(url), title, text + f" ({n})", text, None,
            when, when, content_hash(title, text + f" ({n})"), f"Site {n}",
        )  # fmt: skip
        with store.transaction():
            pipe.ingest(item, when, CycleReport())
    assert len({r["story_id"] for r in store.iter_items()}) == 1
    parsed = feedparser.parse(topic_feed(store, pipe.watchlist, "us-china-tech", t0 + timedelta(days=1)).encode())
    [entry] = parsed.entries
    assert entry.updated.startswith("2026-11-27T13:00")  # the second report's time, not the first's
    store.close()


def _pipeline(tmp_path):
    from aggregator.config import load_settings
    from aggregator.poll import Pipeline
    from aggregator.store import Store, database_path
    from aggregator.watchlist import load_watchlist

    cfg = write_config(tmp_path, [])
    return Pipeline(Store(database_path(load_settings(cfg).data_dir)), load_settings(cfg), load_watchlist(cfg))


def test_the_shipped_topic_reads_news_after_2023(tmp_path):
    """The topic was tuned on 2023 headlines; the measures and names of later years are in it too, and
    ordinary business news about the same companies stays out."""
    pipe = _pipeline(tmp_path)
    topic = [t for t in pipe.topics if t.id == "us-china-tech"]
    on = [
        "Australia bans DeepSeek on government devices over security concerns",
        "Dutch government seizes control of Nexperia, citing national security",
        "US charges two Chinese nationals with smuggling Nvidia AI chips",
        "Pentagon adds CATL to 1260H list of Chinese military companies",
        "Commerce expands the Entity List with an affiliates rule covering subsidiaries",
        "TP-Link routers face possible US ban over security concerns",
        "US finalizes rule banning Chinese connected-car software and hardware",
        "Netherlands takes control of Chinese-owned chipmaker Nexperia",
        "China tells tech firms to avoid Nvidia H20 chips",
        "Canada orders TikTok to wind up its Canadian business",
        "South Korea suspends new downloads of DeepSeek",
        "Huawei loses US licence to buy Intel and Qualcomm chips",
        "China adds US drone maker Skydio to sanctions list",
        "House passes Biosecure Act aimed at Chinese biotech firms",
        "TikTok creators sue Texas over the state's ban of the app",
        "Two more universities end research partnerships with Huawei",
        "Chinese surveillance cameras found in ministry amid fears data could reach Beijing",
        "US and allies near deal to limit chip tech sales to China",
        "Chipmaker fined $140 million for selling design software to Huawei",
        "Utility disconnects CATL batteries at military base",
        "Nvidia agrees to give US government 15% of H20 China sales revenue",
        "Trump administration rescinds Biden's AI diffusion rule",
        "FCC adds Chinese drone makers to Covered List",
        "China probes Google over antitrust in response to US tariffs",
        "Chinese chip stocks rally after Beijing urges firms to shun US chips",
        "Malaysia requires permits for exports of US AI chips",
        "Britain orders Chinese-owned firm to sell Newport chip plant",
        "EU urges member states to drop Huawei from mobile networks",
        "Canada orders Chinese firm Hikvision to cease Canadian operations",
        "Australia removes Chinese surveillance cameras from defence sites",
        "TikTok US joint venture formed as ByteDance sells majority stake",
        "Judge dismisses TikTok creators' challenge to federal ban law",
    ]
    off = [
        "DeepSeek releases a new reasoning model",
        "Nexperia posts quarterly revenue growth",
        "China plans new gaming curbs in another blow to Tencent",
        "Investors avoid Nvidia as China sales slump",
        "Hackers seize control of Chinese drone maker's website",
        "China sanctions US lawmaker over Taiwan visit",
        "Beijing sanctions US defence firms over Taiwan arms sales",
        "TikTok creator's viral recipe divides fans",
        "TikTok introduces new screen-time limits for teens",
        "TikTok star banned from flying after airport stunt",
        "Intel chiefs tell Congress China's influence campaign is still under investigation",
        "China opens tax probe into Apple supplier Foxconn",
        "Apple removes AI apps from its Chinese app store ahead of new rules",
        "Alibaba shares drop after earnings miss",
    ]
    assert [title for title in on if not pipe.tag_text(title, "", topics=topic)] == []
    assert [title for title in off if pipe.tag_text(title, "", topics=topic)] == []
    pipe.store.close()


def test_the_other_shipped_topics_read_their_news(tmp_path):
    pipe = _pipeline(tmp_path)
    cases = {
        "ai-regulation": (
            [
                "Italy fines OpenAI 15 million euros over ChatGPT privacy",
                "Authors sue Anthropic over AI training data",
                "California governor signs AI safety bill",
                "FTC orders AI chatbot makers to disclose child safety measures",
                "EU publishes code of practice for general-purpose AI",
                "European Parliament approves the AI Act",
                "US bans exports of AI chips to China",
            ],
            [
                "Meta's new Ray-Bans get AI features",
                "Sunak considers banning Chinese officials from half of AI summit",
                "Top minds talk AI, mRNA and TikTok bans",
                "To shape the future of AI, we must act together",
                "Nvidia banking on TensorRT to expand generative AI dominance",
                "AI startup raises $2bn",
            ],
        ),
        "data-breaches": (
            [
                "Marks & Spencer cyber attack exposed customer data",
                "Ransomware gang claims attack on NHS supplier",
                "Company fined for data protection failures in leak of 2m records",
                "Carmaker's production halted by cyber attack",
                "Credit bureau breach exposes 4.4 million people",
                "Insurer says customers' data stolen by hackers",
            ],
            [
                "Microsoft patches zero-day",
                "Data centre boom strains grid",
                "Court finds landlord in breach of contract",
                "Google settles privacy lawsuit over Incognito mode",
                "TikTok user shares genius hack to avoid paying for iCloud storage",
            ],
        ),
    }
    for topic_id, (on, off) in cases.items():
        topic = [t for t in pipe.topics if t.id == topic_id]
        assert [title for title in on if not pipe.tag_text(title, "", topics=topic)] == [], topic_id
        assert [title for title in off if pipe.tag_text(title, "", topics=topic)] == [], topic_id
    pipe.store.close()


def test_a_passing_mention_deep_in_a_whole_article_does_not_tag_it(tmp_path):
    """Feeds that carry whole articles (content:encoded): tagging reads the headline and the opening (about
    1,000 characters), as a feed's description would give it, not every line of the article."""
    pipe = _pipeline(tmp_path)
    title = "Apple posts record quarter on iPhone demand"
    body = (
        "Apple reported record revenue for the holiday quarter, driven by strong iPhone sales in the United "
        "States and Europe. Services revenue grew 14 percent, and wearables returned to growth. "
    ) * 10
    mention = "Tim Cook said Apple was watching US export controls on advanced chips to China. "
    assert [t.topic for t in pipe.tag_text(title, mention + body)] == ["us-china-tech"]  # in the opening
    assert pipe.tag_text(title, body + mention + body) == []  # in passing, paragraphs later
    pipe.store.close()


def test_a_topic_can_ask_for_the_feeds_tags(tmp_path):
    """tag:china in a query matches the items of the feeds tagged "china" in feeds.toml (an OPML folder):
    at poll time, in `watchlist test` and when an edited watchlist is applied to past items."""
    from conftest import rss

    body = rss([{"guid": "s1", "title": "Semiconductor tariffs announced", "link": "https://e.example/s1"}])
    for name in ("asia", "misc"):
        (tmp_path / f"{name}.xml").write_bytes(body.replace(b"s1", name.encode()))
    cfg = write_config(tmp_path, [])
    (cfg / "feeds.toml").write_text(
        f'[[feed]]\nurl = "{(tmp_path / "asia.xml").as_uri()}"\ntags = ["China desk", "Tech"]\n\n'
        f'[[feed]]\nurl = "{(tmp_path / "misc.xml").as_uri()}"\ntags = ["Tech"]\n'
    )
    topic = '\n[[topic]]\nid = "china-trade"\nname = "China trade"\nquery = "tag:china AND tariff*"\n'
    (cfg / "watchlist.toml").write_text((cfg / "watchlist.toml").read_text() + topic)
    env = {**os.environ, "AGGREGATOR_CONFIG": str(cfg), "AGGREGATOR_DATA_DIR": str(tmp_path / "data")}
    assert cli("poll", "--once", env=env).returncode == 0
    items = [json.loads(x) for x in cli("export", "items", "--format", "jsonl", env=env).stdout.splitlines()]
    tagged = {i["guid"]: [(t["topic"], t["matched"]) for t in i["topics"]] for i in items}
    assert tagged["asia"] == [("china-trade", ["tag:china", "title:tariff*"])]
    assert tagged["misc"] == []
    p = cli("watchlist", "test", "china-trade", "--since", "3650d", env=env)
    assert "china-trade: 1 of 2 stored items" in p.stdout, p.stdout
    p = cli("watchlist", "test", "x", "--query", "tag:tech AND semiconductor*", "--since", "3650d", env=env)
    assert "x: 2 of 2 stored items" in p.stdout, p.stdout
    # a query on the source alone takes every item of it (a source hit alone scored under min_score's default)
    p = cli("watchlist", "test", "x", "--query", "tag:china", "--since", "3650d", env=env)
    assert "x: 1 of 2 stored items" in p.stdout and "score 0.632: tag:china" in p.stdout, p.stdout
    # the daemon applies an edited topic to the items already stored (Pipeline.retag), tags included
    from aggregator.config import load_settings
    from aggregator.poll import Pipeline
    from aggregator.store import Store, database_path
    from aggregator.watchlist import load_watchlist

    (cfg / "watchlist.toml").write_text((cfg / "watchlist.toml").read_text().replace("tag:china", "tag:tech"))
    settings = load_settings(cfg)
    store = Store(database_path(tmp_path / "data"))
    pipe = Pipeline(store, settings, load_watchlist(cfg))
    assert pipe.retag(datetime.now(UTC) - timedelta(days=1), {"china-trade"}) == 2
    store.close()
