"""The command line as a user drives it: help with examples, exit codes, no tracebacks, export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, rss, write_config

from aggregator.cli import EXAMPLES, build_parser
from aggregator.config import load_feeds


def run(*args: str, env: dict[str, str] | None = None, cwd=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aggregator", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        cwd=cwd or ROOT,
    )


def _commands(parser, prefix=()):
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            for name, sub in action.choices.items():
                yield from _commands(sub, (*prefix, name))
                if not any(a.__class__.__name__ == "_SubParsersAction" for a in sub._actions):
                    yield (*prefix, name), sub


def test_every_command_has_help_with_an_example():
    commands = list(_commands(build_parser()))
    assert len(commands) >= 18
    for path, sub in commands:
        text = sub.format_help()
        assert "example:" in text, path
        assert "aggregator " + path[0] in text, path
        assert sub.description, path
    assert set(EXAMPLES) >= {
        " ".join(p) if p[0] in ("feeds", "seeds", "export", "watchlist") else p[0]
        for p, _ in commands
        if p[0] not in ("digest",)
    }


def test_wrong_flag_is_an_error_not_a_traceback():
    p = run("feeds", "list", "--no-such-flag")
    assert p.returncode == 2 and "Traceback" not in p.stderr and "unrecognized arguments" in p.stderr


def test_config_error_is_one_line_and_exit_2(tmp_path):
    cfg = write_config(tmp_path, [], settings='[digest]\ntime = "7h"\n')
    p = run("--config", str(cfg), "status")
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.splitlines()[0].endswith(
        'digest.time: expected "HH:MM" (24-hour clock), or "7am" / "7:30 pm", got "7h"'
    )


def test_poll_once_prints_each_failure_and_warning_once(tmp_path):
    """A feed that cannot be read and one read despite being malformed: one summary line each, no log
    line repeating them."""
    broken = tmp_path / "broken.xml"
    broken.write_bytes(
        b"<rss version='2.0'><channel><title>broken</title><item><title>US bans x</title>"
        b"<link>https://example.org/b</link></item><item><title>y</item></channel></rss>"
    )
    cfg = write_config(tmp_path, [broken.as_uri(), (tmp_path / "missing.xml").as_uri()])
    env = {"AGGREGATOR_CONFIG": str(cfg), "AGGREGATOR_DATA_DIR": str(tmp_path / "d")}
    p = run("poll", "--once", env=env)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].startswith("poll cycle: 2 feeds: 1 fetched") and "1 failed" in lines[0]
    assert [line.split(":")[0].strip() for line in lines[1:]] == ["failed", "warning"]
    assert "missing.xml" in lines[1] and "malformed feed, read anyway" in lines[2]
    assert "missing.xml" not in p.stderr and "malformed" not in p.stderr


def test_poll_export_status_via_env(tmp_path):
    feed = tmp_path / "wire.xml"
    feed.write_bytes((FIXTURES / "feeds" / "wire.xml").read_bytes())
    cfg = write_config(tmp_path, [feed.as_uri()])
    env = {"AGGREGATOR_CONFIG": str(cfg), "AGGREGATOR_DATA_DIR": str(tmp_path / "d")}
    p = run("poll", "--once", "--force", env=env)
    assert p.returncode == 0, p.stderr
    assert "12 new items" in p.stdout
    p = run("export", "items", "--format", "jsonl", env=env)
    items = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(items) == 12
    required = {
        "id",
        "feed_url",
        "guid",
        "url",
        "title",
        "published",
        "fetched_at",
        "duplicate_of",
        "story_id",
        "topics",
    }
    assert all(required <= set(i) for i in items)
    # published days ago, fetched now: new since yesterday too (a daily export gets a new feed's backlog)
    day_ago = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert sum(1 for i in items if i["published"] and i["published"] < day_ago) >= 10
    assert len(run("export", "items", "--format", "jsonl", "--since", "1d", env=env).stdout.splitlines()) == 12
    assert run("export", "items", "--format", "jsonl", "--since", "2099-01-01", env=env).stdout == ""
    entity = next(i for i in items if i["guid"] == "wire-1001")
    assert entity["published"] == "2026-11-27T08:00:00+00:00" or entity["published"].startswith("2026-11-27T08:00:00")
    assert entity["topics"][0]["topic"] == "us-china-tech" and entity["topics"][0]["matched"]
    assert (tmp_path / "d" / "aggregator.sqlite3").exists()
    p = run("status", "--json", env=env)
    st = json.loads(p.stdout)
    assert st["healthy"] and st["items"] == 12 and st["feeds"]["total"] == 1
    # the config file named instead of its folder stands for the folder
    named = run(
        "--config",
        str(cfg / "aggregator.toml"),
        "status",
        "--json",
        env={"AGGREGATOR_DATA_DIR": env["AGGREGATOR_DATA_DIR"]},
    )
    assert named.returncode == 0 and json.loads(named.stdout)["items"] == 12
    assert st["recipients"] == ["me@example.org"]
    assert "via outbox" in run("status", env=env).stdout  # the example address only matters for mail
    with open(cfg / "aggregator.toml", "a") as f:
        f.write('[smtp]\nhost = "127.0.0.1"\nusername = "me"\npassword_env = "TEST_AGG_PASSWORD"\n')
    shown = run("status", env=env).stdout
    assert "to me@example.org (the example address: set digest.to" in shown
    # a login with no password where status runs: a warning (the daemon may have it), not a problem
    assert "  warning:   smtp.username is set but TEST_AGG_PASSWORD is not set here" in shown, shown
    assert "health:      ok" in shown
    assert "smtp.username" not in run("status", env={**env, "TEST_AGG_PASSWORD": "x"}).stdout
    p = run("digest", "--preview", "--out", str(tmp_path / "d.html"), env=env)
    assert p.returncode == 0 and "<html" in (tmp_path / "d.html").read_text()
    # .eml: the message as it would be sent (a mail client opens it); any other name: the text part
    p = run("digest", "--preview", "--out", str(tmp_path / "d.eml"), env=env)
    msg = message_from_bytes((tmp_path / "d.eml").read_bytes(), policy=policy.default)
    assert p.returncode == 0 and msg["Subject"].startswith("Digest ") and msg["Message-ID"]
    assert [part.get_content_type() for part in msg.iter_parts()] == ["text/plain", "text/html"]
    assert "Entity List" in msg.get_body(("plain",)).get_content()
    p = run("digest", "--preview", "--out", str(tmp_path / "d.txt"), env=env)
    assert p.returncode == 0 and (tmp_path / "d.txt").read_text().startswith("Digest ")


def test_export_marks_a_copy_of_a_seed_in_duplicate_of(tmp_path):
    """A syndicated copy of a seed article is a duplicate in the stable export field too, not only in
    duplicate_of_seed: duplicate_of is minus the seed's id (seeds are not items)."""
    shipped = next((ROOT / "seeds").glob("*.txt"))
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / shipped.name).write_bytes(shipped.read_bytes())
    body = "\n\n".join(shipped.read_text(encoding="utf-8").split("\n\n")[2:6])
    feed = tmp_path / "copy.xml"
    feed.write_bytes(
        rss(
            [
                {
                    "guid": "copy-1",
                    "title": "Washington reviews Alibaba's cloud unit",
                    "link": "https://syndicate.example/alibaba-cloud?utm_medium=rss",
                    "description": body,
                },
                {
                    "guid": "other-1",
                    "title": "Storm closes schools across the north",
                    "link": "https://syndicate.example/storm",
                    "description": "Heavy snow closed schools and roads across the north on Tuesday.",
                },
            ]
        )
    )
    cfg = write_config(tmp_path, [feed.as_uri()])
    env = {"AGGREGATOR_CONFIG": str(cfg)}
    assert run("poll", "--once", "--force", env=env).returncode == 0
    items = {
        i["guid"]: i
        for i in map(json.loads, run("export", "items", "--format", "jsonl", env=env).stdout.split("\n")[:-1])
    }
    seed_id = int(run("seeds", "list", env=env).stdout.split()[0].lstrip("#"))
    copy = items["copy-1"]
    assert copy["dup_level"] == "near-duplicate" and copy["dup_reason"].startswith("near-duplicate of seed")
    assert (copy["duplicate_of"], copy["duplicate_of_seed"]) == (-seed_id, seed_id)
    assert (items["other-1"]["duplicate_of"], items["other-1"]["duplicate_of_seed"]) == (None, None)


