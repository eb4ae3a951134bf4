"""Editing the feed list: add (with feed discovery), remove, OPML import and export.

feeds.toml is edited with tomlkit so that the user's comments and layout stay. OPML import is
lenient: a strict XML parse first; if that fails, unescaped "&" are escaped and it is tried again;
if that fails too, every <outline> tag is read with a forgiving attribute scanner (values may hold
stray quotes), and tags that still give no feed URL are reported by line.
"""

from __future__ import annotations

import asyncio
import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

import tomlkit

from aggregator.config import (
    display_path,
    edits_config,
    is_web_url,
    load_feeds,
    looks_like_a_host,
    normalise_feed_url,
    parse_feed_interval,
    read_config_text,
    replace_config_file,
    tables_to_append,
    typed_feed_url,
    without_feed_scheme,
)
from aggregator.errors import ConfigError, OpmlError, ParseError
from aggregator.fetch import Fetcher, fetch_once
from aggregator.models import FeedSpec
from aggregator.normalise import decode_document, joined, url_parts, xml_safe
from aggregator.parse import is_consent_redirect, parse_feed

_FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rdf+xml",
    "text/xml",
    "application/xml",
)


def feeds_path(config_dir: Path) -> Path:
    return config_dir / "feeds.toml"


@edits_config
def _append(config_dir: Path, specs: list[FeedSpec]) -> int:
    """Append feeds not yet listed; validate the result before replacing the file. Returns how many."""
    path = feeds_path(config_dir)
    text = path.read_text(encoding="utf-8-sig") if path.exists() else ""
    known = {f.url for f in load_feeds(config_dir)} if path.exists() else set()
    doc = tomlkit.parse(text)
    merged: dict[str, FeedSpec] = {}  # one feed listed in several folders: one entry with all their tags
    for spec in specs:
        first = merged.setdefault(spec.url, spec)
        if first is not spec:
            merged[spec.url] = replace(first, tags=tuple(dict.fromkeys(first.tags + spec.tags)))
    new = [spec for spec in merged.values() if spec.url not in known]
    if not new:
        return 0
    feeds = tables_to_append(doc, "feed")
    for spec in new:
        t = tomlkit.table()
        t.add("url", spec.url)
        if spec.title:
            t.add("title", spec.title)
        if spec.interval:
            t.add("interval", f"{spec.interval // 60}m" if spec.interval % 60 == 0 else spec.interval)
        if spec.tags:
            t.add("tags", list(spec.tags))
        feeds.append(t)
    _write(path, tomlkit.dumps(doc))
    return len(new)


def _write(path: Path, text: str, *, check: bool = True) -> None:
    replace_config_file(path, text, (lambda tmp: load_feeds_text_check(path.parent, tmp)) if check else None)


