"""Dates as feeds and saved pages write them when they are not RFC 822 or ISO 8601.

feedparser reads the standard forms. What it gives up on, or misreads, is common enough in real feeds:
weekday and month names in the site's language ("Sa, 28 Okt 2026", "mar., 28 nov. 2026"), day-first
numeric dates ("28.11.2026 10:00"), "2026年11月28日", "November 28, 2026", RFC 850 ("Saturday, 28-Nov-26"), slashed ISO
dates ("2026/11/28", which it reads as November 1st) and zone abbreviations it does not know ("CEST",
"BST", "JST", which it takes for UTC) and seconds since 1970 ("1732795200", which it reads as a day of 2017).
``read_date`` reads those; ``misread_by_feedparser`` says when its
answer should replace feedparser's. ``shown`` writes a stored time the way people read it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

# Month names and abbreviations in English and the languages news sites most often localise their feeds
# in (German, French, Spanish, Italian, Dutch, Portuguese), accents and all, lower case.
_MONTH_NAMES = {
    1: "jan january januar jänner janvier janv enero ene gennaio gen januari janeiro",
    2: "feb february februar février fevrier févr fevr febrero febbraio februari fevereiro fev",
    3: "mar march märz maerz mär mars marzo maart mrt março marco",
    4: "apr april avril avr abril abr aprile",
    5: "may mai mayo maggio mag mei maio",
    6: "jun june juni juin junio giugno giu junho",
    7: "jul july juli juillet juil julio luglio lug julho",
    8: "aug august août aout agosto ago augustus",
    9: "sep sept september septembre septiembre settembre set setembro",
    10: "oct october oktober okt octobre octubre ottobre ott outubro out",
    11: "nov november novembre noviembre novembro",
    12: "dec december dezember dez décembre decembre déc dic diciembre dicembre dezembro",
}
MONTHS = {name: number for number, names in _MONTH_NAMES.items() for name in names.split()}

# Zone abbreviations with their offsets in hours. feedparser knows the North American ones and reads the
# others as UTC. Ambiguous ones (IST: India or Ireland) are left out: no zone is then assumed to be UTC.
ZONES = {
    "est": -5, "edt": -4, "cst": -6, "cdt": -5, "mst": -7, "mdt": -6, "pst": -8, "pdt": -7, "akst": -9,
    "akdt": -8, "hst": -10, "ast": -4, "adt": -3,
    "cet": 1, "cest": 2, "met": 1, "mest": 2, "mez": 1, "mesz": 2, "bst": 1, "wet": 0, "west": 1,
    "eet": 2, "eest": 3, "msk": 3, "jst": 9, "kst": 9, "hkt": 8, "sgt": 8, "awst": 8, "acst": 9.5,
    "aest": 10, "aedt": 11, "nzst": 12, "nzdt": 13, "acdt": 10.5,
    # India's (Times of India, NDTV: also Israel's and Ireland's abbreviation, rarer in feeds), Pakistan's,
    # South Africa's, Indonesia's (WIB), Indochina's, the Philippines', the Gulf's (Gulf News), Brazil's
    "ist": 5.5, "pkt": 5, "sast": 2, "wib": 7, "ict": 7, "pht": 8, "gst": 4, "brt": -3,
}  # fmt: skip
_FEEDPARSER_ZONES = {"est", "edt", "cst", "cdt", "mst", "mdt", "pst", "pdt", "ast", "adt"}

_WORD = r"[^\W\d_]+"
_LEADING_WEEKDAY = re.compile(rf"^{_WORD}\.?\s*,\s*")
_TIME = re.compile(r"(?<![\d.])(\d{1,2})[:h](\d{2})(?::(\d{2}))?(?:[.,]\d+)?\s*([ap]\.?m\.?)?(?![\d])", re.I)
_OFFSET = re.compile(r"(?:\b(?:gmt|utc)\s*)?([+-])(\d{2}):?(\d{2})\b|\b(gmt|utc|ut|z)\b|\b([a-z]{3,4})\s*$", re.I)
_YMD = re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b|(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_DMY = re.compile(r"\b(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})\b")
_D_MONTH_Y = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th|er|º|\.)?[\s-]*(?:de\s+)?({_WORD})\.?[\s,-]*(?:de\s+)?(\d{{4}}|\d{{2}})\b"
)
_EPOCH = re.compile(r"\d{10}|\d{13}")
_ISO_T = re.compile(r"(\d{4}-\d{2}-\d{2})t(\d{2}:\d{2})")
_MONTH_D_Y = re.compile(rf"\b({_WORD})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b")


def read_date(text: str | None) -> datetime | None:
    """The date and time ``text`` gives, in UTC; None when it does not give a whole date. Without a time
    it is midnight; without a zone, UTC. A 2-digit year is in this century."""
    if not text or not isinstance(text, str):
        return None
    if _EPOCH.fullmatch(text.strip()):
        return _from_epoch(text.strip())
    s = _LEADING_WEEKDAY.sub("", " ".join(text.split())).lower()
    s = _ISO_T.sub(r"\1 \2", s)  # ISO 8601's "T" with a zone ISO has no name for: "2021-01-03T17:40:00EET"
    ymd = _day(s)
    if ymd is None:
        return None
    year, month, day = ymd
    hour = minute = second = 0
    rest = s
    if m := _TIME.search(s):
        hour, minute, second = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
        if m.group(4):
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if m.group(4).startswith("p") else 0)
        rest = s[m.end() :]
    try:
        return (datetime(year, month, day, hour, minute, second) - timedelta(hours=_offset(rest))).replace(tzinfo=UTC)
    except (ValueError, OverflowError):  # the 31st of February; year 9999 pushed past the end by its zone
        return None


def _from_epoch(digits: str) -> datetime | None:
    """Seconds since 1970 (10 digits), or milliseconds (13), as some generators write a date; None outside
    2000-2100, where such a number is more likely an id than a date."""
    value = int(digits) / (1000 if len(digits) > 11 else 1)
    dt = datetime.fromtimestamp(value, UTC)
    return dt if 2000 <= dt.year <= 2100 else None


def _day(s: str) -> tuple[int, int, int] | None:
    if m := _YMD.search(s):  # 2026-11-28, 2026/11/28, 2026年11月28日 (Chinese and Japanese sites)
        y, mo, d = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(4), m.group(5), m.group(6))
        return int(y), int(mo), int(d)
    if m := _DMY.search(s):
        first, second, year = int(m.group(1)), int(m.group(3)), _year(m.group(4))
        if m.group(2) == "/" and first <= 12 and second <= 12:
            return None  # 03/04/2026: March 4th in the US, April 3rd elsewhere; no guess
        if m.group(2) == "/" and second > 12:
            first, second = second, first  # 11/28/2026: US order
        return year, second, first
    if (m := _D_MONTH_Y.search(s)) and m.group(2) in MONTHS:
        return _year(m.group(3)), MONTHS[m.group(2)], int(m.group(1))
    if (m := _MONTH_D_Y.search(s)) and m.group(1) in MONTHS:
        return int(m.group(3)), MONTHS[m.group(1)], int(m.group(2))
    return None


def _year(digits: str) -> int:
    return int(digits) + 2000 if len(digits) == 2 else int(digits)


def _offset(rest: str) -> float:
    """Hours ahead of UTC named after the time: +0100, GMT+01:00, UTC, CEST; 0 when none is named."""
    m = _OFFSET.search(rest)
    if m is None:
        return 0
    if m.group(1):
        hours = int(m.group(2)) + int(m.group(3)) / 60
        return hours if m.group(1) == "+" else -hours
    return ZONES.get((m.group(5) or "").lower(), 0)


def misread_by_feedparser(text: str) -> bool:
    """Whether feedparser's reading of ``text`` is wrong although it gave one: a slashed ISO date or a
    Chinese one (2026/11/28, 2026年11月28日: read as November 1st) or a zone abbreviation it does not know
    (taken for UTC)."""
    s = text.strip()
    if re.match(r"\d{4}\s*[/年]\s*\d{1,2}", s):  # feedparser: the 1st of the month
        return True
    if _EPOCH.fullmatch(s):  # seconds since 1970: feedparser reads "1732795200" as a day of 2017
        return True
    m = re.search(r"(?<![A-Za-z])([A-Za-z]{3,4})\s*$", s)  # "2026-11-28T10:00:00CEST" too
    return bool(m and m.group(1).lower() in ZONES.keys() - _FEEDPARSER_ZONES)


def shown(value: str | None, now: datetime | None = None, tz: str | None = None) -> str | None:
    """An ISO time as a reader wants it: local time to the minute, and how long ago or how soon.
    ``tz``: an IANA name (the digest's timezone); without ``now`` or ``tz``, the ISO text unchanged."""
    if not value or now is None or tz is None:
        return value
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return value
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    local = dt.astimezone(ZoneInfo(tz))
    seconds = round((dt - now).total_seconds())
    size = span(seconds)
    rel = size if size == "now" else f"in {size}" if seconds > 0 else f"{size} ago"
    return f"{local:%Y-%m-%d %H:%M %Z} ({rel})"


def span(seconds: float) -> str:
    """A length of time as a reader wants it: "3 d", "1 d 2 h", "2 h 5 min", "7 min", or "now"."""
    h, m = divmod(int(abs(seconds)) // 60, 60)
    d, h = divmod(h, 24)
    if d:
        return f"{d} d" if d >= 3 or not h else f"{d} d {h} h"
    return (f"{h} h {m} min" if m else f"{h} h") if h else f"{m} min" if m else "now"


def period(seconds: float) -> str:
    """How often something recurs: span's words, and seconds under a minute ("every 30 s", not "every now")."""
    return span(seconds) if abs(seconds) >= 60 else f"{max(1, round(abs(seconds)))} s"
