"""Parse stage: bytes -> ParsedFeed. The only module that touches feedparser's dicts.

RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 go through feedparser 6 (its own HTTP is not used; its HTML
sanitiser is off because `normalise` sanitises once with nh3). JSON Feed 1.0/1.1 is read here,
since feedparser 6.0 does not know it.

Rules: a feed feedparser can read despite errors (bozo) is returned with ``warning`` set; one it
cannot read at all raises ParseError. An entry with no title, link and text is skipped and counted;
the feed goes on.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import importlib.util
import json
import re
from collections.abc import Container, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from html import escape, unescape
from html.entities import name2codepoint
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit
from xml.sax import SAXParseException

import feedparser

from aggregator.dates import misread_by_feedparser, read_date
from aggregator.errors import ParseError
from aggregator.models import Entry, ParsedFeed
from aggregator.normalise import (
    UTF8_CP1252,
    host_of,
    html_to_text,
    legacy_encoding,
    mostly_utf8,
    scheme_of,
    url_parts,
)

# feedparser asks xml.sax for libxml2's SAX driver first, at every parse; where it is not installed (the usual
# case) the failed import searches sys.path on disk each time, and expat parses anyway. Ask for expat at once.
if importlib.util.find_spec("drv_libxml2") is None:
    feedparser.api.PREFERRED_XML_PARSERS[:] = []


def parse_feed(
    body: bytes,
    url: str,
    content_type: str | None = None,
    base: str | None = None,
    known: Container[str] = frozenset(),
) -> ParsedFeed:
    """Parse a fetched body. ``url`` names the feed in messages; ``base`` is where the body came from
    (after redirects; default ``url``): relative links resolve against the site's link, else against it.

    ``known``: the keys (``ParsedFeed.keys``) of the entries parsed from this feed before. An RSS or Atom
    document that can be cut cleanly into its entries' raw text (split_entries) is parsed without the
    entries whose text is byte for byte a known one: a feed that changed lists mostly entries already
    read, and feedparser's time goes to the new ones only. Those left out are named in ``unparsed``.
    Whatever does not check out (feedparser finding another number of entries than there are pieces)
    is parsed whole."""
    # the body decides, not the header: servers label RSS as JSON and JSON as XML; the header only where the
    # body looks like neither (a JSON Feed that is broken from its first byte is reported as invalid JSON)
    if _starts_like_json(body) or (content_type and "json" in content_type.lower() and not _starts_like_xml(body)):
        return _resolved(_parse_json_feed(body, url, content_type), base or url)
    data = _as_utf8(body, content_type)
    split = split_entries(data)
    if split is not None and known:
        fresh = [n for n, key in enumerate(split.keys) if key not in known]
        if len(fresh) < len(split.keys):
            d = _feedparser(split.head + b"".join(split.chunks[n] for n in fresh) + split.tail, url)
            if len(d.get("entries", []) or []) == len(fresh):
                try:
                    parsed = _parsed(d, data, url, content_type, [split.keys[n] for n in fresh])
                except ParseError:
                    pass  # the whole document says more (or says it better)
                else:
                    unparsed = tuple(key for key in split.keys if key in known)
                    return _resolved(replace(parsed, unparsed=unparsed), base or url)
    d = _feedparser(data, url)
    keys = split.keys if split is not None and len(split.keys) == len(d.get("entries", []) or []) else None
    return _resolved(_parsed(d, data, url, content_type, keys, base), base or url)


def _feedparser(data: bytes, url: str) -> Any:
    """feedparser's reading of a document; one that its XML parser refuses is read again repaired (see
    _xml_repaired) when that changes it, and the repaired reading kept unless it finds fewer entries. A
    well-formed feed, the usual case, costs nothing more."""
    try:
        d = _feedparser_once(data, url)
    except ParseError:  # feedparser itself failed (a surrogate's reference): the repaired reading, if any
        repaired = _xml_repaired(data)
        if repaired == data:
            raise
        return _feedparser_once(repaired, url)
    broken = d.get("bozo") and isinstance(d.get("bozo_exception"), SAXParseException)
    # under a DOCTYPE (RSS 0.91's Netscape DTD) the XML parser drops the HTML entities the DTD would define,
    # without a word: "Caf&eacute;" read as "Caf"
    if broken or (_DOCTYPE.search(data, 0, 2048) and _LOOSE_AMP.search(data)):
        repaired = _xml_repaired(data)
        if repaired != data:
            again = _feedparser_once(repaired, url)
            if len(again.get("entries", []) or []) >= len(d.get("entries", []) or []):
                return again
    return d


def _feedparser_once(data: bytes, url: str) -> Any:
    try:
        return feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    except Exception as e:  # feedparser is not supposed to raise; if it does, it is this feed's fault
        raise ParseError(f"{url}: feedparser failed while reading the feed: {type(e).__name__}: {e}") from e


def _parsed(
    d: Any, body: bytes, url: str, content_type: str | None, keys: Sequence[str] | None, base: str | None = None
) -> ParsedFeed:
    """feedparser's result as a ParsedFeed; ``keys``: the raw entries' keys, in order, when known; ``base``:
    where the body came from (after redirects)."""
    feed = d.get("feed", {}) or {}
    raw_entries = d.get("entries", []) or []
    # Unreadable, or not recognised as RSS/Atom (an HTML page, an empty body): an empty but real
    # feed has a version or a title.
    if not raw_entries and (not d.get("version") or (d.get("bozo") and not feed.get("title"))):
        exc = d.get("bozo_exception")
        what = _one_line(f"{type(exc).__name__}: {exc}") if exc else "no feed version and no entries"
        if not body.strip():
            what = "the server sent an empty answer"
        head = body[:16384].lower()
        page = (content_type and "html" in content_type.lower()) or b"<html" in head
        blocked = bool(page) and is_bot_check(body)
        if blocked:
            hint = (
                "; the site answered with a bot check (Cloudflare or the like) instead of the feed: it blocks "
                "automated readers; retried later (ask the publisher, or find the feed elsewhere)"
            )
        elif page and base and is_consent_redirect(url, base):
            hint = (
                f"; the site sent its cookie-consent page ({base.split('?')[0]}) instead of the feed: it asks a "
                "browser's answer first; retried later (if it persists, find the feed at another address)"
            )
        elif page and _PASSWORD_FIELD.search(head):
            hint = (
                "; the site answered with a login page: a members' feed takes its login in its URL "
                "(https://user:password@host/feed), or a private feed's address has expired: copy it again"
            )
        elif page:
            hint = _WEB_PAGE
        else:
            hint = "; check that the URL is the feed's own (the publisher's feed may be broken: retried later)"
        raise ParseError(f"{url}: not an RSS, Atom or JSON feed: {what}{hint}", blocked=blocked, page=hint == _WEB_PAGE)
    entries: list[Entry] = []
    entry_keys: list[str] = []
    skipped_keys: list[str] = []
    for n, raw in enumerate(raw_entries):
        entry = _entry(raw)
        if entry is None:
            if keys is not None:
                skipped_keys.append(keys[n])
        else:
            entries.append(entry)
            if keys is not None:
                entry_keys.append(keys[n])
    warning = _bozo_warning(d.get("bozo_exception"), body) if d.get("bozo") else None
    return ParsedFeed(
        title=html_to_text(feed.get("title")) or None if isinstance(feed.get("title"), str) else None,
        link=feed.get("link"),
        entries=tuple(entries),
        warning=warning,
        ttl=_ttl(feed.get("ttl"), feed.get("sy_updateperiod"), feed.get("sy_updatefrequency")),
        skipped=len(raw_entries) - len(entries),
        keys=tuple(entry_keys) if keys is not None else None,
        skipped_keys=tuple(skipped_keys),
    )


@dataclass(frozen=True)
class Split:
    """An RSS or Atom document cut into the raw text of its entries: head + chunks + tail is the document,
    save the whitespace between entries."""

    head: bytes
    chunks: tuple[bytes, ...]
    tail: bytes
    keys: tuple[str, ...]  # a hash of each chunk


_ENTRY_START = re.compile(rb"<(item|entry)[\s>]")
_PREFIXED_ENTRY = re.compile(rb"<[A-Za-z_][\w.-]*:(?:item|entry)[\s>]")


def split_entries(data: bytes) -> Split | None:
    """The document's `<item>` (RSS) or `<entry>` (Atom) elements as raw bytes, or None where they cannot be
    cut out with certainty: none found, one inside another (an escaped feed in CDATA), anything but
    whitespace between two of them (a comment, another element), prefixed entries (`<atom:entry>`), or an
    encoding whose bytes are not ASCII's (UTF-16). The caller checks that feedparser finds as many entries."""
    first = _ENTRY_START.search(data)
    if first is None:
        return None
    tag = first.group(1)
    start_tag = re.compile(rb"<" + tag + rb"[\s>]")
    end_tag = b"</" + tag + b">"
    chunks: list[bytes] = []
    start = first.start()
    head = data[:start]
    while True:
        end = data.find(end_tag, start)
        if end < 0:
            return None
        end += len(end_tag)
        chunk = data[start:end]
        if start_tag.search(chunk, 1):
            return None
        chunks.append(chunk)
        nxt = start_tag.search(data, end)
        if nxt is None:
            tail = data[end:]
            break
        if data[end : nxt.start()].strip():
            return None
        start = nxt.start()
    if _PREFIXED_ENTRY.search(head) or _PREFIXED_ENTRY.search(tail):
        return None
    keys = tuple(hashlib.blake2b(chunk, digest_size=10).hexdigest() for chunk in chunks)
    return Split(head, tuple(chunks), tail, keys)


