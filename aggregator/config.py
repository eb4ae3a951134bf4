"""Loading and validating `aggregator.toml` and `feeds.toml` (the watchlist lives in `watchlist`).

Every setting is a row of SETTINGS: dotted key, default, parser. A parser takes the raw TOML value
and returns the typed value or raises ValueError("expected ..."); `load_settings` turns that into
one line: ``config/aggregator.toml: digest.time: expected "HH:MM" (24-hour clock), or "7am" / "7:30 pm", got "7h"``.
"""

from __future__ import annotations

import fcntl
import functools
import ipaddress
import os
import re
import ssl
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from aggregator.errors import AggregatorError, ConfigError, spelling_hint
from aggregator.models import FeedSpec

CONFIG_ENV = "AGGREGATOR_CONFIG"
DATA_DIR_ENV = "AGGREGATOR_DATA_DIR"


# --- value parsers: raw TOML value -> typed value, or ValueError("expected ...") -------------

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}
# "1h30m", "90 minutes", "1 hour 30 min", "2 days": parts of a number and a unit, written out or not
_DURATION_PART = re.compile(
    r"\s*(\d+(?:\.\d+)?)\s*(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w)(?![a-z])\s*,?",
    re.I,
)


MAX_DURATION = 36500 * 86400  # 100 years: longer ones overflow the date arithmetic ("999999999d", 1e300, inf)


def parse_duration(value: Any) -> int:
    """'30m' -> 1800. A bare number is seconds."""
    seconds: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0:
            raise ValueError("expected a positive duration")
        seconds = value
    elif isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            seconds = float(m.group(1)) * _UNITS[m.group(2)]
        parts = list(_DURATION_PART.finditer(value))
        if not m and parts and "".join(p.group(0) for p in parts) == value and value.strip():
            seconds = sum(float(p.group(1)) * _UNITS[p.group(2)[0].lower()] for p in parts)
    if seconds is None:
        raise ValueError('expected a duration like "30m", "2h" or "1d"')
    if not seconds <= MAX_DURATION:  # also NaN
        raise ValueError('expected a duration of at most 100 years ("36500d")')
    return int(seconds)


def parse_since(value: str | None, now: datetime) -> datetime | None:
    """A command's --since: a duration back from now ("24h", "30d") or a date ("2026-11-28"); None when not
    given."""
    if not value:
        return None
    try:
        return now - timedelta(seconds=parse_duration(value))
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(value)
        return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    except ValueError:
        raise AggregatorError(
            f'--since: expected a duration like "24h" or a date like "2026-11-28", got "{value}"'
        ) from None


MIN_FEED_INTERVAL = 60  # a feed's own interval may be short, not abusive: a publisher's server is not ours


def parse_feed_interval(value: Any, url: str = "") -> int:
    """A feed's `interval`: a duration of at least a minute for another's server (30 alone is 30 seconds:
    minutes were most likely meant); a file or a server on this machine may be polled as often as wished."""
    seconds = parse_duration(value)
    if 0 < seconds < MIN_FEED_INTERVAL and not _on_this_machine(url):
        bare = isinstance(value, int | float) or str(value).strip().isdigit()
        raise ValueError(
            f"{seconds} seconds is too often to ask a publisher's server"
            + (f' (a bare number is seconds: "{seconds}m" is minutes)' if bare else "")
            + '; the least is "1m"'
        )
    return seconds


def _on_this_machine(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "file" or is_loopback(parts.hostname or "")


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (localhost or a loopback address)."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$", re.I)
_SIZE_UNITS = {"b": 1, "kb": 1000, "kib": 1024, "mb": 10**6, "mib": 2**20, "gb": 10**9, "gib": 2**30}


def parse_size(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str):
        m = _SIZE.match(value)
        if m:
            return int(float(m.group(1)) * _SIZE_UNITS[(m.group(2) or "b").lower()])
    raise ValueError('expected a size like "10MiB"')