def load_feeds_text_check(config_dir: Path, candidate: Path) -> None:
    """Validate a candidate feeds.toml by loading it from a scratch folder beside it."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(dir=config_dir) as d:
        shutil.copy(candidate, Path(d) / "feeds.toml")
        load_feeds(Path(d))


def _problem(config_dir: Path) -> str | None:
    """What keeps feeds.toml from loading, or None."""
    try:
        load_feeds(config_dir)
    except ConfigError as e:
        return e.one_line()
    return None


def _listed_url(url: str, config_dir: Path) -> str:
    """A feed's address as feeds.toml means it; a malformed one as written ("http://[your-domain]/feed", which
    the daemon reports), so that `feeds remove` can still take it out."""
    try:
        return normalise_feed_url(url, config_dir)
    except ValueError:
        return url.strip()


@edits_config
def remove_feed(config_dir: Path, url: str) -> str | None:
    """Take ``url`` out of feeds.toml. A file that does not load already (a bad entry, which the daemon reports
    while it polls its last good list) is edited all the same, since removing is how a bad entry goes: what is
    still wrong with it afterwards is returned."""
    path = feeds_path(config_dir)
    broken = _problem(config_dir) is not None
    try:
        doc = tomlkit.parse(read_config_text(path) or "")  # none: no feed to remove, said below
    except tomlkit.exceptions.ParseError:
        load_feeds(config_dir)  # raises the one-line error naming the line (not TOML, nothing to remove from)
        raise
    feeds = doc.get("feed", [])
    listed = [_listed_url(str(f.get("url", "")), config_dir) for f in feeds]
    target = _listed_url(url, config_dir)
    if target not in listed:  # a path typed from the shell's folder, not the config folder
        try:
            target = typed_feed_url(url, config_dir)
        except ValueError:
            pass
    idx = [i for i, u in enumerate(listed) if u == target]
    if not idx:
        raise ConfigError(f"{display_path(path)}: no feed with url {url}", hint="`aggregator feeds list` shows them")
    for i in reversed(idx):
        del feeds[i]
    _write(path, tomlkit.dumps(doc), check=not broken)
    return _problem(config_dir) if broken else None


# an attribute in an HTML tag: name="value", name='value' or name=value (minifiers leave out the quotes that
# HTML does not need: <link rel=alternate type=application/rss+xml href=/index.xml>)
_ATTR = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""")


def page_base(page: str, address: str) -> str:
    """What a page's relative links are read against: its <base href> (read against its address), else its
    address."""
    m = re.search(r"<base\b[^<>]*>", page[:100_000], re.I)
    href = next((a or b or c for k, a, b, c in _ATTR.findall(m.group(0)) if k.lower() == "href"), None) if m else None
    return (joined(address, html.unescape(href.strip())) if href and href.strip() else None) or address


def discover_links(page: str, base: str) -> list[tuple[str, str | None]]:
    """Feed links of an HTML page: <link rel="alternate" type="application/rss+xml" href=...>, the quotes
    around a value there or not."""
    found: dict[str, str | None] = {}  # url -> title, in the page's order
    base = page_base(page, base)
    for tag in re.findall(r"<link\b[^<>]*>", page, re.I):
        attrs = {k.lower(): html.unescape(a or b or c) for k, a, b, c in _ATTR.findall(tag)}
        rels = attrs.get("rel", "").lower().split()
        if (
            "alternate" in rels
            and attrs.get("type", "").lower().split(";")[0].strip() in _FEED_TYPES
            and attrs.get("href")
        ):
            if url := joined(base, attrs["href"]):
                found.setdefault(url, attrs.get("title"))
    return list(found.items())


# Where sites keep their feed when the page does not announce it (WordPress, Blogger, static site generators).
COMMON_FEED_PATHS = ("/feed", "/rss", "/feed.xml", "/rss.xml", "/atom.xml", "/index.xml", "/feeds/posts/default")
# The feed of a page itself: WordPress category and tag pages (/feed), Reddit and others (.rss), /rss.
PAGE_FEED_SUFFIXES = ("/feed", "/.rss", ".rss", "/rss")
_FEEDISH_HREF = re.compile(r"(?:^|/)(?:feed|rss|atom)(?:\.xml|\.rss|\.atom)?/?$|\.(?:rss|atom)$", re.I)


def is_comments_feed(url: str, title: str | None) -> bool:
    """A blog's comments feed (WordPress announces "Comments Feed" beside the posts feed)."""
    parts = urlsplit(url)
    return bool(
        re.search(r"\bcomments\b", title or "", re.I)
        or re.search(r"(?:^|[/=])comments(?:[/.=-]|$)", f"{parts.path}?{parts.query}", re.I)
    )


def feedish_anchors(page: str, base: str) -> list[str]:
    """Links of a page (<a href>) that look like feeds: .../feed, .../rss.xml, ....atom."""
    out: dict[str, None] = {}  # in the page's order
    base = page_base(page, base)
    for quoted, bare in re.findall(r"<a\b[^<>]*?\bhref\s*=\s*(?:[\"']([^\"'<>]+)|([^\s\"'<>=`]+))", page, re.I):
        url = joined(base, html.unescape(quoted or bare))
        parts = url_parts(url) if url else None
        if url and parts and parts.scheme in ("http", "https") and _FEEDISH_HREF.search(parts.path):
            out[url] = None
    return list(out)


