"""Seed articles: the user's own corpus. Read plain text, Markdown with front matter, HTML, and mails.

Plain text (the format of `seeds/`): first line the title, then an optional `Published:` line,
then the body. Markdown: an optional `---` front matter block with `title:`, `published:`/`date:`
and `url:` (or `source:`, `link:`, `canonical_url:`); else the first `# heading` is the title.
HTML (a saved web page): `og:title`,
JSON-LD headline, `<h1>` or `<title>` (less the site's name); `article:published_time`, JSON-LD
datePublished or `<time datetime>`; `<link rel=canonical>` or `og:url`; and the main text (see
`_from_html`), so that menus, teasers and footers do not become part of the article.
"""

from __future__ import annotations

import html
import json
import plistlib
import re
import xml.parsers.expat
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy as email_policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit

from aggregator.dates import MONTHS, ZONES, read_date
from aggregator.errors import SeedError
from aggregator.fetch import fetch_once
from aggregator.models import Seed
from aggregator.normalise import (
    MAX_TITLE,
    VOID_TAGS,
    content_hash,
    decode_document,
    has_cjk,
    headline_of,
    html_to_text,
    joined,
)
from aggregator.parse import is_bot_check, is_consent_redirect

HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml")
MHTML_SUFFIXES = (".mhtml", ".mht")  # Chrome's and Edge's "Webpage, Single File"
# read from a seeds folder; a file without a suffix is plain text (a file named on the command line is read
# whatever its name)
SEED_SUFFIXES = (".txt", ".text", ".md", ".markdown", "", ".eml", *HTML_SUFFIXES, *MHTML_SUFFIXES)
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
    try:  # RFC 2822 next: its parser is lenient and misreads "06:19 PM"
        dt = parsedate_to_datetime(text)
        return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC)
    except (TypeError, ValueError, IndexError):
        return read_date(text)  # "28. November 2026", "28.11.2026 10:00", "Nov 28th, 2026 at 9:15 pm EST"


