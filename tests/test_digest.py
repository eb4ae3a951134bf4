"""The daily digest over a real SMTP server (aiosmtpd on a reserved port): content, exactly-once
delivery, retries, permanent failures, catch-up, header safety, TLS, and a golden text part."""

from __future__ import annotations

import asyncio
import re
import ssl
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from conftest import FIXTURES, free_port, rss, write_config

from aggregator import delivery
from aggregator.config import load_feeds, load_settings
from aggregator.digest import FeedHealth, build_digest
from aggregator.errors import ConfigError
from aggregator.poll import Pipeline
from aggregator.render import render_text
from aggregator.schedule import digest_trigger, missed_digest
from aggregator.send import SmtpSettings
from aggregator.store import Store, database_path
from aggregator.watchlist import load_watchlist

TO = ["me@example.org", "you@example.org"]


def setup(tmp_path, feeds=None, extra=""):
    feed = tmp_path / "wire.xml"
    feed.write_bytes((FIXTURES / "feeds" / "wire.xml").read_bytes())
    cfg = write_config(
        tmp_path,
        feeds or [feed.as_uri()],
        settings=f'[digest]\ntimezone = "Europe/London"\nto = {TO!r}\n'.replace("'", '"') + extra,
    )
    settings = load_settings(cfg)
    store = Store(database_path(settings.data_dir))
    store.sync_feeds(load_feeds(cfg), datetime.now(UTC))
    pipe = Pipeline(store, settings, load_watchlist(cfg))
    asyncio.run(pipe.poll_once(force=True))
    return store, settings, pipe.watchlist


def smtp(host, port, **kw):
    return SmtpSettings(
        host=host,
        port=port,
        security=kw.pop("security", "none"),
        timeout=5,
        sender="aggregator <digest@example.org>",
        **kw,
    )


def test_delivers_one_well_formed_multipart_digest(tmp_path, smtp_server):
    host, port, sink = smtp_server
    store, settings, wl = setup(tmp_path)
    out = delivery.run_digest(store, settings, wl, datetime.now(UTC), smtp=smtp(host, port))
    assert out.status == "sent"
    assert len(sink.messages) == 1
    rcpts, msg, raw = sink.messages[0]
    assert rcpts == TO
    assert msg.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in msg.walk()][1:]
    assert parts == ["text/plain", "text/html"]
    subject = msg["Subject"]
    assert re.fullmatch(r"Digest \d{4}-\d{2}-\d{2}: \d+ stories on 3 topics", subject), subject
    for header in ("Date", "Message-ID", "List-Id", "From", "To"):
        assert msg[header], header
    full = message_from_bytes(raw, policy=policy.default)
    text = full.get_body(("plain",)).get_content()
    html = full.get_body(("html",)).get_content()
    assert "## US–China tech restrictions" in text and "Why: " in text and "items seen" in text
    assert "US adds 27 Chinese firms to Entity List" in text or "Entity List" in text
    assert "<script" not in html and "style=" in html and 'name="color-scheme"' in html and "<img" not in html
    assert len(raw) < 100_000
    row = store.digests(1)[0]
    assert (row["status"], row["message_id"]) == ("sent", msg["Message-ID"])
    # the next digest covers only what came since: nothing is sent twice
    second = delivery.compose(
        store, settings, wl, delivery.next_window_start(store, settings, datetime.now(UTC)), datetime.now(UTC)
    )
    assert second.empty


def test_recipients_with_names_get_it_at_their_bare_addresses(tmp_path, smtp_server):
    """digest.to and smtp.from as mail clients write them ("Jane Doe <jane@...>", a quoted name with a
    comma, a non-ASCII name, a domain in its own script): the envelope has the bare addresses, the headers keep
    the names; the domain goes as DNS writes it (the test server, like many, offers no SMTPUTF8)."""
    host, port, sink = smtp_server
    feed = tmp_path / "wire.xml"
    feed.write_bytes((FIXTURES / "feeds" / "wire.xml").read_bytes())
    cfg = write_config(
        tmp_path,
        [feed.as_uri()],
        settings='[digest]\nto = ["Jane Doe <jane@example.org>", "\\"Roe, Rick\\" <rick@example.org>, '
        'Zoë Brûlé <zoe@example.org>", "Jörg <joerg@bücher.de>"]\n'
        f'[smtp]\nhost = "{host}"\nport = {port}\nsecurity = "none"\nfrom = "Zoë\'s digest <digest@bücher.de>"\n',
    )
    settings = load_settings(cfg)
    assert settings["digest.to"] == (
        "Jane Doe <jane@example.org>",
        '"Roe, Rick" <rick@example.org>',
        "Zoë Brûlé <zoe@example.org>",
        "Jörg <joerg@xn--bcher-kva.de>",  # a domain in its own script as DNS writes it: no SMTPUTF8 needed
    )
    store = Store(database_path(settings.data_dir))
    store.sync_feeds(load_feeds(cfg), datetime.now(UTC))
    pipe = Pipeline(store, settings, load_watchlist(cfg))
    asyncio.run(pipe.poll_once(force=True))
    out = delivery.run_digest(store, settings, pipe.watchlist, datetime.now(UTC))
    assert out.status == "sent", out.message
    rcpts, _, raw = sink.messages[0]
    assert rcpts == ["jane@example.org", "rick@example.org", "zoe@example.org", "joerg@xn--bcher-kva.de"]
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()  # the names are RFC 2047 encoded
    full = message_from_bytes(raw, policy=policy.default)
    assert [(a.display_name, a.addr_spec) for a in full["To"].addresses] == [
        ("Jane Doe", "jane@example.org"),
        ("Roe, Rick", "rick@example.org"),
        ("Zoë Brûlé", "zoe@example.org"),
        ("Jörg", "joerg@xn--bcher-kva.de"),
    ]
    assert full["From"].addresses[0].display_name == "Zoë's digest"
    assert full["From"].addresses[0].addr_spec == "digest@xn--bcher-kva.de"
    for bad in ('to = ["Doe, Jane <jane@example.org>"]', 'to = ["jane"]', "to = []"):
        (cfg / "aggregator.toml").write_text(f"[digest]\n{bad}\n")
        with pytest.raises(ConfigError, match="digest.to: expected e-mail addresses"):
            load_settings(cfg)
    store.close()


def test_refused_first_then_accepted_is_delivered_once(tmp_path, smtp_server):
    host, port, sink = smtp_server
    store, settings, wl = setup(tmp_path)
    sink.fail_next = ["451 4.3.0 try again later"]
    now = datetime.now(UTC)
    first = delivery.run_digest(store, settings, wl, now, smtp=smtp(host, port))
    assert first.status == "retrying" and "451" in first.message and not sink.messages
    assert delivery.retry_due(store, settings, wl, now + timedelta(seconds=30), smtp=smtp(host, port)) == []
    later = delivery.retry_due(store, settings, wl, now + timedelta(minutes=2), smtp=smtp(host, port))
    assert [o.status for o in later] == ["sent"] and len(sink.messages) == 1
    assert delivery.retry_due(store, settings, wl, now + timedelta(hours=1), smtp=smtp(host, port)) == []
    assert len(sink.messages) == 1
    row = store.digests(1)[0]
    assert row["attempts"] == 2 and row["status"] == "sent"


def test_one_recipient_refused_the_others_get_it_once(tmp_path, smtp_server):
    """A server that refuses one address at RCPT TO and takes the other: the digest is delivered (a
    retry would send it twice to whoever has it), and the refusal is recorded and shown."""
    host, port, sink = smtp_server
    store, settings, wl = setup(tmp_path)  # to: me@ and you@example.org
    sink.refuse = {"you@example.org": "550 5.1.1 no such user"}
    out = delivery.run_digest(store, settings, wl, datetime.now(UTC), smtp=smtp(host, port))
    assert out.status == "sent" and "refused you@example.org: 550 5.1.1 no such user" in out.message
    assert [rcpts for rcpts, _, _ in sink.messages] == [["me@example.org"]]
    row = store.digests(1)[0]
    assert row["status"] == "sent" and "you@example.org: 550 5.1.1 no such user" in row["last_error"]
    assert delivery.retry_due(store, settings, wl, datetime.now(UTC) + timedelta(hours=1), smtp=smtp(host, port)) == []
    assert len(sink.messages) == 1


def test_a_relay_taking_one_recipient_a_transaction_gets_the_others_in_the_next(tmp_path, smtp_server):
    """A relay that takes so many recipients per message and answers the rest "452 too many recipients" (RFC
    5321 4.5.3.1.10: send them in another transaction): the second recipient never got the digest."""
    host, port, sink = smtp_server
    store, settings, wl = setup(tmp_path)  # to: me@ and you@example.org
    sink.max_recipients = 1
    out = delivery.run_digest(store, settings, wl, datetime.now(UTC), smtp=smtp(host, port))
    assert out.status == "sent" and "refused" not in out.message, out.message
    assert [rcpts for rcpts, _, _ in sink.messages] == [["me@example.org"], ["you@example.org"]]
    ids = {message["Message-ID"] for _, message, _ in sink.messages}
    assert len(ids) == 1  # one digest, one Message-ID
    # the connection lost before the next transaction: the first recipient has it, so no retry mails it again
    (tmp_path / "dropped").mkdir()
    store, settings, wl = setup(tmp_path / "dropped")
    sink.messages.clear()
    taken = sink.handle_MAIL

    async def hang_up_on_the_second(server, session, envelope, address, options):
        if sink.messages:
            server.transport.close()
            return "421 4.3.0 closing"
        return await taken(server, session, envelope, address, options)

    sink.handle_MAIL = hang_up_on_the_second
    out = delivery.run_digest(store, settings, wl, datetime.now(UTC), smtp=smtp(host, port))
    sink.handle_MAIL = taken
    assert out.status == "sent" and "you@example.org: 451" in out.message, out.message
    assert [rcpts for rcpts, _, _ in sink.messages] == [["me@example.org"]]
    # a recipient refused for now again (a greylisting server) is reported once the others have it
    (tmp_path / "again").mkdir()
    store, settings, wl = setup(tmp_path / "again")
    sink.messages.clear()
    sink.max_recipients = None
    sink.refuse["you@example.org"] = "450 4.2.0 mailbox busy"
    out = delivery.run_digest(store, settings, wl, datetime.now(UTC), smtp=smtp(host, port))
    assert out.status == "sent" and "you@example.org: 450 4.2.0 mailbox busy" in out.message
    assert [rcpts for rcpts, _, _ in sink.messages] == [["me@example.org"]]