async def probe_feed(fetcher: Fetcher, page: str, base: str) -> tuple[str, str | None] | None:
    """A page that announces no feed: try its feed-like links, then the page's own feed where sites keep it
    (a WordPress category's /feed, a subreddit's .rss), then the usual feed paths of its site."""
    parts = urlsplit(base)
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    own = [f"{origin}{path}{suffix}" for suffix in PAGE_FEED_SUFFIXES] if path else []
    tried: list[str] = []
    for url in [*feedish_anchors(page, base)[:5], *own, *(origin + p for p in COMMON_FEED_PATHS)]:
        if url in tried:
            continue
        tried.append(url)
        result = await fetcher.fetch(url)
        if not result.ok or not result.body:
            continue
        try:
            parsed = parse_feed(result.body, url, result.content_type, base=result.final_url)
        except ParseError:
            continue
        return result.final_url or url, parsed.title
    return None


async def add_feed(
    config_dir: Path, url: str, *, title: str | None = None, interval: str | None = None, tags: list[str] | None = None
) -> list[str]:
    """Add a feed. A web page is fetched and its feeds discovered; what was found is reported."""
    url = url.strip()
    if not url:
        raise ConfigError("feeds add: no URL given", hint="aggregator feeds add https://example.org/feed.xml")
    try:
        target = typed_feed_url(url, config_dir)
    except ValueError as e:
        raise ConfigError(f"cannot add {url}: {e}", hint="give an http(s) URL, a file:// URL or a path") from e
    try:
        seconds = parse_feed_interval(interval, target) if interval else None
    except ValueError as e:
        raise ConfigError(f"--interval: {e}, got {interval!r}", hint="for example --interval 30m") from e
    where = display_path(feeds_path(config_dir))
    known = {f.url for f in load_feeds(config_dir)} if feeds_path(config_dir).exists() else set()
    if target in known:
        return [f"already in {where}: {target}"]
    specs: list[FeedSpec] = []
    lines: list[str] = []
    async with Fetcher() as fetcher:
        result = await fetcher.fetch(target)
        if not result.ok:
            raise ConfigError(
                f"cannot add {url}: {result.error}", hint="check the URL, or add it to feeds.toml by hand"
            )
        try:
            parsed = parse_feed(result.body or b"", target, result.content_type, base=result.final_url)
            specs.append(FeedSpec(target, title or parsed.title, seconds, tuple(tags or ())))
            lines.append(f"added feed {target} ({parsed.title or 'untitled'}, {len(parsed.entries)} entries)")
        except ParseError as e:
            if e.blocked:  # nothing to discover in a challenge page
                raise ConfigError(
                    f"cannot add {url}: the site answered with a bot check (Cloudflare or the like), not a feed",
                    hint="it blocks automated readers: ask the publisher, or find the feed elsewhere",
                ) from e
            if result.final_url and is_consent_redirect(target, result.final_url):
                raise ConfigError(
                    f"cannot add {url}: the site sent its cookie-consent page ({result.final_url.split('?')[0]}), "
                    "not a feed",
                    hint="it asks a browser's answer first: find the feed at another address (a news search feed)",
                ) from e
            page = (result.body or b"").decode("utf-8", "replace")
            links = discover_links(page, result.final_url)
            how = "discovered and added"
            if not links:
                probed = await probe_feed(fetcher, page, result.final_url)
                if probed is None:
                    raise ConfigError(
                        f"{url}: neither a feed nor a page that links to one (tried its feed-like links and "
                        f"{', '.join(COMMON_FEED_PATHS)})",
                        hint="find the feed's address on the site and add that",
                    ) from None
                links, how = [probed], "found by trying and added"
            # the page's first feed is its main one (HTML: the first alternate is preferred); the others are
            # the same feed in another format, sections, comments: listed for the user to pick, not added
            main = next(((u, t) for u, t in links if not is_comments_feed(u, t)), links[0])
            link, link_title = main
            if link in known:
                lines.append(f"already in {where}: {link}")
            else:
                specs.append(FeedSpec(link, title or link_title, seconds, tuple(tags or ())))
                lines.append(f"{how} {link}" + (f" ({link_title})" if link_title else ""))
            for link, link_title in links:
                if (link, link_title) != main:
                    what = "a comments feed" if is_comments_feed(link, link_title) else "also on the page"
                    named = f" ({link_title})" if link_title else ""
                    lines.append(f"not added, {what}: {link}{named} (add it by its address if you want it)")
    _append(config_dir, specs)
    return lines


