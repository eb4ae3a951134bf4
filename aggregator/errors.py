"""The one exception tree of aggregator.

    AggregatorError                 base; `str(e)` is one line naming the resource and the phase
    ├── ConfigError                 a config file is missing, unreadable or has a bad value
    │   └── QuerySyntaxError        a watchlist query does not parse (file, line, column, caret)
    ├── FetchError                  getting a feed failed (kind: timeout, http, too-large, ...)
    ├── ParseError                  a fetched body is not a feed we can read
    ├── StoreError                  the database refused or is locked by another daemon
    ├── SeedError                   a seed file cannot be read
    ├── DeliveryError               sending a digest failed (temporary or permanent)
    └── OpmlError                   an OPML file has no recoverable feed

Third-party errors are wrapped with ``raise ... from e`` at the boundary where they occur.
Every error may carry a ``hint``: what the user should do about it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

# user:password@ in a URL (a feed behind HTTP Basic auth, given as https://user:password@host/feed)
_PASSWORD_IN_URL = re.compile(r"(?<=://)([^/\s:@]*):([^/\s@]+)@")


def without_subject(error: str, subject: str) -> str:
    """An error message without its subject in front ("https://x/feed answered 404..." -> "answered 404..."),
    for a line that names the subject already."""
    for sep in (": ", " "):
        if error.startswith(subject + sep) and len(error) > len(subject) + len(sep):
            return error[len(subject) + len(sep) :]
    return error


def spelling_hint(word: str, known: Iterable[str], otherwise: str) -> str:
    """The hint for an unknown key: the known one it is a misspelling of ("did you mean interval?"), or
    the dotted one it is the last part of (``timezone`` for ``digest.timezone``), else ``otherwise``."""
    known = list(known)
    last = {k.rsplit(".", 1)[-1].lower(): k for k in known if "." in k}
    match = last.get(word.rsplit(".", 1)[-1].lower())  # a setting written in another table, or outside its own
    if match is None:
        by_name = {k.lower(): k for k in known} | {name: k for name, k in last.items() if name not in known}
        close = difflib.get_close_matches(word.lower(), list(by_name), n=1, cutoff=0.7)
        if not close:
            return otherwise
        match = by_name[close[0]]
    return f"did you mean {match}?"


def redact(text: str) -> str:
    """``text`` with the password of any ``scheme://user:password@host`` replaced by ***: it is printed and
    logged, and shown in the digest, never with the password."""
    return _PASSWORD_IN_URL.sub(r"\1:***@", text) if "@" in text else text


class AggregatorError(Exception):
    """Base of every error aggregator raises on purpose."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def one_line(self) -> str:
        """What went wrong and what to do, on one line (for a log, a stored error, a report)."""
        return f"{self.message.rstrip('.')}: {self.hint}" if self.hint else self.message


class ConfigError(AggregatorError):
    """A configuration file is missing, unreadable, or holds a bad value."""


class QuerySyntaxError(ConfigError):
    """A watchlist query does not parse. ``detail`` holds the line and a caret under the problem."""

    def __init__(
        self, message: str, *, detail: str = "", hint: str | None = None, column: int = 0, what: str = ""
    ) -> None:
        super().__init__(message, hint=hint)
        self.detail = detail
        self.column = column  # 0-based offset in the query
        self.what = what or message  # the problem alone, without the location


class FetchError(AggregatorError):
    """Fetching a feed failed. ``kind`` is a short stable word stored with the feed."""

    def __init__(self, kind: str, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after


class ParseError(AggregatorError):
    """A body was fetched but is not a feed we can read. ``blocked``: it is a CDN's bot check; ``page``: it is
    an ordinary web page (no bot check, consent or login page)."""

    def __init__(self, message: str, *, hint: str | None = None, blocked: bool = False, page: bool = False) -> None:
        super().__init__(message, hint=hint)
        self.blocked = blocked
        self.page = page


class StoreError(AggregatorError):
    """The database cannot be opened or written, or another daemon holds the data directory."""


class SeedError(AggregatorError):
    """A seed article cannot be read."""


class DeliveryError(AggregatorError):
    """Sending a digest failed. ``permanent`` is True for a 5xx answer: retrying will not help."""

    def __init__(self, message: str, *, permanent: bool, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.permanent = permanent


class OpmlError(AggregatorError):
    """An OPML file could not be read at all."""