def test_two_programs_sending_at_once_mail_each_story_once(tmp_path, smtp_server):
    """`aggregator digest --send` typed while the daemon's digest is being sent: it took the same window (the
    other not yet sent), sent the other's digest again and then its own, the same stories in three mails."""
    host, port, sink = smtp_server
    store, settings, wl = setup(tmp_path)
    sink.data_delay = 1.0  # a slow relay: the first digest is still being sent when the second starts
    first: list[object] = []

    def the_daemons_digest() -> None:
        own = Store(store.path)
        try:
            first.append(delivery.run_digest(own, settings, wl, datetime.now(UTC), smtp=smtp(host, port)).status)
        finally:
            own.close()

    daemon = threading.Thread(target=the_daemons_digest)
    daemon.start()
    assert sink.in_data.wait(30)
    second = delivery.run_digest(store, settings, wl, datetime.now(UTC), smtp=smtp(host, port))
    daemon.join(60)
    assert first == ["sent"] and second.status == "sent"
    assert len(sink.messages) == 2 and len({m["Message-ID"] for _, m, _ in sink.messages}) == 2
    assert "nothing new" in sink.messages[1][1]["Subject"]  # the second window starts where the first ended
    rows = sorted(store.digests(5), key=lambda r: r["id"])
    assert rows[1]["window_start"] == rows[0]["window_end"]


def test_every_recipient_refused_says_each_address_and_reply(tmp_path, smtp_server):
    """No recipient taken: nothing was delivered. Refused for good (5xx) is a failure naming each address and
    the server's reply; refused for now (4xx) for one of them is retried."""
    host, port, sink = smtp_server
    store, settings, wl = setup(tmp_path)  # to: me@ and you@example.org
    sink.refuse = {
        "me@example.org": "550 5.1.1 no such user",
        # a reply of several lines, as Gmail writes them, each repeating its code: one line in the error
        "you@example.org": "553-5.7.1 relaying denied, see\r\n553 5.7.1 https://mail.example.org/relay",
    }
    out = delivery.run_digest(store, settings, wl, datetime.now(UTC), smtp=smtp(host, port))
    assert out.status == "failed" and not sink.messages
    assert (
        "all recipients refused: me@example.org: 550 5.1.1 no such user; "
        "you@example.org: 553 5.7.1 relaying denied, see https://mail.example.org/relay" in out.message
    ), out.message
    assert "\n" not in out.message
    (tmp_path / "again").mkdir()
    store, settings, wl = setup(tmp_path / "again")
    sink.refuse["you@example.org"] = "450 4.2.0 mailbox busy"
    out = delivery.run_digest(store, settings, wl, datetime.now(UTC), smtp=smtp(host, port))
    assert out.status == "retrying" and "you@example.org: 450 4.2.0 mailbox busy" in out.message


def test_a_server_without_what_the_settings_ask_gives_a_clear_permanent_error(tmp_path, smtp_server):
    host, port, sink = smtp_server  # plain SMTP: no STARTTLS, no AUTH
    store, settings, wl = setup(tmp_path)
    out = delivery.run_digest(store, settings, wl, datetime.now(UTC), smtp=smtp(host, port, security="starttls"))
    assert out.status == "failed" and 'smtp.security = "tls"' in out.message
    (tmp_path / "again").mkdir()
    store, settings, wl = setup(tmp_path / "again")
    out = delivery.run_digest(store, settings, wl, datetime.now(UTC), smtp=smtp(host, port, username="me"))
    assert out.status == "failed" and "remove smtp.username" in out.message and not sink.messages


def test_connection_refused_is_retried_then_gives_up(tmp_path):
    store, settings, wl = setup(tmp_path, extra='retry_for = "1h"\n')
    closed = smtp("127.0.0.1", free_port())
    now = datetime.now(UTC)
    assert delivery.run_digest(store, settings, wl, now, smtp=closed).status == "retrying"
    out = delivery.retry_due(store, settings, wl, now + timedelta(hours=2), smtp=closed)
    assert [o.status for o in out] == ["failed"]
    assert "ConnectionRefusedError" in store.digests(1)[0]["last_error"]


def test_a_digest_still_owed_when_the_next_falls_due_is_folded_into_it(tmp_path, smtp_server):
    """The relay is down for two days (retried for three): the second day's digest covers the first day's
    window too, and the first is not retried, so once the relay is back the stories arrive once."""
    host, port, sink = smtp_server
    store, settings, wl = setup(tmp_path, extra='retry_for = "3d"\n')
    closed = smtp("127.0.0.1", free_port())
    day1 = datetime.now(UTC)
    first = delivery.run_digest(store, settings, wl, day1, smtp=closed)
    assert first.status == "retrying"
    second = delivery.run_digest(store, settings, wl, day1 + timedelta(days=1), smtp=closed)
    assert second.status == "retrying"
    rows = {r["id"]: r for r in store.digests(5)}
    assert rows[first.digest_id]["status"] == "superseded"
    assert f"folded into digest #{second.digest_id}" in rows[first.digest_id]["last_error"]
    assert rows[first.digest_id]["next_attempt_at"] is None
    assert rows[second.digest_id]["window_start"] == rows[first.digest_id]["window_start"]
    assert rows[second.digest_id]["stories"] == rows[first.digest_id]["stories"] > 0
    out = delivery.retry_due(store, settings, wl, day1 + timedelta(days=2), smtp=smtp(host, port))
    assert [(o.digest_id, o.status) for o in out] == [(second.digest_id, "sent")]
    assert len(sink.messages) == 1
    # delivered on the next day's first try: the owed one goes out as it was, the new one starts where it ended
    third = delivery.run_digest(store, settings, wl, day1 + timedelta(days=3), smtp=closed)
    fourth = delivery.run_digest(store, settings, wl, day1 + timedelta(days=4), smtp=smtp(host, port))
    rows = {r["id"]: r for r in store.digests(5)}
    assert rows[third.digest_id]["status"] == "sent" and rows[fourth.digest_id]["status"] == "sent"
    assert rows[fourth.digest_id]["window_start"] == rows[third.digest_id]["window_end"]


def test_permanent_failure_is_recorded_and_items_roll_over(tmp_path, smtp_server):
    host, port, sink = smtp_server
    store, settings, wl = setup(tmp_path)
    sink.fail_next = ["554 5.7.1 message rejected"]
    now = datetime.now(UTC)
    failed = delivery.run_digest(store, settings, wl, now, smtp=smtp(host, port))
    assert failed.status == "failed" and "554 5.7.1 message rejected" in failed.message
    assert delivery.retry_due(store, settings, wl, now + timedelta(hours=1), smtp=smtp(host, port)) == []
    ok = delivery.run_digest(store, settings, wl, now + timedelta(minutes=5), smtp=smtp(host, port))
    assert ok.status == "sent" and len(sink.messages) == 1
    rows = store.digests(5)
    assert rows[0]["window_start"] == rows[1]["window_start"]  # the failed window rolled into this one
    assert rows[0]["stories"] == rows[1]["stories"] > 0


def test_a_scheduled_time_is_served_once_across_restarts(tmp_path, smtp_server):
    host, port, sink = smtp_server
    store, settings, wl = setup(tmp_path)
    t1 = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
    assert (
        delivery.run_digest(
            store, settings, wl, t1 + timedelta(seconds=2), scheduled_for=t1, smtp=smtp(host, port)
        ).status
        == "sent"
    )
    store.close()
    store = Store(store.path)  # "restart"
    again = delivery.run_digest(store, settings, wl, t1 + timedelta(minutes=1), scheduled_for=t1, smtp=smtp(host, port))
    assert "already sent" in again.message and len(sink.messages) == 1


def test_a_digest_time_slept_through_is_served_when_the_machine_wakes(tmp_path):
    """A laptop asleep at 07:00 wakes at 09:30: the scheduler drops a run more than an hour late, so the
    daemon's minute job serves the day's digest then, once; a run a few seconds late is left to the
    digest job itself."""
    from aggregator.daemon import Daemon

    store, settings, wl = setup(tmp_path)
    daemon = Daemon(settings.config_dir)
    daemon.store, daemon.pipeline = store, Pipeline(store, daemon.settings, wl)
    day = datetime(2026, 11, 27, tzinfo=UTC)
    store.set_meta("first_start", (day - timedelta(days=3)).isoformat())
    seven = day.replace(hour=7)  # Europe/London in winter: 07:00 UTC
    asyncio.run(daemon.retry(seven + timedelta(seconds=20)))
    assert store.digests(5) == []  # seconds late: the digest job's own run
    asyncio.run(daemon.retry(seven + timedelta(hours=2, minutes=30)))
    rows = store.digests(5)
    assert [(r["status"], r["scheduled_for"]) for r in rows] == [("sent", "2026-11-27T07:00:00.000000+00:00")]
    asyncio.run(daemon.retry(seven + timedelta(hours=2, minutes=31)))
    assert len(store.digests(5)) == 1 and len(list(delivery.outbox_dir(settings).glob("digest-*.eml"))) == 1


def test_catch_up_decision_with_injected_clock():
    trigger = digest_trigger(7, 0, "Europe/London")
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # 07:00 London was missed this morning
    due = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
    started = datetime(2026, 11, 1, tzinfo=UTC)
    assert missed_digest(trigger, now, first_start=started, last_served=due - timedelta(days=1)) == due
    assert missed_digest(trigger, now, first_start=started, last_served=None) == due
    assert missed_digest(trigger, now, first_start=started, last_served=due) is None  # already sent
    assert missed_digest(trigger, now, first_start=now - timedelta(hours=1), last_served=None) is None