@pytest.mark.parametrize("args", [["--help"], ["feeds", "list"], ["seeds", "list"], ["watchlist", "validate"]])
def test_commands_exit_zero_on_shipped_config(tmp_path, args):
    p = run("--config", str(ROOT / "config"), *args, env={"AGGREGATOR_DATA_DIR": str(tmp_path / "d")})
    assert p.returncode == 0, p.stderr


def test_every_command_as_a_user_drives_it(tmp_path):
    """The glue of each command: feeds, seeds, digest, explain, watchlist, export, status."""
    feed = tmp_path / "wire.xml"
    feed.write_bytes((FIXTURES / "feeds" / "wire.xml").read_bytes())
    cfg = write_config(tmp_path, [])
    env = {"AGGREGATOR_CONFIG": str(cfg), "AGGREGATOR_DATA_DIR": str(tmp_path / "d")}
    ok = lambda *a: run(*a, env=env)  # noqa: E731

    p = ok("feeds", "add", str(feed), "--title", "Wire", "--tags", "news,wire", "--interval", "30m")
    assert p.returncode == 0 and "added feed file://" in p.stdout
    opml = tmp_path / "subs.opml"
    opml.write_text(
        '<opml version="2.0"><body><outline text="Tech"><outline text="X" xmlUrl="https://x.example/rss"/>'
        "</outline></body></opml>"
    )
    # several at once, as pasted: the ones that can be added are, the others say why (exit 2)
    other = tmp_path / "other.xml"
    other.write_bytes(rss([{"guid": "o1", "title": "Other", "link": "https://o.example/1"}], title="Other"))
    p = ok("feeds", "add", str(other), str(tmp_path / "missing.xml"), str(feed))
    assert p.returncode == 2 and "added feed file://" in p.stdout and "already in" in p.stdout
    assert "missing.xml" in p.stderr and "Traceback" not in p.stderr
    assert ok("feeds", "add", str(other), str(feed), "--title", "X").returncode == 2
    p = ok("feeds", "remove", "https://not-listed.example/feed", other.as_uri())  # the listed one still goes
    assert p.returncode == 2 and f"removed {other.as_uri()}" in p.stdout and "not-listed" in p.stderr
    p = ok("feeds", "import", str(opml))
    assert "1 feed added, 0 already there" in p.stdout
    assert 'xmlUrl="https://x.example/rss"' in ok("feeds", "export").stdout
    assert ok("feeds", "remove", "https://x.example/rss").returncode == 0
    # a feeds.toml with bad entries: each is removed, and what is still wrong is said
    good = (cfg / "feeds.toml").read_text()
    bad = '\n[[feed]]\nurl = "http://[your-domain]/feed"\n\n[[feed]]\nurl = "ftp://old.example/feed"\n'
    (cfg / "feeds.toml").write_text(good + bad)
    p = ok("feeds", "remove", "http://[your-domain]/feed")
    assert p.returncode == 0 and p.stdout.splitlines()[1].startswith("still to fix: ") and "'ftp'" in p.stdout
    assert len(ok("feeds", "remove", "ftp://old.example/feed").stdout.splitlines()) == 1
    listed = ok("feeds", "list").stdout
    assert "file://" in listed and "(Wire)" in listed and "[news, wire]" in listed and "x.example" not in listed
    detail = ok("feeds", "list", "--verbose").stdout.splitlines()
    assert detail[1:3] == [
        "         0 items, 0 tagged",
        "         read never, next now; every 30 min (set in feeds.toml)",
    ]
    assert ok("poll", "--once").returncode == 0
    detail = ok("feeds", "list", "-v").stdout.splitlines()
    assert detail[1].startswith(f"         {feed.read_text().count('<item>')} items, ") and ", the newest " in detail[1]
    assert detail[2].startswith("         read ") and "(now), next " in detail[2]  # in 27-33 min: jittered
    assert detail[2].endswith("; every 30 min (set in feeds.toml)")

    seed = tmp_path / "note.md"
    seed.write_text("---\ntitle: Huawei barred from UK 5G\npublished: 2020-07-14\n---\nThe UK bans Huawei.\n")
    p = ok("seeds", "import", str(seed))
    assert p.returncode == 0 and "imported: Huawei barred from UK 5G" in p.stdout
    assert "unchanged" in ok("seeds", "import", str(seed)).stdout
    assert "unchanged" in ok("seeds", "import", seed.as_uri()).stdout  # a file:// address, as a browser shows it
    other = ok("seeds", "import", "ftp://files.example/a.txt")
    assert other.returncode == 2 and "only http and https addresses are fetched" in other.stderr, other.stderr
    assert "Huawei barred from UK 5G" in ok("seeds", "list").stdout and "[us-china-tech]" in ok("seeds", "list").stdout
    assert ok("seeds", "import", str(tmp_path / "nope.md")).returncode == 2
    empty = ok("seeds", "import", "")  # not the current folder and every file in it
    assert empty.returncode == 2 and "an empty path" in empty.stderr
    assert "no file given" in ok("feeds", "import", "").stderr

    assert ok("poll", "--once").returncode == 0
    items = [
        json.loads(line) for line in ok("export", "items", "--format", "jsonl", "--since", "3650d").stdout.splitlines()
    ]
    # published days ago, fetched now: new since yesterday too (a daily export gets a new feed's backlog)
    day_ago = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert sum(1 for i in items if i["published"] and i["published"] < day_ago) >= 10
    assert len(run("export", "items", "--format", "jsonl", "--since", "1d", env=env).stdout.splitlines()) == 12
    assert run("export", "items", "--format", "jsonl", "--since", "2099-01-01", env=env).stdout == ""
    entity = next(i for i in items if i["guid"] == "wire-1001")
    text = ok("explain", str(entity["id"])).stdout
    assert "canonical url: https://wire.example.com/2026/11/27/us-entity-list-chinese-firms" in text
    assert "topic:         us-china-tech" in text
    # by the link the digest shows (trackers gone, http or https): the same explanation
    assert ok("explain", "http://wire.example.com/2026/11/27/us-entity-list-chinese-firms?utm_source=x").stdout == text
    p = ok("explain", "https://nowhere.example/a")
    assert p.returncode == 2 and "no item with the link https://nowhere.example/a" in p.stderr
    assert "neither an item id nor a link" in ok("explain", "abc").stderr

    p = ok("digest", "--send")
    assert p.returncode == 0 and "sent: written to" in p.stdout
    assert "sent" in ok("digest", "list").stdout
    assert ok("digest").returncode == 2  # neither --preview, --send nor list

    assert ok("watchlist", "add", "storms", "--name", "Storms", "--query", "storm*").returncode == 0
    assert "storms" in ok("watchlist", "list").stdout
    shown = ok("watchlist", "show", "storms").stdout
    assert "name: Storms" in shown and "parsed: storm*" in shown
    bad = ok("watchlist", "add", "bad", "--name", "Bad", "--query", "(storm")
    assert bad.returncode == 2 and "query: unclosed parenthesis" in bad.stderr and "^" in bad.stderr
    assert ok("watchlist", "remove", "storms").returncode == 0
    assert "storms" not in ok("watchlist", "list").stdout

    status = ok("status").stdout
    assert "health:      ok" in status and "feeds:       1 (1 ok" in status and "last digest: sent" in status
    assert "topics:      3 (us-china-tech, ai-regulation, data-breaches)" in status
    assert ok("watchlist", "add", "ai-chips", "--name", "AI chips").returncode == 0
    status = ok("status").stdout  # a topic without a query works, and status says how
    assert "topics:      4 (" in status and "topic ai-chips: no query or keywords" in status