# --- OPML --------------------------------------------------------------------------------


@dataclass
class OpmlReport:
    feeds: list[FeedSpec] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    added: int = 0
    known: int = 0
    source: str = ""  # where it was read from, as the user would name it


def read_opml(data: str | bytes, where: str = "OPML") -> OpmlReport:
    """Every feed of an OPML document, folders as tags; lenient about common breakage: unescaped `&`
    and quotes in attributes, attribute names in any case (xmlURL), `feed://` URLs, and bytes in the
    encoding the XML declaration names."""
    attempts: list[bytes] = []
    if isinstance(data, bytes):
        attempts.append(data)  # as it is: the parser honours the declared encoding
        text = decode_document(data)
    else:
        text = data
    fixed = re.sub(r"&(?!(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);)", "&amp;", text)
    attempts += [_utf8(text), _utf8(fixed)]
    for attempt in attempts:
        try:
            root = ET.fromstring(attempt)
        except ET.ParseError:
            continue
        report = OpmlReport()
        body = root.find("body")
        _walk(body if body is not None else root, [], report)
        if not report.feeds and not report.problems:
            raise OpmlError(f"{where}: no feed found: not an OPML file, or one with no outline xmlUrl")
        return report
    return _scan(text, where)


def _utf8(text: str) -> bytes:
    """Text as UTF-8 bytes that say so (a declaration naming another encoding would mislead the parser)."""
    text = re.sub(r"""^\s*<\?xml[^>]*\?>""", "", text.lstrip("\ufeff"))
    return text.encode("utf-8")


def _get(attrs: Mapping[str, str], name: str) -> str | None:
    """An OPML attribute by name in any case (exporters write xmlUrl, xmlurl or xmlURL)."""
    value = attrs.get(name)
    if value is None:
        lower = name.lower()
        value = next((v for k, v in attrs.items() if k.lower() == lower), None)
    return value


def _walk(node: ET.Element, folders: list[str], report: OpmlReport) -> None:
    for child in node.findall("outline"):
        a = child.attrib
        url = _get(a, "xmlUrl") or (_get(a, "url") if (_get(a, "type") or "").lower() in ("rss", "atom") else None)
        name = _get(a, "title") or _get(a, "text")
        if url and url.strip():
            if problem := _scraped(name, a, url.strip()):
                report.problems.append(problem)
            else:
                _add_spec(report, url.strip(), name, folders + _categories(_get(a, "category")))
        elif child.find("outline") is None and (problem := _not_a_feed(name, a)):
            report.problems.append(problem)
        else:
            _walk(child, folders + [name] if name else folders, report)


# FreshRSS exports the web pages it scrapes itself (its "HTML + XPath", "XML + XPath" and "JSON + dot notation"
# sources) as outlines whose xmlUrl is the page: no feed is there to read
_SCRAPER_TYPE = re.compile(r"xpath|dotnotation|dotpath", re.I)