def test_feed_text_never_reaches_headers_or_html_raw(tmp_path, feed_server, smtp_server):
    host, port, sink = smtp_server
    evil = rss(
        [
            {
                "title": "<script>alert(1)</script> US bans Huawei gear\r\nBcc: victim@example.com",
                "link": "javascript:alert(1)",
                "guid": "e1",
                "description": "<img src=x onerror=alert(1)>Huawei banned <b>now</b>",
            }
        ],
        title="Evil\r\nBcc: victim@example.com",
    )
    url = feed_server.serve("/evil.xml", evil)
    store, settings, wl = setup(tmp_path, feeds=[url])
    assert delivery.run_digest(store, settings, wl, datetime.now(UTC), smtp=smtp(host, port)).status == "sent"
    rcpts, msg, raw = sink.messages[0]
    assert rcpts == TO and msg["Bcc"] is None
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"victim" not in head
    full = message_from_bytes(raw, policy=policy.default)
    html = full.get_body(("html",)).get_content()
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html
    assert "&lt;script&gt;" in html or "alert(1)" not in html


def test_starttls_with_login_and_implicit_tls(tmp_path):
    trustme = pytest.importorskip("trustme")
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult
    from conftest import SmtpSink

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    logins = []

    def auth(server, session, envelope, mechanism, data):
        logins.append((data.login, data.password))
        return AuthResult(success=data.login == b"me" and data.password == b"s3cret", handled=False)

    store, settings, wl = setup(tmp_path)
    sink = SmtpSink()
    port = free_port()
    starttls = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_ctx,
        require_starttls=True,
        authenticator=auth,
        auth_required=True,
    )
    starttls.start()
    try:
        cfg = smtp("127.0.0.1", port, security="starttls", username="me", password="s3cret", ssl_context=client_ctx)
        assert delivery.run_digest(store, settings, wl, datetime.now(UTC), smtp=cfg).status == "sent"
        bad = smtp("127.0.0.1", port, security="starttls", username="me", password="wrong", ssl_context=client_ctx)
        out = delivery.run_digest(store, settings, wl, datetime.now(UTC) + timedelta(minutes=1), smtp=bad)
        assert out.status == "failed" and "login refused: 535" in out.message  # 5xx: permanent
    finally:
        starttls.stop()
    assert logins[0] == (b"me", b"s3cret") and len(sink.messages) == 1
    tls_port = free_port()
    implicit = Controller(
        sink, hostname="127.0.0.1", port=tls_port, ssl_context=server_ctx, server_hostname="127.0.0.1"
    )
    implicit.start()
    try:
        cfg = smtp("127.0.0.1", tls_port, security="tls", ssl_context=client_ctx)
        assert (
            delivery.run_digest(store, settings, wl, datetime.now(UTC) + timedelta(minutes=2), smtp=cfg).status
            == "sent"
        )
    finally:
        implicit.stop()
    assert len(sink.messages) == 2


def test_a_relay_with_a_private_ca_is_trusted_through_smtp_ca_file(tmp_path):
    """End to end from aggregator.toml: implicit TLS to a server whose certificate only smtp.ca_file vouches
    for; a missing CA file is a delivery error naming the key, retried, not a crash."""
    trustme = pytest.importorskip("trustme")
    from aiosmtpd.controller import Controller
    from conftest import SmtpSink

    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    port = free_port()
    extra = f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "tls"\nca_file = "relay-ca.pem"\ntimeout = "5s"\n'
    store, settings, wl = setup(tmp_path, extra=extra)
    sink = SmtpSink()
    server = Controller(sink, hostname="127.0.0.1", port=port, ssl_context=server_ctx, server_hostname="127.0.0.1")
    server.start()
    try:
        now = datetime.now(UTC)
        missing = delivery.run_digest(store, settings, wl, now)
        assert missing.status == "retrying" and "smtp.ca_file: cannot load" in missing.message
        ca.cert_pem.write_to_path(str(settings.config_dir / "relay-ca.pem"))
        retried = delivery.retry_due(store, settings, wl, now + timedelta(hours=1))
        assert [o.status for o in retried] == ["sent"]
    finally:
        server.stop()
    assert len(sink.messages) == 1


def test_tls_settings_that_do_not_match_the_server_say_which_key_to_fix(tmp_path, smtp_server):
    """An untrusted certificate, a certificate for another name and implicit TLS against a plain port are
    settings to fix: the stored message says which key, and delivery is still retried."""
    trustme = pytest.importorskip("trustme")
    from aiosmtpd.controller import Controller
    from conftest import SmtpSink

    store, settings, wl = setup(tmp_path)
    now = datetime.now(UTC)
    host, plain_port, _ = smtp_server
    out = delivery.run_digest(store, settings, wl, now, smtp=smtp(host, plain_port, security="tls"))
    assert out.status == "retrying" and 'set smtp.security = "starttls"' in out.message, out.message

    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_ctx)  # not valid for 127.0.0.1
    port = free_port()
    sink = SmtpSink()
    server = Controller(sink, hostname="127.0.0.1", port=port, ssl_context=server_ctx, server_hostname="localhost")
    server.start()
    try:
        untrusted = delivery.run_digest(
            store, settings, wl, now + timedelta(minutes=1), smtp=smtp("127.0.0.1", port, security="tls")
        )
        assert untrusted.status == "retrying" and "set smtp.ca_file" in untrusted.message, untrusted.message
        trusting = ssl.create_default_context()
        ca.configure_trust(trusting)
        other_name = delivery.run_digest(
            store,
            settings,
            wl,
            now + timedelta(minutes=2),
            smtp=smtp("127.0.0.1", port, security="tls", ssl_context=trusting),
        )
        assert other_name.status == "retrying" and "set smtp.host" in other_name.message, other_name.message
    finally:
        server.stop()
    assert sink.messages == []


def test_smtp_security_left_out_uses_starttls_when_offered_and_a_local_relay_as_it_is(tmp_path, smtp_server):
    """[smtp] with only host and port, as most people first write it: a plain local relay (no STARTTLS) gets
    the digest; one offering STARTTLS with a self-signed certificate (a local MTA's default) gets it over
    TLS. Set explicitly, "starttls" still checks that certificate."""
    trustme = pytest.importorskip("trustme")
    from aiosmtpd.controller import Controller
    from conftest import SmtpSink

    host, plain_port, plain_sink = smtp_server
    store, settings, wl = setup(tmp_path, extra=f'[smtp]\nhost = "{host}"\nport = {plain_port}\ntimeout = "5s"\n')
    assert settings["smtp.security"] == "auto"
    now = datetime.now(UTC)
    assert delivery.run_digest(store, settings, wl, now).status == "sent"
    assert len(plain_sink.messages) == 1

    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(server_ctx)  # a CA nobody trusts
    port = free_port()
    sink = SmtpSink()
    server = Controller(sink, hostname="127.0.0.1", port=port, tls_context=server_ctx, require_starttls=True)
    server.start()
    try:
        strict = delivery.run_digest(
            store, settings, wl, now + timedelta(minutes=1), smtp=smtp("127.0.0.1", port, security="starttls")
        )
        assert strict.status == "retrying" and "set smtp.ca_file" in strict.message, strict.message
        auto = delivery.run_digest(
            store, settings, wl, now + timedelta(minutes=2), smtp=smtp("127.0.0.1", port, security="auto")
        )
        assert auto.status == "sent", auto.message  # require_starttls: the server took it only over TLS
    finally:
        server.stop()
    assert len(sink.messages) == 2  # the digest the strict attempt left to retry, then this one


