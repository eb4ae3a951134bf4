"""Each kind of config mistake gives one line: file, key, what was expected, what was found."""

from __future__ import annotations

import pytest
from conftest import write_config

from aggregator.config import load_feeds, load_settings
from aggregator.errors import ConfigError
from aggregator.watchlist import load_watchlist

CASES = [
    ('[digest]\ntime = "7h"\n', 'aggregator.toml: digest.time: expected "HH:MM" (24-hour clock), or "7am"'),
    ('[digest]\ntime = "13pm"\n', 'digest.time: expected "HH:MM" (24-hour clock), or "7am" / "7:30 pm", got "13pm"'),
    (
        '[digest]\ntimezone = "Mars/Olympus"\n',
        'digest.timezone: expected an IANA time zone name like "Europe/London", got "Mars/Olympus"',
    ),
    ('[digest]\nto = "not-an-address"\n', "digest.to: expected e-mail addresses"),
    ("[digest]\nto = []\n", "digest.to: expected e-mail addresses"),  # nobody to send it to
    ('[smtp]\nsecurity = "tsl"\n', 'smtp.security: expected one of "auto", "starttls", "tls", "none", got "tsl"'),
    ("[smtp]\nport = 99999\n", "smtp.port: expected a whole number from 1 to 65535, got 99999"),
    ('[smtp]\nhost = "mail.example:465"\nport = 587\n', "smtp.host: 'mail.example:465' names port 465"),
    ('[smtp]\nhost = "mail.example:99999"\n', "the port must be a number from 1 to 65535"),
    ('[poll]\ndefault_interval = "often"\n', 'poll.default_interval: expected a duration like "30m"'),
    # longer than dates go (a traceback from the date arithmetic, in the daemon or in `poll`)
    ('[dedup]\nstory_window = "999999999d"\n', "dedup.story_window: expected a duration of at most 100 years"),
    ("[poll]\ndefault_interval = inf\n", "poll.default_interval: expected a duration of at most 100 years"),
    ("[digest]\nretry_for = nan\n", "digest.retry_for: expected a duration of at most 100 years"),
    ('[poll]\nmax_body = "huge"\n', 'poll.max_body: expected a size like "10MiB", got "huge"'),
    ("[digest]\ntime = 7\n", 'digest.time: expected "HH:MM" (24-hour clock), or "7am" / "7:30 pm", got 7'),
    ('[digest]\ntiem = "07:00"\n', "digest.tiem: unknown setting"),
    ('[smpt]\nhost = "x"\n', "[smpt]: unknown table"),
    ('[smtp]\nhost = "x"\npassword = "hunter2"\n', "smtp.password: the password never sits in the file"),
    ('[smtp]\nhost = "x"\nfrom = "aggregator"\n', "smtp.from: expected one address, with or without a name, got"),
    ('[smtp]\nhost = "x"\nfrom = "a@example.org, b@example.org"\n', "smtp.from: expected one address"),
    ('[digest]\nweekday = "monkey"\n', 'digest.weekday: expected one of "mon", "tue"'),
    ("[digest\n", "aggregator.toml: invalid TOML"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_settings_errors_are_one_line(tmp_path, text, expected):
    cfg = write_config(tmp_path, [], settings=text)
    with pytest.raises(ConfigError) as e:
        load_settings(cfg)
    message = str(e.value)
    assert expected in message
    assert "\n" not in message
    assert "aggregator.toml" in message
    assert "hunter2" not in message


@pytest.mark.parametrize(
    ("text", "security", "port"),
    [
        ("", "auto", 587),
        ('[smtp]\nsecurity = "SSL"\n', "tls", 465),  # as other mail tools name implicit TLS
        ('[smtp]\nsecurity = "tls"\nport = 2465\n', "tls", 2465),
        ('[smtp]\nsecurity = "none"\n', "none", 587),
        ("[smtp]\nport = 465\n", "auto", 465),  # sent with implicit TLS: see send._mode
        ('[smtp]\nhost = "smtp.example.org:2525"\n', "auto", 2525),  # host:port, as often written
        ('[smtp]\nhost = "smtps://smtp.example.org:465"\nport = 465\n', "auto", 465),
    ],
)
def test_smtp_port_follows_the_security_mode_unless_given(tmp_path, text, security, port):
    settings = load_settings(write_config(tmp_path, [], settings=text))
    assert (settings["smtp.security"], settings["smtp.port"]) == (security, port)
    assert settings["smtp.host"] in (None, "smtp.example.org")


FEED_CASES = [
    ('[[feed]]\ntitle = "x"\n', "feed #1: url: expected a URL or path, got None"),
    ('[[feed]]\nurl = "gopher://x"\n', "feed #1: url: expected an http, https or file URL or a path"),
    ('[[feed]]\nurl = "https://a.example/f"\ninterval = "sometimes"\n', "feed #1: interval: expected a duration"),
    ('[[feed]]\nurl = "https://a.example/f"\ntags = 3\n', "feed #1: tags: expected a list of strings"),
    ('[[feed]]\nurl = "https://a.example/f"\n[[feed]]\nurl = "https://a.example/f"\n', "is listed twice"),
    ('[[feed]]\nurl = "https://a.example/f"\nintervall = "5m"\n', "feed #1: intervall: unknown key"),
    ('[[feed]]\nurl = "http://"\n', "feed #1: url: not a valid http URL"),
    ('[[feed]]\nurl = "https://exa mple.com/rss"\n', "feed #1: url: not a valid https URL"),  # a space in the host
]


@pytest.mark.parametrize(("text", "expected"), FEED_CASES)
def test_feed_errors_are_one_line(tmp_path, text, expected):
    cfg = write_config(tmp_path, [])
    (cfg / "feeds.toml").write_text(text)
    with pytest.raises(ConfigError) as e:
        load_feeds(cfg)
    assert expected in str(e.value) and "feeds.toml" in str(e.value) and "\n" not in str(e.value)


def test_a_home_folder_that_cannot_be_found_is_a_path_as_written(tmp_path):
    """ "~nosuchuser/feed.xml" (no such user, or no HOME in a service's environment): expanduser raised and
    loading feeds.toml or the settings was a traceback; the path is kept as written, to be reported missing."""
    cfg = write_config(tmp_path, [])
    settings = cfg / "aggregator.toml"
    settings.write_text(settings.read_text().replace('"../seeds"', '"~no-such-user-here/seeds"'))
    (cfg / "feeds.toml").write_text('[[feed]]\nurl = "~no-such-user-here/feed.xml"\n')
    assert load_feeds(cfg)[0].url == (cfg / "~no-such-user-here" / "feed.xml").as_uri()
    assert load_settings(cfg).seeds_dir == cfg / "~no-such-user-here" / "seeds"


@pytest.mark.parametrize(
    ("file", "text", "hint"),
    [
        ("aggregator.toml", '[digest]\ntiem = "07:00"\n', "did you mean digest.time?"),
        ("aggregator.toml", '[smpt]\nhost = "x"\n', "did you mean smtp?"),
        ("aggregator.toml", 'timezone = "UTC"\n', "did you mean digest.timezone?"),  # outside its table
        ("aggregator.toml", '[digest]\nhost = "x"\n', "did you mean smtp.host?"),  # in another table
        ("aggregator.toml", "colour = 1\n", "check the spelling"),  # nothing like it
        ("feeds.toml", '[[feed]]\nurl = "https://a.example/f"\nintervall = "5m"\n', "did you mean interval?"),
        ("watchlist.toml", '[[topic]]\nid = "a"\nname = "A"\nqeury = "y"\n', "did you mean query?"),
    ],
)
def test_a_misspelt_key_is_named_with_the_one_meant(tmp_path, file, text, hint):
    cfg = write_config(tmp_path, [])
    (cfg / file).write_text(text)
    with pytest.raises(ConfigError) as e:
        {"aggregator.toml": load_settings, "feeds.toml": load_feeds, "watchlist.toml": load_watchlist}[file](cfg)
    assert e.value.hint is not None and e.value.hint.startswith(hint), e.value.hint


@pytest.mark.parametrize(
    ("file", "text", "hint"),
    [
        ("feeds.toml", "[[feed]]\nurl = https://a.example/feed  # mine\n", 'url = "https://a.example/feed"'),
        ("watchlist.toml", '[[topic]]\nid = a\nname = "A"\n', 'a text value goes in quotes: id = "a"'),
        ("watchlist.toml", "[[topic]]\nid = 'a'\nquery = '\"entity list\" OR 'x''\n", "three single quotes"),
        ("aggregator.toml", "[digest\n", "fix the line named"),
    ],
)
def test_a_toml_syntax_error_says_what_is_likely_wrong_with_the_line(tmp_path, file, text, hint):
    """A value written without quotes, or a query holding both kinds of quote inside one kind: the one line
    names the file, line and column, and the hint the fix."""
    cfg = write_config(tmp_path, [])
    (cfg / file).write_text(text)
    with pytest.raises(ConfigError) as e:
        {"aggregator.toml": load_settings, "feeds.toml": load_feeds, "watchlist.toml": load_watchlist}[file](cfg)
    assert f"{file}: invalid TOML" in str(e.value) and "(at line" in str(e.value)
    assert e.value.hint is not None and hint in e.value.hint and "\n" not in e.value.one_line(), e.value.hint


def test_defaults_and_data_dir_resolution(tmp_path, monkeypatch):
    cfg = write_config(tmp_path, [])
    monkeypatch.delenv("AGGREGATOR_DATA_DIR", raising=False)
    s = load_settings(cfg)
    assert s.data_dir == (tmp_path / "data").resolve()
    assert s["digest.time"] == (7, 0) and s["poll.max_body"] == 10 * 2**20 and not s.smtp_configured
    monkeypatch.setenv("AGGREGATOR_DATA_DIR", str(tmp_path / "elsewhere"))
    assert load_settings(cfg).data_dir == tmp_path / "elsewhere"


def test_password_from_env_or_file_never_in_settings(tmp_path, monkeypatch):
    cfg = write_config(tmp_path, [], settings='[smtp]\nhost = "mail.example"\npassword_env = "MY_PW"\n')
    monkeypatch.setenv("MY_PW", "s3cret")
    s = load_settings(cfg)
    assert s.smtp_password() == "s3cret"
    assert "s3cret" not in repr(s.values)
    (cfg / "pw").write_text("from-file\n")
    cfg2 = write_config(tmp_path / "b", [], settings='[smtp]\nhost = "m"\npassword_file = "pw"\n')
    (cfg2 / "pw").write_text("from-file\n")
    assert load_settings(cfg2).smtp_password() == "from-file"


def test_files_saved_by_windows_editors_are_read(tmp_path):
    """Notepad's UTF-8 (a byte-order mark) and Windows line ends in every config file, the password file
    and a labels file: read as if plain UTF-8; the mark is never part of a value (a password)."""
    from aggregator.feedlist import remove_feed
    from aggregator.watchlist import load_watchlist

    cfg = write_config(tmp_path, ["https://a.example/feed", "https://b.example/feed"])
    (cfg / "pw").write_bytes("\ufeffs3cret\r\n".encode())
    with open(cfg / "aggregator.toml", "a") as f:
        f.write('[smtp]\nhost = "mail.example"\nusername = "me"\npassword_file = "pw"\n')
    for name in ("aggregator.toml", "feeds.toml", "watchlist.toml"):
        path = cfg / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    settings = load_settings(cfg)
    assert settings["smtp.host"] == "mail.example" and settings.smtp_password() == "s3cret"
    assert [f.url for f in load_feeds(cfg)] == ["https://a.example/feed", "https://b.example/feed"]
    assert any(t.id == "us-china-tech" for t in load_watchlist(cfg).topics)
    remove_feed(cfg, "https://a.example/feed")  # an edit of such a file keeps the rest of it
    assert [f.url for f in load_feeds(cfg)] == ["https://b.example/feed"]


def test_a_recipient_listed_twice_gets_one_copy(tmp_path):
    text = '[digest]\nto = ["me@example.org", "Me <ME@example.org>", "you@example.org, me@example.org"]\n'
    assert load_settings(write_config(tmp_path, [], settings=text))["digest.to"] == (
        "me@example.org",
        "you@example.org",
    )


def test_the_sender_is_the_login_when_it_is_an_address_and_from_is_left_out(tmp_path):
    """A relay refuses a sender its account does not own: with smtp.from left out and a login that is an
    address, the digest is sent as that address; an explicit smtp.from always wins."""
    login = '[smtp]\nhost = "smtp.example.org"\nusername = "jane@example.org"\n'
    assert (
        load_settings(write_config(tmp_path / "a", [], settings=login))["smtp.from"] == "aggregator <jane@example.org>"
    )
    given = login + 'from = "News <news@example.org>"\n'
    assert load_settings(write_config(tmp_path / "b", [], settings=given))["smtp.from"] == "News <news@example.org>"
    plain = '[smtp]\nhost = "smtp.example.org"\nusername = "jane"\n'  # not an address: the default stays
    assert (
        load_settings(write_config(tmp_path / "c", [], settings=plain))["smtp.from"] == "aggregator <digest@localhost>"
    )


@pytest.mark.parametrize(
    ("written", "zone", "time"),
    [
        ('timezone = "europe/london"\ntime = "07:00:00"\n', "Europe/London", (7, 0)),
        ('timezone = "America/New York"\ntime = "7:30"\n', "America/New_York", (7, 30)),
        ('timezone = "utc"\n', "UTC", (7, 0)),
        ('timezone = "UTC"\ntime = "7am"\n', "UTC", (7, 0)),
        ('timezone = "UTC"\ntime = "7:30 PM"\n', "UTC", (19, 30)),
        ('timezone = "UTC"\ntime = "12 a.m."\n', "UTC", (0, 0)),
    ],
)
def test_digest_time_and_zone_as_people_write_them(tmp_path, written, zone, time):
    settings = load_settings(write_config(tmp_path, [], settings="[digest]\n" + written))
    assert (settings["digest.timezone"], settings["digest.time"]) == (zone, time)


@pytest.mark.parametrize(
    ("written", "cadence", "weekday"),
    [('cadence = "Weekly"\nweekday = "Monday"\n', "weekly", "mon"), ('weekday = "tues"\n', "daily", "tue"),
     ('weekday = "SUN"\n', "daily", "sun")],
)  # fmt: skip
def test_cadence_and_weekday_as_people_write_them(tmp_path, written, cadence, weekday):
    settings = load_settings(write_config(tmp_path, [], settings="[digest]\n" + written))
    assert (settings["digest.cadence"], settings["digest.weekday"]) == (cadence, weekday)


def test_a_port_written_as_a_string_is_the_number(tmp_path):
    settings = load_settings(write_config(tmp_path, [], settings='[smtp]\nhost = "mail.example"\nport = "2525"\n'))
    assert settings["smtp.port"] == 2525


@pytest.mark.parametrize(
    ("written", "seconds"),
    [("30m", 1800), ("1h30m", 5400), ("90 minutes", 5400), ("1 hour 30 min", 5400), ("2 days", 172800),
     ("1.5 hours", 5400), ("1 week", 604800), ("45s", 45)],
)  # fmt: skip
def test_durations_as_people_write_them(tmp_path, written, seconds):
    cfg = write_config(tmp_path, [], settings=f'[poll]\ndefault_interval = "{written}"\n')
    assert load_settings(cfg)["poll.default_interval"] == seconds
    (cfg / "feeds.toml").write_text(f'[[feed]]\nurl = "https://a.example/feed"\ninterval = "{written}"\n')
    if seconds >= 60:
        assert load_feeds(cfg)[0].interval == seconds
    else:  # a publisher's server is not polled every 45 s; a server on this machine may be
        with pytest.raises(ConfigError, match='45 seconds is too often to ask a publisher.s server; the least is "1m"'):
            load_feeds(cfg)
        (cfg / "feeds.toml").write_text(f'[[feed]]\nurl = "http://127.0.0.1:8080/f"\ninterval = "{written}"\n')
        assert load_feeds(cfg)[0].interval == seconds


def test_a_bare_number_as_a_feeds_interval_is_seconds_and_says_so(tmp_path):
    cfg = write_config(tmp_path, [])
    (cfg / "feeds.toml").write_text('[[feed]]\nurl = "https://a.example/feed"\ninterval = 30\n')
    with pytest.raises(ConfigError, match='interval: 30 seconds is too often .* "30m" is minutes'):
        load_feeds(cfg)


def test_feed_tags_written_as_one_string(tmp_path):
    cfg = write_config(tmp_path, [])
    (cfg / "feeds.toml").write_text('[[feed]]\nurl = "https://a.example/f"\ntags = "china, tech"\n')
    assert load_feeds(cfg)[0].tags == ("china", "tech")