# what the anti-bot pages of CDNs put in the challenge page they answer with, with a 200 (Cloudflare's challenge
# loads /cdn-cgi/challenge-platform/h/...; its "JavaScript detections" put .../challenge-platform/scripts/jsd/ in
# ordinary pages, articles included, which are no challenge)
_BOT_CHECKS = (
    b"cf-chl",
    b"challenge-platform/h/",
    b"<title>just a moment",
    b"attention required! | cloudflare",
    b"incapsula incident id",
    b"px-captcha",
    b"ddos-guard",
    b"sgcaptcha",
    b"are you a robot",
)
# a script bot-detection services also put in ordinary pages: a bot check only in a page as small as their
# challenge pages (Imperva's is a frame of /_Incapsula_Resource and a line of text)
_BOT_SCRIPTS = (b"_incapsula_resource",)
CHALLENGE_PAGE_MAX = 32768


def is_bot_check(body: bytes) -> bool:
    """Whether a page is a CDN's bot check (Cloudflare's "Just a moment...") rather than what was asked for."""
    head = body[:16384].lower()
    return any(marker in head for marker in _BOT_CHECKS) or (
        len(body) < CHALLENGE_PAGE_MAX and any(marker in head for marker in _BOT_SCRIPTS)
    )


def is_consent_redirect(asked: str, final: str) -> bool:
    """Whether a request was redirected to a consent page, as Google's, Yahoo's and many EU publishers' sites
    answer a reader who has not yet accepted or refused their cookies: a host named consent.* or guce.*, or a
    path whose first part is "consent" (no article's or feed's own address)."""
    if final == asked:
        return False
    parts = urlsplit(final)
    host, first = (parts.hostname or "").lower(), parts.path.strip("/").split("/")[0].lower()
    return host.startswith(("consent.", "guce.")) or first in ("consent", "privacy-gate", "cookie-consent")