def test_only_this_machine_is_exempt_from_the_login_and_certificate_rules():
    from aggregator.send import is_loopback

    assert all(map(is_loopback, ["localhost", "LOCALHOST.", "127.0.0.1", "127.1.2.3", "::1", "[::1]"]))
    assert not any(map(is_loopback, ["smtp.example.org", "192.168.1.10", "10.0.0.1", "localhost.example.org"]))


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_refusals_the_settings_can_fix_say_which(tmp_path, smtp_server):
    """A relay that wants a login the settings do not give, and one that refuses the sender: permanent,
    each with the key to change."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult
    from conftest import SmtpSink

    store, settings, wl = setup(tmp_path)
    now = datetime.now(UTC)
    host, port, sink = smtp_server
    sink.refuse_sender = "553 5.7.1 <digest@example.org>: Sender address rejected: not owned by user me"
    out = delivery.run_digest(store, settings, wl, now, smtp=smtp(host, port))
    assert out.status == "failed" and "553" in out.message and "set smtp.from" in out.message, out.message
    login_port = free_port()
    relay = Controller(
        SmtpSink(),
        hostname="127.0.0.1",
        port=login_port,
        auth_required=True,
        auth_require_tls=False,
        authenticator=lambda *a: AuthResult(success=True),
    )
    relay.start()
    try:
        out = delivery.run_digest(store, settings, wl, now + timedelta(minutes=1), smtp=smtp("127.0.0.1", login_port))
    finally:
        relay.stop()
    assert out.status == "failed" and "530" in out.message and "set smtp.username" in out.message, out.message
    # a relay announcing a size limit refuses the digest at MAIL FROM: the message, not the sender, is at fault
    small_port = free_port()
    small = Controller(SmtpSink(), hostname="127.0.0.1", port=small_port, data_size_limit=2000)
    small.start()
    try:
        out = delivery.run_digest(store, settings, wl, now + timedelta(minutes=2), smtp=smtp("127.0.0.1", small_port))
    finally:
        small.stop()
    assert out.status == "failed" and "552" in out.message, out.message
    assert "too big" in out.message and "digest.max_stories_per_topic" in out.message, out.message
    assert "smtp.from" not in out.message, out.message


def test_a_relay_that_refuses_ehlo_gets_helo_and_another_service_on_the_port_is_named(tmp_path):
    """RFC 5321 4.1.4: a client whose EHLO is refused falls back to HELO (a minimal relay, an old appliance);
    the digest went out without either and the relay refused it ("503 send HELO first"). A port where another
    service answers (IMAP's greeting) is said to be one."""
    import socket
    import threading

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP
    from conftest import SmtpSink

    class NoEsmtp(SMTP):
        async def smtp_EHLO(self, hostname):  # noqa: N802
            await self.push("502 5.5.1 EHLO not implemented")

    class NoEsmtpRelay(Controller):
        def factory(self):
            return NoEsmtp(self.handler, **self.SMTP_kwargs)

    store, settings, wl = setup(tmp_path)
    now = datetime.now(UTC)
    sink = SmtpSink()
    port = free_port()
    relay = NoEsmtpRelay(sink, hostname="127.0.0.1", port=port)
    relay.start()
    try:
        out = delivery.run_digest(store, settings, wl, now, smtp=smtp("127.0.0.1", port))
    finally:
        relay.stop()
    assert out.status == "sent" and len(sink.messages) == 1, out.message

    imap = socket.create_server(("127.0.0.1", 0))

    def greet():
        conn, _ = imap.accept()
        with conn:
            conn.sendall(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.\r\n")
            conn.recv(1024)

    threading.Thread(target=greet, daemon=True).start()
    try:
        imap_port = imap.getsockname()[1]
        out = delivery.run_digest(store, settings, wl, now + timedelta(days=1), smtp=smtp("127.0.0.1", imap_port))
    finally:
        imap.close()
    assert out.status == "retrying" and "not an SMTP reply" in out.message, out.message
    assert "check smtp.host and smtp.port" in out.message and "IMAP" in out.message, out.message


def test_empty_day_sends_a_note_or_skips(tmp_path, smtp_server):
    host, port, sink = smtp_server
    store, settings, wl = setup(tmp_path)
    now = datetime.now(UTC)
    delivery.run_digest(store, settings, wl, now, smtp=smtp(host, port))
    note = delivery.run_digest(store, settings, wl, now + timedelta(days=1), smtp=smtp(host, port))
    assert note.status == "sent" and sink.messages[-1][1]["Subject"].endswith("nothing new")
    cfg = settings.config_dir / "aggregator.toml"
    cfg.write_text(cfg.read_text().replace("[digest]\n", '[digest]\nempty = "skip"\n'))
    skipping = load_settings(settings.config_dir)
    out = delivery.run_digest(store, skipping, wl, now + timedelta(days=2), smtp=smtp(host, port))
    assert out.status == "skipped" and len(sink.messages) == 2


def test_outbox_when_no_smtp_is_configured(tmp_path):
    store, settings, wl = setup(tmp_path)
    out = delivery.run_digest(store, settings, wl, datetime(2026, 11, 29, 7, 0, tzinfo=UTC))
    assert out.status == "sent"
    path = Path(store.digests(1)[0]["outbox_path"])
    assert path.suffix == ".eml" and path.with_suffix(".html").exists()
    msg = message_from_bytes(path.read_bytes())
    assert msg.get_content_type() == "multipart/alternative" and msg["To"] == ", ".join(TO)


def test_an_outbox_that_cannot_be_written_is_retried(tmp_path):
    """The outbox's place taken by a file (as a full disk or a lost permission would do): the digest is
    retrying with one line saying what to do, and goes out once the folder can be written."""
    store, settings, wl = setup(tmp_path)
    outbox = delivery.outbox_dir(settings)
    outbox.parent.mkdir(parents=True, exist_ok=True)
    outbox.write_text("not a folder")
    now = datetime(2026, 11, 29, 7, 0, tzinfo=UTC)
    out = delivery.run_digest(store, settings, wl, now)
    assert out.status == "retrying" and "cannot write" in out.message and "outbox folder writable" in out.message
    outbox.unlink()
    assert [o.status for o in delivery.retry_due(store, settings, wl, now + timedelta(hours=1))] == ["sent"]
    assert len(list(outbox.glob("digest-*.eml"))) == 1


def test_max_age_keeps_a_feeds_archive_out_of_the_digest(tmp_path):
    """A feed added with years of archive: with digest.max_age its old reports are stored and tagged but
    not in the digest; without it (the default) everything fetched in the window is."""
    from email.utils import format_datetime

    now = datetime.now(UTC)
    feed = tmp_path / "archive.xml"
    feed.write_bytes(
        rss(
            [
                {
                    "guid": "old",
                    "title": "US adds Huawei to the Entity List",
                    "link": "https://e.org/2019/huawei",
                    "pubDate": "Thu, 16 May 2019 10:00:00 GMT",
                },
                {
                    "guid": "new",
                    "title": "US adds 27 Chinese chip firms to the Entity List",
                    "link": "https://e.org/today/entity-list",
                    "pubDate": format_datetime(now - timedelta(hours=3), usegmt=True),
                },
            ]
        )
    )
    for extra, expected in (('max_age = "7d"\n', ["US adds 27 Chinese chip firms to the Entity List"]), ("", 2)):
        root = tmp_path / ("aged" if extra else "all")
        root.mkdir()
        store, settings, wl = setup(root, feeds=[feed.as_uri()], extra=extra)
        d = delivery.compose(store, settings, wl, now - timedelta(days=1), datetime.now(UTC))
        titles = [e.title for s in d.sections for e in s.entries]
        assert titles == expected if isinstance(expected, list) else len(titles) == expected, titles
        assert store.execute("SELECT count(*) FROM item_topics").fetchone()[0] == 2  # both stored and tagged
        if not extra:  # shown, the archive's report says its year: it is no news of this week
            text = render_text(d)
            assert re.search(r"· Thu 16 May 2019 1\d:00 \w+\n", text), text  # in digest.timezone
            assert re.search(r"· \w{3} \d\d \w{3} \d\d:\d\d \w+\n", text), text  # this year's: no year
        store.close()


def test_text_part_matches_golden_file():
    t = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    rows = [
        {
            "id": 1,
            "story_id": 10,
            "topic": "us-china-tech",
            "title": "US adds 27 Chinese firms to Entity List",
            "url": "https://wire.example.com/a",
            "summary": "The Commerce Department added 27 Chinese companies. " * 8,
            "published": t.isoformat(),
            "fetched_at": t.isoformat(),
            "dup_level": "new",
            "score": 0.93,
            "matched": '["title:\\"entity list\\"", "title:chinese", "summary:export*"]',
            "feed_title": "Wire News",
            "seed_title": None,
        },
        {
            "id": 2,
            "story_id": 11,
            "topic": "us-china-tech",
            "title": "US widens review of Alibaba Cloud",
            "url": "https://tp.example.org/b",
            "summary": "Officials expand the national security review.",
            "published": (t + timedelta(hours=3)).isoformat(),
            "fetched_at": t.isoformat(),
            "dup_level": "new",
            "score": 0.61,
            "matched": '["summary:alibaba"]',
            "feed_title": "Tech Policy Daily",
            "seed_title": "Alibaba Cloud is on US' radar",
        },
    ]
    sources = {
        10: [
            {"id": 1, "feed_title": "Wire News", "dup_level": "new"},
            {"id": 3, "feed_title": "World Briefs", "dup_level": "near-duplicate"},
            {"id": 4, "feed_title": "Tech Policy Daily", "dup_level": "near-duplicate"},
        ],
        11: [{"id": 2, "feed_title": "Tech Policy Daily", "dup_level": "new"}],
    }
    health = [FeedHealth("https://gone.example/feed", "Gone Feed", "gone", t - timedelta(days=2), "410 Gone")]
    d = build_digest(
        rows=rows,
        sources=sources,
        topics=[("us-china-tech", "US–China tech restrictions"), ("ai", "AI regulation")],
        window_start=t - timedelta(days=1),
        window_end=t + timedelta(hours=21),
        timezone="Europe/London",
        items_seen=40,
        duplicates=6,
        health=health,
    )
    golden = FIXTURES / "digest" / "golden.txt"
    text = render_text(d)
    if not golden.exists():  # first run writes it; review it, then commit it
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_items_stored_after_a_digest_in_the_same_cycle_go_to_the_next_window(tmp_path, feed_server):
    import threading
    import time as _time

    release = threading.Event()

    def slow(h):  # the second feed answers only after the digest has run
        release.wait(10)
        body = rss(
            [
                {
                    "guid": "b1",
                    "title": "US adds Chinese chipmakers to Entity List",
                    "link": "https://b.example/1",
                    "description": "Export controls widen.",
                }
            ]
        )
        h.send_response(200)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    fast = feed_server.serve(
        "/fast.xml",
        rss(
            [
                {
                    "guid": "a1",
                    "title": "Netherlands curbs ASML exports to China",
                    "link": "https://a.example/1",
                    "description": "Chip tools.",
                }
            ]
        ),
    )
    feed_server.serve("/slow.xml", handler=slow)
    cfg = write_config(tmp_path, [fast, feed_server.url("/slow.xml")])
    settings = load_settings(cfg)
    store = Store(database_path(settings.data_dir))
    store.sync_feeds(load_feeds(cfg), datetime.now(UTC))
    pipe = Pipeline(store, settings, load_watchlist(cfg))

    async def scenario():
        cycle = asyncio.ensure_future(pipe.poll_once(force=True))
        while store.count_items() < 1:
            await asyncio.sleep(0.02)
        first = delivery.run_digest(store, settings, pipe.watchlist, datetime.now(UTC))
        _time.sleep(0.01)
        release.set()
        await cycle
        return first

    first = asyncio.run(scenario())
    assert first.status == "sent"
    sent = Path(store.digests(1)[0]["outbox_path"]).read_text()
    assert "ASML" in sent and "chipmakers" not in sent
    later = delivery.run_digest(store, settings, pipe.watchlist, datetime.now(UTC) + timedelta(seconds=1))
    assert later.status == "sent"
    assert "chipmakers" in Path(store.digests(1)[0]["outbox_path"]).read_text()


def test_a_big_story_names_eight_other_outlets_and_counts_the_rest():
    from dataclasses import replace

    from aggregator.digest import Digest, Entry, Section
    from aggregator.render import render_html, render_text

    outlets = tuple(f"Outlet {n}" for n in range(1, 13))
    when = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    entry = Entry(
        1, "TikTok CEO testifies", "https://example.org/t", "Wire", when, "Snippet.", 0.9, (), outlets, None, 0
    )
    d = Digest(when, when + timedelta(days=1), "UTC", (Section("t", "Topic", (entry,)),), 13, 0, (), ())
    for text in (render_text(d), render_html(d)):
        assert "Outlet 1, Outlet 2" in text and "Outlet 8 and 4 more" in text and "Outlet 9" not in text
    # in the HTML each outlet links to its own report (a reader picks the one without a paywall)
    urls = ("https://o1.example/a", None, "javascript:alert(1)")
    linked = replace(entry, also=outlets[:3], also_urls=urls)
    html = render_html(replace(d, sections=(Section("t", "Topic", (linked,)),)))
    assert '<a href="https://o1.example/a" style="color:#1d4ed8;text-decoration:none;">Outlet 1</a>, Outlet 2, ' in html
    assert "javascript" not in html and '<a href="#"' in html


def test_the_story_many_outlets_cover_comes_first_and_updates_are_counted():
    from aggregator.digest import build_digest

    when = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)

    def row(item_id, story_id, score, feed, first=None):
        return {
            "id": item_id,
            "story_id": story_id,
            "topic": "t",
            "score": score,
            "matched": "[]",
            "dup_level": "new",
            "title": f"Story {story_id} report {item_id}",
            "url": None,
            "summary": "",
            "published": when.isoformat(),
            "fetched_at": when.isoformat(),
            "feed_title": feed,
            "seed_title": None,
            "story_first": (first or when).isoformat(),
        }

    lone = [row(1, 1, 1.0, "Wire")]
    covered = [row(10 + n, 2, 0.8, f"Outlet {n}", first=when - timedelta(days=2)) for n in range(5)]
    d = build_digest(
        rows=lone + covered,
        sources={1: lone, 2: covered},
        topics=[("t", "Topic")],
        window_start=when - timedelta(hours=12),
        window_end=when + timedelta(hours=12),
        timezone="UTC",
        items_seen=6,
        duplicates=0,
    )
    [section] = d.sections
    assert [e.story_id for e in section.entries] == [2, 1]  # 0.8 x five outlets before 1.0 x one
    assert section.entries[0].update_of == when - timedelta(days=2) and section.entries[0].earlier == 0
    assert d.counts_text() == "1 new story and 1 update on 1 topic"


def day_digest(rows, topics, when, **settings):
    """The digest of ``rows`` (tagged items, as store.digest_rows gives them) for the day around ``when``."""
    from aggregator.digest import build_digest

    return build_digest(
        rows=rows,
        sources={},
        topics=topics,
        window_start=when - timedelta(hours=12),
        window_end=when + timedelta(hours=12),
        timezone="UTC",
        items_seen=len(rows),
        duplicates=0,
        **settings,
    )


def test_the_counts_are_of_every_story_a_story_under_two_topics_once():
    """The subject said "30 stories" of a day of 45 whose section showed 30 and "...and 15 more" (its heading
    "(30)" too); a story tagged on two topics counted twice."""
    from aggregator.render import render_html

    when = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    base = {"score": 1.0, "matched": "[]", "dup_level": "new", "url": None, "summary": "", "seed_title": None}
    rows = [
        {**base, "id": n, "story_id": n, "topic": topic, "title": f"Story {n}", "feed_title": f"Outlet {n % 7}"}
        | {"published": when.isoformat(), "fetched_at": when.isoformat(), "story_first": when.isoformat()}
        for n, topic in [(n, "a") for n in range(45)] + [(0, "b"), (1, "b"), (99, "b")]
    ]
    d = day_digest(rows, [("a", "Topic A"), ("b", "Topic B")], when, max_per_topic=30)
    assert [(len(s.entries), s.more) for s in d.sections] == [(30, 15), (3, 0)]
    assert d.subject() == "Digest 2026-11-28: 46 stories on 2 topics"
    assert d.counts_text() == "46 new stories on 2 topics"
    text = render_text(d)
    assert "## Topic A (45)" in text and "...and 15 more" in text and "## Topic B (3)" in text
    assert "Topic A <span" in render_html(d) and ">(45)</span>" in render_html(d)


def test_a_story_under_two_topics_has_one_headline_in_both():
    """Each section headed a story with its own best report: the investment order was Engadget's headline under
    one topic and the Guardian's under the other, one event shown as two. A report tagged on both heads both;
    a story with none keeps each section's best."""

    when = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    base = {"dup_level": "new", "url": None, "summary": "Text of the report.", "seed_title": None, "story_id": 1}
    times = {"published": when.isoformat(), "fetched_at": when.isoformat(), "story_first": when.isoformat()}

    def tag(item, topic, score, title, outlet, story=1):
        matched = f'["title:{topic}"]'
        return (
            base
            | times
            | {"id": item, "topic": topic, "score": score, "title": title, "feed_title": outlet}
            | {
                "matched": matched,
                "story_id": story,
            }
        )

    rows = [
        tag(1, "china", 0.9, "Biden signs order restricting investment in Chinese tech", "Engadget"),
        tag(2, "china", 0.7, "Biden bans range of US tech investments in China", "The Guardian"),
        tag(2, "ai", 0.5, "Biden bans range of US tech investments in China", "The Guardian"),
        tag(3, "china", 0.8, "Chip tool curbs widen", "Wire", story=2),
        tag(4, "ai", 0.6, "Chip tool curbs reach AI accelerators", "Blog", story=2),
    ]
    d = day_digest(rows, [("china", "China"), ("ai", "AI")], when)
    heads = {(s.topic_id, e.story_id): (e.source, e.matched) for s in d.sections for e in s.entries}
    assert heads[("china", 1)] == ("The Guardian", ("china (title)",))  # its own terms under each topic
    assert heads[("ai", 1)] == ("The Guardian", ("ai (title)",))
    assert d.sections[0].entries[0].score == 0.9  # ranked on the story's best report as before
    assert heads[("china", 2)][0] == "Wire" and heads[("ai", 2)][0] == "Blog"  # no report under both


def test_digest_and_atom_links_carry_no_trackers(tmp_path, feed_server):
    from aggregator.atom import topic_feed
    from aggregator.render import render_html

    item = {
        "guid": "t1",
        "title": "US adds Chinese chipmakers to the Entity List",
        "link": "https://news.example/2026/entity-list?utm_source=rss&utm_medium=feed&id=42&fbclid=abc",
        "description": "The Commerce Department added Chinese chipmakers to the Entity List on Thursday.",
    }
    store, settings, wl = setup(tmp_path, feeds=[feed_server.serve("/t.xml", rss([item]))])
    now = datetime.now(UTC)
    d = delivery.compose(store, settings, wl, now - timedelta(days=1), now + timedelta(seconds=1))
    html, text = render_html(d), render_text(d)
    for shown in (html, text, topic_feed(store, wl, "us-china-tech", now)):
        assert "https://news.example/2026/entity-list?id=42" in shown and "utm_" not in shown and "fbclid" not in shown
    # stored as the feed gave it
    assert next(store.iter_items())["url"] == item["link"]


def _aggregator_entry(n: int, headline: str, outlet: str, when: datetime) -> dict[str, str]:
    """An entry as Google News writes it: the outlet appended to the headline, a description that only
    repeats both, a redirector link, and the outlet in <source>."""
    link = f"https://news.google.com/rss/articles/CBMi{n:04d}?oc=5"
    return {
        "title": f"{headline} - {outlet}",
        "link": link,
        "guid": f"CBMi{n:04d}",
        "pubDate": when.strftime("%a, %d %b %Y %H:%M:%S +0000"),
        "description": f'<a href="{link}">{headline}</a>&nbsp;&nbsp;<font color="#6f6f6f">{outlet}</font>',
        "source": outlet,
    }


def test_a_news_aggregators_entries_name_their_outlet_and_match_its_own_reports(tmp_path):
    now = datetime.now(UTC).replace(microsecond=0)
    headline = "US adds 36 Chinese companies to trade blacklist over chip concerns"
    aggregator = tmp_path / "google-news.xml"
    aggregator.write_bytes(
        rss(
            [
                _aggregator_entry(1, headline, "Reuters", now - timedelta(hours=2)),
                _aggregator_entry(
                    2, "US revokes Intel and Qualcomm licences to sell chips to Huawei", "Bloomberg", now
                ),
            ],
            title='"export controls" - Google News',
        )
    )
    outlet = tmp_path / "reuters.xml"
    report = "The Commerce Department added 36 Chinese companies, including memory chipmaker YMTC, to its Entity List."
    outlet.write_bytes(
        rss(
            [
                {
                    "title": headline,
                    "link": "https://www.reuters.com/technology/us-adds-36-chinese-companies/",
                    "pubDate": (now - timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S +0000"),
                    "description": report,
                }
            ],
            title="Reuters Technology",
        )
    )
    store, settings, wl = setup(tmp_path, feeds=[aggregator.as_uri()])  # the aggregator first, then the outlet
    (settings.config_dir / "feeds.toml").write_text(f'[[feed]]\nurl = "{outlet.as_uri()}"\n')
    store.sync_feeds(load_feeds(settings.config_dir), datetime.now(UTC))
    asyncio.run(Pipeline(store, settings, wl).poll_once(force=True))
    rows = {r["feed_url"]: r for r in store.execute("SELECT * FROM items ORDER BY id").fetchall()}
    items = store.execute("SELECT * FROM items WHERE feed_url = ? ORDER BY id", (aggregator.as_uri(),)).fetchall()
    assert [(i["title"], i["source"], i["summary"]) for i in items] == [
        (headline, "Reuters", ""),
        ("US revokes Intel and Qualcomm licences to sell chips to Huawei", "Bloomberg", ""),
    ]
    own = rows[outlet.as_uri()]
    assert own["dup_level"] == "near-duplicate" and own["duplicate_of"] == items[0]["id"], own["dup_reason"]
    text = render_text(delivery.compose(store, settings, wl, None, datetime.now(UTC) + timedelta(minutes=1)))
    # the story is shown by the outlet's own report (a direct link and its text), the aggregator's entry
    # counts as a source; an entry alone is shown under its outlet's name
    assert f"{headline}\n   Reuters Technology ·" in text and "Also reported by: Reuters\n" in text
    assert "https://www.reuters.com/technology/us-adds-36-chinese-companies/" in text and report[:40] in text
    assert "US revokes Intel and Qualcomm licences to sell chips to Huawei\n   Bloomberg ·" in text
    assert " - Reuters" not in text and "Google News" not in text


@pytest.mark.parametrize(
    ("fixture", "shared_title", "own_page"),
    [
        ("reddit.atom", "US adds Chinese chipmakers to the Entity List", "/comments/1abc/"),
        ("techmeme.xml", "US adds Chinese chipmakers to the Entity List, citing military end uses", "techmeme.com"),
    ],
)
def test_a_link_aggregators_entry_opens_the_article_and_is_the_outlets_report(
    tmp_path, fixture, shared_title, own_page
):
    """A subreddit's feed links every entry to its comments page and names the shared article in the
    "[link]" anchor; Techmeme links its own page and names the article first in the text, its author and
    outlet after the headline. Such an entry is the article: the digest opens it, and the outlet's own
    report of it is the same item; a Reddit post's own page is the story's discussion ("Comments:")."""
    aggregator = tmp_path / fixture
    aggregator.write_bytes((FIXTURES / "parse" / fixture).read_bytes())
    outlet = tmp_path / "reuters.xml"
    article = "https://www.reuters.com/technology/us-adds-chipmakers-2026-11-30/?x=1"
    report = "The Commerce Department added Chinese chipmakers to its Entity List on Sunday, citing military use."
    outlet.write_bytes(
        rss(
            [
                {
                    "title": "US adds Chinese chipmakers to trade blacklist",
                    "link": article,
                    "pubDate": "Mon, 30 Nov 2026 07:00:00 +0000",
                    "description": report,
                }
            ],
            title="Reuters Technology",
        )
    )
    store, settings, wl = setup(tmp_path, feeds=[aggregator.as_uri(), outlet.as_uri()])
    rows = {r["title"]: r for r in store.execute("SELECT * FROM items").fetchall()}
    own, shared = rows["US adds Chinese chipmakers to trade blacklist"], rows[shared_title]
    assert shared["url"].startswith("https://www.reuters.com/technology/us-adds-chipmakers-2026-11-30/?")
    assert (shared["dup_level"], shared["duplicate_of"]) == ("same-item", own["id"]), shared["dup_reason"]
    text = render_text(delivery.compose(store, settings, wl, None, datetime.now(UTC) + timedelta(minutes=1)))
    # one story, opened at the outlet's report; the aggregator's entry of it is the same article, not a source
    assert text.count("US adds Chinese chipmakers") == 1 and "1 duplicate suppressed" in text
    assert "utm_source" not in text
    # the Reddit post's own page is the story's discussion, on a line of its own; Techmeme's page is none
    lines = [line.strip() for line in text.splitlines() if own_page in line]
    assert lines == (
        ["Comments: https://www.reddit.com/r/technology/comments/1abc/us_adds/"] if "reddit" in fixture else []
    )


def test_a_busy_day_is_trimmed_to_what_mail_clients_show_whole():
    """Five topics of 30 stories each are about 160 KB of HTML: Gmail would hide everything after its
    first 102 KB (the last topics, feed health). The longest sections are cut, each keeping its best
    stories and saying how many more there are; a long feed-health list is cut too."""
    from aggregator.digest import FeedHealth, build_digest
    from aggregator.render import MAX_HTML_BYTES, fit, render_html

    when = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    rows, sources = [], {}
    for t in range(6):
        for n in range(30 if t < 5 else 3):
            story = t * 100 + n
            members = [
                {
                    "id": story * 10 + k,
                    "story_id": story,
                    "topic": f"t{t}",
                    "score": 1.0 - n / 100,
                    "matched": '["title:export*", "summary:\\"entity list\\"", "title:china"]',
                    "dup_level": "new",
                    "title": f"Topic {t} story {n}: officials announce new measures on a long headline",
                    "url": f"https://news{k}.example/2026/11/28/topic-{t}/story-{n}-with-a-long-slug",
                    "summary": "The officials said the measures would take effect next month. " * 6,
                    "published": when.isoformat(),
                    "fetched_at": when.isoformat(),
                    "feed_title": f"Outlet number {k}",
                    "seed_title": None,
                    "story_first": when.isoformat(),
                }
                for k in range(8)
            ]
            rows += members
            sources[story] = members
    health = [FeedHealth(f"https://f{n}.example/rss", f"Feed {n}", "failing", when, "timeout") for n in range(100)]
    d = build_digest(
        rows=rows,
        sources=sources,
        topics=[(f"t{t}", f"Topic {t}") for t in range(6)],
        window_start=when - timedelta(hours=12),
        window_end=when + timedelta(hours=12),
        timezone="UTC",
        items_seen=len(rows),
        duplicates=0,
        health=health,
    )
    assert len(render_html(d).encode()) > 1.5 * MAX_HTML_BYTES
    fitted = fit(d)
    html = render_html(fitted)
    assert len(html.encode()) <= MAX_HTML_BYTES
    for before, after in zip(d.sections, fitted.sections, strict=True):
        assert after.entries == before.entries[: len(after.entries)]  # the best stories stay, in order
        assert len(after.entries) + after.more == len(before.entries)
    assert [len(s.entries) for s in fitted.sections][-1] == 3  # a short section is not cut
    assert fitted.subject() == d.subject() and d.subject().endswith("153 stories on 6 topics")  # all, not what fits
    assert len(fitted.health) == 30 and fitted.health_more == 70
    assert "and 70 more: <code>aggregator status</code>" in html
    assert "...and 70 more: `aggregator status` lists them all." in render_text(fitted)
    assert fit(fitted) == fitted  # already small enough: unchanged


def test_the_message_id_is_ascii_whatever_the_senders_domain():
    from aggregator.digest import build_digest
    from aggregator.render import build_message

    now = datetime(2026, 11, 29, 7, 0, tzinfo=UTC)
    d = build_digest(
        rows=[], sources={}, topics=[], window_start=None, window_end=now, timezone="UTC", items_seen=0, duplicates=0
    )
    for sender, domain in [
        ("Digest <digest@exämple.de>", "@xn--exmple-cua.de>"),  # an internationalised domain: punycode
        ("digest@example.org", "@example.org>"),
        ("aggregator", "@aggregator.invalid>"),  # an outbox-only setup with no address at all
    ]:
        msg = build_message(d, sender=sender, to=("me@example.org",), now=now)
        assert msg["Message-ID"].isascii() and msg["Message-ID"].endswith(domain), msg["Message-ID"]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_a_login_without_its_password_says_which_variable_is_missing(tmp_path, monkeypatch):
    """smtp.username set, the password variable not exported to the daemon: not a 535 "login refused" but
    the variable named; retried, so exporting it (and restarting) or a password file gets the digest out."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult
    from conftest import SmtpSink

    def auth(server, session, envelope, mechanism, data):
        return AuthResult(success=(data.login, data.password) == (b"me", b"s3cret"), handled=False)

    port = free_port()
    sink = SmtpSink()
    server = Controller(
        sink, hostname="127.0.0.1", port=port, authenticator=auth, auth_required=True, auth_require_tls=False
    )
    monkeypatch.delenv("DIGEST_PW", raising=False)
    extra = f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nusername = "me"\npassword_env = "DIGEST_PW"\n'
    store, settings, wl = setup(tmp_path, extra=extra)
    server.start()
    try:
        now = datetime.now(UTC)
        out = delivery.run_digest(store, settings, wl, now)
        assert out.status == "retrying" and "the environment variable DIGEST_PW is not set" in out.message
        monkeypatch.setenv("DIGEST_PW", "s3cret")
        assert [o.status for o in delivery.retry_due(store, settings, wl, now + timedelta(hours=1))] == ["sent"]
    finally:
        server.stop()
    assert len(sink.messages) == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_a_password_with_characters_outside_ascii_logs_in_as_utf8(tmp_path):
    """smtplib sends credentials as ASCII and raised UnicodeEncodeError on "pässwort", which is no delivery
    error at all: the digest job died. PLAIN and LOGIN carry the login and password as UTF-8; a server that
    offers neither is a permanent error naming what to change."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult
    from conftest import SmtpSink

    logins = []

    def auth(server, session, envelope, mechanism, data):
        logins.append((mechanism, data.login, data.password))
        ok = (data.login, data.password) == ("jürgen".encode(), "pässwort€".encode())
        return AuthResult(success=ok, handled=False)

    class OAuthOnly(SmtpSink):  # a provider that takes OAuth tokens only (XOAUTH2)
        async def auth_XOAUTH2(self, server, args):  # noqa: N802
            return AuthResult(success=False, handled=False)

    store, settings, wl = setup(tmp_path)
    sent = 0
    for exclude in ([], ["PLAIN"], ["PLAIN", "LOGIN"]):
        sink = OAuthOnly() if len(exclude) == 2 else SmtpSink()
        port = free_port()
        server = Controller(
            sink,
            hostname="127.0.0.1",
            port=port,
            authenticator=auth,
            auth_required=True,
            auth_require_tls=False,
            auth_exclude_mechanism=exclude,
        )
        server.start()
        try:
            now = datetime.now(UTC) + timedelta(minutes=len(exclude))
            out = delivery.run_digest(
                store, settings, wl, now, smtp=smtp("127.0.0.1", port, username="jürgen", password="pässwort€")
            )
            if len(exclude) < 2:
                assert out.status == "sent", out.message
                sent += 1
                bad = smtp("127.0.0.1", port, username="jürgen", password="passwort")
                out = delivery.run_digest(store, settings, wl, now + timedelta(seconds=30), smtp=bad)
                assert out.status == "failed" and "login refused: 535" in out.message
            else:
                assert out.status == "failed" and "outside ASCII needs PLAIN or LOGIN" in out.message, out.message
        finally:
            server.stop()
        assert len(sink.messages) == (1 if len(exclude) < 2 else 0)
    assert [m for m, *_ in logins[:2]] == ["PLAIN", "PLAIN"] and logins[2][0] == "LOGIN"
    assert sent == 2


def test_a_server_that_answers_quit_oddly_after_taking_the_digest_gets_it_once(tmp_path):
    """The message was accepted (250 after DATA); the server then answers QUIT with something else than
    221. That is no failure: retrying would mail the digest twice."""
    from aiosmtpd.controller import Controller
    from conftest import SmtpSink

    class OddQuit(SmtpSink):
        async def handle_QUIT(self, server, session, envelope):  # noqa: N802
            return "554 5.0.0 closing anyway"

    sink = OddQuit()
    port = free_port()
    server = Controller(sink, hostname="127.0.0.1", port=port)
    server.start()
    try:
        store, settings, wl = setup(tmp_path)
        out = delivery.run_digest(store, settings, wl, datetime.now(UTC), smtp=smtp("127.0.0.1", port))
    finally:
        server.stop()
    assert out.status == "sent", out.message
    assert len(sink.messages) == 1 and store.digests(1)[0]["status"] == "sent"


def test_a_feed_never_read_since_it_was_added_is_in_the_next_digests_feed_health(tmp_path, feed_server):
    """A mistyped feed address shows in the very next digest; a feed that worked before shows only after
    failing for 24 h (a blip is not news); the good feed is not named at all."""
    good = feed_server.serve("/good.xml", rss([{"guid": "g1", "title": "Fine", "link": "https://g.example/1"}]))
    flaky = feed_server.serve("/flaky.xml", rss([{"guid": "f1", "title": "Flaky", "link": "https://g.example/2"}]))
    typo = feed_server.url("/fede.xml")  # nothing served there: 404
    cfg = write_config(tmp_path, [good, flaky, typo])
    settings = load_settings(cfg)
    store = Store(database_path(settings.data_dir))
    store.sync_feeds(load_feeds(cfg), datetime.now(UTC))
    pipe = Pipeline(store, settings, load_watchlist(cfg))
    asyncio.run(pipe.poll_once(force=True))
    feed_server.serve("/flaky.xml", b"", status=500)
    asyncio.run(pipe.poll_once(force=True))
    now = datetime.now(UTC)
    text = render_text(delivery.compose(store, settings, pipe.watchlist, now - timedelta(days=1), now))
    health = text[text.index("Feed health") :]
    assert "fede.xml (never read since" in health and "404" in health, health
    assert health.count("fede.xml") == 1, health  # named once: the error does not repeat the address
    assert "flaky.xml" not in health and "good.xml" not in health
    store.close()


def test_a_preview_mailed_to_one_address_tests_the_set_up_and_records_nothing(tmp_path, smtp_server):
    """`digest --preview --to ADDRESS`: the pending window, as it would go out, through the configured
    server to that address only, "[preview]" in its subject; no digest recorded, the scheduled one unchanged.
    Without a mail server configured, one line says so."""
    import json
    import os
    import subprocess
    import sys

    host, port, sink = smtp_server
    store, settings, _ = setup(tmp_path, extra=f'[smtp]\nhost = "{host}"\nport = {port}\nsecurity = "none"\n')
    store.close()
    env = {**os.environ, "AGGREGATOR_CONFIG": str(settings.config_dir), "AGGREGATOR_DATA_DIR": str(settings.data_dir)}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "aggregator", *args], capture_output=True, text=True, env=env)

    p = cli("digest", "--preview", "--to", "Tester <tester@example.org>")
    assert p.returncode == 0 and "(nothing recorded)" in p.stdout, p.stdout + p.stderr
    [(rcpts, msg, _)] = sink.messages
    assert rcpts == ["tester@example.org"] and msg["Subject"].startswith("[preview] Digest ")
    assert msg["To"] == "Tester <tester@example.org>"
    assert cli("digest", "list").stdout.startswith("no digest yet")  # nothing recorded
    assert json.loads(cli("status", "--json").stdout)["last_digest"] is None
    bad = cli("digest", "--preview", "--to", "not an address")
    assert bad.returncode != 0 and "--to: expected e-mail addresses" in bad.stderr
    (settings.config_dir / "aggregator.toml").write_text('data_dir = "../data"\n')
    none = cli("digest", "--preview", "--to", "tester@example.org")
    assert none.returncode != 0 and "no [smtp] host in aggregator.toml" in none.stderr