def test_seeds_import_skips_a_broken_file_and_imports_the_rest(tmp_path):
    cfg = write_config(tmp_path, [])
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a-empty.txt").write_text("")
    probe = "US reviews Alibaba's cloud business\n\nThe review looks at national security.\n"
    (seeds / "b-probe.txt").write_text(probe)
    env = {"AGGREGATOR_CONFIG": str(cfg), "AGGREGATOR_DATA_DIR": str(tmp_path / "d")}
    p = run("seeds", "import", env=env)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert "imported: US reviews Alibaba's cloud business" in p.stdout
    assert "skipped: " in p.stdout and "a-empty.txt: the seed is empty" in p.stdout
    assert "1 seeds, 1 new or changed; 1 skipped" in p.stdout
    p = run("poll", "--once", env=env)  # a broken seed never stops a poll either
    assert p.returncode == 0 and "seed skipped: " in p.stdout


def test_seeds_remove_and_a_deleted_seed_file(tmp_path):
    """`seeds remove ID` forgets a seed imported from elsewhere; one whose file is in seeds_dir is removed by
    deleting the file (else the daemon would import it again): `seeds remove` says so, `seeds import` does it."""
    cfg = write_config(tmp_path, [])
    seeds, elsewhere = tmp_path / "seeds", tmp_path / "clippings"
    seeds.mkdir()
    elsewhere.mkdir()
    (seeds / "probe.txt").write_text("US reviews Alibaba's cloud business\n\nThe review looks at national security.\n")
    (elsewhere / "chips.txt").write_text("Dutch chip-tool rules take effect\n\nExporters now need a licence.\n")
    env = {"AGGREGATOR_CONFIG": str(cfg), "AGGREGATOR_DATA_DIR": str(tmp_path / "d")}
    assert run("seeds", "import", env=env).returncode == 0
    assert run("seeds", "import", str(elsewhere / "chips.txt"), env=env).returncode == 0
    listed = run("seeds", "list", env=env).stdout
    assert "#1 " in listed and "#2 " in listed
    p = run("seeds", "remove", "1", env=env)
    assert p.returncode != 0 and "Traceback" not in p.stderr
    assert "is in the seeds folder" in p.stderr and "delete the file" in p.stderr
    p = run("seeds", "remove", "2", env=env)
    assert p.returncode == 0 and "removed: #2 Dutch chip-tool rules take effect" in p.stdout
    p = run("seeds", "remove", "7", env=env)
    assert p.returncode != 0 and "no seed 7" in p.stderr
    (seeds / "probe.txt").unlink()
    (seeds / "other.txt").write_text("Another article\n\nKept in the folder so that it is not empty.\n")
    p = run("seeds", "import", env=env)
    assert p.returncode == 0 and "removed: #1 US reviews Alibaba's cloud business (its file" in p.stdout
    assert "US reviews" not in run("seeds", "list", env=env).stdout