def parse_hhmm(value: Any) -> tuple[int, int]:
    """ "07:00", "7:00", "07:00:00", or on a 12-hour clock "7am", "7:30 pm", "07:00 AM", "12 p.m." """
    if isinstance(value, str):
        m = re.fullmatch(r"(\d{1,2}):(\d{2})(?::00)?", value.strip())
        if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
            return int(m.group(1)), int(m.group(2))
        m = re.fullmatch(r"(\d{1,2})(?:[:.](\d{2}))?\s*([ap])\.?\s*m\.?", value.strip().lower())
        if m and 1 <= int(m.group(1)) <= 12 and int(m.group(2) or 0) < 60:
            hour = int(m.group(1)) % 12 + (12 if m.group(3) == "p" else 0)
            return hour, int(m.group(2) or 0)
    raise ValueError('expected "HH:MM" (24-hour clock), or "7am" / "7:30 pm"')


def parse_timezone(value: Any) -> str:
    """An IANA zone name; written in another case or with spaces ("europe/london", "America/New York"), the
    name it stands for."""
    if isinstance(value, str) and value.strip():
        name = value.strip()
        try:
            ZoneInfo(name)
            return name
        except (ZoneInfoNotFoundError, ValueError):
            pass
        wanted = name.replace(" ", "_").lower()
        match = next((z for z in sorted(available_timezones()) if z.lower() == wanted), None)
        if match:
            return match
    raise ValueError('expected an IANA time zone name like "Europe/London"')


def _int_between(lo: int, hi: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, str) and value.strip().isdigit():  # port = "2525": the number meant
            value = int(value.strip())
        if isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi:
            return value
        raise ValueError(f"expected a whole number from {lo} to {hi}")

    return parse


def _float_between(lo: float, hi: float) -> Callable[[Any], float]:
    def parse(value: Any) -> float:
        if isinstance(value, int | float) and not isinstance(value, bool) and lo <= value <= hi:
            return float(value)
        raise ValueError(f"expected a number from {lo} to {hi}")

    return parse