def find_seed_files(paths: list[Path], other: list[Path] | None = None) -> list[Path]:
    """The seed files of ``paths`` (files, and the seed files of folders). ``other`` collects the files of
    those folders that are not read as seeds (another suffix: a PDF, a Word file), to be reported."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            for f in sorted(f for f in p.rglob("*") if f.is_file() and not _not_a_document(f, p)):
                if f.suffix.lower() in SEED_SUFFIXES:
                    out.append(f)
                elif other is not None:
                    other.append(f)
        elif p.is_file():
            out.append(p)
        else:
            raise SeedError(f"{p}: no such file or folder", hint="give seed files or folders that hold them")
    return out


_SYSTEM_FILES = frozenset({"thumbs.db", "desktop.ini", "icon\r"})


def _not_a_document(f: Path, root: Path) -> bool:
    """A file of a seeds folder that is nobody's article: hidden (or in a hidden folder: an Obsidian vault's
    .obsidian/), the system's (Thumbs.db, desktop.ini), or in the folder of resources a browser saves beside a
    page ("Web Page, complete": page.html and page_files/ with its scripts, pictures and framed ads)."""
    if f.name.lower() in _SYSTEM_FILES:
        return True
    parents = f.relative_to(root).parts[:-1]
    if any(part.startswith(".") for part in (*parents, f.name)):
        return True
    for n, part in enumerate(parents):
        if part.endswith("_files"):
            beside = root.joinpath(*parents[:n])
            if any((beside / (part[: -len("_files")] + suffix)).is_file() for suffix in HTML_SUFFIXES):
                return True
    return False


MAX_SEED_BYTES = 64 * 2**20  # a page saved with its pictures (.mhtml) is a few MB; a video named .txt is not read


def read_seed(path: Path) -> Seed:
    try:
        size = path.stat().st_size
        if size > MAX_SEED_BYTES:
            raise SeedError(
                f"{path}: {size / 2**20:.0f} MiB, too large for an article (at most {MAX_SEED_BYTES // 2**20} MiB)",
                hint="save the article's text (.txt) or its web page without pictures (.html) and import that",
            )
        data = path.read_bytes()
    except OSError as e:
        raise SeedError(f"{path}: cannot read the seed: {e.strerror}") from e
    if shortcut := shortcut_error(path, data):
        raise shortcut
    if kind := _binary_kind(data):
        if path.suffix.lower() == ".msg" and kind == _OLE:  # Outlook's own format
            raise outlook_error(path)
        raise SeedError(
            f"{path}: {kind}, not text: a seed is plain text, Markdown, a saved web page or a saved mail",
            hint="save the article's text (.txt) or its web page (.html) and import that",
        )
    suffix = path.suffix.lower()
    if suffix in MHTML_SUFFIXES or (suffix != ".eml" and _MHTML_HEAD.search(data[:4096])):
        title, published, url, text = _from_mhtml(data, path)
        return _seed(path, title, published, url, text)
    if suffix == ".eml":
        title, published, url, text = _from_email(data)
        return _seed(path, title, published, url, text)
    raw = decode_document(data)
    if suffix in HTML_SUFFIXES or raw.lstrip()[:15].lower().startswith(("<!doctype", "<html")):
        title, published, url, text = _from_html(raw)
        if len(text.split()) < CHALLENGE_WORDS and is_bot_check(data):  # an article mentioning one has more text
            raise SeedError(
                f'{path}: a bot check (Cloudflare\'s "Just a moment..." or the like) saved in place of the article',
                hint="open the article in the browser, wait for it to load, and save the page again",
            )
    elif suffix in (".md", ".markdown"):
        title, published, url, text = _from_markdown(raw)
    else:
        title, published, url, text = _from_text(raw)
    return _seed(path, title, published, url, text)


CHALLENGE_WORDS = 150  # a bot check's page says a line or two ("Verifying you are human..."), an article more
SHORTCUT_SUFFIXES = frozenset({".url", ".webloc", ".desktop"})
_SHORTCUT_URL = re.compile(r"^URL\s*=\s*(https?://\S+)", re.M | re.I)  # Windows' .url, a Linux desktop's .desktop


def shortcut_error(path: Path, data: bytes | None = None) -> SeedError | None:
    """What to say of a link to an article saved as a file (a link dragged from the browser to the seeds folder:
    Windows' .url, macOS' .webloc, a Linux desktop's .desktop): the command that imports the article; None for
    another file. ``data``: the file's bytes, when already read."""
    if path.suffix.lower() not in SHORTCUT_SUFFIXES:
        return None
    try:
        data = path.read_bytes() if data is None else data
    except OSError:
        return None
    url = None
    if path.suffix.lower() == ".webloc":
        try:
            found = plistlib.loads(data).get("URL")  # XML or binary property list
        except (plistlib.InvalidFileException, ValueError, AttributeError, xml.parsers.expat.ExpatError):
            found = None
        url = found if isinstance(found, str) and found.startswith(("http://", "https://")) else None
    elif m := _SHORTCUT_URL.search(data.decode("utf-8", "replace")):
        url = m.group(1)
    if url is None:
        return None
    return SeedError(
        f"{path}: a link to {url}, not the article",
        hint=f"`aggregator seeds import {url}` fetches the article and saves it in the seeds folder",
    )


def outlook_error(path: Path) -> SeedError:
    """What to say of an Outlook message (.msg) given as a seed, by name or in the seeds folder."""
    return SeedError(
        f"{path}: an Outlook message (.msg), not a standard mail file",
        hint="save it from Outlook as .eml (File > Save As, or drag it to a folder) and import that",
    )


_OLE = "an old Word or Office file"  # Microsoft's compound file: .doc, .xls, .ppt, Outlook's .msg
_MAGIC = (
    (b"%PDF-", "a PDF"),
    (b"PK\x03\x04", "a Word, OpenDocument, EPUB or ZIP file"),
    (b"\xd0\xcf\x11\xe0", _OLE),
    (b"{\\rtf", "an RTF file"),
    (b"\x89PNG", "a picture"),
    (b"\xff\xd8\xff", "a picture"),
    (b"GIF8", "a picture"),
    (b"bplist00", "a Safari web archive or another binary property list"),
)


def _binary_kind(data: bytes) -> str | None:
    """What a file that is no text is (a PDF, a Word file...), by its first bytes; None for text."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    head = data[:8192]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text has NULs too
        return "a binary file"
    return None


def _seed(path: Path, title: str, published: datetime | None, url: str | None, text: str) -> Seed:
    text = " ".join(text.split())
    if not title and not text:
        raise SeedError(f"{path}: the seed is empty", hint="a seed needs a title line and a body")
    title = title or headline_of(text)  # no headline: the first sentence, or words cut between words
    return Seed(
        path=str(path.resolve()),
        title=title,
        published=published,
        text=text,
        # the address and date too: a seed file edited to add its URL or date line is imported again
        content_hash=content_hash(title, f"{text}\n{url or ''}\n{published.isoformat() if published else ''}"),
        url=url,
    )


THIN_WORDS = 40  # a seed with less text than this is a teaser, not the article


def thin(seed: Seed, shown_path: str) -> str | None:
    """A warning for a seed whose text is too short to be an article (a paywall's or a script-built page's
    shell, a teaser): it can match only copies of those few words. None for an article."""
    n = len(seed.text.split())
    if has_cjk(seed.text):  # no spaces between words: about two characters a word
        n = max(n, len(seed.text) // 2)
    if n >= THIN_WORDS:
        return None
    return (
        f'{shown_path}: "{seed.title[:60]}" has only {n} words of text (a paywall, a teaser, or a page a script '
        "fills in?): only copies of those words are recognised; save the whole article from your browser "
        "(.html or .txt) in its place"
    )


async def download_seed(url: str, folder: Path) -> Path:
    """Fetch an article's page and save it in ``folder`` (the seeds folder) as a seed: a saved page, read as
    any other, that stays the user's. Its address is written into it as `<link rel=canonical>` when the page
    names none (as `<base href>` when its canonical is relative), so that the feed items linking to it are
    recognised as the seed. Returns the file."""
    result = await fetch_once(url)
    if not result.ok or not result.body:
        raise SeedError(
            f"cannot fetch {url}: {result.error or 'empty answer'}",
            hint="check the address, or save the page from the browser into the seeds folder",
        )
    kind = (result.content_type or "text/html").split(";")[0].strip().lower()
    if "html" not in kind:
        raise SeedError(f"{url}: not a web page ({kind})", hint="save the article as text or HTML and import the file")
    if is_bot_check(result.body):
        raise SeedError(
            f"{url}: the site answered with a bot check (Cloudflare or the like), not the article",
            hint="open it in a browser, save the page (.html) into the seeds folder",
        )
    if result.final_url and is_consent_redirect(url, result.final_url):
        raise SeedError(
            f"{url}: the site sent its cookie-consent page ({result.final_url.split('?')[0]}), not the article",
            hint="open it in a browser, answer the consent question, and save the page (.html) into the seeds folder",
        )
    page = decode_document(result.body)
    address = result.final_url or url
    about = _Head(page)
    if _page_url(about, _json_ld_article(page)) is None:
        # a relative canonical is read against the page's address, now written in as its base
        element = "base" if about.canonical else 'link rel="canonical"'
        tag = f'<{element} href="{html.escape(address)}">'
        head = re.search(r"<head[^<>]*>", page, re.I)
        page = page[: head.end()] + tag + page[head.end() :] if head else tag + page
    # the same article fetched again replaces its file (its page changes: ads, a correction); another
    # article whose address makes the same name gets a numbered one
    path = folder / (_file_stem(address) + ".html")
    n = 1
    while path.exists() and html.escape(address) not in path.read_text(encoding="utf-8", errors="replace"):
        n += 1
        path = folder / f"{_file_stem(address)}-{n}.html"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(page, encoding="utf-8")
        tmp.replace(path)
    except OSError as e:
        raise SeedError(f"{path}: cannot save the page: {e.strerror}", hint="check the seeds folder") from e
    return path


def _file_stem(url: str) -> str:
    """A file name for a page: the last words of its path ("us-reviews-alibaba-cloud"), else its host."""
    parts = urlsplit(url)
    segments = [s for s in unquote(parts.path).split("/") if s]
    stem = re.sub(r"\.(?:s?html?|php|aspx?)$", "", segments[-1], flags=re.I) if segments else ""
    if len(re.sub(r"\d", "", stem)) < 4 and len(segments) > 1:  # /news/2026/11/28/123456: the segment before
        stem = segments[-2] + "-" + stem
    stem = re.sub(r"[^\w.-]+", "-", stem or parts.hostname or "page").strip("-.")[:80]
    return f"{parts.hostname or 'page'}-{stem}" if stem != parts.hostname else stem


def _from_email(data: bytes) -> tuple[str, datetime | None, str | None, str]:
    """A newsletter saved from a mail client (.eml): its subject, date and text (the HTML part read as a
    page, else the plain one). A forwarded one is the newsletter it forwards: the attached message
    (forwarded as an attachment), or the part after the forwarded header block, whose subject and date are
    the newsletter's; "Fwd:" and "Re:" are no part of a title."""
    msg = BytesParser(policy=email_policy.default).parsebytes(data)
    for _ in range(5):  # a forward of a forward: the innermost message
        inner = next((p for p in msg.iter_attachments() if p.get_content_type() == "message/rfc822"), None)
        if inner is None:
            break
        msg = inner.get_content()
    title, date = str(msg.get("Subject") or ""), str(msg.get("Date") or "")
    text = ""
    forwarded: dict[str, str] = {}
    try:
        html_part = msg.get_body(preferencelist=("html",))
        if html_part is not None:
            page = _parsed_page(_MainText(mail=True), html_part.get_content())
            forwarded, start = _forwarded([b.text for b in page.blocks])
            text = _main_of([b for b in _paragraphs_from(page, start) if not _mail_chrome(b.text)])
        if not text.strip():
            plain = msg.get_body(preferencelist=("plain",))
            lines = plain.get_content().splitlines() if plain is not None else []
            forwarded, start = _forwarded(lines)
            text = "\n".join(line for line in lines[start:] if not _mail_chrome(line))
    except (LookupError, UnicodeError, AttributeError):  # an unknown charset, a broken part
        text = text or ""
    title = _REPLY_PREFIX.sub("", " ".join(forwarded.get("subject", title).split()))
    date = forwarded.get("date") or date
    return title, parse_date(date) if date else None, None, text


# A page saved as one MIME file (.mhtml) under another name: Chrome and Edge write "From: <Saved by Blink>" and
# Snapshot-Content-Location at the top.
_MHTML_HEAD = re.compile(rb"^(?:From: <Saved by |Snapshot-Content-Location:)", re.I | re.M)


def _from_mhtml(data: bytes, path: Path) -> tuple[str, datetime | None, str | None, str]:
    """A web page saved as a single file (.mhtml, .mht): a MIME multipart/related message whose first text/html
    part is the page, read as a saved page is. Its address is the page's own, else the one the browser saved
    it from (Snapshot-Content-Location, the part's Content-Location). The message's Date is when it was saved,
    not when the article was published: not used."""
    msg = BytesParser(policy=email_policy.default).parsebytes(data)
    page = next((p for p in msg.walk() if p.get_content_type() in ("text/html", "application/xhtml+xml")), None)
    body = page.get_payload(decode=True) if page is not None else None
    if page is None or not isinstance(body, bytes) or not body.strip():
        raise SeedError(
            f"{path}: a single-file web archive with no web page in it",
            hint="save the article's page again (as .html or .mhtml) and import that",
        )
    charset = page.get_content_charset()
    try:
        raw = body.decode(charset) if charset else decode_document(body)
    except (LookupError, UnicodeDecodeError):
        raw = decode_document(body)
    title, published, url, text = _from_html(raw)
    if url is None:
        for found in (msg.get("Snapshot-Content-Location"), page.get("Content-Location")):
            if found and str(found).strip().lower().startswith(("http://", "https://")):
                url = str(found).strip()
                break
    if not title:
        title = " ".join(str(msg.get("Subject") or "").split())
    return title, published, url, text


# A forwarded mail's header block as mail clients write it inline: Gmail's "---------- Forwarded message
# ---------", Outlook's "-----Original Message-----" or a rule of underscores, Apple Mail's "Begin forwarded
# message:", Thunderbird's "-------- Forwarded Message --------", in the languages people use them in.
_FORWARD_MARK = re.compile(
    r"^[-_=\s>]*(?:forwarded message|original message|begin forwarded message|message transf[ée]r[ée]|"
    r"message d'origine|weitergeleitete nachricht|urspr[üu]ngliche nachricht|mensaje reenviado|mensaje original|"
    r"mensagem encaminhada|messaggio inoltrato|messaggio originale|doorgestuurd bericht|oorspronkelijk bericht|"
    r"_{10,})[-_=\s:]*$",
    re.I,
)
_HEADER_LINE = re.compile(r"^[>\s]*([^\W\d_][\w-]{0,15})\s*:\s*(.*)$")
_HEADER_KEYS = {
    **dict.fromkeys(("subject", "betreff", "objet", "asunto", "assunto", "oggetto", "onderwerp"), "subject"),
    **dict.fromkeys(
        ("date", "sent", "datum", "gesendet", "envoyé", "envoye", "fecha", "enviado", "data", "verzonden"), "date"
    ),
    **dict.fromkeys(("from", "von", "de", "van", "da"), "from"),
    **dict.fromkeys(("to", "an", "à", "a", "para", "aan", "cc", "bcc", "reply-to", "kopie", "cci", "cco"), "other"),
}
# "Fwd:", "Fw:", "Re:" and their translations (TR, WG, RV, ENC, Doorst, VS, VB, AW, SV, Antw), even repeated
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:fwd?|fw|tr|wg|rv|enc|doorst|vs|vb|re|aw|sv|antw)\s*(?:\[\d+\])?\s*:\s*)+", re.I)