_WEB_PAGE = "; this is a web page: `aggregator feeds add URL` discovers the feeds it links to"
_PASSWORD_FIELD = re.compile(rb"<input[^<>]+type\s*=\s*[\"']?password", re.I)
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"'][^>]*\?>")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.I)
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_PROLOG = re.compile(r"\s*<\?xml[^>]*\?>")  # any XML declaration, with or without an encoding
_C0_BYTES = bytes([*range(9), 11, 12, *range(14, 32)])  # C0 controls but tab and line ends: not allowed in XML
# What browsers read each of these labels as (WHATWG Encoding Standard): a feed "in GB2312" uses GBK's
# characters, one "in ISO-8859-1" windows-1252's curly quotes (as Latin-1 they would be control characters).
_READ_AS = {
    "gb2312": ("gb2312", "gbk", "gb18030"),
    "gbk": ("gbk", "gb18030"),
    "big5": ("big5", "big5hkscs", "cp950"),
    "shift-jis": ("shift_jis", "cp932"),
    "sjis": ("shift_jis", "cp932"),
    "euc-kr": ("euc-kr", "cp949"),
    **dict.fromkeys(("iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii"), ("cp1252", "latin-1")),
}


def _as_utf8(body: bytes, content_type: str | None) -> bytes:
    """The body re-encoded as UTF-8 where its declared encoding is wrong, which is common: a feed written in
    UTF-8 under a prolog or a server default saying ISO-8859-1, or a feed in windows-1251 with no prolog whose
    encoding only the HTTP header names. Bytes that are valid UTF-8 are UTF-8 (a legacy 8-bit text almost never
    is); otherwise the prolog's encoding if it reads the bytes, else the header's. UTF-16/32 and BOMs are left
    to feedparser, as is anything that none of these read (it falls back to windows-1252 with a warning), unless
    the document declares no encoding at all and is in a non-Latin script's legacy encoding that
    charset_normalizer recognises (normalise.legacy_encoding)."""
    if body.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark is UTF-8, whatever the prolog says
        try:
            return _utf8_document(body[3:].decode("utf-8"), _XML_DECL.match(body[3:]))
        except UnicodeDecodeError:
            body = body[3:]  # ...unless what follows is not: read on as if it had none
    if body[:1].isspace() and (stripped := body.lstrip())[:1] == b"<":
        # blank lines before the prolog (a CMS template's stray newline) make the document not well-formed
        # XML, and feedparser would fall back to its loose parser and a warning: readers drop them
        body = stripped
    if body.startswith(_BOMS) or b"\x00" in body[:4]:
        return body
    m = _XML_DECL.match(body)
    declared = m.group(1).decode("ascii").lower() if m else None
    if declared and declared.startswith(("utf-16", "utf-32", "ucs")):
        return body
    header = _CHARSET.search(content_type or "")
    named = ([declared] if declared else []) + ([header.group(1).lower()] if header else [])
    candidates = ["utf-8"] + [e for name in named for e in _READ_AS.get(name.replace("_", "-"), (name,))]
    for encoding in candidates:
        try:
            text = body.decode(encoding)
        except (UnicodeError, LookupError):  # UnicodeError: codecs such as idna raise it
            continue
        if encoding == (declared or "utf-8"):
            return body  # what feedparser reads it as anyway
        return _utf8_document(text, m)
    if mostly_utf8(body):
        # UTF-8 with a few windows-1252 bytes pasted in (a smart quote from a word processor): read those
        # bytes alone as windows-1252 rather than the whole document, which would garble every accent
        return _utf8_document(body.decode("utf-8", UTF8_CP1252), m)
    if detected := legacy_encoding(body):
        # a feed in Shift_JIS, KOI8-R, Big5... that says nothing of it, or something it is not (feedparser would
        # read windows-1252)
        return _utf8_document(body.decode(detected), m)
    return body


_DOCTYPE = re.compile(rb"<!DOCTYPE\s", re.I)
# an ampersand XML does not allow: bare ("AT&T", "?a=1&b=2"), or an HTML entity other than XML's own five
_LOOSE_AMP = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});)([A-Za-z][A-Za-z0-9]{0,31};)?")