def test_a_preview_that_cannot_be_written_is_a_one_line_error(tmp_path):
    cfg = write_config(tmp_path, [])
    env = {"AGGREGATOR_CONFIG": str(cfg), "AGGREGATOR_DATA_DIR": str(tmp_path / "d")}
    p = run("digest", "--preview", "--out", str(tmp_path), env=env)  # a folder, not a file
    assert p.returncode != 0 and "Traceback" not in p.stderr and "cannot write the preview" in p.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("args", [["export", "items"], ["feeds", "export"], ["status"], ["feeds", "list"]])
def test_output_to_a_full_disk_is_a_one_line_error(tmp_path, args):
    """`aggregator export items > /mnt/full/items.jsonl`: a traceback ending in "OSError: [Errno 28]"."""
    feed = tmp_path / "wire.xml"
    feed.write_bytes((FIXTURES / "feeds" / "wire.xml").read_bytes())
    cfg = write_config(tmp_path, [feed.as_uri()])
    env = {**os.environ, "AGGREGATOR_CONFIG": str(cfg), "AGGREGATOR_DATA_DIR": str(tmp_path / "d")}
    assert run("poll", "--once", env=env).returncode == 0
    with open("/dev/full", "w") as full:
        p = subprocess.run(
            [sys.executable, "-m", "aggregator", *args],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=120,
        )
    assert p.returncode == 1 and "Traceback" not in p.stderr and "Exception ignored" not in p.stderr
    assert "aggregator: cannot write the output: No space left on device" in p.stderr
    # and a reader that stops early (`| head -1`) is no error at all
    reader = subprocess.Popen(
        [sys.executable, "-m", "aggregator", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert reader.stdout is not None and reader.stdout.read(1)
    reader.stdout.close()
    _, err = reader.communicate(timeout=120)
    assert reader.returncode == 0 and b"Traceback" not in err and b"Exception ignored" not in err


def test_a_feed_behind_a_login_is_read_and_its_password_never_shown(tmp_path, feed_server):
    """HTTP Basic auth given in the feed's URL: the feed is read with it; a wrong password is a 401 error
    saying what to do; status, poll output, logs, the digest, `feeds list`, the exports never show it."""
    import base64

    from conftest import Route

    body = rss([{"guid": "p1", "title": "Members-only briefing on chip export rules", "link": "https://m.example/1"}])
    accepted = "Basic " + base64.b64encode(b"reader:s3cr%t").decode()

    def members_only(handler):
        ok = handler.headers.get("Authorization") == accepted
        answer = body if ok else b"login required"
        handler.send_response(200 if ok else 401)
        if not ok:
            handler.send_header("WWW-Authenticate", 'Basic realm="members"')
        handler.send_header("Content-Length", str(len(answer)))
        handler.end_headers()
        handler.wfile.write(answer)

    feed_server.routes["/private.xml"] = Route(handler=members_only)
    url = feed_server.url("/private.xml").replace("http://", "http://reader:s3cr%25t@")
    cfg = write_config(tmp_path, [url])
    first = run("--config", str(cfg), "poll", "--once")
    assert first.returncode == 0 and "1 new items" in first.stdout, first.stdout + first.stderr
    (cfg / "feeds.toml").write_text((cfg / "feeds.toml").read_text().replace("s3cr%25t", "wrong%25pw"))
    outputs = [run("--config", str(cfg), "poll", "--once", "--force")]
    assert "answered 401" in outputs[0].stdout and '"user:password@" before the host' in outputs[0].stdout
    outputs += [
        run("--config", str(cfg), "status"),
        run("--config", str(cfg), "status", "--json"),
        run("--config", str(cfg), "feeds", "list"),
        run("--config", str(cfg), "feeds", "export"),
        run("--config", str(cfg), "export", "items", "--format", "jsonl"),
        run("--config", str(cfg), "--log-format", "json", "digest", "--preview", "--out", str(tmp_path / "d.txt")),
    ]
    [failing] = [line for line in outputs[1].stdout.splitlines() if "failing:" in line]
    assert failing.count("127.0.0.1") == 1 and "answered 401" in failing, failing  # the address named once
    shown = "".join(p.stdout + p.stderr for p in outputs) + (tmp_path / "d.txt").read_text()
    assert "reader:***@127.0.0.1" in shown
    assert "s3cr" not in shown and "wrong" not in shown, shown


def test_logs_and_the_digests_feed_health_never_show_a_feeds_password(capsys):
    import logging
    from datetime import UTC, datetime, timedelta
    from types import SimpleNamespace

    from aggregator.digest import feed_health
    from aggregator.logs import setup_logging

    url = "https://reader:hunter2@members.example/feed"
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        for fmt in ("text", "json"):
            setup_logging(fmt)
            logging.getLogger("aggregator.poll").warning("failed: %s answered %d", url, 401)
            try:
                raise ValueError(f"while fetching {url}")
            except ValueError:
                logging.getLogger("aggregator.poll").exception("entry skipped")
    finally:
        root.handlers[:], root.level = handlers, level
    logged = capsys.readouterr().err
    assert logged.count("https://reader:***@members.example/feed") == 4 and "hunter2" not in logged
    now = datetime.now(UTC)
    state = SimpleNamespace(
        url=url, title=None, gone=False, failing_since=now - timedelta(days=2), last_error=url, last_success_at=now
    )
    [health] = feed_health([state], now)
    assert "hunter2" not in health.title + health.error and health.title == "https://reader:***@members.example/feed"


def test_times_shown_local_with_how_far_off():
    from aggregator.dates import shown, span

    now = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert shown("2026-07-01T11:57:30+00:00", now, "Europe/London") == "2026-07-01 12:57 BST (2 min ago)"
    assert shown("2026-07-02T14:30:00+00:00", now, "America/New_York") == "2026-07-02 10:30 EDT (in 1 d 2 h)"
    assert shown("2026-07-01T12:00:20+00:00", now, "UTC") == "2026-07-01 12:00 UTC (now)"
    assert shown("2026-06-20T09:00:00+00:00", now, "UTC") == "2026-06-20 09:00 UTC (11 d ago)"
    assert [span(s) for s in (30, 60, 7200, 7500, 86400, 93600, 4 * 86400)] == [
        "now",
        "1 min",
        "2 h",
        "2 h 5 min",
        "1 d",
        "1 d 2 h",
        "4 d",
    ]
    # JSON and unknown shapes keep the stored text
    assert shown("2026-07-01T11:57:30+00:00") == "2026-07-01T11:57:30+00:00"
    assert shown("yesterday", now, "UTC") == "yesterday" and shown(None, now, "UTC") is None


def test_lists_with_nothing_in_them_say_how_to_fill_them(tmp_path):
    cfg = write_config(tmp_path, [])
    said = {
        what: run("--config", str(cfg), *what.split()).stdout for what in ("feeds list", "seeds list", "digest list")
    }
    assert "no feeds yet: `aggregator feeds add URL`" in said["feeds list"]
    assert "no seed articles yet: put articles in" in said["seeds list"]
    assert "aggregator seeds import" in said["seeds list"]
    assert said["digest list"].startswith("no digest yet")


def test_feeds_list_verbose_says_why_a_failing_feed_waits(tmp_path):
    cfg = write_config(tmp_path, [(tmp_path / "gone.xml").as_uri()])
    env = {"AGGREGATOR_CONFIG": str(cfg)}
    assert run("poll", "--once", env=env).returncode == 0
    lines = run("feeds", "list", "--verbose", env=env).stdout.splitlines()
    assert lines[0].startswith("failing  file://") and lines[1] == "         0 items, 0 tagged"
    assert "(poll.default_interval, until its publishing rate is known)" in lines[2]
    assert lines[3] == (
        "         1 failure in a row: each one after the first doubles the wait, up to 1 d (a Retry-After is obeyed)"
    )


def test_feeds_list_verbose_gives_an_interval_under_a_minute_in_seconds(tmp_path):
    """A file, or a server on this machine, may be read every 30 s: that is what `feeds list` says, not
    "every now"."""
    feed = tmp_path / "local.xml"
    feed.write_bytes(rss([{"guid": "1", "title": "Local", "link": "https://l.example/1"}]))
    cfg = write_config(tmp_path, [])
    (cfg / "feeds.toml").write_text(f'[[feed]]\nurl = "{feed.as_uri()}"\ninterval = "30s"\n', encoding="utf-8")
    lines = run("feeds", "list", "--verbose", env={"AGGREGATOR_CONFIG": str(cfg)}).stdout.splitlines()
    assert lines[2] == "         read never, next now; every 30 s (set in feeds.toml)"


def test_a_feed_path_typed_in_the_shell_is_read_from_the_shells_folder(tmp_path):
    """feeds.toml's paths are relative to the config folder, but a path typed on the command line is the
    shell's: `feeds add mine.xml` in the folder that holds it adds that file, and `feeds remove` takes it back
    the same way (a path relative to the config folder, as feeds.toml writes it, still works for both)."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "mine.xml").write_bytes(rss([{"guid": "1", "title": "Mine", "link": "https://m.example/1"}], title="Mine"))
    cfg = write_config(tmp_path, [])
    env = {"AGGREGATOR_CONFIG": str(cfg)}
    p = run("feeds", "add", "mine.xml", env=env, cwd=work)
    assert p.returncode == 0 and f"added feed {(work / 'mine.xml').as_uri()}" in p.stdout, p.stdout + p.stderr
    assert [f.url for f in load_feeds(cfg)] == [(work / "mine.xml").as_uri()]
    p = run("feeds", "remove", "mine.xml", env=env, cwd=work)
    assert p.returncode == 0 and load_feeds(cfg) == [], p.stdout + p.stderr
    # the config folder's own relative path, as feeds.toml writes it, from anywhere
    assert run("feeds", "add", "../work/mine.xml", env=env, cwd=tmp_path).returncode == 0
    assert [f.url for f in load_feeds(cfg)] == [(work / "mine.xml").as_uri()]
    assert run("feeds", "remove", "../work/mine.xml", env=env, cwd=work).returncode == 0
    assert load_feeds(cfg) == []