# What a mailing tool puts around every issue: "View in browser", "Unsubscribe | Manage preferences", "You are
# receiving this because...", "Forward this email to a friend", in the languages the forward marks know.
_MAIL_CHROME = re.compile(
    r"unsubscribe|view (?:this (?:email|e-mail|newsletter) )?(?:in|on) (?:your |a )?(?:browser|web)|"
    r"(?:manage|update) (?:your )?(?:email |subscription )?(?:preferences|subscription)|forward this (?:email|e-mail)|"
    r"you (?:are receiving|received|got) this (?:email|e-mail|newsletter|message)|"
    r"d[ée]sinscri|d[ée]sabonner|abmelden|abbestellen|darse de baja|cancelar (?:la )?suscripci|"
    r"descadastr|annulla (?:l'|la )?iscrizione|disiscriviti|afmelden|uitschrijven",
    re.I,
)
MAIL_CHROME_MAX = 300  # longer paragraphs that happen to mention unsubscribing are text


def _mail_chrome(text: str) -> bool:
    """A newsletter's frame (see _MAIL_CHROME): a short paragraph that names one of its links."""
    return len(text) <= MAIL_CHROME_MAX and _MAIL_CHROME.search(text) is not None


def _forwarded(lines: list[str]) -> tuple[dict[str, str], int]:
    """The forwarded message's headers (subject, date) and the index of the line where its text starts, when
    ``lines`` hold a forwarded header block: a mark, then header lines (a From: or Subject: among them), or,
    as Outlook's HTML writes it with only a rule above, From:, Sent: and Subject: lines in a row; else ({}, 0):
    the text is the mail's own."""
    i = 0
    while i < len(lines):
        line = lines[i]
        marked = bool(_FORWARD_MARK.match(line))
        if not marked and not ((m := _HEADER_LINE.match(line)) and _HEADER_KEYS.get(m.group(1).lower()) == "from"):
            i += 1
            continue
        headers: dict[str, str] = {}
        j = i + 1 if marked else i
        while j < len(lines) and (not lines[j].strip() and not headers):
            j += 1  # blank lines between the mark and the headers
        while j < len(lines) and (m := _HEADER_LINE.match(lines[j])):
            key = _HEADER_KEYS.get(m.group(1).lower())
            if key is None:
                break
            value = m.group(2).strip()
            j += 1
            if not value and j < len(lines) and lines[j].strip() and not _is_header(lines[j]):
                # the name and its value in cells or spans of their own (Thunderbird's table, Apple Mail's
                # <span><b>From: </b></span><span>...</span>), read from HTML as two lines
                value = lines[j].strip()
                j += 1
            headers.setdefault(key, value)
        # after a mark, any of a mail's headers (not a rule in the text); unmarked, a whole header block
        if headers.keys() - {"date"} if marked else {"from", "date", "subject"} <= headers.keys():
            return {k: v for k, v in headers.items() if k in ("subject", "date") and v}, j
        # a block starting further into this one holds fewer of its headers: it would fail too
        i = max(i + 1, j)
    return {}, 0