def _xml_repaired(data: bytes) -> bytes:
    """A document as strict XML wants what browsers read anyway: without control characters (pasted into a
    title: a vertical tab, an EOF mark), and, outside CDATA (where any is allowed), with a bare ampersand
    ("AT&T", a link's "?a=1&b=2") escaped and HTML's named entities (&nbsp; &rsquo; &eacute;, which only a DTD
    defines) as the numeric references that mean the same. With any of them expat gives up, and feedparser's
    loose parser reads the feed with a warning and garbles it ("AT&T" became "AT&amp;T;"). Names HTML does not
    know are left alone (a feed's DTD may define them). Numeric references to what XML has no place for are
    mended (_refs_mended). The usual namespaces the document uses by their prefixes without declaring them are
    declared (_with_namespaces). UTF-16 and UTF-32 documents are left as they are."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4]:
        return data
    data = _with_namespaces(data.translate(None, _C0_BYTES))
    if not _LOOSE_AMP.search(data) and b"&#" not in data:
        return data
    out = []
    i = 0
    while True:
        j = data.find(b"<![CDATA[", i)
        out.append(_refs_mended(_LOOSE_AMP.sub(_xml_ampersand, data[i:] if j < 0 else data[i:j])))
        if j < 0:
            break
        k = data.find(b"]]>", j)
        if k < 0:
            out.append(data[j:])
            break
        out.append(data[j : k + 3])
        i = k + 3
    return b"".join(out)


_NUMERIC_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,6})|([0-9]{1,7}));")


def _refs_mended(text: bytes) -> bytes:
    """Numeric character references XML does not allow, read as browsers would show them: a UTF-16 surrogate
    pair written as two references ("&#55357;&#56832;": an emoji escaped one UTF-16 unit at a time, as some
    CMSs write them) is the one character it encodes; a lone surrogate or a non-character (U+FFFE) is U+FFFD;
    a control character is nothing (as pasted ones are dropped). feedparser failed on the whole feed at a
    surrogate's."""
    refs = list(_NUMERIC_REF.finditer(text))
    out, pos, n = [], 0, 0
    while n < len(refs):
        m = refs[n]
        v = _ref_value(m)
        if v in (9, 10, 13) or 0x20 <= v <= 0xD7FF or 0xE000 <= v <= 0xFFFD or 0x10000 <= v <= 0x10FFFF:
            n += 1
            continue  # allowed
        end, char = m.end(), b"" if v < 0x20 else b"&#xFFFD;"
        if 0xD800 <= v <= 0xDBFF and n + 1 < len(refs) and refs[n + 1].start() == end:
            low = _ref_value(refs[n + 1])
            if 0xDC00 <= low <= 0xDFFF:
                end, char = refs[n + 1].end(), b"&#x%X;" % (0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00))
                n += 1
        out += [text[pos : m.start()], char]
        pos = end
        n += 1
    return b"".join(out) + text[pos:] if out else text


def _ref_value(m: re.Match[bytes]) -> int:
    return int(m.group(1), 16) if m.group(1) else int(m.group(2))


# The namespaces feeds use by their usual prefixes, which hand-made feeds and podcast tools often write without
# declaring them (`<itunes:author>` in a bare `<rss>`): expat refuses an undeclared prefix
_KNOWN_NAMESPACES = {
    b"content": b"http://purl.org/rss/1.0/modules/content/",
    b"dc": b"http://purl.org/dc/elements/1.1/",
    b"dcterms": b"http://purl.org/dc/terms/",
    b"atom": b"http://www.w3.org/2005/Atom",
    b"media": b"http://search.yahoo.com/mrss/",
    b"itunes": b"http://www.itunes.com/dtds/podcast-1.0.dtd",
    b"googleplay": b"http://www.google.com/schemas/play-podcasts/1.0",
    b"podcast": b"https://podcastindex.org/namespace/1.0",
    b"sy": b"http://purl.org/rss/1.0/modules/syndication/",
    b"slash": b"http://purl.org/rss/1.0/modules/slash/",
    b"wfw": b"http://wellformedweb.org/CommentAPI/",
    b"thr": b"http://purl.org/syndication/thread/1.0",
    b"georss": b"http://www.georss.org/georss",
    b"feedburner": b"http://rssnamespace.org/feedburner/ext/1.0",
}
_PREFIXED_TAG = re.compile(rb"</?([A-Za-z][\w.-]*):[A-Za-z]")
_DECLARED = re.compile(rb"xmlns:([A-Za-z][\w.-]*)\s*=")
_ROOT = re.compile(rb"<(?:rss|feed|rdf:RDF)\b[^<>]*?(/?)>")


def _with_namespaces(data: bytes) -> bytes:
    """The document with the usual feed namespaces it uses by their prefixes but never declares declared on its
    root element; as it is otherwise."""
    if (root := _ROOT.search(data)) is None or root.group(1):
        return data
    missing = sorted(set(_PREFIXED_TAG.findall(data)) - set(_DECLARED.findall(data)) & _KNOWN_NAMESPACES.keys())
    if not missing:
        return data
    declared = b"".join(b' xmlns:%s="%s"' % (prefix, _KNOWN_NAMESPACES[prefix]) for prefix in missing)
    return data[: root.end() - 1] + declared + data[root.end() - 1 :]


