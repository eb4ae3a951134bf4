"""The watchlist file: validation with file, line, column and caret; warnings; edits keep comments."""

from __future__ import annotations

import pytest
from conftest import ROOT, write_config

from aggregator.errors import ConfigError, QuerySyntaxError
from aggregator.query import parse
from aggregator.tag import CompiledTopic, Doc, match, tag
from aggregator.watchlist import add_topic, load_watchlist, remove_topic

BROKEN = """# my topics
[lists]
vendors = ["Huawei", "ZTE"]

[[topic]]
id = "fine"
name = "Fine"
query = "huawei"

[[topic]]
id = "broken"
name = "Broken"
query = \'\'\'
  (@vendors OR "Chinese vendors"
     AND ban*
\'\'\'
"""


def test_syntax_error_names_file_line_column_with_caret(tmp_path):
    cfg = write_config(tmp_path, [], watchlist=BROKEN)
    with pytest.raises(QuerySyntaxError) as e:
        load_watchlist(cfg)
    msg = str(e.value)
    assert msg.endswith("watchlist.toml:14:3: topic broken: query: unclosed parenthesis"), msg
    assert e.value.detail.splitlines() == ['      (@vendors OR "Chinese vendors"', "      ^"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[[topic]]\nid = "Bad Id"\nname = "x"\nquery = "a"\n', "topic #1: id: expected a slug"),
        ('[[topic]]\nid = "a"\nquery = "a"\n', "topic a: name: expected a non-empty string"),
        ('[[topic]]\nid = "a"\nname = "A"\nquery = " "\n', "topic a: query: expected a query string"),
        ('[[topic]]\nid = "a"\nname = "A"\nkeywords = []\n', "topic a: keywords: expected a non-empty list"),
        ('[[topic]]\nid = "a"\nname = "A"\nkeywords = [1]\n', "topic a: keywords: expected a non-empty list"),
        ('[[topic]]\nid = "a"\nname = "..."\n', "topic a: query: missing"),
        ('[[topic]]\nid = "a"\nname = "A"\nquery = "x"\nmin_score = 2\n', "topic a: min_score: expected a number"),
        ('[[topic]]\nid = "a"\nname = "A"\nquery = "x"\n[[topic]]\nid = "a"\nname = "B"\nquery = "y"\n', "used by two"),
        ('[[topic]]\nid = "a"\nname = "A"\nquery = "@nope"\n', "unknown list @nope"),
        ('[[topic]]\nid = "a"\nname = "A"\nquery = "x"\nqeury = "y"\n', "topic a: qeury: unknown key"),
    ],
)
def test_validation_errors(tmp_path, text, expected):
    cfg = write_config(tmp_path, [], watchlist=text)
    with pytest.raises(ConfigError) as e:
        load_watchlist(cfg)
    assert expected in str(e.value) and "watchlist.toml" in str(e.value)


def test_missing_example_is_a_warning_not_an_error(tmp_path):
    cfg = write_config(
        tmp_path, [], watchlist='[[topic]]\nid = "a"\nname = "A"\nquery = "x"\nexamples = ["nope.txt"]\n'
    )
    wl = load_watchlist(cfg)
    assert wl.topic("a") is not None and wl.topic("a").examples == ()
    assert "nope.txt: file not found" in wl.warnings[0]


def test_a_prefix_short_enough_to_take_in_unrelated_words_is_a_warning(tmp_path):
    """ban* matches bank and banking (a shipped topic tagged "Nvidia banking on TensorRT" as an AI ban): a
    prefix of three letters or fewer is pointed out, once; in a phrase, in capitals or in Chinese it is not."""
    query = 'title:(ban* NEAR/5 AI) OR law* OR ban* OR "export ban*" OR GPU* OR 禁* OR sanction*'
    cfg = write_config(tmp_path, [], watchlist=f'[[topic]]\nid = "a"\nname = "A"\nquery = \'{query}\'\n')
    wl = load_watchlist(cfg)
    assert wl.topic("a") is not None  # a warning, not an error
    assert len(wl.warnings) == 2, wl.warnings
    assert "topic a: query: ban*: a prefix this short matches unrelated words" in wl.warnings[0]
    assert "(ban OR bans)" in wl.warnings[0] and "law*" in wl.warnings[1]
    banking = Doc.of("Nvidia banking on TensorRT to expand its AI lead", "")
    assert match(parse("ban* NEAR/8 AI"), banking) is not None  # what the warning is about
    assert match(parse("(ban OR bans) NEAR/8 AI"), banking) is None  # what it advises