def _is_header(line: str) -> bool:
    m = _HEADER_LINE.match(line)
    return m is not None and m.group(1).lower() in _HEADER_KEYS


def _from_text(raw: str) -> tuple[str, datetime | None, str | None, str]:
    """The first line is the title, or a `Title:` line among the first few is; `Published:`/`Date:` and
    `URL:`/`Source:` lines (or a bare address) near the top give the date and the address; an article copied
    from a browser brings its byline and date on lines of their own under the title ("By Jane Doe",
    "January 19, 2022", "By Jane Doe · Jan 19, 2022 · 4 min read"): the date is taken, and neither is text."""
    lines = [line.strip() for line in raw.splitlines()]
    title, published, url = "", None, None
    head = 0
    title_at = -1
    for i, line in enumerate(lines[:8]):
        m = re.match(r"(title|headline|published|date|url|source|link)\s*:\s*(.+)$", line, re.I)
        label = m.group(1).lower() if m else ""
        if label in ("title", "headline") and not title:
            title = m.group(2).strip()  # type: ignore[union-attr]
        elif label in ("published", "date") and published is None:
            published = parse_date(m.group(2))  # type: ignore[union-attr]
        elif m and m.group(2).startswith("http") and url is None:
            url = m.group(2).strip()
        elif re.fullmatch(r"https?://\S+", line) and url is None:
            url = line  # a pasted address on a line of its own
        elif line and not title and i == head:
            title, title_at = line, i
        elif not line and i == head:
            head += 1  # blank lines before the title
            continue
        else:
            continue
        lines[i] = ""
        head = i + 1
    if title_at >= 0 and (len(title) > MAX_TITLE or (len(title) > 150 and title.endswith("."))):
        # no headline pasted: the first line is the article's first paragraph (longer than headlines run, or a
        # long sentence with its full stop, which headlines do not end with), its text headed by its first
        # words, not a title
        lines[title_at], title = title, headline_of(title)
    elif title_at >= 0:
        published = _byline_and_date(lines, title_at + 1, published)
    return title, published, url, _without_promos(lines)


_BYLINE = re.compile(r"^(?:by|von|par|por|di|door|av|af)\s+\S", re.I)
_BYLINE_PARTS = re.compile(r"\s+[|·•—–]\s+|\s*\|\s*")


def _byline_and_date(lines: list[str], start: int, published: datetime | None) -> datetime | None:
    """The byline and date lines right under a pasted article's title, blanked in ``lines``; the date they
    give when ``published`` is None. A line that is a number alone is no date (it could be any figure)."""
    seen = 0
    for j in range(start, min(len(lines), start + 8)):
        line = lines[j]
        if not line:
            continue
        if seen == 3 or len(line) > 120:
            break
        parts = [p for p in _BYLINE_PARTS.split(line) if p]
        dates = [d for p in parts if _date_only(p) and (d := parse_date(p))]
        if not (_is_byline_part(line) or (dates and len(dates) + sum(map(_is_byline_part, parts)) >= len(parts))):
            break
        published = published or (dates[0] if dates else None)
        lines[j] = ""
        seen += 1
    return published