def _xml_ampersand(m: re.Match[bytes]) -> bytes:
    if m.group(1) is None:
        return b"&amp;"
    code = name2codepoint.get(m.group(1)[:-1].decode("ascii"))
    return b"&#%d;" % code if code else m.group(0)


def _utf8_document(text: str, prolog: re.Match[bytes] | None) -> bytes:
    """The text under a UTF-8 prolog, in place of its own (with whatever encoding it names, or none)."""
    if prolog is not None:
        text = text[prolog.end() :]  # the prolog is ASCII: as many characters as bytes
    elif m := _PROLOG.match(text):
        text = text[m.end() :]
    return b"<?xml version='1.0' encoding='utf-8'?>" + text.encode("utf-8")


def _starts_like_xml(body: bytes) -> bool:
    """Markup first (after blank lines or a byte-order mark): an RSS or Atom document, whatever its label."""
    return body[:64].lstrip().startswith((b"<", b"\xef\xbb\xbf", b"\xff\xfe<", b"\xfe\xff\x00<"))


def _starts_like_json(body: bytes) -> bool:
    head = body[:64]
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            return head[len(bom) :].decode(encoding, "ignore").lstrip()[:1] in ("{", "[")
    return head.lstrip()[:1] in (b"{", b"[")


def _absolute(link: str | None, base: str | None) -> str | None:
    """A link as an absolute URL: feeds often give "/news/1" (xml:base, when present, is applied by
    feedparser already). Left as it is when there is no usable base."""
    if not link or not base:
        return link
    try:
        if urlsplit(link).scheme or urlsplit(base).scheme not in ("http", "https", "file"):
            return link
        return urljoin(base, link)
    except ValueError:
        return link


def _resolved(parsed: ParsedFeed, feed_url: str) -> ParsedFeed:
    """Relative links made absolute: the site's own link against the feed's URL, the entries' against the
    site's link (what it names as its home), else the feed's URL."""
    site = _absolute(parsed.link, feed_url)
    base = site if site and scheme_of(site) in ("http", "https") else feed_url
    entries = tuple(e if (u := _absolute(e.url, base)) == e.url else replace(e, url=u) for e in parsed.entries)
    return replace(parsed, link=site, entries=entries)


_ENCODING_OVERRIDE = re.compile(r"declared as (\S+), but parsed as (\S+)")
_DECLARED = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=", re.I)


def _bozo_warning(exc: BaseException | None, body: bytes) -> str:
    """What feedparser found wrong with a feed it read anyway, for `status`. Text in another encoding than the
    one declared (UTF-8, XML's default, when none is) is said as such: feedparser's own words ("document
    declared as utf-8, but parsed as windows-1252") read like a broken feed, and name a declaration that the
    feed may not have."""
    if type(exc).__name__ == "CharacterEncodingOverride" and (m := _ENCODING_OVERRIDE.search(str(exc))):
        said = "its XML declaration says" if _DECLARED.match(body[:512]) else "XML assumes without a declaration"
        return (
            f"encoding: its text is not {m[1]}, as {said}; read as {m[2]} (if accents look wrong, tell the publisher)"
        )
    return f"malformed feed, read anyway: {_one_line(f'{type(exc).__name__}: {exc}' if exc else 'bozo')}"


def _entry(raw: Any) -> Entry | None:
    title = _text_construct(_clean(raw.get("title")) or "", raw.get("title_detail"), headline=True)
    # FeedBurner-style feeds link to a redirector and give the article's own address beside it
    # (a FeedBurner element without text is its attributes, a dict)
    link = next((v for v in (raw.get("feedburner_origlink"), raw.get("link")) if isinstance(v, str) and v), None)
    if link and link == raw.get("id") and not _web_address(str(link)):
        link = None  # feedparser's stand-in for a missing link is the id: "urn:uuid:...", "tag:...", "12345"
    wrapped, link = link, unwrap_redirect(link)
    post = link  # a link aggregator's entry: its own page is the discussion of the article it shares
    if not link:  # a podcast episode with no page: its audio (or video) is what there is to open
        link = next((e.get("href") for e in raw.get("enclosures") or () if isinstance(e, dict) and e.get("href")), None)
    guid = raw.get("id") or raw.get("guid") or None
    content = raw.get("content") or []
    detail = raw.get("summary_detail")
    if detail is None and isinstance(content, list):  # feedparser's summary is a copy of the content's, untyped
        detail = next((c for c in content if isinstance(c, dict) and c.get("value") == raw.get("summary")), None)
    summary = _text_construct(raw.get("summary") or "", detail)
    if content and isinstance(content, list):
        longest = max((c for c in content if isinstance(c, dict)), key=lambda c: len(c.get("value") or ""), default={})
        if len(longest.get("value") or "") > len(summary):
            summary = _text_construct(longest["value"], longest)
    if link and "[link]" in summary:
        link = _linked_article(str(link), summary)
    elif link and summary[1:13] == "ubmitted by " and (m := _LEMMY_LINK.search(summary)):
        link = unescape(m.group(1))  # a Lemmy link post: the article it shares, not the post
    source = _source(raw.get("source")) or _clean(raw.get("news_source"))
    if source is None and link and wrapped != link:  # a Google Alert names no outlet: the article's site is it
        source = _site_name(str(link))
    if source and summary.lstrip()[:3].lower() == "<ol" and host_of(str(raw.get("link") or "")) == "news.google.com":
        summary = ""  # Google News' list of the story's reports: other outlets' headlines, not this one's text
    if link and source is None and _RIVER_HOST.search(host_of(str(link))):
        link, title, source = _river_entry(str(link), title, summary)
        summary = _river_text(summary, title)
    if not (title or link or summary.strip()):
        return None
    comments = _comments(raw) or (post if post != link and not _RIVER_HOST.search(host_of(str(post))) else None)
    return Entry(
        guid=str(guid).strip() if guid else None,
        url=str(link).strip() if link else None,
        title=title,
        summary_html=summary,
        author=_clean(raw.get("author")),
        published=_date(raw, "published") or _date(raw, "updated"),
        updated=_date(raw, "updated"),
        source=source,
        comments=str(comments).strip() if comments and str(comments).strip() != str(link or "").strip() else None,
    )