def _scraped(name: str | None, attrs: Mapping[str, str], url: str) -> str | None:
    """What to say of an outline whose xmlUrl is a page another reader scrapes; None for a feed."""
    kind = _get(attrs, "type") or ""
    if not _SCRAPER_TYPE.search(kind):
        return None
    label = f"{html.unescape(name).strip()}: " if name and name.strip() else ""
    return (
        f"{label}{url} is a page another reader scrapes (type {kind}), not a feed "
        f"(`aggregator feeds add {url}` looks for one it announces)"
    )


def _not_a_feed(name: str | None, attrs: Mapping[str, str]) -> str | None:
    """What to say of an outline with no feed URL: one that names another OPML list (type "include", or a
    link to a .opml file) or a web page (htmlUrl, or a link's url); None when it names nothing."""
    label = f"{html.unescape(name).strip()}: " if name and name.strip() else ""
    kind = (_get(attrs, "type") or "").lower()
    link = (_get(attrs, "url") or "").strip()
    if link and (kind == "include" or (kind == "link" and (p := url_parts(link)) and p.path.lower().endswith(".opml"))):
        return f"{label}{link} is another OPML list, not a feed (`aggregator feeds import {link}` adds its feeds)"
    page = (_get(attrs, "htmlUrl") or "").strip() or link
    if not page:
        return None
    return f"{label}{page} is listed as a page, not as a feed (`aggregator feeds add {page}` finds the feed)"


def _categories(value: str | None) -> list[str]:
    """OPML 2.0 `category`: comma-separated tags or slash-delimited paths ("/Tech/AI"): the last part of a path
    (written from the root, "/..."), a tag whole (ours, exported by `feeds export`, may hold a slash: "tech/china")."""
    if not value:
        return []
    parts = (part.strip() for part in value.split(","))
    return [
        part.strip("/ ").rsplit("/", 1)[-1].strip() if part.startswith("/") else part
        for part in parts
        if part.strip("/ ")
    ]


def _add_spec(report: OpmlReport, url: str, name: str | None, folders: list[str]) -> None:
    # feed://host/path and feed:https://host/path (old Apple and Firefox lists) are http(s); a space in a
    # path is %20 (normalise_feed_url, as for feeds.toml); a protocol-relative "//host/feed" and a bare
    # "host.example/feed" are https, as `feeds add` reads them; anything else that is not an http(s) URL is
    # reported
    url = url.strip()
    if url.startswith("//"):
        url = "https:" + url
    elif "://" not in url and not url.lower().startswith("feed:") and looks_like_a_host(url):
        url = "https://" + url
    try:
        if urlsplit(without_feed_scheme(url)).scheme.lower() not in ("http", "https"):
            raise ValueError("not http(s)")
        url = normalise_feed_url(url, Path("."))
    except ValueError:
        report.problems.append(f"{url}: not an http(s) feed URL")
        return
    tags = tuple(dict.fromkeys(f.strip() for f in folders if f and f.strip()))
    report.feeds.append(FeedSpec(url, html.unescape(name).strip() if name else None, None, tags))


_ATTR_START = re.compile(r'\s([A-Za-z_:][\w:.-]*)\s*=\s*"')


def _attrs(tag: str) -> dict[str, str]:
    """Attributes of one tag, tolerating unescaped quotes inside values: a value runs to the last
    quote before the next ` name="` or the end of the tag."""
    starts = list(_ATTR_START.finditer(tag))
    out = {}
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(tag)
        chunk = tag[m.end() : end]
        q = chunk.rfind('"')
        out[m.group(1)] = html.unescape(chunk[:q] if q != -1 else chunk)
    return out


