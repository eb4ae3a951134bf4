"""Render a Digest: plain text and HTML (Jinja2, HTML autoescaped) and the MIME message.

Feed text reaches the templates as plain text only (tags stripped in `normalise`), so the HTML
autoescape is the whole defence; links are limited to http(s). No header takes feed text without
`header_safe`, which removes CR, LF and every other control character.
"""

from __future__ import annotations

import re
import textwrap
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from zoneinfo import ZoneInfo

import jinja2

from aggregator import __version__
from aggregator.digest import Digest, capped

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
LIST_ID = "aggregator digest <digest.aggregator.invalid>"


def header_safe(text: str, limit: int = 200) -> str:
    return " ".join(_CONTROL.sub(" ", text).split())[:limit]


def _safe_url(url: str | None) -> str:
    return url if url and re.match(r"^https?://", url, re.I) else "#"


def _environment(tz: str, now: datetime) -> tuple[jinja2.Environment, jinja2.Environment]:
    """The text and HTML environments; dates are shown in ``tz``, with their year when it is not the year of
    ``now`` (the digest's end): a feed's archive dates from years ago must not read as this week's."""
    zone = ZoneInfo(tz)
    year = now.astimezone(zone).year

    def localtime(dt: datetime) -> str:
        local = dt.astimezone(zone)
        return local.strftime("%a %d %b %H:%M %Z" if local.year == year else "%a %d %b %Y %H:%M %Z")

    def wrap(text: str, width: int = 76, indent: str = "", first: str | None = None) -> str:
        """``text`` in lines of ``width``, indented; ``first`` starts the first line instead ("   Why: ")."""
        return "\n".join(
            textwrap.wrap(
                text,
                width=width,
                initial_indent=indent if first is None else first,
                subsequent_indent=indent,
                break_on_hyphens=False,
                break_long_words=False,  # a long link stays whole, to be clicked
            )
        )

    def wrap_list(items: list[str], first: str, indent: str = "        ", width: int = 76) -> str:
        """Items joined by commas into lines of ``width``, broken between items only ("gallium (title)" and
        an outlet's name stay whole); ``first`` starts the first line."""
        lines, line, empty = [], first, True
        for n, item in enumerate(items):
            piece = item + ("," if n < len(items) - 1 else "")
            if not empty and len(line) + 1 + len(piece) > width:
                lines.append(line)
                line, empty = indent, True
            line, empty = line + ("" if empty else " ") + piece, False
        return "\n".join([*lines, line])

    loader = jinja2.PackageLoader("aggregator", "templates")
    envs = []
    for autoescape in (False, True):
        env = jinja2.Environment(
            loader=loader, autoescape=autoescape, keep_trailing_newline=True, undefined=jinja2.StrictUndefined
        )
        env.filters.update(localtime=localtime, wrap=wrap, wrap_list=wrap_list, safe_url=_safe_url)
        envs.append(env)
    return envs[0], envs[1]


def window_text(d: Digest) -> str:
    zone = ZoneInfo(d.timezone)
    end = d.window_end.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    if d.window_start is None:
        return f"until {end}"
    return f"{d.window_start.astimezone(zone).strftime('%Y-%m-%d %H:%M')} to {end}"


def render_text(d: Digest) -> str:
    text_env, _ = _environment(d.timezone, d.window_end)
    return text_env.get_template("digest.txt.j2").render(
        digest=d, subject=header_safe(d.subject()), window=window_text(d), version=__version__
    )


def render_html(d: Digest) -> str:
    _, html_env = _environment(d.timezone, d.window_end)
    return html_env.get_template("digest.html.j2").render(
        digest=d, subject=header_safe(d.subject()), window=window_text(d), version=__version__
    )


# Gmail shows only the first 102 KB of a message's HTML and hides the rest (the last sections, feed health)
# behind "View entire message"; some mobile clients do the same. A digest is trimmed to stay under it.
MAX_HTML_BYTES = 95_000


def fit(d: Digest, limit: int = MAX_HTML_BYTES) -> Digest:
    """``d`` with its longest sections cut (their "...and N more" counting the rest) until its HTML is at
    most ``limit`` bytes; every section keeps at least its first story."""
    size = len(render_html(d).encode())
    while size > limit:
        longest = max((len(s.entries) for s in d.sections), default=0)
        if longest <= 1:
            break
        d = capped(d, max(1, min(longest - 1, int(longest * limit / size))))
        size = len(render_html(d).encode())
    return d


def message_id_domain(sender: str) -> str:
    """The sender's domain for Message-IDs, in ASCII (an internationalised domain as punycode: a Message-ID
    must pass servers without SMTPUTF8)."""
    domain = header_safe(sender.rsplit("@", 1)[-1].strip("> ")) if "@" in sender else ""
    try:
        return domain.encode("idna").decode("ascii") if domain else "aggregator.invalid"
    except UnicodeError:
        return "aggregator.invalid"


def build_message(
    d: Digest, *, sender: str, to: tuple[str, ...], now: datetime, message_id: str | None = None
) -> EmailMessage:
    """multipart/alternative: text first, HTML second (RFC 2046 5.1.4: the last part is preferred)."""
    msg = EmailMessage()
    msg["Subject"] = header_safe(d.subject())
    msg["From"] = header_safe(sender)
    msg["To"] = ", ".join(header_safe(a) for a in to)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id or make_msgid("digest", domain=message_id_domain(sender))
    msg["List-Id"] = LIST_ID
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Aggregator-Window"] = header_safe(window_text(d))
    msg.set_content(render_text(d), cte="quoted-printable")
    msg.add_alternative(render_html(d), subtype="html", cte="quoted-printable")
    return msg