def _is_byline_part(part: str) -> bool:
    """A byline ("By Jane Doe", "By GT staff reporters": a few words, no sentence) or what stands beside it
    with the date: "4 min read", "Updated"."""
    if _BYLINE.match(part):
        return len(part.split()) <= 8 and not part.rstrip().endswith((".", "!", "?"))
    return bool(re.fullmatch(r"\d+\s*min(?:ute)?s?\s+read|updated|published", part.strip(), re.I))


# the words a date written out may hold besides its numbers: month and weekday names, zones, "at", "Updated"
_DATE_WORDS = frozenset(
    [*MONTHS, *ZONES, "gmt", "utc", "am", "pm", "st", "nd", "rd", "th", "on", "at", "de", "um", "uhr", "le", "h"]
    + "published updated posted monday tuesday wednesday thursday friday saturday sunday".split()
    + "mon tue tues wed thu thur thurs fri sat sun".split()
)


def _date_only(text: str) -> bool:
    """Whether ``text`` is a date and nothing else ("January 19, 2022", "Wed 19 Jan 2022 10:03 GMT"), not a
    sentence that holds one ("Officials met on January 19, 2022"), nor a number alone."""
    if len(text) > 60 or text.strip().isdigit() or not any(c.isdigit() for c in text):
        return False
    return all(w in _DATE_WORDS for w in re.findall(r"[^\W\d_]+", text.lower()))


# Markdown's images and links: ![alt](url "title"), [text](url); a URL may hold one pair of parentheses
# (Wikipedia's), none holds a space or a bracket: each attempt stops at the next link of a page of them
_MD_TARGET = r"\((?:[^()\s\[\]]|\([^()\s]{0,200}\)){0,2000}(?:\s[^()\n]{0,300})?\)"
_MD_IMAGE = re.compile(r"!\[[^\]\n]{0,500}\]" + _MD_TARGET)
_MD_LINK = re.compile(r"\[([^\]\n]{0,500})\]" + _MD_TARGET)


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
    text = _MD_IMAGE.sub("", body)
    text = _MD_LINK.sub(r"\1", text)  # links -> their text
    text = re.sub(r"^[#>*\-\s]+", "", text, flags=re.M)
    text = re.sub(r"[*_`]+", "", text)
    # url: as most tools write it; source: Obsidian's web clipper; link, canonical_url: static-site generators
    url = next((meta[k] for k in _URL_KEYS if meta.get(k, "").startswith(("http://", "https://"))), None)
    lines = text.splitlines()
    published = _byline_and_date(lines, 0, parse_date(meta.get("published") or meta.get("date")))
    return title, published, url, _without_promos(lines)


_URL_KEYS = ("url", "source", "link", "canonical_url", "canonical", "original_url")


class _Head(HTMLParser):
    """What a page says of itself, read as a browser reads attributes (quoted either way, or not at all, as
    minifiers leave them): its <meta> values by property/name/itemprop (the first of each), canonical link,
    <base href>, first <time datetime>, <title> and <h1> texts."""

    def __init__(self, raw: str) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.canonical: str | None = None
        self.base: str | None = None
        self.time: str | None = None
        self.title: str | None = None
        self.h1s: list[str] = []
        self._into: list[str] | None = None  # the text being collected (<title>, an <h1>)
        self._tag = ""
        self._depth = 0
        try:
            self.feed(raw)
            self.close()
        except (AssertionError, ValueError):  # html.parser gives up on some broken markup
            pass

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "").strip() for k, v in attrs}
        if tag == "meta" and a.get("content"):
            for key in ("property", "name", "itemprop"):
                if a.get(key):
                    self.meta.setdefault(a[key].lower(), a["content"])
        elif tag == "link" and "canonical" in a.get("rel", "").lower().split() and self.canonical is None:
            self.canonical = a.get("href") or None
        elif tag == "base" and self.base is None:
            self.base = a.get("href") or None
        elif tag == "time" and self.time is None:
            self.time = a.get("datetime") or None
        elif tag in ("title", "h1") and self._into is None and not (tag == "title" and self.title is not None):
            self._into, self._tag, self._depth = [], tag, 0
        elif self._into is not None and tag == self._tag:
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self._into is None or tag != self._tag:
            return
        if self._depth:
            self._depth -= 1
            return
        text = " ".join("".join(self._into).split())
        if tag == "title":
            self.title = text
        elif text:
            self.h1s.append(text)
        self._into = None

    def handle_data(self, data: str) -> None:
        if self._into is not None:
            self._into.append(data)


_SCRIPT_START = re.compile(r"<(script|style)\b[^<>]*>", re.I)
_LD_JSON_START = re.compile(r"<script\b[^<>]*application/ld\+json[^<>]*>", re.I)
_SCRIPT_END = {"script": re.compile(r"</script\s*>", re.I), "style": re.compile(r"</style\s*>", re.I)}


def _ld_json_scripts(raw: str) -> Iterator[str]:
    """The content of each JSON-LD <script> of a page, read once from start to end: a script never closed
    holds the rest of the page, as a browser reads it."""
    pos = 0
    while m := _LD_JSON_START.search(raw, pos):
        end = _SCRIPT_END["script"].search(raw, m.end())
        yield raw[m.end() : end.start() if end else len(raw)]
        if end is None:
            return
        pos = end.end()


def _without_scripts(markup: str) -> str:
    """``markup`` without its scripts and styles (their content and tags)."""
    out, pos = [], 0
    while m := _SCRIPT_START.search(markup, pos):
        out.append(markup[pos : m.start()])
        end = _SCRIPT_END[m.group(1).lower()].search(markup, m.end())
        if end is None:
            return " ".join(out)
        pos = end.end()
    out.append(markup[pos:])
    return " ".join(out)