def test_a_summary_that_only_repeats_the_headline_gets_no_snippet():
    when = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    title = "Live updates: TikTok CEO testifies to Congress as scrutiny mounts"
    shows = {  # summary -> whether the digest shows it
        "Live updates: TikTok testifies to Congress as scrutiny mounts": False,  # the headline less a word
        "TikTok": False,  # a few of the headline's words
        "Live updates: TikTok CEO testifies to Congress as scrutiny mounts Reuters": False,  # plus the outlet
        "Lawmakers pressed the chief executive for five hours.": True,
        "Prices fell.": True,  # short, but news
        "美国商务部周二宣布对中国芯片的新限制措施": True,
    }
    rows = [
        {
            "id": n,
            "story_id": n,
            "topic": "t",
            "score": 1.0,
            "matched": "[]",
            "dup_level": "new",
            "title": "美国商务部宣布新的出口管制" if summary[0] == "美" else title,
            "url": None,
            "summary": summary,
            "published": when.isoformat(),
            "fetched_at": when.isoformat(),
            "feed_title": "Wire",
            "seed_title": None,
            "story_first": when.isoformat(),
        }
        for n, summary in enumerate(shows, 1)
    ]
    d = build_digest(
        rows=rows,
        sources={r["id"]: [r] for r in rows},
        topics=[("t", "Topic")],
        window_start=when - timedelta(hours=1),
        window_end=when + timedelta(hours=1),
        timezone="UTC",
        items_seen=len(rows),
        duplicates=0,
    )
    shown = {
        rows[e.story_id - 1]["summary"]: e.snippet == rows[e.story_id - 1]["summary"] for e in d.sections[0].entries
    }
    assert shown == shows and all(e.snippet in ("", rows[e.story_id - 1]["summary"]) for e in d.sections[0].entries)