def _comments(raw: Any) -> str | None:
    """The page of an entry's discussion: RSS 2.0 <comments> (Hacker News, Lobsters, WordPress), Atom's
    <link rel="replies" type="text/html"> (Blogger); an http(s) address only."""
    found = [raw.get("comments")]
    found += [
        link.get("href")
        for link in raw.get("links") or ()
        if isinstance(link, dict) and link.get("rel") == "replies" and "html" in (link.get("type") or "text/html")
    ]
    return next((str(u).strip() for u in found if isinstance(u, str) and _web_address(u) and "://" in u), None)


# the HTML a feed puts in a title or summary; other words in angle brackets are text ("vector<int>", "<dialog>")
_MARKUP = re.compile(
    r"</?(?:p|br|a|b|i|u|s|em|strong|span|div|img|ul|ol|li|h[1-6]|blockquote|code|pre|sup|sub|small|big|font|"
    r"table|tr|td|th|figure|figcaption|iframe|script|style|hr|abbr|cite|q|mark|del|ins|picture|source|video|"
    r"audio|section|article|header|footer|center|tt|dl|dt|dd|wbr|noscript)(?:\s[^<>]*)?/?>|<!--",
    re.I,
)


_PLAIN = {"type": "text/plain"}


def _text_construct(value: str, detail: Any, *, headline: bool = False) -> str:
    """A title or summary as the HTML the rest of the pipeline reads it as. Plain text (an Atom construct of
    type="text", the default) is escaped, so that "a < b", "vector<int>" or "the <dialog> element" stay text,
    unless it holds HTML markup anyway (a feed that left out type="html"); a headline's angle brackets are text
    too unless they hold markup (RSS titles are HTML to feedparser, yet "Why <dialog> matters" is a title)."""
    if "<" not in value and "&" not in value or _MARKUP.search(value):
        return value
    if isinstance(detail, dict) and detail.get("type") == "text/plain":
        return escape(value, quote=False)
    return value.replace("<", "&lt;").replace(">", "&gt;") if headline else value


def _web_address(link: str) -> bool:
    """An http(s) URL, or a path on the site ("/posts/12"): what a guid must be to stand for a link."""
    parts = url_parts(link.strip())
    return parts is not None and (parts.scheme.lower() in ("http", "https") or link.strip().startswith("/"))


def _source(value: Any) -> str | None:
    """The outlet named by an RSS <source> or an Atom <source><title> (news aggregators set it; Bing News
    writes <News:Source>, read by the caller)."""
    return _clean(value.get("title")) if isinstance(value, dict) else None


# Click-through redirectors that carry the article's address in a parameter: Google Alerts
# (google.com/url?url=), Google News' older links, Bing News, Facebook and DuckDuckGo link wrappers.
_REDIRECTORS = {
    "/url": ("url", "q"),
    "/news/url": ("url",),
    "/news/apiclick.aspx": ("url",),
    "/l.php": ("u",),
    "/l/": ("uddg",),
}
_REDIRECTOR_HOSTS = re.compile(
    r"^(?:www\.|news\.|l\.|lm\.)?(?:google\.[a-z.]+|bing\.com|facebook\.com|duckduckgo\.com)$"
)


def unwrap_redirect(link: str | None) -> str | None:
    """The article's own address for a link through a known redirector, so that the digest links straight to
    it and its copies in other feeds are recognised by URL; any other link as it is."""
    if not link:
        return link
    parts = url_parts(link.strip())
    if parts is None:
        return link
    if (parts.hostname or "").lower() == "news.google.com" and (target := _google_news_target(parts.path)):
        return target
    names = _REDIRECTORS.get(parts.path)
    if not names or not _REDIRECTOR_HOSTS.match((parts.hostname or "").lower()):
        return link
    query = parse_qs(parts.query)
    for name in names:
        for target in query.get(name, ()):
            if scheme_of(target) in ("http", "https") and host_of(target):
                return target
    return link


# A Reddit entry links to its comments page; a link post names the article it shares in its "[link]" anchor.
_REDDIT_HOST = re.compile(r"(?:^|\.)(?:reddit\.com|redd\.it|redditmedia\.com)$")
_REDDIT_LINK = re.compile(r"""<a\s+href=["']([^"'<>\s]+)["']\s*>\s*\[link\]\s*</a>""")