def _json_ld_article(raw: str) -> dict[str, Any]:
    """The first NewsArticle/Article/BlogPosting object of the page's JSON-LD, if any."""
    for script in _ld_json_scripts(raw):
        try:
            data = json.loads(script.strip())
        except ValueError:
            continue
        stack = [data]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, dict):
                kind = node.get("@type")
                kinds = kind if isinstance(kind, list) else [kind]
                if any(isinstance(k, str) and k.endswith(("Article", "BlogPosting", "Report")) for k in kinds):
                    return node
                stack.extend(v for v in node.values() if isinstance(v, list | dict))
    return {}


def _ld_url(ld: dict[str, Any]) -> str | None:
    """The article's address in its JSON-LD: `url`, or `mainEntityOfPage` (a URL, or an object whose `@id` is)."""
    for value in (ld.get("url"), ld.get("mainEntityOfPage")):
        if isinstance(value, dict):
            value = value.get("@id") or value.get("url")
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return value
    return None


# The "mark of the web" a browser writes at the top of a page it saves: <!-- saved from url=(0044)https://... -->
_SAVED_FROM = re.compile(r"<!--\s*saved from url=\(\d+\)\s*(https?://[^\s>]+?)\s*-->", re.I)


def _page_url(head: _Head, ld: dict[str, Any], raw: str = "") -> str | None:
    """The article's address: `<link rel=canonical>`, `og:url` or its JSON-LD's, the first that is a web address,
    else the address the browser saved the page from (its "saved from url" comment). A relative one is read
    against the page's `<base href>` or that address, and passed over without either: a page saved from the
    browser no longer knows its own address (a canonical "8003098" is no article's address)."""
    m = _SAVED_FROM.search(raw[:4096])
    saved_from = m.group(1) if m else None
    base = head.base or saved_from or ""
    web = ("http://", "https://")
    for found in (head.canonical, head.meta.get("og:url"), _ld_url(ld), saved_from):
        url = (found or "").strip()
        if url.startswith("//"):
            url = "https:" + url
        elif url and not url.lower().startswith(web) and base.lower().startswith(web):
            url = joined(base, url) or ""
        if url.lower().startswith(web):
            return url
    return None


def _from_html(raw: str) -> tuple[str, datetime | None, str | None, str]:
    """Title, date, URL and main text of a saved web page. The text is, in order of preference: the
    page's JSON-LD articleBody (unless it only opens the longer article the page shows); the paragraphs of its
    main <article>; its paragraphs outside navigation, headers, footers, asides and forms; all the text of
    <body> (a page of another shape). See _article_text for the standfirst put before it."""
    ld = _json_ld_article(raw)
    about = _Head(raw)
    headline = ld.get("headline") if isinstance(ld.get("headline"), str) else None
    title = about.meta.get("og:title") or headline or about.meta.get("twitter:title") or _heading(about)
    site = about.meta.get("og:site_name")
    if site:  # "Headline | Site" or "Headline - Site"
        title = re.sub(rf"\s+[|\-–—]\s+{re.escape(site)}\s*$", "", title)
    published = parse_date(about.meta.get("article:published_time"))
    if published is None and isinstance(ld.get("datePublished"), str):
        published = parse_date(ld["datePublished"])
    if published is None:
        published = parse_date(about.time)
    body_match = re.search(r"<body[^<>]*>(.*?)(?:</body>|$)", raw, re.I | re.S)
    visible = html_to_text(_without_scripts(body_match.group(1) if body_match else raw))
    if published is None:  # a byline as the reader sees it: "Published: Jan 19, 2022 06:19 PM"
        m = _BYLINE_DATE.search(visible)
        published = parse_date(m.group(1)) if m else None
    if published is None:  # an element the page marks as its byline or date: "By Jane Doe · January 18, 2022"
        dated = (read_date(html_to_text(m.group(2))) for m in _DATED_ELEMENT.finditer(raw[:200_000]))
        published = next((d for d in dated if d is not None), None)
    url = _page_url(about, ld, raw)
    text = _article_text(raw, ld, about) or visible
    title = html_to_text(title)
    if not site:  # "Headline - Site" from <title>: the site's name goes when the page shows the headline alone
        head, sep, _ = max((title.rpartition(s) for s in _TITLE_SEPARATORS), key=lambda p: len(p[0]))
        if sep and len(head.split()) >= 3 and head in visible:
            title = head
    if title and text.startswith(title):
        text = text[len(title) :].lstrip()
    return title, published, url, text


def _article_text(raw: str, ld: dict[str, Any], about: _Head) -> str:
    """The article's text: JSON-LD's articleBody when it has one, else the page's main text; but the page's
    text when it begins the same and runs over twice as long (a paywalled site's articleBody holds the first
    paragraphs only, and a subscriber's saved page has them all). The page's description goes first when the
    page shows it as a paragraph of an article or outside boilerplate and the text left it out: a standfirst
    set apart from the body (a feed's summary of the article is often that very paragraph); a site's tagline
    in its header or footer stays out."""
    blocks = _parsed_page(_MainText(), raw).blocks
    main = _main_of(blocks)
    body = ld.get("articleBody")
    text = main
    if isinstance(body, str) and len(body) >= MIN_MAIN_TEXT:
        body = html_to_text(body)
        if not (len(main) > 2 * len(body) and _opening(body) in " ".join(main.split())):
            text = body
    lede = " ".join(html_to_text(about.meta.get("og:description") or about.meta.get("description") or "").split())
    if len(lede) < MIN_LEDE or lede.endswith(("...", "…")) or _opening(lede) in " ".join(text.split()):
        return text
    shown = (b.text for b in blocks if not b.boiler or b.article is not None)  # an article's <header> too
    return f"{lede} {text}" if any(_opening(lede) in " ".join(t.split()) for t in shown) else text


def _opening(text: str) -> str:
    return " ".join(text.split())[:MIN_LEDE]


MIN_LEDE = 60  # characters: a description shorter than this is a tagline, not a lede


def _heading(head: _Head) -> str:
    """The headline of a page without metadata: the <h1> that its <title> begins with, else the <title> (the
    first <h1> is often the site's logo), else the first <h1>."""
    page_title = html_to_text(head.title or "")
    h1s = [t for t in map(html_to_text, head.h1s) if t]
    return next((h for h in h1s if page_title.startswith(h)), "") or page_title or (h1s[0] if h1s else "")