def test_headlines_in_right_to_left_scripts_take_their_own_direction():
    """An Arabic or Hebrew headline in the HTML part is laid out right to left by the mail client (dir=auto),
    and an English one beside it left to right."""
    from aggregator.digest import Digest, Entry, Section
    from aggregator.render import render_html

    when = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    hebrew = Entry(
        1, "ארה״ב מגבילה ייצוא שבבים לסין", None, "Haaretz", when, "הממשל הודיע על כללים חדשים.", 1.0, (), (), None, 0
    )
    english = Entry(2, "US curbs chip exports to China", None, "Wire", when, "New rules.", 1.0, (), (), None, 0)
    d = Digest(when, when + timedelta(days=1), "UTC", (Section("t", "Topic", (hebrew, english)),), 2, 0, (), ())
    html = render_html(d)
    assert '<div dir="auto" style="font-size:16px;font-weight:bold;">ארה״ב מגבילה ייצוא שבבים לסין</div>' in html
    assert '<div dir="auto" style="margin-top:4px;">הממשל הודיע על כללים חדשים.</div>' in html


def test_a_snippet_ends_before_a_channels_links_and_hashtags_but_keeps_a_link_in_a_sentence():
    from aggregator.digest import snippet

    lede = "The Commerce Department added 14 Chinese chip firms to the Entity List on Sunday."
    assert snippet(f"{lede} #china #chips Subscribe: https://v.example/@news Follow us: https://x.example/n") == lede
    assert snippet(f"{lede} https://v.example/@news") == lede
    assert snippet(f"{lede} #exportcontrols #chips") == lede
    running = f"{lede} The rule is at https://www.federalregister.gov/d/2026-1 and takes effect at once."
    assert snippet(running) == running
    assert snippet("#breaking #china") == "#breaking #china"  # nothing but hashtags: kept, there is nothing else