def test_a_query_naming_only_what_to_leave_out_is_a_warning(tmp_path):
    """An item is tagged on the words it matches: "NOT phone" matches none, and tagged nothing without a word
    said. Each query that names nothing to find is pointed out; one with something to find beside its NOT is
    not, nor one whose min_score of 0 takes every other item on purpose."""
    topics = [
        ("a", "NOT phone", None),
        ("b", "NOT (phone OR tablet)", None),
        ("c", "title:(NOT phone)", None),
        ("d", "huawei AND NOT phone", None),
        ("e", "huawei OR NOT phone", None),
        ("f", "NOT phone", 0),
    ]
    text = "".join(
        f'[[topic]]\nid = "{tid}"\nname = "T"\nquery = "{q}"\n' + (f"min_score = {m}\n" if m is not None else "")
        for tid, q, m in topics
    )
    wl = load_watchlist(write_config(tmp_path, [], watchlist=text))
    assert len(wl.topics) == 6  # warnings, not errors
    flagged = [w.split("topic ")[1].split(":")[0] for w in wl.warnings if "names only what to leave out" in w]
    assert flagged == ["a", "b", "c"], wl.warnings
    doc = Doc.of("Huawei unveils a laptop", "")
    compiled = {t.id: CompiledTopic(t.id, t.query, t.exclude, t.min_score, t.example_threshold) for t in wl.topics}
    assert [t.topic for t in tag(doc, [compiled["a"], compiled["d"], compiled["f"]])] == ["d", "f"]


def test_operators_written_in_lower_case_are_a_warning(tmp_path):
    """ "huawei or zte" asks for the word "or" as well, which is rarely meant: each such word is pointed out
    with its column, in the query and in the exclude; in a phrase, or in capitals, it is not."""
    query = 'huawei or zte AND "rock and roll" OR NOT x'
    topic = f'[[topic]]\nid = "a"\nname = "A"\nquery = \'{query}\'\nexclude = "review and"\n'
    wl = load_watchlist(write_config(tmp_path, [], watchlist=topic))
    assert wl.topic("a") is not None  # a warning, not an error
    assert len(wl.warnings) == 2, wl.warnings
    assert "topic a: query: 'or' (column 8) is a word to find, not an operator" in wl.warnings[0]
    assert "written in capitals (OR)" in wl.warnings[0]
    assert "topic a: exclude: 'and' (column 8)" in wl.warnings[1]
    assert match(parse("huawei or zte"), Doc.of("Huawei fined", "")) is None  # what the warning is about
    assert match(parse("huawei OR zte"), Doc.of("Huawei fined", "")) is not None


def test_shipped_watchlist_is_valid_with_its_example():
    wl = load_watchlist(ROOT / "config")
    assert [t.id for t in wl.topics][0] == "us-china-tech" and not wl.warnings
    assert wl.topic("us-china-tech").examples


def test_add_and_remove_keep_comments_and_refuse_bad_queries(tmp_path):
    cfg = write_config(tmp_path, [], watchlist=BROKEN.replace("(@vendors", "@vendors"))
    add_topic(cfg, "chips", "Chips", "semiconductor* AND export*", description="Chip trade")
    text = (cfg / "watchlist.toml").read_text()
    assert text.startswith("# my topics\n") and 'id = "chips"' in text
    assert [t.id for t in load_watchlist(cfg).topics] == ["fine", "broken", "chips"]
    with pytest.raises(QuerySyntaxError):
        add_topic(cfg, "bad", "Bad", "(unclosed")
    assert "bad" not in (cfg / "watchlist.toml").read_text()
    remove_topic(cfg, "fine")
    assert [t.id for t in load_watchlist(cfg).topics] == ["broken", "chips"]
    assert (cfg / "watchlist.toml").read_text().startswith("# my topics\n")
    with pytest.raises(ConfigError):
        remove_topic(cfg, "fine")


def test_add_to_a_watchlist_whose_topics_are_written_inline(tmp_path):
    """`topic = []` (a watchlist emptied by hand) or inline tables: the new topic is a [[topic]] table and
    the others keep their values (appending a table to an inline array would write broken TOML)."""
    cfg = write_config(tmp_path, [])
    for inline in ("topic = []\n", 'topic = [{id = "old", name = "Old", query = "huawei"}]\n'):
        (cfg / "watchlist.toml").write_text(inline)
        add_topic(cfg, "chips", "Chips", "semiconductor* AND export*")
        topics = load_watchlist(cfg).topics
        assert [t.id for t in topics] == (["old", "chips"] if "old" in inline else ["chips"])
        assert "[[topic]]" in (cfg / "watchlist.toml").read_text()