_TITLE_SEPARATORS = (" - ", " | ", " – ", " — ")
_BYLINE_DATE = re.compile(
    r"(?:Published|Posted|Updated|Date)(?: on)?\s*:?\s*"  # no \b: inline tags glue "By staffPublished:"
    r"((?:[A-Z][a-z]{2,8}\.? \d{1,2},? \d{4}|\d{1,2} [A-Z][a-z]{2,8} \d{4}|\d{4}-\d{2}-\d{2})"
    r"(?:,? \d{1,2}:\d{2}(?: ?[AP]M)?)?)"
)


_DATED_ELEMENT = re.compile(  # the class or id quoted or, as minifiers leave it, not: class=post-date
    r"<(div|span|p|small|time|li)\b[^<>]*\b(?:class|id)=(?:[\"'][^\"'<>]*?|[^\s\"'<>=]*?)"
    r"(?:byline|dateline|date|timestamp|published|posted)[^<>]*>(.{0,400}?)</\1>",
    re.I | re.S,
)


MIN_MAIN_TEXT = 200  # characters of paragraphs that make a page's main text
# elements that begin a block of text
_FLOW = {
    *("p", "div", "section", "article", "main", "header", "footer", "nav", "aside", "h1", "h2", "h3", "h4", "h5"),
    *("h6", "hgroup", "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr", "td", "th"),
    *("caption", "blockquote", "pre", "figure", "figcaption", "form", "fieldset", "address", "details"),
    *("summary", "center", "body", "html", "dialog", "menu", "title"),
}
# elements within a sentence
_PHRASING = {
    *("a", "b", "strong", "em", "i", "u", "mark", "small", "sup", "sub", "abbr", "cite", "q", "code", "s"),
    *("font", "bdi", "bdo", "dfn", "kbd", "samp", "var", "ins", "del", "nobr", "tt", "big", "strike"),
}
_SKIP = {"title", "script", "style", "noscript", "template", "svg", "button", "select", "textarea"}
_BOILERPLATE = {"nav", "header", "footer", "aside", "form", "figure", "dialog", "menu"}
_AROUND_TEASERS = _BOILERPLATE - {"form"}
_BOILERPLATE_NAME = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|menu|footer|comments?|related|relatedposts|share|sharing|sharedaddy|likes?|social|"
    r"newsletter|promo|advert|ads?|sidebar|breadcrumbs?|cookie|subscribe|recommended|most-read|outbrain|taboola|"
    r"more|trending|popular|teasers?)"
    r"(?:$|[\s_-])",
    re.I,
)
# the container of an article's text as CMSs name it (WordPress entry-content, story-body, article__body...)
_BODY_NAME = re.compile(
    r"(?:^|\s)(?:article[-_]*body|story[-_]*body|entry[-_]*content|post[-_]*(?:content|body)|article[-_]*content|"
    r"article[-_]*text|story[-_]*content|body[-_]*text)(?:$|\s)",
    re.I,
)


class _Block(NamedTuple):
    """A block of a page's text: the <article> it is in, whether it sits in boilerplate, whether it does
    counting only the containers opened inside its article (a page-wide wrapper named "int-nav" or
    "advert-content-wrap" around the article is no boilerplate of the article's), and its text."""

    article: int | None
    boiler: bool
    boiler_in_article: bool
    text: str


class _MainText(HTMLParser):
    """Paragraph-level text of a page, with which <article> each paragraph is in and whether it sits
    in boilerplate (navigation, header, footer, aside, form, or a container named like one)."""

    def __init__(self, mail: bool = False) -> None:
        super().__init__(convert_charrefs=True)
        # tag, boilerplate?, article number, boilerplate within the article?
        self.stack: list[tuple[str, bool, int | None, bool]] = []
        self.open: dict[str, int] = {}  # tag -> how many are on the stack (a stray end tag costs no search)
        self.articles = 0
        self.blocks: list[_Block] = []
        # a mail's HTML (``mail``): a <br> ends a block too (a forwarded header block is lines), and the block
        # after it is marked as one line of the last; and what a mail hides is no text: its preheader (the line
        # a mail client shows beside the subject, in an element styled display:none) and its spacer characters.
        # Not so on a web page: a script may show what its source hides (the article body, once loaded).
        self.mail = mail
        self._hidden: list[int] = []  # depths in the stack of the hidden elements open (mail only)
        self.continued: list[bool] = []
        self._after_br = False
        self._buf: list[str] = []
        self._skip = 0

    def _state(self) -> tuple[bool, int | None, bool]:
        return self.stack[-1][1:] if self.stack else (False, None, False)

    def _flush(self) -> None:
        text = " ".join("".join(self._buf).split())
        self._buf = []
        if text:
            boiler, article, inner = self._state()
            self.blocks.append(_Block(article, boiler, inner, text))
            self.continued.append(self._after_br)
            self._after_br = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "hr" or (tag == "br" and self.mail):
            self._flush()
            self._after_br = tag == "br" and bool(self.blocks)
        if tag in VOID_TAGS:
            return
        if tag in _SKIP:
            self._skip += 1
        elif self.mail and _hidden(attrs):
            self._skip += 1
            self._hidden.append(len(self.stack))
        state = self._state()
        boiler, article, inner = state
        named = " ".join(v or "" for k, v in attrs if k in ("class", "id", "role"))
        own = tag in _BOILERPLATE or bool(named and _BOILERPLATE_NAME.search(named))
        own = own or any(v in ("navigation", "banner", "contentinfo", "complementary") for k, v in attrs if k == "role")
        boiler, inner = boiler or own, inner or own
        itemprop = next((v or "" for k, v in attrs if k == "itemprop"), "")
        if tag == "article" or itemprop == "articleBody" or (named and _BODY_NAME.search(named)):
            self.articles += 1  # an article's body, by its element or by its name (schema.org, CMS classes)
            # a wrapper named like boilerplate (or ASP.NET's page-wide <form>) may hold the article; an <aside>,
            # a <nav> or a <footer> holds teasers
            article, inner = self.articles, own or any(self.open.get(t) for t in _AROUND_TEASERS)
        if tag in _FLOW:
            self._flush()
            self._after_br = False
        elif (boiler, article, inner) != state:
            self._flush()  # an inline element of its own kind: a "Share" link in a paragraph
        self.stack.append((tag, boiler, article, inner))
        self.open[tag] = self.open.get(tag, 0) + 1

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_TAGS or not self.open.get(tag):
            return
        at = next(i for i in range(len(self.stack) - 1, -1, -1) if self.stack[i][0] == tag)
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        while self._hidden and self._hidden[-1] >= at:  # hidden elements closed by this end tag
            self._hidden.pop()
            self._skip = max(0, self._skip - 1)
        parent = self.stack[at - 1][1:] if at else (False, None, False)
        # the text of a link or a bold name goes on in its sentence; any other element's ends there (pages lay
        # out spans and custom elements as lines: a byline, then the date)
        if any(t not in _PHRASING for t, *_ in self.stack[at:]) or self._state() != parent:
            self._flush()
        for t, *_ in self.stack[at:]:
            self.open[t] -= 1
        del self.stack[at:]

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._buf.append(data)