def test_a_post_whose_text_is_its_headline_and_hashtags_shows_no_snippet():
    """A Mastodon post's headline is its first sentence: its text, less the hashtags and the link that end
    it, says nothing more, and is not shown twice. A video's description under its own title is."""
    from aggregator.digest import shown_summary

    post = "BIS added 80 entities to the Entity List, including Inspur subsidiaries."
    row = {"title": post, "summary": f"{post} #ExportControls #China https://www.reuters.com/technology/bis-80"}
    assert shown_summary(row) == ""
    more = f"{post} The rule takes effect on Friday. #ExportControls https://www.reuters.com/technology/bis-80"
    assert shown_summary({"title": post, "summary": more}) == more
    video = {"title": "US bans Nvidia H20 exports", "summary": f"{post} #nvidia Subscribe: https://youtube.com/@x"}
    assert shown_summary(video) == video["summary"]


def test_the_summary_line_counts_in_the_singular_and_plural():
    when = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    kw = dict(rows=[], sources={}, topics=[("t", "Topic")], window_start=when - timedelta(days=1), window_end=when)
    one = build_digest(**kw, timezone="UTC", items_seen=1, duplicates=1)
    many = build_digest(**kw, timezone="UTC", items_seen=40, duplicates=6)
    assert one.seen_text() == "1 item seen, 1 duplicate suppressed"
    assert many.seen_text() == "40 items seen, 6 duplicates suppressed"
    assert "1 item seen, 1 duplicate suppressed." in render_text(one)


def test_why_names_each_match_once_title_hits_first():
    from aggregator.digest import compact_matches

    matched = [
        "summary:china",
        "title:chip",
        "title:chip*",  # the same word, matched by the prefix too
        'title:"export control*"',
        "title:export*",  # inside the phrase shown
        "summary:chip*",
        'summary:"ban on"',
        "title:ban*",  # a title hit is not hidden by a summary one
        "example:seed.txt (0.41)",
    ]
    assert compact_matches(matched) == [
        '"export control*" (title)',
        "ban* (title)",
        "chip (title)",
        '"ban on" (summary)',
        "china (summary)",
        "similar to seed.txt (0.41)",
    ]
    assert compact_matches([f"title:t{n}" for n in range(8)], limit=6)[-1] == "+2 more"