# Lemmy (0.19.4 on) links an entry to the post and writes the article a link post shares after its "View post"
_LEMMY_LINK = re.compile(
    r"""^[Ss]ubmitted by .{1,600}?>View post</a>\s*<br\s*/?>\s*<a href="(https?://[^"<>\s]+)">\1</a>"""
)


# Techmeme, Mediagazer and memeorandum link each entry to their own page and name the article in the text and
# its author and outlet after the headline: "US adds chipmakers to the Entity List (Karen Freifeld/Reuters)".
_RIVER_HOST = re.compile(r"(?:^|\.)(?:techmeme|mediagazer|memeorandum)\.com$")
_RIVER_CREDIT = re.compile(r"\s+\((?:[^()]{1,80}?/\s?)?([^()/]{2,60})\)$")
_RIVER_CREDITED = re.compile(r"</a>\s*:")  # "<a ...>Author / Outlet</a>:"
_RIVER_DASH = re.compile(r"(?:&mdash;|—)(?:&nbsp;|\s)*")  # between the headline and the text
_ANCHOR = re.compile(r"""<a\s[^>]{0,500}?href=["']([^"'<>\s]+)["']""", re.I)


def _site_name(url: str) -> str | None:
    """A site's name as its address gives it: "reuters.com" for https://www.reuters.com/..."""
    host = host_of(url)
    return re.sub(r"^(?:www\d?|m|amp|mobile)\.(?=[^.]+\.)", "", host) or None


def _elsewhere(url: str) -> bool:
    host = host_of(url)
    return bool(host) and not _RIVER_HOST.search(host)


def _river_entry(link: str, title: str, summary_html: str) -> tuple[str, str, str | None]:
    """A Techmeme-style entry as the article it leads with: the first link in its text to another site, the
    headline without the credit, and the outlet in the credit as its source."""
    article = next(
        (u for m in _ANCHOR.finditer(summary_html) if _web_address(u := unescape(m.group(1))) and _elsewhere(u)),
        link,
    )
    m = _RIVER_CREDIT.search(title)
    if m is None:
        return article, title, None
    return article, title[: m.start()], m.group(1).strip()


def _river_text(summary_html: str, title: str) -> str:
    """The text after the "Author / Outlet: <headline> — " a Techmeme-style entry opens with (when there)."""
    credit = _RIVER_CREDITED.search(summary_html, 0, 2000)
    dash = _RIVER_DASH.search(summary_html, credit.end(), credit.end() + 1500) if credit else None
    if dash and " ".join(title.split()) in " ".join(html_to_text(summary_html[: dash.start()]).split()):
        return summary_html[dash.end() :]
    return summary_html


def _linked_article(link: str, summary_html: str) -> str:
    """The address of the article a Reddit link post shares, so that the digest opens the article and the
    outlet's own report is recognised as the same item; the comments page for a text, picture or video post
    (its "[link]" is the post itself, i.redd.it or v.redd.it) and for every other feed."""
    if not _REDDIT_HOST.search(host_of(link)) or (m := _REDDIT_LINK.search(summary_html)) is None:
        return link
    target = unwrap_redirect(unescape(m.group(1))) or ""
    host = host_of(target) if _web_address(target) else ""
    return target if host and not _REDDIT_HOST.search(host) else link


def _date(raw: Any, key: str) -> datetime | None:
    """The entry's date ``key`` as feedparser read it, or as dates.read_date reads the text where feedparser
    could not (a localised month name) or misread it (a zone abbreviation it takes for UTC)."""
    # dict.get: FeedParserDict maps a missing updated_parsed to published_parsed with a warning
    parsed = _struct_time(dict.get(raw, f"{key}_parsed"))
    text = dict.get(raw, key)
    if isinstance(text, str) and (parsed is None or misread_by_feedparser(text)):
        # feedparser's reading of a zone it does not know is hours off; of a number, years
        return read_date(text) or (None if text.strip().isdigit() else parsed)
    return parsed


_GOOGLE_NEWS_ARTICLE = re.compile(r"^/(?:rss/)?articles/([A-Za-z0-9_-]{8,})")


def _google_news_target(path: str) -> str | None:
    """The article's address inside a Google News link of the older kind: the id is base64 of a small
    protobuf whose field 4 is the URL. The newer ids hold only a key that Google's servers resolve: None."""
    m = _GOOGLE_NEWS_ARTICLE.match(path)
    if not m:
        return None
    code = m.group(1)
    try:
        data = base64.urlsafe_b64decode(code + "=" * (-len(code) % 4))
    except ValueError:
        return None
    if data[:3] != b"\x08\x13\x22":
        return None
    length, shift, i = 0, 0, 3
    while i < len(data):  # a varint: the URL's length
        length |= (data[i] & 0x7F) << shift
        shift += 7
        i += 1
        if not data[i - 1] & 0x80:
            break
    try:
        url = data[i : i + length].decode("utf-8")
    except UnicodeDecodeError:
        return None
    parts = url_parts(url)
    return url if parts and parts.scheme in ("http", "https") and parts.hostname and len(url) == length else None