def test_readme_watchlist_examples_are_valid(tmp_path):
    """The TOML blocks of the README that define topics or lists parse as a watchlist."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```toml\n(.*?)```", readme, re.S) if "[[topic]]" in b or "[lists]" in b]
    assert blocks
    for block in blocks:
        cfg = write_config(tmp_path / str(len(block)), [], watchlist=block)
        wl = load_watchlist(cfg)
        assert wl.topics or wl.lists


def test_a_watchlist_that_is_not_utf8_or_not_toml_is_a_one_line_error_for_every_command(tmp_path):
    cfg = write_config(tmp_path, [], watchlist="")
    path = cfg / "watchlist.toml"
    path.write_bytes(b'[[topic]]\nid = "x"\nname = "Caf\xe9"\nquery = "chips"\n')  # Latin-1, not UTF-8
    for action in (
        lambda: load_watchlist(cfg),
        lambda: add_topic(cfg, "y", name="Y", query="chips"),
        lambda: remove_topic(cfg, "x"),
    ):
        with pytest.raises(ConfigError, match=r"watchlist.toml: not UTF-8 text \(byte 30\)"):
            action()
    path.write_text('[[topic]\nid = "x"\n')
    with pytest.raises(ConfigError, match="watchlist.toml: invalid TOML"):
        add_topic(cfg, "y", name="Y", query="chips")
    assert path.read_text() == '[[topic]\nid = "x"\n'  # left as it was


def test_a_topic_of_keywords_or_of_just_a_name_tags_what_names_it(tmp_path):
    """Topics as people write them without learning the query language: `keywords` (any of them, a
    list or one comma-separated string, ORed with a query if there is one), or only an id and a name
    (every word of the name; `validate` says so). Checked through the CLI on a real poll."""
    import json
    import os
    import subprocess
    import sys

    from conftest import rss

    def cli(*args):
        env = {**os.environ, "AGGREGATOR_CONFIG": str(cfg), "AGGREGATOR_DATA_DIR": str(tmp_path / "data")}
        return subprocess.run([sys.executable, "-m", "aggregator", *args], capture_output=True, text=True, env=env)

    entries = [
        ("g1", "Heatwave: climate change blamed", "Scientists link the heat to warming."),
        ("g2", "Factory emissions fall", "Output slowed in October."),
        ("g3", "AI chips shipped to data centres", "Nvidia's new parts."),
        ("g4", "Chips and salsa prices rise", "Snack makers blame corn."),
        ("g5", "New tariffs on steel", "Trade war fears grow."),
        ("g6", "Gallium and germanium exports curbed", "Rare earth controls widen."),
    ]
    body = rss([{"guid": g, "title": t, "description": s, "link": f"https://n.example/{g}"} for g, t, s in entries])
    (tmp_path / "f.xml").write_bytes(body)
    cfg = write_config(tmp_path, [(tmp_path / "f.xml").as_uri()])
    (cfg / "watchlist.toml").write_text(
        '[[topic]]\nid = "climate"\nname = "Climate"\nkeywords = ["climate change", "emission*"]\n\n'
        '[[topic]]\nid = "ai-chips"\nname = "AI chips"\n\n'
        '[[topic]]\nid = "trade"\nname = "Trade"\nquery = "tariff* AND steel"\nkeywords = "trade war, quota*"\n'
    )
    p = cli("watchlist", "validate")
    assert p.returncode == 0 and "topic ai-chips: no query or keywords" in p.stdout, p.stdout + p.stderr
    p = cli("watchlist", "add", "minerals", "--name", "Minerals", "--keyword", "rare earth*", "--keyword", "gallium")
    assert p.returncode == 0, p.stderr
    assert 'keywords = ["rare earth*", "gallium"]' in (cfg / "watchlist.toml").read_text()
    p = cli(
        "watchlist", "add", "batteries", "--name", "Batteries", "--keywords", "lithium, cobalt*,", "--keyword", "CATL"
    )
    assert p.returncode == 0, p.stderr  # --keywords as the file writes them, several at once
    assert 'keywords = ["CATL", "lithium", "cobalt*"]' in (cfg / "watchlist.toml").read_text()
    assert "(tariff* AND steel)" in cli("watchlist", "show", "trade").stdout
    assert cli("poll", "--once").returncode == 0
    items = [json.loads(x) for x in cli("export", "items", "--format", "jsonl").stdout.splitlines()]
    tagged = {i["guid"]: sorted(t["topic"] for t in i["topics"]) for i in items}
    assert tagged == {
        "g1": ["climate"],
        "g2": ["climate"],
        "g3": ["ai-chips"],
        "g4": [],  # "chips" without "AI"
        "g5": ["trade"],
        "g6": ["minerals"],
    }


def test_edits_made_side_by_side_are_all_kept(tmp_path):
    """`xargs -P8 aggregator watchlist add ...` / `feeds remove`: each command read the file, changed it and
    wrote it back, losing what the others had written meanwhile (8 of 16 feeds added, and "cannot write" for
    some, as they shared one temporary file). Edits of one config folder take turns."""
    import threading

    from aggregator.config import load_feeds
    from aggregator.feedlist import remove_feed

    feeds = [f"https://news{n}.example.org/feed.xml" for n in range(12)]
    cfg = write_config(tmp_path, feeds)
    errors: list[BaseException] = []

    def each(action, *args):
        try:
            action(cfg, *args)
        except Exception as e:  # collected, reported below
            errors.append(e)

    threads = [threading.Thread(target=each, args=(add_topic, f"t{n}", f"Topic {n}", f"word{n}")) for n in range(12)]
    threads += [threading.Thread(target=each, args=(remove_feed, url)) for url in feeds[:8]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    ids = [t.id for t in load_watchlist(cfg).topics]
    assert {f"t{n}" for n in range(12)} <= set(ids) and len(ids) == len(set(ids))
    assert [f.url for f in load_feeds(cfg)] == feeds[8:]