def _scan(text: str, where: str) -> OpmlReport:
    report = OpmlReport()
    folders: list[str] = []
    for line_tag in re.finditer(r"<(/?)outline\b([^<]*?)(/?)>|</outline>", text):
        closing, body, selfclose = line_tag.group(1), line_tag.group(2) or "", line_tag.group(3)
        if line_tag.group(0) == "</outline>" or closing:
            if folders:
                folders.pop()
            continue
        attrs = _attrs(" " + body)
        url = (_get(attrs, "xmlUrl") or "").strip()
        name = _get(attrs, "title") or _get(attrs, "text")
        if url:
            if problem := _scraped(name, attrs, url):
                report.problems.append(problem)
            else:
                _add_spec(report, url, name, folders + _categories(_get(attrs, "category")))
            if not selfclose:
                folders.append("")
        elif re.search(r"xmlurl\s*=\s*(?!\"\s*\"|'\s*')", body, re.I):
            line = text.count("\n", 0, line_tag.start()) + 1
            report.problems.append(f"{where}:{line}: an outline with an unreadable xmlUrl")
        elif selfclose and (problem := _not_a_feed(name, attrs)):
            report.problems.append(problem)
        elif not selfclose:
            folders.append(name or "")
    if not report.feeds and not report.problems:
        raise OpmlError(f"{where}: no feed found: not an OPML file, or one with no outline xmlUrl")
    return report


def import_opml(config_dir: Path, path: Path | str) -> OpmlReport:
    """Add the feeds of an OPML file, or of one online (an http(s) URL: a shared subscription list)."""
    if isinstance(path, str) and is_web_url(path):
        result = asyncio.run(fetch_once(path))
        if not result.ok or not result.body:
            raise OpmlError(  # (the fetch's hints speak of a feed in feeds.toml)
                f"cannot fetch {path}: {result.error or 'empty answer'}",
                hint="check the list's address, or save the list and import the file",
            )
        data, where = result.body, path
    else:
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as e:
            raise OpmlError(f"{path}: cannot read: {e.strerror}") from e
        where = display_path(path)
    try:
        report = read_opml(data, where)
    except OpmlError as e:
        raise OpmlError(str(e), hint=_not_a_list(data, str(path))) from e
    report.added = _append(config_dir, report.feeds)
    report.known = len({f.url for f in report.feeds}) - report.added
    report.source = where
    return report


def _not_a_list(data: bytes, named: str) -> str | None:
    """What to do with a document given to `feeds import` that holds no feed list: a feed itself, or a web page
    (whose feeds `feeds add` finds)."""
    try:
        parsed = parse_feed(data, named)
    except ParseError as e:
        if not e.page:
            return None
        site = named if is_web_url(named) else "SITE"  # a page saved to disk: its site's address finds its feeds
        return f"it is a web page, not a list of feeds: `aggregator feeds add {site}` finds the site's feed"
    if parsed.entries or parsed.title:
        return f"it is a feed, not a list of feeds: `aggregator feeds add {named}`"
    return None


def _attr(text: str) -> str:
    return quoteattr(xml_safe(text))


def export_opml(feeds: list[FeedSpec]) -> str:
    """OPML 2.0; a feed's first tag becomes its folder."""
    folders: dict[str, list[FeedSpec]] = {}
    for f in feeds:
        folders.setdefault(f.tags[0] if f.tags else "", []).append(f)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        "  <head><title>aggregator feeds</title></head>",
        "  <body>",
    ]

    def line(f: FeedSpec, indent: str) -> str:
        name = _attr(f.title or f.url)
        # every tag, as OPML 2.0 categories (the folder holds only the first)
        category = f" category={_attr(','.join(t.replace(',', ' ') for t in f.tags))}" if f.tags else ""
        return f'{indent}<outline type="rss" text={name} title={name} xmlUrl={_attr(f.url)}{category}/>'

    for folder, items in folders.items():
        if folder:
            out.append(f"    <outline text={_attr(folder)} title={_attr(folder)}>")
            out.extend(line(f, "      ") for f in items)
            out.append("    </outline>")
        else:
            out.extend(line(f, "    ") for f in items)
    out += ["  </body>", "</opml>", ""]
    return "\n".join(out)