def _one_of(*choices: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if isinstance(value, str) and value.strip().lower() in choices:  # "Weekly", "INFO": what was meant
            return value.strip().lower()
        raise ValueError("expected one of " + ", ".join(f'"{c}"' for c in choices))

    return parse


def parse_weekday(value: Any) -> str:
    """A day of the week as its first three letters: "mon", "Monday", "tues"."""
    day = value.strip().lower() if isinstance(value, str) else value
    if isinstance(day, str) and _FULL_DAYS.get(day[:3], "").startswith(day) and len(day) >= 3:
        return day[:3]
    return _one_of(*_WEEKDAYS)(value)  # its error names the choices


def _security(value: Any) -> str:
    """smtp.security, as other mail tools spell it too: "ssl" is implicit TLS; any case."""
    if isinstance(value, str):
        value = value.strip().lower()
        value = {"ssl": "tls", "ssl/tls": "tls", "plain": "none"}.get(value, value)
    return _one_of("auto", "starttls", "tls", "none")(value)


def _string(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise ValueError("expected a string")


def _optional_string(value: Any) -> str | None:
    return None if value in (None, "") else _string(value)


def _optional_duration(value: Any) -> int | None:
    """A duration, or none ("" or 0: off)."""
    return None if value in (None, "", 0, "0") else parse_duration(value) or None


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError("expected true or false")


_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")


def _mailbox(name: str, addr: str) -> str:
    """``Name <addr>`` as a header shows it (the name quoted when it holds a comma or the like). A domain
    written in its own script ("bücher.de") is given in the form DNS and every mail server take
    ("xn--bcher-kva.de"): as it is, it would need a server that offers SMTPUTF8, and it cannot stand in a
    header of a message without it."""
    local, _, domain = addr.rpartition("@")
    if local.isascii() and not domain.isascii():
        try:
            addr = f"{local}@{domain.encode('idna').decode('ascii')}"
        except UnicodeError:
            pass  # not a valid domain name: kept as written, and the server says what is wrong with it
    name = " ".join(name.replace('"', "").replace("\\", "").split())
    if not name:
        return addr
    return f'"{name}" <{addr}>' if re.search(r'[,;:<>@()\[\]"]', name) or "." in name else f"{name} <{addr}>"


def parse_addresses(value: Any) -> tuple[str, ...]:
    """Addresses as people write them: "me@example.org", "Jane Doe <jane@example.org>", or several in one
    string separated by commas."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        found = getaddresses(value)
        if found and all(_EMAIL.match(addr) for _, addr in found) and len(found) >= len(value):
            unique: dict[str, str] = {}  # an address listed twice gets one copy (as it is first written)
            for name, addr in found:
                unique.setdefault(addr.lower(), _mailbox(name, addr))
            return tuple(unique.values())
    raise ValueError(
        'expected e-mail addresses like ["me@example.org", "Jane Doe <jane@example.org>"] '
        '(a name with a comma in quotes: "\\"Doe, Jane\\" <jane@example.org>")'
    )


def _sender(value: Any) -> str:
    """The From of the digest: one address, with or without a name; anything else is kept as written (an
    outbox-only setup may never send it to a server)."""
    text = _string(value)
    found = getaddresses([text])
    return _mailbox(*found[0]) if len(found) == 1 and _EMAIL.match(found[0][1]) else text


def envelope_address(mailbox: str) -> str:
    """The bare address of ``Name <addr>`` (what SMTP's MAIL FROM and RCPT TO take)."""
    return parseaddr(mailbox)[1] or mailbox


PLACEHOLDER_RECIPIENT = "me@example.org"  # digest.to's default: `status` says when mail would go there
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAYS = {d[:3]: d for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")}

# key, default, parser. Order is the order of the reference table in the README.
SETTINGS: list[tuple[str, Any, Callable[[Any], Any]]] = [
    ("data_dir", "data", _string),
    ("seeds_dir", "seeds", _string),
    ("log_format", "text", _one_of("text", "json")),
    ("log_level", "info", _one_of("debug", "info", "warning", "error")),
    ("poll.default_interval", "60m", parse_duration),
    ("poll.min_interval", "10m", parse_duration),
    ("poll.max_interval", "24h", parse_duration),
    ("poll.concurrency", 16, _int_between(1, 256)),
    ("poll.per_host", 2, _int_between(1, 32)),
    ("poll.host_gap", "1s", parse_duration),
    ("poll.connect_timeout", "10s", parse_duration),
    ("poll.read_timeout", "30s", parse_duration),
    ("poll.total_timeout", "60s", parse_duration),
    ("poll.max_body", "10MiB", parse_size),
    ("dedup.near_duplicate_threshold", 0.6, _float_between(0.3, 1.0)),
    ("dedup.story_threshold", 0.2, _float_between(0.05, 1.0)),
    ("dedup.story_window", "72h", parse_duration),
    ("digest.time", "07:00", parse_hhmm),
    ("digest.timezone", "UTC", parse_timezone),
    ("digest.to", [PLACEHOLDER_RECIPIENT], parse_addresses),
    ("digest.cadence", "daily", _one_of("daily", "weekly")),
    ("digest.weekday", "mon", parse_weekday),
    ("digest.empty", "send", _one_of("send", "skip")),
    ("digest.retry_for", "6h", parse_duration),
    ("digest.max_stories_per_topic", 30, _int_between(1, 1000)),
    ("digest.max_age", None, _optional_duration),
    ("smtp.host", None, _optional_string),
    ("smtp.port", None, _int_between(1, 65535)),
    ("smtp.security", "auto", _security),
    ("smtp.username", None, _optional_string),
    ("smtp.password_env", "AGGREGATOR_SMTP_PASSWORD", _string),
    ("smtp.password_file", None, _optional_string),
    ("smtp.from", "aggregator <digest@localhost>", _sender),
    ("smtp.ca_file", None, _optional_string),
    ("smtp.timeout", "30s", parse_duration),
    ("watchlist.reapply_days", 7, _int_between(0, 3650)),
    ("watchlist.reload_every", "5s", parse_duration),
    ("retention.days", 90, _int_between(1, 36500)),
]
_KNOWN_TABLES = {k.split(".")[0] for k, _, _ in SETTINGS if "." in k}


@dataclass(frozen=True)
class Settings:
    """Validated aggregator.toml. ``values`` is keyed by dotted name."""

    config_dir: Path
    values: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    @property
    def data_dir(self) -> Path:
        override = os.environ.get(DATA_DIR_ENV)
        raw = Path(override) if override else expand_home(self.values["data_dir"])
        return raw if raw.is_absolute() else (self.config_dir / raw).resolve()

    @property
    def seeds_dir(self) -> Path:
        raw = expand_home(self.values["seeds_dir"])
        return raw if raw.is_absolute() else (self.config_dir / raw).resolve()

    @property
    def smtp_configured(self) -> bool:
        return bool(self.values["smtp.host"])

    def smtp_password(self) -> str | None:
        """The SMTP password, from the file named by smtp.password_file or the environment.

        Never logged or printed; the file holds only the password (a trailing newline is dropped).
        """
        path = self.values["smtp.password_file"]
        if path:
            p = expand_home(path)
            p = p if p.is_absolute() else self.config_dir / p
            try:
                return p.read_text(encoding="utf-8-sig").rstrip("\r\n")
            except OSError as e:
                raise ConfigError(
                    f"{display_path(self.config_dir / 'aggregator.toml')}: smtp.password_file: "
                    f"cannot read {p}: {e.strerror}",
                    hint="create the file, or use smtp.password_env instead",
                ) from e
        return os.environ.get(self.values["smtp.password_env"]) or None

    def smtp_ssl_context(self) -> ssl.SSLContext | None:
        """None for the system's trust store alone; with smtp.ca_file, a context that also trusts the CA
        certificates in that PEM file (a private CA, a self-signed relay)."""
        path = self.values["smtp.ca_file"]
        if not path:
            return None
        p = expand_home(path)
        p = p if p.is_absolute() else self.config_dir / p
        context = ssl.create_default_context()
        try:
            context.load_verify_locations(cafile=str(p))
        except (OSError, ssl.SSLError) as e:
            raise ConfigError(
                f"{display_path(self.config_dir / 'aggregator.toml')}: smtp.ca_file: cannot load {p}: "
                f"{getattr(e, 'strerror', None) or e}",
                hint="give the path of a PEM file of CA certificates",
            ) from e
        return context


def display_path(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def expand_home(path: str | Path) -> Path:
    """A path with "~" or "~user" expanded; as written where that cannot be done ("~bob" with no user bob, no
    HOME in a service's environment): a missing file then says which, not a traceback."""
    try:
        return Path(path).expanduser()
    except RuntimeError:
        return Path(path)


def resolve_config_dir(cli_value: str | None) -> Path:
    """--config DIR, else $AGGREGATOR_CONFIG, else ./config. One of its files named instead of the folder
    (`--config config/aggregator.toml`) stands for its folder."""
    path = expand_home(cli_value or os.environ.get(CONFIG_ENV) or "config")
    if path.name in ("aggregator.toml", "feeds.toml", "watchlist.toml") and path.is_file():
        return path.parent
    return path


def read_config_text(path: Path) -> str | None:
    """A config file's text, None when it does not exist; unreadable or not UTF-8 is a one-line error."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as e:
        raise ConfigError(
            f"{display_path(path)}: not UTF-8 text (byte {e.start})", hint="save the file as UTF-8"
        ) from e
    except OSError as e:
        raise ConfigError(f"{display_path(path)}: cannot read: {e.strerror}") from e


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file; a syntax error names the file, line and column."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as e:
        raise ConfigError(
            f"{display_path(path)}: file not found",
            hint="pass --config DIR with the folder holding aggregator.toml, feeds.toml, watchlist.toml",
        ) from e
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{display_path(path)}: cannot read: {e}") from e
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise toml_error(display_path(path), text, e) from e


_AT = re.compile(r"\(at line (\d+), column (\d+)\)")
_BARE_VALUE = re.compile(r"""^\s*([\w.-]+)\s*=\s*([^"'\[{\s\d+-][^#]*?)\s*(?:#.*)?$""")
_TRIPLE = "'" * 3


def toml_error(where: str, text: str, e: Exception) -> ConfigError:
    """A TOML syntax error as one line naming the file, line and column, with what is most likely wrong with
    the line: a text value without quotes, or quotes of both kinds inside a quoted value."""
    hint = "fix the line named"
    m = _AT.search(str(e))  # tomllib's errors end with "(at line N, column M)"
    lines = text.splitlines()
    if m and 0 < int(m.group(1)) <= len(lines):
        line = lines[int(m.group(1)) - 1]
        bare = _BARE_VALUE.match(line)
        if bare and bare.group(2) not in ("true", "false", "inf", "nan"):
            hint = f'a text value goes in quotes: {bare.group(1)} = "{bare.group(2)}"'
        elif line.count("'") + line.count('"') > 2 and _TRIPLE not in line:
            hint = f"a value holding both kinds of quote goes between three single quotes: key = {_TRIPLE}...{_TRIPLE}"
    return ConfigError(f"{where}: invalid TOML: {e}", hint=hint)


def _lookup(data: dict[str, Any], dotted: str) -> tuple[bool, Any]:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if not isinstance(value, dict) else "a table"


def load_settings(config_dir: Path) -> Settings:
    """Read and validate aggregator.toml. A missing file means all defaults."""
    path = config_dir / "aggregator.toml"
    data = read_toml(path) if path.exists() else {}
    where = display_path(path)
    known = {k for k, _, _ in SETTINGS}
    if isinstance(data.get("smtp"), dict) and "password" in data["smtp"]:
        raise ConfigError(
            f"{where}: smtp.password: the password never sits in the file",
            hint="set smtp.password_env (an environment variable) or smtp.password_file",
        )
    for table, body in data.items():
        if isinstance(body, dict):
            if table not in _KNOWN_TABLES:
                hint = spelling_hint(table, _KNOWN_TABLES, "check the spelling")
                raise ConfigError(f"{where}: [{table}]: unknown table", hint=hint)
            for key in body:
                if f"{table}.{key}" not in known:
                    hint = spelling_hint(f"{table}.{key}", known, "check the spelling")
                    raise ConfigError(f"{where}: {table}.{key}: unknown setting", hint=hint)
        elif table not in known:
            raise ConfigError(
                f"{where}: {table}: unknown setting", hint=spelling_hint(table, known, "check the spelling")
            )
    values: dict[str, Any] = {}
    for key, default, parser in SETTINGS:
        present, raw = _lookup(data, key)
        if not present:
            values[key] = parser(default) if default is not None else None
            continue
        try:
            values[key] = parser(raw)
        except ValueError as e:
            raise ConfigError(f"{where}: {key}: {e}, got {_describe(raw)}") from None
    host = values["smtp.host"] or ""
    if m := re.fullmatch(r"(?:smtps?://)?([^\s:/\[\]]+):(\d{1,5})/?", host.strip()):  # "smtp.example.org:465"
        if not 1 <= int(m.group(2)) <= 65535:
            raise ConfigError(f"{where}: smtp.host: {host!r}: the port must be a number from 1 to 65535")
        if values["smtp.port"] not in (None, int(m.group(2))):
            raise ConfigError(
                f"{where}: smtp.host: {host!r} names port {m.group(2)}, smtp.port says {values['smtp.port']}"
            )
        values["smtp.host"], values["smtp.port"] = m.group(1), int(m.group(2))
    if values["smtp.port"] is None:  # the port of the TLS mode: 465 for implicit TLS, else submission
        values["smtp.port"] = 465 if values["smtp.security"] == "tls" else 587
    sender = getaddresses([values["smtp.from"]])
    if values["smtp.host"] and not (len(sender) == 1 and _EMAIL.match(sender[0][1])):
        raise ConfigError(
            f"{where}: smtp.from: expected one address, with or without a name, got {_describe(values['smtp.from'])}",
            hint='for example from = "aggregator <digest@example.org>" (an address your mail account may send as)',
        )
    login = values["smtp.username"] or ""
    if not _lookup(data, "smtp.from")[0] and _EMAIL.match(login):
        # a relay refuses a sender its account does not own (digest@localhost): send as the account
        values["smtp.from"] = _mailbox("aggregator", login)
    return Settings(config_dir=config_dir, values=values)


# --- feeds.toml ---------------------------------------------------------------------------

_SCHEMES = ("http", "https", "file")


def is_web_url(text: str) -> bool:
    """Whether a command's argument is an http(s) address rather than a path."""
    return text.strip().lower().startswith(("http://", "https://"))


def without_feed_scheme(url: str) -> str:
    """feed://host/path and feed:https://host/path (browsers' and old readers' subscribe links) as http(s)."""
    if url[:5].lower() == "feed:":
        rest = url[5:]
        return rest if rest[:6].lower() in ("http:/", "https:") else "http:" + rest
    return url


_P = ParamSpec("_P")
_R = TypeVar("_R")


def edits_config(func: Callable[Concatenate[Path, _P], _R]) -> Callable[Concatenate[Path, _P], _R]:
    """``func(config_dir, ...)`` reads a config file, changes it and writes it back: one such edit at a time
    per config folder (an flock on the folder itself: no lock file among the user's), so that commands run
    side by side (`xargs -P4 aggregator feeds add`) do not each write back what they read and lose the
    others' changes."""

    @functools.wraps(func)
    def edit(config_dir: Path, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            fd = os.open(config_dir, os.O_RDONLY)
        except OSError:  # no such folder: the edit itself says so
            return func(config_dir, *args, **kwargs)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            return func(config_dir, *args, **kwargs)
        finally:
            os.close(fd)  # the lock goes with it

    return edit


def replace_config_file(path: Path, text: str, check: Callable[[Path], None] | None = None) -> None:
    """Write a config file the commands edit (feeds.toml, watchlist.toml) atomically: a temporary file beside
    it, checked by ``check`` (which raises ConfigError), then renamed over it. A symlinked file (config kept
    in a dotfiles repository) is written where the link points, and the link stays."""
    target = path.resolve() if path.is_symlink() else path
    tmp = target.with_name(target.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        if check is not None:
            check(tmp)
        tmp.replace(target)
    except OSError as e:
        _remove(tmp)
        raise ConfigError(
            f"{display_path(path)}: cannot write: {e.strerror}",
            hint="the config folder is read-only here (a container mount?): edit the file where it is managed",
        ) from e
    except ConfigError:
        _remove(tmp)
        raise


def tables_to_append(doc: Any, key: str) -> Any:
    """The array of tables ``key`` of a tomlkit document being edited, ready for new tables: created when
    missing; an inline array (``feed = []``, or ``feed = [{url = "..."}]`` written by hand) is rewritten as
    ``[[key]]`` tables holding the same values (appending a table to an inline array writes broken TOML)."""
    import tomlkit
    from tomlkit.items import AoT

    current = doc.get(key)
    if isinstance(current, AoT):
        return current
    aot = tomlkit.aot()
    if current is not None:
        for entry in current:
            table = tomlkit.table()
            for k, v in entry.items():
                table.add(k, v)
            aot.append(table)
        del doc[key]
    doc.append(key, aot)
    return doc[key]


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:  # a folder in the way, a read-only folder: nothing of ours to remove
        pass


def normalise_feed_url(url: str, base: Path) -> str:
    """http(s) and file:// URLs stay (feed:// becomes http://); a plain path becomes a file:// URL (relative
    to base)."""
    url = without_feed_scheme(url.strip())
    try:
        parts = urlsplit(url)
    except ValueError as e:  # "http://[your-domain]/feed": a bracketed host that is no IPv6 address
        raise ValueError(f"not a valid URL: {url!r} ({e})") from e
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not parts.hostname or any(c.isspace() for c in parts.netloc):
            raise ValueError(f"not a valid {scheme} URL: {url!r} (no host name)")
        try:
            parts.port  # noqa: B018  (raises on a port that is not a number from 0 to 65535)
        except ValueError as e:
            raise ValueError(f"not a valid {scheme} URL: {url!r} ({e})") from e
        url = re.sub(r"\s", lambda m: f"%{ord(m.group()):02X}", url)  # a space pasted into a path is %20
    if scheme in _SCHEMES:
        return url
    if "." in scheme and looks_like_a_host(scheme):  # "example.com:8080/feed" reads as scheme "example.com"
        return normalise_feed_url("https://" + url, base)
    if scheme and len(scheme) > 1:
        raise ValueError(f"expected an http, https or file URL or a path, got scheme {scheme!r}")
    p = expand_home(url)
    p = p if p.is_absolute() else (base / p).resolve()
    if not scheme and looks_like_a_host(url) and not (base / url.split("/", 1)[0]).exists():
        return normalise_feed_url("https://" + url, base)  # "example.com/feed": a site, not a file
    return p.as_uri()


def typed_feed_url(url: str, config_dir: Path) -> str:
    """A feed address typed on the command line: as in feeds.toml (a path relative to the config folder),
    unless it is a path to a file that only exists from where the command runs (`feeds add feeds/mine.xml` in
    the shell's folder)."""
    target = normalise_feed_url(url, config_dir)
    if target.startswith("file:") and not urlsplit(url.strip()).scheme and not Path(url.strip()).is_absolute():
        here = expand_home(url.strip()).resolve()
        if not Path(unquote(urlsplit(target).path)).exists() and here.exists():
            return here.as_uri()
    return target


_FILE_SUFFIXES = {"xml", "rss", "atom", "rdf", "json", "opml", "txt", "html", "htm", "md", "eml"}


def looks_like_a_host(text: str) -> bool:
    """ "example.com/feed", "www.example.org": a host name first (a dot, a top-level domain of letters, no
    path before it), not a file name such as "feed.xml"."""
    host = text.strip().split("/", 1)[0]
    labels = host.split(".")
    return (
        len(labels) >= 2
        and all(re.fullmatch(r"[A-Za-z0-9-]+", label) for label in labels)
        and re.fullmatch(r"[A-Za-z]{2,24}", labels[-1]) is not None
        and labels[-1].lower() not in _FILE_SUFFIXES
    )


def load_feeds(config_dir: Path) -> list[FeedSpec]:
    path = config_dir / "feeds.toml"
    where = display_path(path)
    data = read_toml(path)
    unknown = set(data) - {"feed"}
    if unknown:
        raise ConfigError(f"{where}: {sorted(unknown)[0]}: unknown key", hint="feeds are [[feed]] tables")
    raw_feeds = data.get("feed", [])
    if not isinstance(raw_feeds, list):
        raise ConfigError(f"{where}: feed: expected an array of [[feed]] tables, got {_describe(raw_feeds)}")
    feeds: list[FeedSpec] = []
    seen: set[str] = set()
    for n, raw in enumerate(raw_feeds, start=1):
        at = f"{where}: feed #{n}"
        extra = set(raw) - {"url", "title", "interval", "tags"}
        if extra:
            key = sorted(extra)[0]
            keys = ("url", "title", "interval", "tags")
            raise ConfigError(f"{at}: {key}: unknown key", hint=spelling_hint(key, keys, "keys: " + ", ".join(keys)))
        url = raw.get("url")
        if not isinstance(url, str) or not url.strip():
            raise ConfigError(f"{at}: url: expected a URL or path, got {_describe(url)}")
        try:
            url = normalise_feed_url(url, config_dir)
        except ValueError as e:
            raise ConfigError(f"{at}: url: {e}") from None
        interval = None
        if "interval" in raw:
            try:
                interval = parse_feed_interval(raw["interval"], url)
            except ValueError as e:
                raise ConfigError(f"{at}: interval: {e}, got {_describe(raw['interval'])}") from None
        tags = raw.get("tags", [])
        if isinstance(tags, str):  # tags = "china, tech": as `feeds add --tags` takes them
            tags = [t.strip() for t in tags.split(",") if t.strip()]
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise ConfigError(f"{at}: tags: expected a list of strings, got {_describe(tags)}")
        title = raw.get("title")
        if title is not None and not isinstance(title, str):
            raise ConfigError(f"{at}: title: expected a string, got {_describe(title)}")
        if url in seen:
            raise ConfigError(f"{at}: url: {url} is listed twice", hint="remove one of the two entries")
        seen.add(url)
        feeds.append(FeedSpec(url=url, title=title, interval=interval, tags=tuple(tags)))
    return feeds