def test_the_text_part_wraps_long_lines_between_items_and_keeps_links_whole():
    from dataclasses import replace

    from aggregator.digest import Digest, Entry, Section

    when = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    url = "https://example.org/" + "a-very-long-article-slug-" * 4
    outlets = tuple(f"Outlet number {n} (world edition)" for n in range(1, 11))
    matched = tuple(f"term{n} (title)" for n in range(6)) + ("+3 more",)
    entry = Entry(
        1,
        "A headline long enough to need a second line in any plain-text mail client that shows it",
        url,
        "Wire",
        when,
        "Snippet.",
        0.9,
        matched,
        outlets,
        "A seed article's title, " * 4,  # follow-up of
        0,
    )
    d = Digest(when, when + timedelta(days=1), "UTC", (Section("t", "Topic", (entry,)),), 13, 0, (), ())
    text = render_text(d)
    lines = text.splitlines()
    assert any(x.strip() == url for x in lines)  # the link stays whole, on a line of its own
    assert all(len(x) <= 76 for x in lines if url not in x), [x for x in lines if len(x) > 76]
    assert "   Why: term0 (title)," in text and "\n        term4 (title), term5 (title), +3 more\n" in text
    assert "Outlet number 8 (world edition) and 2 more" in " ".join(x.strip() for x in lines)
    for n in range(1, 9):  # an outlet's name is never split across lines
        assert any(f"Outlet number {n} (world edition)" in x for x in lines)
    failing = FeedHealth("u", "A feed", "failing", when, "connection refused, " * 8 + "check the address")
    health = render_text(replace(d, health=(failing,))).split("## Feed health", 1)[1].splitlines()
    assert health[2].startswith("- A feed (failing since") and all(x.startswith("  ") for x in health[3:5])
    assert all(len(x) <= 76 for x in health)


def test_a_channels_text_under_every_video_is_no_snippet(tmp_path, feed_server):
    """A video channel gives the same description under every video ("Subscribe for the top stories of the
    day..."): it says nothing about any of them, so the digest and the Atom export show none of it; a
    video's own description still shows."""
    import feedparser

    from aggregator.atom import topic_feed

    promo = "Business Daily brings you the top stories of the day. Visit our homepage for more: example.org"
    videos = [
        ("v1", "US adds Chinese chip firms to Entity List", promo),
        ("v2", "Nvidia says new export rules block sales to China", promo),
        ("v3", "TikTok sues Montana over statewide ban", "The company says the law violates the First Amendment."),
    ]
    items = [
        {
            "guid": guid,
            "title": title,
            "link": f"https://video.example/watch?v={guid}",
            "description": text,
            "pubDate": f"Sat, 28 Nov 2026 0{n}:00:00 GMT",
        }
        for n, (guid, title, text) in enumerate(videos, 1)
    ]
    url = feed_server.serve("/channel.xml", rss(items, title="Business Daily"))
    store, settings, watchlist = setup(tmp_path, feeds=[url])
    d = delivery.compose(store, settings, watchlist, None, datetime.now(UTC))
    shown = {e.title: e.snippet for s in d.sections for e in s.entries}
    assert shown["US adds Chinese chip firms to Entity List"] == ""
    assert shown["Nvidia says new export rules block sales to China"] == ""
    assert shown["TikTok sues Montana over statewide ban"] == "The company says the law violates the First Amendment."
    atom = feedparser.parse(topic_feed(store, watchlist, "us-china-tech", datetime.now(UTC)).encode())
    summaries = {e.title: e.get("summary", "") for e in atom.entries}
    assert summaries["Nvidia says new export rules block sales to China"] == ""
    assert summaries["TikTok sues Montana over statewide ban"].startswith("The company says")
    store.close()


def test_the_inbox_preview_line_is_the_top_headlines(tmp_path):
    """Mail clients show a message's first text under its subject in the inbox: a hidden preheader gives them
    the top headlines (the first of each topic first), not the subject again; the text part is unchanged."""
    from html import unescape

    from aggregator.render import render_html

    store, settings, wl = setup(tmp_path)
    d = delivery.compose(store, settings, wl, None, datetime.now(UTC))
    assert d.story_count >= 2
    body = render_html(d).split("<body", 1)[1]
    hidden = re.search(r'<div style="display:none;[^"]*">([^<]*?)(?:&#847;&zwnj;&nbsp;)+</div>', body)
    assert hidden is not None and body.index(hidden.group(0)) < body.index("<h1")
    preview = unescape(hidden.group(1))
    tops = [s.entries[0].title for s in d.sections]
    assert preview.startswith(tops[0]) and preview == d.preview_text() and len(preview) <= 160
    assert all(t in preview for t in tops) or len(" · ".join(tops)) > 160
    assert "display:none" not in render_text(d)
    long = replace(
        d,
        sections=tuple(
            replace(s, entries=tuple(replace(e, title="word " * 60) for e in s.entries)) for s in d.sections
        ),
    )
    assert len(long.preview_text()) == 160 and long.preview_text().endswith("…")


def test_a_story_from_a_link_aggregator_links_its_discussion(tmp_path):
    """An entry with a discussion page (Hacker News' <comments>, a Reddit link post's own page) heads its story
    with the article's link, and the digest links the discussion too: a "Comments:" line, a "comments" link;
    so do the topic's Atom export and `explain`."""
    from aggregator.atom import topic_feed
    from aggregator.explain import explain
    from aggregator.parse import parse_feed
    from aggregator.render import render_html

    feed = tmp_path / "hn.xml"
    feed.write_bytes(
        rss(
            [
                {
                    "title": "US adds 27 Chinese chipmakers to the Entity List",
                    "link": "https://wire.example/2026/11/28/entity-list?utm_source=hn",
                    "comments": "https://news.ycombinator.com/item?id=4242",
                    "description": "The Commerce Department added 27 Chinese chip firms to the Entity List.",
                    "pubDate": "Sat, 28 Nov 2026 08:00:00 GMT",
                }
            ],
            title="Hacker News",
        )
    )
    store, settings, wl = setup(tmp_path, feeds=[feed.as_uri()])
    d = delivery.compose(store, settings, wl, None, datetime.now(UTC))
    (entry,) = [e for s in d.sections for e in s.entries]
    assert (entry.url, entry.comments_url) == (
        "https://wire.example/2026/11/28/entity-list",
        "https://news.ycombinator.com/item?id=4242",
    )
    assert "\n   Comments: https://news.ycombinator.com/item?id=4242\n" in render_text(d)
    assert '<a href="https://news.ycombinator.com/item?id=4242" style="color:#6b7280;">comments</a>' in render_html(d)
    (row,) = store.iter_items()
    assert row["comments_url"] == "https://news.ycombinator.com/item?id=4242"
    # the topic's Atom export links it as the entry's replies (RFC 4685), which a feed reader reads back
    atom = topic_feed(store, wl, "us-china-tech", datetime.now(UTC))
    assert '<link rel="replies" type="text/html" href="https://news.ycombinator.com/item?id=4242"/>' in atom
    (read,) = parse_feed(atom.encode(), "https://me.example/topic.atom").entries
    assert (read.url, read.comments) == (entry.url, entry.comments_url)
    # `explain` shows it, and finds the item by it (the digest's "comments" link pasted)
    shown = explain(store, "https://news.ycombinator.com/item?id=4242")
    assert (
        shown.startswith(f"item #{row['id']}: ")
        and "  comments:      https://news.ycombinator.com/item?id=4242" in shown
    )


def test_a_storys_discussion_comes_from_any_of_its_reports(tmp_path):
    """The outlet's own report heads the story; the Hacker News entry linking to it is the same article, and
    its thread is the story's discussion."""
    article = {
        "title": "US adds 27 Chinese chipmakers to the Entity List",
        "link": "https://wire.example/2026/11/28/entity-list",
        "description": "The Commerce Department added 27 Chinese chip firms to the Entity List on Friday.",
        "pubDate": "Sat, 28 Nov 2026 08:00:00 GMT",
    }
    outlet, hn = tmp_path / "outlet.xml", tmp_path / "hn.xml"
    outlet.write_bytes(rss([article], title="Wire"))
    posted = {**article, "pubDate": "Sat, 28 Nov 2026 09:00:00 GMT", "description": ""}
    hn.write_bytes(rss([{**posted, "comments": "https://news.ycombinator.com/item?id=77"}], title="Hacker News"))
    store, settings, wl = setup(tmp_path, feeds=[outlet.as_uri(), hn.as_uri()])
    d = delivery.compose(store, settings, wl, None, datetime.now(UTC))
    (entry,) = [e for s in d.sections for e in s.entries]
    assert (entry.source, entry.comments_url) == ("Wire", "https://news.ycombinator.com/item?id=77")
    assert "   Comments: https://news.ycombinator.com/item?id=77\n" in render_text(d)


def test_two_previews_written_at_once_both_succeed(tmp_path):
    """The daemon's first-cycle preview and a `digest --preview` at the same moment shared one temporary file:
    one of them failed ("cannot write preview") when the other had renamed it first."""
    from email.message import EmailMessage

    from aggregator.send import write_outbox

    outbox = tmp_path / "outbox"
    errors: list[BaseException] = []

    def preview(n: int) -> None:
        msg = EmailMessage()
        msg["Subject"] = f"Digest preview {n}"
        msg.set_content("text " * 2000)
        try:
            for _ in range(40):
                write_outbox(msg, "<p>" + "html " * 2000 + "</p>", outbox, "preview")
        except Exception as e:  # collected, reported below
            errors.append(e)

    writers = [threading.Thread(target=preview, args=(n,)) for n in range(2)]
    for w in writers:
        w.start()
    for w in writers:
        w.join(60)
    assert not errors, errors
    assert sorted(p.name for p in outbox.iterdir()) == ["preview.eml", "preview.html"]  # no temporary file left
    assert message_from_bytes((outbox / "preview.eml").read_bytes())["Subject"].startswith("Digest preview")
