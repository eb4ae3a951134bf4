"""The daemon as a process: start, preview, clean stop on SIGTERM/SIGINT, one daemon per data dir."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from conftest import FIXTURES, ROOT, wait_for, write_config

from aggregator.store import Store, database_path


def start(cfg, data) -> subprocess.Popen[str]:
    env = {**os.environ, "AGGREGATOR_DATA_DIR": str(data)}
    return subprocess.Popen(
        [sys.executable, "-m", "aggregator", "--config", str(cfg), "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def _status(cfg, data) -> str:
    env = {**os.environ, "AGGREGATOR_DATA_DIR": str(data)}
    p = subprocess.run(
        [sys.executable, "-m", "aggregator", "--config", str(cfg), "status"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    return p.stdout + p.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_daemon_runs_pipeline_and_stops_cleanly(tmp_path, sig):
    feed = tmp_path / "wire.xml"
    feed.write_bytes((FIXTURES / "feeds" / "wire.xml").read_bytes())
    cfg = write_config(tmp_path, [feed.as_uri()])
    data = tmp_path / "data"
    proc = start(cfg, data)
    try:
        assert wait_for(lambda: (data / "outbox" / "preview.html").exists(), 60), (
            proc.stderr.read() if proc.poll() else ""
        )
        html = (data / "outbox" / "preview.html").read_text()
        assert "US–China tech restrictions" in html and "Entity List" in html
        assert (data / "outbox" / "preview.eml").exists()
        assert f"daemon:      running (pid {proc.pid})" in _status(cfg, data)
        began = time.monotonic()
        proc.send_signal(sig)
        assert proc.wait(timeout=15) == 0
        assert time.monotonic() - began < 10
        assert not (data / "aggregator.lock").exists()
        assert "daemon:      not running" in _status(cfg, data)
        (data / "aggregator.lock").write_text("4242")  # left by a daemon killed with -9: no one holds it
        assert "daemon:      not running" in _status(cfg, data)
    finally:
        if proc.poll() is None:
            proc.kill()
    log = proc.stderr.read()
    assert "poll cycle: 1 feeds: 1 fetched" in log and "daemon stopped" in log and "Traceback" not in log


def _slow_feed(feed_server, released: threading.Event) -> str:
    """A feed whose server answers (a 503) only once ``released`` is set."""

    def slow(handler):
        released.wait(60)
        handler.send_response(503)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return feed_server.serve("/slow.xml", handler=slow)


def test_a_stop_while_a_slow_feed_is_fetched_is_at_once_and_quiet(tmp_path, feed_server):
    """SIGTERM while a feed's server takes its time: the daemon waited for the cycle to be cancelled and logged
    that as an ERROR with a traceback. It stops at once; the slow feed stays due for the next start."""
    released = threading.Event()
    slow_url = _slow_feed(feed_server, released)
    feed = tmp_path / "wire.xml"
    feed.write_bytes((FIXTURES / "feeds" / "wire.xml").read_bytes())
    cfg = write_config(tmp_path, [feed.as_uri(), slow_url])
    data = tmp_path / "data"
    proc = start(cfg, data)
    try:
        assert wait_for(lambda: any(p == "/slow.xml" for p, _, _ in feed_server.log), 60)
        began = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        assert time.monotonic() - began < 10  # not the 60 s the slow server would take
    finally:
        released.set()
        if proc.poll() is None:
            proc.kill()
    log = proc.stderr.read()
    assert "stopped with 1 feed still to read" in log and "daemon stopped" in log
    assert "Traceback" not in log and "ERROR" not in log and "CancelledError" not in log
    store = Store(database_path(data))
    states = {f.url: f for f in store.feeds()}
    assert states[slow_url].last_success_at is None and states[slow_url].error_count == 0  # nothing recorded
    store.close()


def test_one_poll_cycle_at_a_time_on_a_data_directory(tmp_path, feed_server):
    """A `poll --once` from cron beside the daemon (or two overlapping cron runs) fetched every due feed a second
    time, at the same moment: twice the requests to each publisher. The second program waits for the cycle
    running (the command) or skips its turn (the daemon)."""
    released = threading.Event()
    slow_url = _slow_feed(feed_server, released)
    cfg = write_config(tmp_path, [slow_url])
    data = tmp_path / "data"
    env = {**os.environ, "AGGREGATOR_DATA_DIR": str(data)}
    daemon = start(cfg, data)
    try:
        assert wait_for(lambda: any(p == "/slow.xml" for p, _, _ in feed_server.log), 60)
        cli = subprocess.Popen(
            [sys.executable, "-m", "aggregator", "--config", str(cfg), "poll", "--once"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert wait_for(lambda: (data / "poll.lock").exists() and cli.poll() is None, 5)
        time.sleep(1.0)  # what is checked is that nothing happens meanwhile
        assert cli.poll() is None and [p for p, _, _ in feed_server.log].count("/slow.xml") == 1
        released.set()
        out, err = cli.communicate(timeout=60)
        assert cli.returncode == 0, err
        assert f"waiting: another program (pid {daemon.pid}) is polling this data directory" in err
        assert "poll cycle: 0 feeds" in out  # the daemon's cycle has just read it: nothing is due
        assert [p for p, _, _ in feed_server.log].count("/slow.xml") == 1
    finally:
        released.set()
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=15)
    # the daemon's turn while a command polls: skipped, not run beside it
    from aggregator.poll import cycle_lock

    other = tmp_path / "other"
    other.mkdir()
    held = cycle_lock(other / "data")
    (other / "data").mkdir()
    assert held.try_acquire()
    daemon = start(write_config(other, [slow_url]), other / "data")
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(daemon.stderr.readline, "")), daemon=True)
    reader.start()
    try:
        skipped = f"poll cycle skipped: another program (pid {os.getpid()}) is polling"
        assert wait_for(lambda: any(skipped in line for line in lines), 60), lines
        assert [p for p, _, _ in feed_server.log].count("/slow.xml") == 1  # not fetched again
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=15)
        held.release()


def test_a_daemon_starting_while_status_looks_at_its_lock_starts(tmp_path):
    """`status` (a container's HEALTHCHECK every 30 s) takes the data directory's lock for an instant to see
    whether a daemon holds it; a daemon starting in that instant refused to start ("another daemon is running")."""
    import fcntl

    feed = tmp_path / "wire.xml"
    feed.write_bytes((FIXTURES / "feeds" / "wire.xml").read_bytes())
    cfg = write_config(tmp_path, [feed.as_uri()])
    data = tmp_path / "data"
    data.mkdir()
    with open(data / "aggregator.lock", "a+") as looking:
        fcntl.flock(looking, fcntl.LOCK_SH | fcntl.LOCK_NB)
        proc = start(cfg, data)
        time.sleep(1.5)  # the daemon tries for the lock meanwhile
    try:
        assert wait_for(lambda: (data / "outbox" / "preview.html").exists() or proc.poll() is not None, 60)
        assert proc.poll() is None, proc.stderr.read()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)


def test_second_daemon_on_same_data_dir_is_refused(tmp_path):
    feed = tmp_path / "wire.xml"
    feed.write_bytes((FIXTURES / "feeds" / "wire.xml").read_bytes())
    cfg = write_config(tmp_path, [feed.as_uri()])
    data = tmp_path / "data"
    first = start(cfg, data)
    try:
        assert wait_for(lambda: (data / "outbox" / "preview.html").exists(), 60)
        second = start(cfg, data)
        assert second.wait(timeout=30) != 0
        err = second.stderr.read()
        assert f"pid {first.pid}" in err and "another aggregator daemon" in err and "Traceback" not in err
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=15)


def test_a_broken_seed_does_not_stop_the_daemon_and_new_seeds_are_picked_up(tmp_path):
    """An empty seed file is skipped with a warning (the daemon starts); an article dropped into seeds/
    while it runs is imported within seconds, without a restart (a short one with a warning), and removed when
    its file is deleted."""
    import sqlite3

    feed = tmp_path / "wire.xml"
    feed.write_bytes((FIXTURES / "feeds" / "wire.xml").read_bytes())
    cfg = write_config(tmp_path, [feed.as_uri()], settings='[watchlist]\nreload_every = "1s"\n')
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "empty.txt").write_text("")
    data = tmp_path / "data"
    proc = start(cfg, data)

    def seed_titles() -> list[str]:
        with sqlite3.connect(data / "aggregator.sqlite3") as conn:
            return [r[0] for r in conn.execute("SELECT title FROM seeds ORDER BY id")]

    try:
        assert wait_for(lambda: (data / "outbox" / "preview.html").exists(), 60), (
            proc.stderr.read() if proc.poll() is not None else ""
        )
        (seeds / "chip-rules.txt").write_text(
            "US widens chip export rules to more Chinese firms\nPublished: 2026-11-20\n\n"
            "The Commerce Department widened its export rules on advanced chips to more Chinese firms.\n"
        )
        assert wait_for(lambda: seed_titles() == ["US widens chip export rules to more Chinese firms"], 30)
        (seeds / "chip-rules.txt").unlink()  # deleted: the seed goes too
        assert wait_for(lambda: seed_titles() == [], 30)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    log = proc.stderr.read()
    assert "seed skipped:" in log and "empty.txt: the seed is empty" in log and "Traceback" not in log
    assert "seed removed: #1 US widens chip export rules" in log
    # a one-sentence seed is taken, with a warning: it can only recognise copies of that sentence
    assert 'chip-rules.txt: "US widens chip export rules to more Chinese firms" has only 14 words of text' in log


def test_a_data_dir_that_is_a_file_is_a_one_line_error(tmp_path):
    cfg = write_config(tmp_path, [])
    data = tmp_path / "data"
    data.write_text("not a folder")
    proc = start(cfg, data)
    assert proc.wait(timeout=30) != 0
    err = proc.stderr.read()
    assert "cannot use it as the data directory: it is a file, not a folder" in err and "Traceback" not in err