_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_NO_HEIGHT = re.compile(r"(?<![-\w])(?:max-)?height\s*:\s*0(?![.\d])", re.I)
_OVERFLOW_HIDDEN = re.compile(r"overflow\s*:\s*hidden", re.I)


def _hidden(attrs: list[tuple[str, str | None]]) -> bool:
    """An element a mail client does not show: the hidden attribute, or a style that hides it (display: none,
    or no height with its overflow hidden, as preheaders are written for the clients that ignore the first)."""
    for k, v in attrs:
        if k == "hidden":
            return True
        if k == "style" and v and (_HIDDEN_STYLE.search(v) or (_NO_HEIGHT.search(v) and _OVERFLOW_HIDDEN.search(v))):
            return True
    return False


def _parsed_page(parser: _MainText, raw: str) -> _MainText:
    """``raw`` read by ``parser`` (its blocks, in order)."""
    try:
        parser.feed(raw)
        parser.close()
    except (AssertionError, ValueError):  # html.parser gives up on some broken markup
        pass
    parser._flush()
    return parser


def _paragraphs_from(page: _MainText, start: int) -> list[_Block]:
    """The blocks of a page parsed into lines, from line ``start`` on, the lines of one paragraph (split at
    its <br>s) joined again."""
    out: list[_Block] = []
    for block, continued in zip(page.blocks[start:], page.continued[start:], strict=True):
        if continued and out:
            out[-1] = out[-1]._replace(text=f"{out[-1].text} {block.text}")
        else:
            out.append(block)
    return out


def _main_of(blocks: list[_Block]) -> str:
    """The main text among a page's blocks: its longest <article> outside boilerplate, else its prose outside
    boilerplate; but an <article> inside a container named like boilerplate (a page-wide wrapper whose class
    reads "int-nav" or "advert-content-wrap") when it holds over WRAPPED_ARTICLE times as much text, boilerplate
    counted inside it alone: a menu, a sign-up box or a teaser does not outweigh an article that much."""
    content = [b for b in blocks if not b.boiler and len(b.text) >= 2 and not _promo(b.text)]
    main = _longest_article(content)
    # no long <article>: the paragraphs that read like prose (menus and link lists are short lines)
    prose = " ".join(b.text for b in content if len(b.text) >= 40 or b.text.endswith((".", "!", "?", '"', "”")))
    found = main if len(main) >= MIN_MAIN_TEXT else prose if len(prose) >= MIN_MAIN_TEXT else ""
    wrapped = _longest_article([b for b in blocks if b.boiler and not b.boiler_in_article and len(b.text) >= 2])
    if len(wrapped) >= MIN_MAIN_TEXT and len(wrapped) > WRAPPED_ARTICLE * len(found):
        return wrapped
    return found or main or prose or " ".join(b.text for b in content)  # a short page: all but the boilerplate


WRAPPED_ARTICLE = 3
# A line between an article's paragraphs that sends the reader to another article: "READ MORE: <headline>",
# "Related: ...", "See also: ...", "Watch: ..." (short: a paragraph that opens so and goes on is text)
_PROMO_LINE = re.compile(
    r"^(?:read more|read also|also read|more|more on this(?: story)?|related|related (?:coverage|stories|story|"
    r"articles?|content|reading)|see also|recommended|further reading|watch|listen|don'?t miss|must read)"
    r"\s*[:|»>–—]\s*\S",
    re.I,
)
PROMO_MAX = 160


# A line where a page shows an advertisement, or tells the reader the article goes on after one (the NYT's
# "Continue reading the main story", the Post's "Story continues below advertisement"), and Reuters' line
# under every article: no part of the article
_AD_LINE = re.compile(
    r"^(?:advertisement|advertising|sponsored|skip advertisement|"
    r"(?:story|article|content|text) continues (?:below|after)(?: (?:this|the))? (?:advertisement|ad)|"
    r"continue reading the main story|scroll to continue with content|"
    r"advertisement\s*[-–—:]\s*scroll to continue(?: reading)?|"
    r"our standards: the thomson reuters trust principles)\.?$",
    re.I,
)


def _promo(text: str) -> bool:
    return len(text) <= PROMO_MAX and (_PROMO_LINE.match(text) is not None or _AD_LINE.match(text) is not None)


def _without_promos(lines: list[str]) -> str:
    """A pasted article's lines, less those sending the reader elsewhere or marking an advertisement (_promo)."""
    return "\n".join(line for line in lines if not _promo(line.strip()))


def _longest_article(blocks: list[_Block]) -> str:
    """The text of the <article> with the most text among ``blocks`` (pages also use <article> for teasers)."""
    by_article: dict[int, list[str]] = {}
    for b in blocks:
        if b.article is not None:
            by_article.setdefault(b.article, []).append(b.text)
    return " ".join(max(by_article.values(), key=lambda ts: sum(map(len, ts)))) if by_article else ""
