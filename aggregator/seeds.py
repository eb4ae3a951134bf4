"""Seed articles: the user's own corpus. Read plain text, Markdown with front matter, and HTML.

Plain text (the format of `seeds/`): first line the title, then an optional `Published:` line,
then the body. Markdown: an optional `---` front matter block with `title:`, `published:`/`date:`
and `url:`; else the first `# heading` is the title. HTML: `og:title` or `<title>` or `<h1>`,
`article:published_time` or `<time datetime>`, `<link rel=canonical>`, and the text of
`<article>` (or `<body>`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from aggregator.errors import SeedError
from aggregator.models import Seed
from aggregator.normalise import content_hash, html_to_text

SEED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
_DATE_FORMATS = (
    "%b %d, %Y %I:%M %p",
    "%B %d, %Y %I:%M %p",
    "%b %d, %Y",
    "%B %d, %Y",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%d %B %Y",
    "%d %b %Y",
)


def parse_date(text: str | None) -> datetime | None:
    if not text:
        return None
    text = text.strip().strip('"').strip()
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC)
    except ValueError:
        pass
    cleaned = re.sub(r"\s+(UTC|GMT)$", "", text)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    try:  # RFC 2822 last: its parser is lenient and misreads "06:19 PM"
        dt = parsedate_to_datetime(text)
        return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC)
    except (TypeError, ValueError, IndexError):
        return None


def find_seed_files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(
                sorted(
                    f
                    for f in p.rglob("*")
                    if f.is_file() and f.suffix.lower() in SEED_SUFFIXES and not f.name.startswith(".")
                )
            )
        elif p.is_file():
            out.append(p)
        else:
            raise SeedError(f"{p}: no such file or folder", hint="give seed files or folders that hold them")
    return out


def read_seed(path: Path) -> Seed:
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raw = path.read_bytes().decode("latin-1")
    except OSError as e:
        raise SeedError(f"{path}: cannot read the seed: {e.strerror}") from e
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm") or raw.lstrip()[:15].lower().startswith(("<!doctype", "<html")):
        title, published, url, text = _from_html(raw)
    elif suffix in (".md", ".markdown"):
        title, published, url, text = _from_markdown(raw)
    else:
        title, published, url, text = _from_text(raw)
    text = " ".join(text.split())
    if not title and not text:
        raise SeedError(f"{path}: the seed is empty", hint="a seed needs a title line and a body")
    title = title or text[:80]
    return Seed(
        path=str(path.resolve()),
        title=title,
        published=published,
        text=text,
        content_hash=content_hash(title, text),
        url=url,
    )


def _from_text(raw: str) -> tuple[str, datetime | None, str | None, str]:
    lines = raw.splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    title = lines.pop(0).strip() if lines else ""
    published = None
    url = None
    for i, line in enumerate(lines[:5]):
        m = re.match(r"\s*(published|date|url|source)\s*:\s*(.+)$", line, re.I)
        if m and m.group(1).lower() in ("published", "date"):
            published = parse_date(m.group(2))
            lines[i] = ""
        elif m and m.group(2).startswith("http"):
            url = m.group(2).strip()
            lines[i] = ""
    return title, published, url, "\n".join(lines)


def _from_markdown(raw: str) -> tuple[str, datetime | None, str | None, str]:
    meta: dict[str, str] = {}
    body = raw
    m = re.match(r"\A---\s*\n(.*?)\n---\s*\n", raw, re.S)
    if m:
        for line in m.group(1).splitlines():
            key, sep, value = line.partition(":")
            if sep:
                meta[key.strip().lower()] = value.strip().strip("\"'")
        body = raw[m.end() :]
    title = meta.get("title", "")
    if not title:
        h = re.search(r"^#\s+(.+)$", body, re.M)
        if h:
            title = h.group(1).strip()
            body = body[: h.start()] + body[h.end() :]
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", body)  # images
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links -> their text
    text = re.sub(r"^[#>*\-\s]+", "", text, flags=re.M)
    text = re.sub(r"[*_`]+", "", text)
    return title, parse_date(meta.get("published") or meta.get("date")), meta.get("url"), text


def _meta(raw: str, prop: str) -> str | None:
    for pattern in (
        rf'<meta[^>]+(?:property|name)=["\']{prop}["\'][^>]*content=["\']([^"\']*)["\']',
        rf'<meta[^>]+content=["\']([^"\']*)["\'][^>]*(?:property|name)=["\']{prop}["\']',
    ):
        m = re.search(pattern, raw, re.I)
        if m:
            return m.group(1)
    return None


def _from_html(raw: str) -> tuple[str, datetime | None, str | None, str]:
    title = _meta(raw, "og:title")
    if not title:
        m = re.search(r"<title[^>]*>(.*?)</title>", raw, re.I | re.S) or re.search(
            r"<h1[^>]*>(.*?)</h1>", raw, re.I | re.S
        )
        title = html_to_text(m.group(1)) if m else ""
    published = parse_date(_meta(raw, "article:published_time"))
    if published is None:
        m = re.search(r"<time[^>]+datetime=[\"']([^\"']+)", raw, re.I)
        published = parse_date(m.group(1)) if m else None
    m = re.search(r"<link[^>]+rel=[\"']canonical[\"'][^>]*href=[\"']([^\"']+)", raw, re.I)
    url = m.group(1) if m else None
    body = re.search(r"<article[^>]*>(.*?)</article>", raw, re.I | re.S) or re.search(
        r"<body[^>]*>(.*?)</body>", raw, re.I | re.S
    )
    text = html_to_text(body.group(1) if body else raw)
    if title and text.startswith(title):
        text = text[len(title) :]
    return html_to_text(title), published, url, text