def _struct_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _iso(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):  # a JSON number: seconds since 1970
        value = str(int(value))
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return read_date(value)  # a JSON feed written by hand or by a plugin: "2026-11-28 10:00:00 +0100"
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC)


def _parse_json_feed(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """JSON Feed 1.0 / 1.1 (https://jsonfeed.org/version/1.1). UTF-8 by the spec; JSON's UTF-16/32, or the
    charset the HTTP header names, where a server got that wrong."""
    header = _CHARSET.search(content_type or "")
    try:
        try:
            doc = json.loads(body)
        except UnicodeDecodeError:
            if not header:
                raise
            doc = json.loads(body.decode(header.group(1)))
    except (UnicodeError, LookupError, json.JSONDecodeError) as e:
        raise ParseError(f"{url}: invalid JSON: {e}") from e
    if _SURROGATE_ESCAPE.search(body) or not body[:4].isascii():  # (UTF-16/32: look at it all)
        doc = _without_lone_surrogates(doc)
    if not isinstance(doc, dict) or not str(doc.get("version", "")).startswith("https://jsonfeed.org/version/"):
        raise ParseError(
            f"{url}: JSON document is not a JSON Feed (no jsonfeed.org version): "
            f"{_one_line(body[:120].decode('utf-8', 'replace'))}; check that the URL is the feed's own "
            "(an API's error answer is retried later)"
        )
    items = doc.get("items")
    if not isinstance(items, list):
        raise ParseError(f"{url}: JSON Feed has no items array")
    entries: list[Entry] = []
    skipped = 0
    for raw in items:
        if not isinstance(raw, dict):
            skipped += 1
            continue
        author = _json_author(raw.get("authors")) or _json_author(raw.get("author"))
        html = raw.get("content_html")
        if not (html and isinstance(html, str)):
            # content_text is plain text: its "<" is not markup; so is a summary, unless it holds markup anyway;
            # the longer of the two, as with RSS's description and content
            text, summary = raw.get("content_text"), raw.get("summary")
            html = max(
                escape(text) if isinstance(text, str) else "",
                _text_construct(summary, _PLAIN) if isinstance(summary, str) else "",
                key=len,
            )
        title = raw.get("title") if isinstance(raw.get("title"), str) else ""
        # its own page; else the page it is about (a link blog's external_url); else its attachment (a podcast)
        attachments = raw.get("attachments")
        attachments = attachments if isinstance(attachments, list) else []
        pages = [raw.get("url"), raw.get("external_url"), *(a.get("url") for a in attachments if isinstance(a, dict))]
        link = next((unwrap_redirect(u) for u in pages if isinstance(u, str) and u.strip()), None)
        if not (title or link or html.strip()):
            skipped += 1
            continue
        guid = raw.get("id")
        entries.append(
            Entry(
                guid=str(guid) if guid not in (None, "") else None,
                url=link,
                title=_text_construct(_clean(title) or "", None, headline=True),
                summary_html=html,
                author=_clean(author),
                published=_iso(raw.get("date_published")) or _iso(raw.get("date_modified")),
                updated=_iso(raw.get("date_modified")),
            )
        )
    title = html_to_text(doc.get("title")) if isinstance(doc.get("title"), str) else None
    link = doc.get("home_page_url") if isinstance(doc.get("home_page_url"), str) else None
    return ParsedFeed(title=title or None, link=link, entries=tuple(entries), skipped=skipped)


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")  # JSON's "\ud83d": half of an emoji, or a lone half
_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_lone_surrogates(value: Any) -> Any:
    """A JSON document without the lone surrogates its escapes may decode to ("\ud800" alone, which JSON allows
    and UTF-8 cannot store): each is U+FFFD. The pairs json has joined into one character stay."""
    if isinstance(value, str):
        return (
            value.encode("utf-16", "surrogatepass").decode("utf-16", "replace") if _SURROGATE.search(value) else value
        )
    if isinstance(value, list):
        return [_without_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in value.items()}
    return value


def _json_author(value: Any) -> str | None:
    """The first author's name of a JSON Feed item: ``authors`` is a list of objects (1.1), ``author`` one object
    (1.0); feeds also write one object where a list belongs, or the name alone."""
    for a in value if isinstance(value, list) else [value]:
        name = a.get("name") if isinstance(a, dict) else a
        if isinstance(name, str) and name.strip():
            return name
    return None


_SY_PERIOD = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400, "monthly": 30 * 86400, "yearly": 365 * 86400}


def _ttl(value: Any, period: Any = None, frequency: Any = None) -> int | None:
    """How long the feed asks to be left alone, in seconds: RSS <ttl> (minutes), or the syndication module's
    <sy:updatePeriod> and <sy:updateFrequency> ("hourly", 2: every 30 minutes; WordPress writes "hourly", 1
    into every feed), the longer of the two."""
    try:
        minutes = int(str(value).strip())
    except (TypeError, ValueError):
        minutes = 0
    ttl = minutes * 60 if 0 < minutes < 100000 else 0
    span = _SY_PERIOD.get(str(period).strip().lower()) if period is not None else None
    if span is not None:
        try:
            times = int(str(frequency).strip()) if frequency is not None else 1
        except ValueError:
            times = 1
        ttl = max(ttl, span // max(1, min(times, 10000)))
    return ttl or None


def _clean(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value or None


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]
