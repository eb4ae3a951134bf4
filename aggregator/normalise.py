"""Normalise stage: Entry -> Item. Plain text, sanitised HTML, canonical URL, content hash.

Canonical URLs (the identity key of the "same item" dedup level):
  1. scheme and host lower-cased; http and https treated alike (the key uses https);
  2. default port, fragment, a leading "www." and a trailing dot of the host dropped; an internationalised
     host in its ASCII (punycode) form; escapes of unreserved characters decoded (%7E is ~), other escapes
     upper-cased, an escaped "/" or "%" kept (it is data);
  3. tracking parameters and server session ids removed (utm_*, fbclid, gclid, mc_cid, mc_eid, PHPSESSID,
     ;jsessionid=, ... see TRACKING_PARAMS);
     the remaining query parameters sorted;
  4. AMP and mobile variants mapped to the article when the pattern is unambiguous: Google AMP
     cache URLs, `amp.` / `m.` / `mobile.` host prefixes, a final `/amp` path segment, an `.amp`
     suffix before `.html`, and `amp=1` / `outputType=amp` parameters; a YouTube video's share link, Short,
     embed, live page and watch page with a start time or a playlist all `youtube.com/watch?v=ID`;
  5. a trailing slash on a non-root path dropped.
We compared url-normalize, w3lib and courlan (see docs/DECISIONS.md): none does all of 3-4
without heavy dependencies, so this is a small stdlib function with property-based tests.
"""

from __future__ import annotations

import codecs
import hashlib
import html
import re
import unicodedata
from datetime import datetime, timedelta
from functools import lru_cache
from html.parser import HTMLParser
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

import nh3

from aggregator.models import UNTITLED, Entry, Item

TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "__hstc",
        "__hssc",
        "__hsfp",
        "hsctatracking",
        "mkt_tok",
        "igshid",
        "igsh",
        "si",
        "ref_src",
        "ref_url",
        "cmpid",
        "cmp",
        "ocid",
        "smid",
        "smtyp",
        "sr_share",
        "s_cid",
        "ncid",
        "ito",
        "spm",
        "wt.mc_id",
        "wt_mc",
        "at_medium",
        "at_campaign",
        "at_custom1",
        "at_custom2",
        "at_custom3",
        "at_custom4",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "vero_conv",
        "rb_clickid",
        "s_kwcid",
        "ef_id",
        "trk",
        "trkcampaign",
        "sc_campaign",
        "sc_channel",
        "sc_content",
        "sc_medium",
        "sc_outcome",
        "sc_geo",
        "sc_country",
        "__twitter_impression",
        "feature",
        "fsrc",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
        "mbid",
        "cid_source",
        "rss",
        "rssfeed",
        "from_rss",
        "partner",
        "dicbo",
        "emc",  # NYT feeds: emc=rss
        "xtor",  # AT Internet (Le Monde and other French sites): xtor=RSS-3208
        "tpcc",
        "ftag",
        "taid",
        "sref",
        "traffic_source",
        "guccounter",
        "guce_referrer",
        "guce_referrer_sig",
        "soc_src",
        "soc_trk",
        "wickedid",
        "srsltid",
        "ck_subscriber_id",
        "vgo_ee",
        "epik",
        "rdt_cid",
        "irclickid",
        "feedtype",  # Reuters: feedType=RSS&feedName=technologyNews
        "feedname",
        "referringsource",  # NYT share links
        "__source",  # CNBC: __source=iosappshare|...
        "sharetype",  # FT gift links (the accessToken that opens the article stays)
        "user_email",  # newsletters (AP): a reader's address in the link
        "leadsource",
        ".tsrc",  # Yahoo: .tsrc=rss
        "sara_ref",  # Spiegel share links
        "sara_ecid",  # Spiegel campaigns: sara_ecid=soci_upd_...
        "wt_zmc",  # Webtrekk (Zeit): wt_zmc=sm.ext.zonaudev.twitter...
        "ftcamp",  # FT campaigns: ftcamp=traffic/partner/feed_headline/...
        "lipi",  # LinkedIn
        "phpsessid",  # server session ids: one reader's visit, never the article
        "jsessionid",
        "aspsessionid",
    }
)
# Parameters that are tracking on these sites only (elsewhere the same name may select content).
_HOST_TRACKING = {
    "wsj.com": frozenset({"mod", "st"}),
    "nytimes.com": frozenset({"module", "pgtype"}),
    "scmp.com": frozenset({"module", "pgtype"}),
    "washingtonpost.com": frozenset({"itid", "tid"}),
    "bloomberg.com": frozenset({"srnd", "leadsource"}),
    "msn.com": frozenset({"li", "ocid", "cvid", "pc", "srcref"}),  # ?li=BBnbcA1&srcref=rss, ?ocid=msedgntp
    "cnn.com": frozenset({"cid", "iid"}),  # iid=cnn_buildContentRecirc_end_recirc
    "politico.com": frozenset({"cid"}),  # cid=apn
    "axios.com": frozenset({"stream"}),  # stream=top
    "forbes.com": frozenset({"sh"}),  # a hash per share: ?sh=5c1a3e0f7b2d
    "x.com": frozenset({"s", "t"}),  # share links: ?s=20&t=...
    "twitter.com": frozenset({"s", "t"}),
    # Substack's share and mail links: ?r=2abc (the sharer), &triedRedirect=true, &showWelcomeOnShare=true
    "substack.com": frozenset(
        {"r", "s", "triedredirect", "showwelcomeonshare", "publication_id", "post_id", "isfreemail"}
    ),
}
# Parameters that mark a link as "from the feed" only by their value: ref=rss, source=rss, mod=rss_Technology
# (WSJ), src=feed, via=rss. With another value (ref=v2, source=api) they may select content, so they stay.
_FEED_MARKED_PARAMS = frozenset({"ref", "source", "src", "via", "mod", "from", "origin", "channel", "medium"})
_FEED_VALUE = re.compile(r"^(?:rss|feed|atom|syndication)|[-_.](?:rss|feed)(?:$|[-_.])", re.I)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "matomo_", "hmb_", "itm_")
AMP_PARAMS = {("amp", "1"), ("amp", "true"), ("amp", ""), ("_amp", "true"), ("outputtype", "amp"), ("output", "amp")}
_MOBILE_PREFIXES = ("www.", "amp.", "m.", "mobile.")
_AMP_CACHE = re.compile(r"^(?:[a-z0-9-]+\.)?cdn\.ampproject\.org$")
_AMP_SUFFIX = re.compile(r"\.amp(\.html?)?$")  # story.amp.html -> story.html, world-123.amp -> world-123


def url_parts(url: str) -> SplitResult | None:
    """``urlsplit`` of an address read from a feed, a page or a list, None where it is malformed: urlsplit
    raises on an unclosed "[" in the host and on a bracketed host that is no IPv6 address ("http://[your-domain]/",
    a template's placeholder left in)."""
    try:
        return urlsplit(url)
    except ValueError:
        return None


def scheme_of(url: str) -> str:
    """An address's scheme in lower case; "" for a malformed one."""
    parts = url_parts(url)
    return parts.scheme.lower() if parts else ""


def host_of(url: str) -> str:
    """An address's host in lower case; "" for none or a malformed address."""
    parts = url_parts(url)
    return (parts.hostname or "").lower() if parts else ""


def joined(base: str, link: str) -> str | None:
    """``urljoin`` of a link read from a page or a feed; None where either address is malformed."""
    try:
        return urljoin(base, link)
    except ValueError:
        return None


def canonical_url(url: str | None) -> str | None:
    """The identity key of an article URL, or None for something that is not an http(s) URL."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = _ascii_host(parts.hostname.lower().rstrip("."))
    path = parts.path or "/"
    # Google's AMP viewer and AMP cache wrap the publisher URL: .../amp/s/example.com/path
    if (host in ("google.com", "www.google.com") and path.startswith("/amp/")) or _AMP_CACHE.match(host):
        inner = re.sub(r"^/(?:amp/|[a-z]/)*(?:s/)?", "", path)
        if "." in inner.split("/", 1)[0]:
            return canonical_url("https://" + inner + (f"?{parts.query}" if parts.query else ""))
    for prefix in _MOBILE_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
            break
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    path = _normalise_path(path)
    query = _clean_query(parts.query, host)
    if host in _YOUTUBE_VIDEO and netloc == host and (video := _youtube_video(host, path, query)):
        return f"https://youtube.com/watch?v={video}"
    return urlunsplit(("https", netloc, path, query, ""))


def _youtube_video(host: str, path: str, query: str) -> str | None:
    """The id of the YouTube video at an address of it, whatever the address: a share link, a Short, an embed, a
    live stream's page, a watch page with a start time or a playlist around it (the video is the same)."""
    if host == "youtube.com" and path == "/watch":
        return next((v for k, v in parse_qsl(query) if k == "v" and _YOUTUBE_ID.fullmatch(v)), None)
    m = _YOUTUBE_VIDEO[host].fullmatch(path)
    return m[1] if m else None


# A YouTube video's addresses besides /watch?v=ID (which its channel's feed links): youtu.be/ID, and /shorts/ID,
# /embed/ID, /live/ID, /v/ID at youtube.com (its m. host is youtube.com by then), and the privacy embed at
# youtube-nocookie.com. IDs are 11 characters.
_YOUTUBE_VIDEO = {
    "youtu.be": re.compile(r"/([\w-]{11})"),
    "youtube.com": re.compile(r"/(?:shorts|embed|live|v)/([\w-]{11})"),
    "youtube-nocookie.com": re.compile(r"/embed/([\w-]{11})"),
}
_YOUTUBE_ID = re.compile(r"[\w-]{11}")


# What names a news article in its address, wherever its site files it. Sites move articles between sections
# (/articles/... -> /tech/...), re-date them, and rewrite the slug when the headline is edited; the article's
# own id stays. A number of seven or more digits (not a date) at the end of the last segment, or as the
# segment before a slug, is that id ("...-links-to-china-085516390.html", "/articleshow/104611803.cms",
# "/article/3704610/biden-fuels-tech-trade-war..."); else a slug of three or more words ending in an id of
# letters and digits or in a date ("...-state-ban-looms-cec4bab5", "...-cloud-business-2022-01-18"), whole,
# since its last word alone may be a product's name ("rtx4090"). A slug alone ("montana-tiktok-ban.html")
# is reused for other articles, so it names none.
_ARTICLE_NAME = re.compile(r"(?:[^\W_]+[-_]){3,}(?:(?=[a-z]*\d)[a-z0-9]{6,}|\d{4}-\d{2}-\d{2})", re.I)
_ARTICLE_NUMBER = re.compile(r"\d{7,}")
_DATE_NUMBER = re.compile(r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:\d\d){0,3}")  # yyyymmdd[hhmmss]
_PAGE_SUFFIX = re.compile(r"\.(?:s?html?|php|aspx?|ece|cms)$", re.I)


def _article_number(text: str) -> bool:
    return bool(_ARTICLE_NUMBER.fullmatch(text)) and not _DATE_NUMBER.fullmatch(text)


@lru_cache(maxsize=1024)
def article_slug(canonical: str | None) -> str | None:
    """The site and name of the article at a canonical URL, when its address names it (see _ARTICLE_NAME):
    two addresses of one site with the same name are one article filed twice. None for any other address.
    Cached: a new item's address is read by its dedup decision, then by the story index that stores it."""
    parts = url_parts(canonical or "")
    if parts is None or not parts.hostname:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if not segments:
        return None
    name = _PAGE_SUFFIX.sub("", segments[-1])
    number = re.split(r"[-_]", name)[-1]
    if not _article_number(number) and len(segments) > 1 and not name.isdigit():
        number = segments[-2]
    if _article_number(number):
        return f"{parts.hostname}#{number}"
    return f"{parts.hostname}/{name}" if _ARTICLE_NAME.fullmatch(name) else None


def article_site(name: str) -> str:
    """The host of an article's name (article_slug): "wsj.com" of "wsj.com/some-slug-3b9983df"."""
    return re.split("[#/]", name, maxsplit=1)[0]


def _ascii_host(host: str) -> str:
    """An internationalised host in its ASCII (punycode) form, so that münchen.de and xn--mnchen-3ya.de are
    one host; a name IDNA refuses stays as it is."""
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


# An escaped "%" or "/" in a path is data, not syntax: "100%25" is not "100%", "a%2Fb" is not "a/b".
_ESCAPED_DATA = re.compile(r"(%2[5fF])")
# A session id as a path parameter (Java servers): /article;jsessionid=0A1B2C
_PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid|sid)=[^/;?]*", re.I)


def _normalise_path(path: str) -> str:
    # Re-quote so that %7E and ~ compare equal, without touching reserved characters.
    path = _PATH_SESSION.sub("", path)
    path = "".join(
        part.upper() if _ESCAPED_DATA.fullmatch(part) else quote(unquote(part), safe="/:@!$&'()*+,;=-._~")
        for part in _ESCAPED_DATA.split(path)
    )
    path = re.sub(r"/amp/?$", "/", path)
    path = _AMP_SUFFIX.sub(r"\1", path)
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return path


def _clean_query(query: str, host: str = "") -> str:
    if not query:
        return ""
    kept = []
    for key, value in parse_qsl(query, keep_blank_values=True):
        if is_tracking_param(key, value, host) or (key.lower(), value.lower()) in AMP_PARAMS:
            continue
        kept.append((key, value))
    return urlencode(sorted(kept))


def is_tracking_param(key: str, value: str = "", host: str = "") -> bool:
    k = key.lower()
    return (
        k in TRACKING_PARAMS
        or k.startswith(TRACKING_PREFIXES)
        or (k in _FEED_MARKED_PARAMS and bool(_FEED_VALUE.search(value)))
        or (bool(host) and k in _host_tracking(host))
    )


def _host_tracking(host: str) -> frozenset[str]:
    parts = host.lower().split(".")
    for n in range(len(parts) - 1):
        found = _HOST_TRACKING.get(".".join(parts[n:]))
        if found is not None:
            return found
    return frozenset()


def clean_link(url: str) -> str:
    """The link shown to a reader: the article's own page. Tracking parameters (utm_*, fbclid...) go; an AMP
    version becomes the regular page (an AMP cache or Google's AMP viewer unwrapped to the publisher's URL,
    an `amp.` host made `www.`, a final `/amp` segment, `.amp` before `.html` or at the end, and `?amp=1`
    dropped); a fragment made of tracking parameters only goes too. Everything else stays as the feed gave it
    (scheme, host, path, other parameters and their order, fragment)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a malformed port: such a link is shown as it is)
    except ValueError:
        return url
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() not in ("http", "https") or not host:
        return url
    if (host in ("google.com", "www.google.com") and parts.path.startswith("/amp/")) or _AMP_CACHE.match(host):
        inner = re.sub(r"^/(?:amp/|[a-z]/)*(?:s/)?", "", parts.path)
        if "." in inner.split("/", 1)[0]:
            rest = (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")
            return clean_link("https://" + inner + rest)
    netloc = parts.netloc
    if host.startswith("amp.") and host.count(".") >= 2 and "@" not in netloc:
        netloc = "www." + netloc[4:]
    path = _AMP_SUFFIX.sub(r"\1", re.sub(r"/amp/?$", "/", _PATH_SESSION.sub("", parts.path)))
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = [
            (k, v) for k, v in pairs if not is_tracking_param(k, v, host) and (k.lower(), v.lower()) not in AMP_PARAMS
        ]
        query = query if len(kept) == len(pairs) else urlencode(kept)
    fragment = parts.fragment
    if "=" in fragment:  # trackers written after "#" (CNET's "#ftag=CAD590a51e", "#xtor=RSS-3208"); "#top" stays
        marks = parse_qsl(fragment, keep_blank_values=True)
        fragment = "" if marks and all(is_tracking_param(k, v, host) for k, v in marks) else fragment
    if (netloc, path, query, fragment) == (parts.netloc, parts.path, parts.query, parts.fragment):
        return url
    return urlunsplit(parts._replace(netloc=netloc, path=path, query=query, fragment=fragment))


# --- text --------------------------------------------------------------------------------

_WS = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029]")


_BLOCK_TAG = re.compile(
    r"<(/?(?:p|div|br|hr|li|ul|ol|dl|dt|dd|h[1-6]|tr|td|th|table|blockquote|pre|section|article|header|footer|"
    r"aside|nav|main|figure|figcaption|address|details|summary)\b)",
    re.I,
)


# characters XML 1.0 cannot carry: C0 controls but tab and newlines, lone surrogates, U+FFFE/U+FFFF
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """Text without the characters an XML document cannot hold (before escaping it into Atom or OPML)."""
    return _NOT_XML.sub("", text)


# what is left in a text that a feed escaped twice ("&amp;lt;p&amp;gt;", "&amp;#8217;"): markup or entities
_ESCAPED_TAG = re.compile(
    r"</?(?:p|br|div|span|a|img|strong|em|b|i|u|ul|ol|li|h[1-6]|blockquote|figure)\b[^<>]{0,300}>"
)
_LEFT_ENTITY = re.compile(r"&(?:#\d{2,7}|#x[0-9a-fA-F]{2,6}|[a-zA-Z]{2,8});")


# What newsletter platforms and blog plugins put inside a post's HTML: Substack's "Thanks for reading X!
# Subscribe for free to receive new posts" box and its "Subscribe now" / "Share" buttons, Jetpack's share
# and related-posts boxes, Feedburner's "feedflare" links, a sign-up form. No part of the article (snippet,
# tags, story similarity).
_WIDGET_HINT = re.compile(
    r"""class\s*=\s*["']?[^"'>]*?"""
    r"(?:subscri|newsletter|sign-?up|shar(?:e|ing)|social|button-wrap|related|promo|feedflare|cta)",
    re.I,
)
_WIDGET_PARTS = frozenset(
    {"subscribe", "subscription", "newsletter", "signup", "share", "sharing", "sharedaddy", "social", "related",
     "relatedposts", "promo", "feedflare", "cta"}
)  # fmt: skip
_WIDGET_NAMES = frozenset({"button-wrapper", "captioned-button-wrap"})  # Substack's buttons and their caption

# HTML's elements without an end tag
VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)


def _is_widget(attrs: list[tuple[str, str | None]]) -> bool:
    for name, value in attrs:
        if name == "class" and value:
            for cls in value.lower().split():
                if cls in _WIDGET_NAMES or not _WIDGET_PARTS.isdisjoint(re.split(r"[-_]+", cls)):
                    return True
    return False


WIDGET_MAX = 2000  # characters of text: an element named like a widget that holds more is the article's


class _WithoutWidgets(HTMLParser):
    """The markup again, less the elements _is_widget names (with all they hold)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.dropping: tuple[str, int] | None = None  # the dropped element's tag, and its nesting depth
        self.dropped = 0  # characters of text in the element being dropped
        self.too_big = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.dropping is not None:
            if tag == self.dropping[0]:
                self.dropping = (tag, self.dropping[1] + 1)
        elif tag not in VOID_TAGS and _is_widget(attrs):
            self.dropping, self.dropped = (tag, 1), 0
        else:
            self.out.append(self.get_starttag_text() or "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.dropping is None:
            self.out.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if self.dropping is None:
            self.out.append(f"</{tag}>")
        elif tag == self.dropping[0]:
            depth = self.dropping[1] - 1
            self.dropping = (tag, depth) if depth else None

    def handle_data(self, data: str) -> None:
        if self.dropping is None:
            self.out.append(data)
        else:
            self.dropped += len(data.strip())
            self.too_big = self.too_big or self.dropped > WIDGET_MAX

    def handle_entityref(self, name: str) -> None:
        self.handle_data(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.handle_data(f"&#{name};")


def without_widgets(markup: str) -> str:
    """``markup`` less its subscribe boxes, share buttons and related-posts lists (see _WIDGET_HINT). Markup
    that leaves one of them open (never closed), or names as one an element holding more than WIDGET_MAX
    characters of text, is given back as it was: no text of the article is lost."""
    if "class" not in markup or not _WIDGET_HINT.search(markup):
        return markup
    parser = _WithoutWidgets()
    try:
        parser.feed(markup)
        parser.close()
    except (AssertionError, ValueError):
        return markup
    return markup if parser.dropping is not None or parser.too_big else "".join(parser.out)


# A list of links in an entry's text (its items mostly link text) between paragraphs of its own: the outlet's
# promotion or related stories (the Guardian's "<ul><li>Follow our Australia news live blog for the latest
# updates</li><li>Get our morning and afternoon news emails, free app or daily news podcast</li></ul>" between
# standfirst and lede, a post's "Related" links), not what the article says.
_LIST_TAG = re.compile(r"<(/?)(?:ul|ol)\b[^<>]*>", re.I)
_LINK_TAG = re.compile(r"<(/?)a\b[^<>]*>", re.I)
LINK_LIST_SHARE = 2 / 3  # of a list's words inside links
_LIST_HEADING = re.compile(r"<h[1-6]\b[^<>]*>[^<]{0,80}</h[1-6]>\s*$", re.I)


def _word_count(fragment: str) -> int:
    return len(_ANY_TAG.sub(" ", fragment).split())


def _link_words(fragment: str) -> int:
    """Words inside the fragment's links (read in one pass: a link never closed counts nothing)."""
    count, opened = 0, -1
    for m in _LINK_TAG.finditer(fragment):
        if not m[1]:
            opened = m.end() if opened < 0 else opened
        elif opened >= 0:
            count += _word_count(fragment[opened : m.start()])
            opened = -1
    return count


def entry_text(summary_html: str, title: str) -> str:
    """An entry's plain text (see html_to_text, strip_boilerplate), less the lists of links set in it between
    its own paragraphs: a list whose words are mostly (LINK_LIST_SHARE) link text goes when the rest of the
    text is at least as long as the lists. A newsletter of links (a line, then the day's links) keeps them:
    they are its text."""
    return strip_boilerplate(html_to_text(without_link_lists(summary_html)), title)


def without_link_lists(markup: str) -> str:
    """``markup`` less its lists of links (see entry_text). Outermost lists only; one never closed stays."""
    if not markup or "<" not in markup or not _LIST_TAG.search(markup):
        return markup
    lists, depth, start = [], 0, 0
    for m in _LIST_TAG.finditer(markup):
        if not m[1]:
            start = m.start() if depth == 0 else start
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                lists.append((start, m.end()))
    links = []
    for a, b in lists:
        words = _word_count(markup[a:b])
        if words and _link_words(markup[a:b]) >= LINK_LIST_SHARE * words:
            head = _LIST_HEADING.search(markup[max(0, a - 200) : a])  # its "Related" heading goes with it
            links.append((a - len(head[0]) if head else a, b, words))
    listed = sum(words for _, _, words in links)
    if not links or _word_count(markup) - listed < listed:
        return markup
    out, at = [], 0
    for a, b, _ in links:
        out += [markup[at:a], " "]
        at = b
    return "".join([*out, markup[at:]])


def html_to_text(markup: str | None, _again: bool = True) -> str:
    """Plain text of an HTML fragment: tags dropped (script, style and a picture's caption with their content:
    "Illustration by Alex Castro / The Verge" is not the article's text), a space where a
    block ends ("<p>One.</p><p>Two</p>" is "One. Two", not "One.Two"), entities decoded, control
    characters removed, white space collapsed. A fragment escaped twice, as some feeds send it, is
    decoded twice: its tags and entities never show as text."""
    if not markup:
        return ""
    if _again and "&" in markup:
        text = html_to_text(markup, _again=False)
        if ("<" in text and _ESCAPED_TAG.search(text)) or ("&" in text and _LEFT_ENTITY.search(text)):
            return html_to_text(text, _again=False)
        return text
    if "<" in markup or "&" in markup:
        if "<" in markup:
            markup = _BLOCK_TAG.sub(r" <\1", without_widgets(_flattened(markup)))
        markup = nh3.clean(markup, tags=set(), clean_content_tags=_NOT_TEXT)
        markup = html.unescape(markup)
    return _WS.sub(" ", _CONTROL.sub(" ", markup)).strip()


_NOT_TEXT = {"script", "style", "figcaption", "form", "button", "select", "textarea"}

_CREDIT = re.compile(
    r"\((?:[^()]{0,80}(?:Getty|Images|Photo|Reuters|AFP|AP|Shutterstock|EPA|Xinhua|Bloomberg|pool|file)[^()]{0,80})\)\s*$",
    re.I,
)


# any photographer and agency after the caption's last sentence: "(Liam Richards/The Canadian Press)", "(The
# Canadian Press/Sean Kilpatrick)", "(Annie Wu/NTD)": names of capitalised words, one of two words or more...
_NAME = r"[A-Z][\w'’.-]*(?: (?:[A-Z][\w'’.-]*|of|de|la|van|von|via))*"
_NAMED_CREDIT = re.compile(rf"\.\s*\(({_NAME})/ ?({_NAME})(?:/ ?{_NAME})?\)\s*$")  # after the caption's full stop
# ...under a picture's date ("on Feb. 27, 2023", "June, 30, 2020") or a file photo
_PICTURE_DATE = re.compile(
    r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?,? \d{1,2}, (?:19|20)\d\d\b|\bfile photo\b",
    re.I,
)


def is_photo_caption(text: str) -> bool:
    """A summary that is only a photo caption ("The TikTok logo on a phone, Aug. 22, 2022. (Dado Ruvic/
    Reuters)"), as some feeds send: it says what the picture shows, not what the article reports. Credited
    to an agency that names its pictures ("Reuters", "Getty Images", "AP Photo"), or to any photographer and
    outlet ("(Adrian Wyld/The Canadian Press)") under a picture's date or "file photo"."""
    if len(text) >= 500 or not text.rstrip().endswith(")"):
        return False
    if _CREDIT.search(text):
        return True
    credit = _NAMED_CREDIT.search(text)
    return (
        credit is not None
        and max(len(credit[1].split()), len(credit[2].split())) >= 2
        and _PICTURE_DATE.search(text, 0, credit.start()) is not None
    )


def sanitise_html(markup: str | None) -> str:
    """Feed HTML made safe to show: nh3's allow-list (no script, no event handlers, no styles)."""
    if not markup:
        return ""
    return nh3.clean(_flattened(markup), link_rel="noopener noreferrer nofollow")


# Block elements that nest (unlike <p> and <li>, which close the one before). At each of their start tags an
# HTML parser looks through the elements still open: markup leaving thousands of them open (a broken or
# hostile feed) costs time in the square of their number, 20,000 a second, 200,000 minutes.
_OPEN_BLOCK = re.compile(
    r"<(?:div|section|article|header|footer|aside|nav|main|figure|figcaption|blockquote|table|ul|ol|dl|form|"
    r"fieldset|details|center|address)\b",
    re.I,
)
_CLOSE_BLOCK = re.compile(
    r"</(?:div|section|article|header|footer|aside|nav|main|figure|figcaption|blockquote|table|ul|ol|dl|form|"
    r"fieldset|details|center|address)\b",
    re.I,
)
_ANY_TAG = re.compile(r"<[^<>]*>")
MAX_OPEN_BLOCKS = 1000


def _flattened(markup: str) -> str:
    """``markup`` as it is, or without its tags (its text, spaced) when it leaves more than MAX_OPEN_BLOCKS
    block elements open."""
    if len(markup) < 8 * MAX_OPEN_BLOCKS or markup.count("<") <= MAX_OPEN_BLOCKS:  # too few tags for that many
        return markup
    if len(_OPEN_BLOCK.findall(markup)) - len(_CLOSE_BLOCK.findall(markup)) <= MAX_OPEN_BLOCKS:
        return markup
    return _ANY_TAG.sub(" ", markup)


_META_CHARSET = re.compile(rb"""<meta[^<>]+charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._:-]+)""")


def decode_document(data: bytes) -> str:
    """The text of a file a person saved (a seed article, an OPML export). UTF-8 (with or without a
    byte-order mark) and UTF-16 with a mark (what Windows Notepad saves as "Unicode") are recognised; other
    bytes are read in the encoding the file declares (`<meta charset>`, an XML prolog: a Chinese site in
    GBK, a Japanese one in Shift_JIS); UTF-8 with a few windows-1252 bytes in it (a page that declares UTF-8
    and pastes Latin-1 text in) as UTF-8, those bytes as windows-1252; else windows-1252, the usual 8-bit
    encoding of text saved on Windows (Latin-1 with its curly quotes)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    head = data[:4096]
    m = _META_CHARSET.search(head) or _XML_ENCODING.match(head)
    if m:
        try:
            return data.decode(m.group(1).decode("ascii"))
        except (LookupError, UnicodeError):
            pass
    if mostly_utf8(data):  # UTF-8 with a few windows-1252 bytes pasted in: those bytes alone read as such
        return data.decode("utf-8", UTF8_CP1252)
    detected = legacy_encoding(data)
    return data.decode(detected or "cp1252", "replace")


def mostly_utf8(data: bytes) -> bool:
    """Most non-ASCII bytes form valid UTF-8 sequences (in an 8-bit legacy text, hardly any do)."""
    head = data[:262144]
    high = len(_HIGH_BYTE.findall(head))
    valid = sum(map(len, _UTF8_MULTIBYTE.findall(head)))
    return valid >= 6 and valid >= 0.8 * high


def _cp1252_bytes(e: UnicodeError) -> tuple[str, int]:
    assert isinstance(e, UnicodeDecodeError)
    return e.object[e.start : e.end].decode("cp1252", "replace"), e.end


# the error handler that reads the bytes UTF-8 cannot as windows-1252: `data.decode("utf-8", UTF8_CP1252)`
UTF8_CP1252 = "aggregator-cp1252"
codecs.register_error(UTF8_CP1252, _cp1252_bytes)
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


# Encodings of scripts other than the Latin alphabet, as charset_normalizer names them. A text in one of them
# that declares no encoding is read in it when charset_normalizer finds it; for anything else (its guesses
# between Latin-alphabet code pages are often wrong on short texts: Spanish as windows-1250) windows-1252 stays.
_NON_LATIN = frozenset(
    "big5 big5hkscs cp932 shift_jis shift_jis_2004 shift_jisx0213 euc_jp euc_jis_2004 euc_jisx0213 iso2022_jp "
    "euc_kr cp949 johab iso2022_kr gb2312 gbk gb18030 hz cp950 "
    "cp1251 koi8_r koi8_u iso8859_5 cp866 cp855 mac_cyrillic "
    "cp1253 iso8859_7 cp1255 iso8859_8 cp1256 iso8859_6 tis_620 cp874 iso8859_11".split()
)


def legacy_encoding(data: bytes) -> str | None:
    """The encoding of a text that is not UTF-8 and declares none, when it is one of a non-Latin script
    (Chinese, Japanese, Korean, Cyrillic, Greek, Hebrew, Arabic, Thai) that charset_normalizer recognises;
    None otherwise (the caller reads windows-1252)."""
    from charset_normalizer import from_bytes  # only here: most texts never get this far

    best = from_bytes(data[:65536]).best()
    if best is None or best.encoding not in _NON_LATIN:
        return None
    try:
        data.decode(best.encoding)
    except UnicodeDecodeError:  # the sample read, the whole text does not: no guess
        return None
    return best.encoding


def fold(text: str) -> str:
    """Case- and accent-insensitive form used for matching: NFKD, combining marks dropped, casefold."""
    if text.isascii():  # the common case, 20x faster
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


# Chinese and Japanese are written without spaces between words: a "word" of the tokenisers is a clause.
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def has_cjk(text: str) -> bool:
    return not text.isascii() and _CJK_RUN.search(text) is not None


def cjk_split(token: str, n: int) -> list[str]:
    """A token holding Chinese or Japanese characters, in pieces: each run of them as its overlapping
    ``n``-character grams (2 to compare articles, as search engines index CJK; 1 for watchlist terms,
    matched as phrases of characters), the other parts ("mate60" in "华为mate60") as they are."""
    out: list[str] = []
    pos = 0
    for m in _CJK_RUN.finditer(token):
        if m.start() > pos:
            out.append(token[pos : m.start()])
        run = m.group()
        out.extend(run[i : i + n] for i in range(max(1, len(run) - n + 1)))
        pos = m.end()
    if pos < len(token):
        out.append(token[pos:])
    return out


def content_hash(title: str, summary: str) -> str:
    return hashlib.sha1(f"{title}\n{summary}".encode()).hexdigest()


_SOURCE_SEPARATORS = (" - ", " – ", " — ", " | ", " :: ")
_NOT_WORDS = re.compile(r"[\W_]+")


def strip_source(title: str, source: str) -> str:
    """The headline without the outlet a news aggregator appends ("US adds firms to list - Reuters", with
    <source>Reuters</source>): the outlet is shown as the source, and the headline matches the outlet's own."""
    for sep in _SOURCE_SEPARATORS:
        head, found, tail = title.rpartition(sep)
        if found and head.strip() and fold(tail.strip()) == fold(source.strip()):
            return head.strip()
    return title


def _after_headline(summary: str, title: str, markup: str) -> str:
    """A text that opens with its own headline (Medium's and many a CMS's content begin with it as a heading,
    some feeds' with it as a sentence): the text after it, which is what the digest's snippet and the story's
    lede should read. Not a title made of the text's first words (a micro-blog bridge's): there the text goes
    on in the same sentence, and cut there it would open mid-sentence."""
    if not title or len(summary) <= len(title) or fold(summary[: len(title)]) != fold(title):
        return summary
    rest = summary[len(title) :]
    heading = _FIRST_HEADING.match(markup)
    if rest[:1] in ".!?" or title[-1] in ".!?":  # the headline as the text's first sentence
        return rest.lstrip(" .?!\u00a0") or summary
    if heading and fold(" ".join(html_to_text(heading.group(1)).split())) == fold(" ".join(title.split())):
        return rest.lstrip() or summary
    return summary


_FIRST_HEADING = re.compile(
    r"\s*(?:<(?:div|section|header|article)\b[^<>]*>\s*)*<h[1-6]\b[^<>]*>(.{0,600}?)</h[1-6]>", re.I | re.S
)


def _repeats(summary: str, title: str, source: str | None) -> bool:
    """The summary is the headline again, perhaps followed by the outlet's name (Google News)."""
    rest = _NOT_WORDS.sub(" ", fold(summary)).strip()
    head = _NOT_WORDS.sub(" ", fold(title)).strip()
    if not head or not rest.startswith(head):
        return False
    rest = rest[len(head) :].strip()
    return not rest or (source is not None and rest == _NOT_WORDS.sub(" ", fold(source)).strip())


# What blog software appends to every excerpt: WordPress's (Yoast's) "The post X appeared first on Site.",
# a "Continue reading ->" link after the cut, "[...]" where the excerpt was cut.
_POST_APPEARED = re.compile(
    r"(?:(?<=[.!?…\]»”\"])|^)\s*The post (.{1,400}?) (?:appeared first|first appeared) on [^.!?]{1,200}\.?$", re.S
)
_READ_MORE = re.compile(
    r"(?:(?<=[.!?…:\]»”\"])|^)\s*(?:Continue reading|Read more|Read More|READ MORE|Keep reading|Read the full "
    r"(?:story|article|post)|Read full (?:story|article)|Click here to read more|Lire la suite|Weiterlesen|Leer más"
    r"|Leggi tutto|Read the rest|To read (?:this|the) (?:article|story) in full)\b[^.!?…]{0,120}(?:[.!?…]|\.\.\.)?$"
    # RT's "... has revealed Read Full Article at RT.com": capitalised and with its site, it needs no full stop
    r"|\s+Read Full (?:Article|Story) (?:at|on) [\w-]+(?:\.[\w-]+)+\.?$"
)
# A credit line for the syndicated copy (Engadget: "This article originally appeared on Engadget at https://...")
# and Medium's "<title> was originally published in <publication> on Medium, where people are continuing the
# conversation by highlighting and responding to this story." (cut only after the entry's own headline).
_ORIGINALLY = re.compile(
    r"(?:(?<=[.!?…\]»”\"])|^)\s*This (?:article|story|post) (?:originally|first) appeared (?:on|in) [^\n]{1,150}?"
    r"(?: at https?://\S+)?\.?$"
)
_MEDIUM = re.compile(
    r" was originally published in .{1,200}? on Medium, where people are continuing the conversation by "
    r"highlighting and responding to this story\.?$"
)
# The Guardian's newsletters, between standfirst and lede: "Don't get TechScape delivered to your inbox? Sign up here"
_NEWSLETTER_PROMO = re.compile(
    r"\s*•?\s*\bDon['’]t get [^.?!]{1,60} delivered to your inbox\? Sign up (?:for the full article )?here\.?(?=\s|$)"
)
_IMAGE_CREDIT = re.compile(r"\s*\((?:Image|Photo|Picture|Video) credit: [^()]{1,150}\)$", re.I)  # NPR
_CUT = re.compile(r"\s*\[(?:…|\.\.\.|&hellip;)\]$")
# What link aggregators append to every entry: Hacker News feeds (hnrss.org) the article's and the thread's
# addresses with the points and comments of the moment (which change at every poll: left in, every entry would
# look edited each time), Reddit's feeds the poster and "[link] [comments]".
_HN_TRAILER = re.compile(r"(?:^|\s)(?:Article URL: \S+ )?Comments URL: \S+ Points: \d+ # Comments: \d+$")
_REDDIT_TRAILER = re.compile(r"(?:^|\s)submitted by /?u/[\w-]+(?: to /?r/\w+)? \[link\] \[comments\]$")
# Hacker News' own feed and Lobsters' end every entry with a "Comments" link to its thread
_COMMENTS_LINK = re.compile(r"(?:(?<=[.!?…\]»”\"])|^)\s*Comments(?: \(\d+\))?$")
# Lemmy's feeds open every entry with the poster, the community, the score and the comments of the moment
# (then the shared article's address): "submitted by bob to technology 24 points | 3 comments https://...",
# "Submitted by bob to technology Comments: 3 | Score: 24 View post https://...".
_LEMMY_HEAD = re.compile(
    r"^[Ss]ubmitted by \S.{0,100}? to \S.{0,100}? (?:-?\d+ points \| \d+ comments|Comments: \d+ \| Score: -?\d+ "
    r"View post)(?: https?://\S+(?=\s|$))?\s*"
)
# A publisher's copyright line after every excerpt: "© 2026 TechCrunch. All rights reserved. For personal use only."
_COPYRIGHT = re.compile(r"(?:(?<=[.!?…\]»”\"])|^)\s*(?:©|\([cC]\)|Copyright (?:© ?)?(?:19|20)\d\d\b)[^©]{0,200}$")
# A mailing template's variable left unfilled in the text: "Welcome to The Hill's Technology newsletter {beacon}"
_TEMPLATE_VAR = re.compile(r"\s?\{\{?\s*[a-z][a-z_]{2,20}\s*\}\}?")
# What Bluesky's feeds write in place of each picture, video, link card or quoted post a post embeds
_BSKY_EMBED = re.compile(r"\s*\[contains quote post or other embedded content\]")
# What arXiv's feeds put before every abstract: "arXiv:2611.01234v1 Announce Type: new Abstract: We study..."
_ARXIV_HEAD = re.compile(r"^arXiv:[\w./-]{4,40} Announce Type: [\w-]{1,20} Abstract: ?")


def strip_boilerplate(text: str, title: str) -> str:
    """An excerpt without the sentences its blog software adds to every entry (they would show in the
    digest's snippet and make every entry of the feed look alike). "The post X appeared first on Y" goes
    only when X is the entry's own headline."""
    if "[contains quote post" in text:
        text = _BSKY_EMBED.sub("", text).strip()
    if text.startswith("arXiv:"):
        text = _ARXIV_HEAD.sub("", text, count=1)
    elif text[1:13] == "ubmitted by ":
        text = _LEMMY_HEAD.sub("", text, count=1)
    if "{" in text:
        text = _TEMPLATE_VAR.sub("", text)
    if "delivered to your inbox" in text:
        text = _NEWSLETTER_PROMO.sub("", text).strip()
    before = None
    while text and text != before:
        before = text
        tail = max(0, len(text) - _TAIL)  # every pattern ends the text: search its end only
        m = _POST_APPEARED.search(text, tail) if "The post " in text[tail:] else None
        if m and fold(m.group(1)) == fold(title):
            text = text[: m.start()]
        tail = max(0, len(text) - _TAIL)
        if any(w in text[tail:] for w in _READ_MORE_WORDS) and (m := _READ_MORE.search(text, tail)):
            text = text[: m.start()].rstrip()
        if text.endswith("]"):
            text = _REDDIT_TRAILER.sub("", text, count=1) if "submitted by" in text[tail:] else text
            text = _CUT.sub("…", text)
        if "Comments URL: " in text[tail:]:
            text = _HN_TRAILER.sub("", text, count=1)
        if "Comments" in text[-20:] and (m := _COMMENTS_LINK.search(text, tail)):
            text = text[: m.start()]
        if ("©" in text[tail:] or "opyright" in text[tail:] or "(c)" in text[tail:].lower()) and (
            m := _COPYRIGHT.search(text, tail)
        ):
            text = text[: m.start()].rstrip()
        if "appeared" in text[tail:] and (m := _ORIGINALLY.search(text, tail)):
            text = text[: m.start()].rstrip()
        if "on Medium" in text[tail:] and (m := _MEDIUM.search(text, tail)):
            head = text[: m.start()].rstrip()
            if title and fold(head[-len(title) :]) == fold(title):
                text = head[: -len(title)].rstrip()
        if "credit" in text[tail:].lower():
            text = _IMAGE_CREDIT.sub("", text, count=1)
    return text


_TAIL = 700  # longer than any match of the patterns above
_READ_MORE_WORDS = ("ead", "EAD", "ontinue", "Keep", "Click", "Lire", "Weiterlesen", "Leer", "Leggi")  # cheap test


_SENTENCE_END = re.compile(r"(?<=[a-z0-9)\"'”’]{2})[.!?…](?=\s|$)")  # not "U.S.", "Dr.", "Gina M."


# A post's link ("https://...", "www...", Bluesky's shortened "reut.rs/4abc") and the hashtags that end it
_POST_LINK = re.compile(r"\s(?:https?://|www\.|(?:[a-z0-9-]+\.)+[a-z]{2,6}/)")
_HASHTAG = re.compile(r"#\w[\w-]*")


def headline_of(text: str, limit: int = 100) -> str:
    """A headline for an entry that has none (a Mastodon or Bluesky post, a micro-blog): its first sentence
    when that is short enough, else its first words up to ``limit`` characters, cut between words; a link
    it shares and the hashtags at its end are not part of it."""
    if (m := _POST_LINK.search(text, 20)) is not None:
        text = text[: m.start()].rstrip(" ,;:-–—")
    if "#" in text[-50:]:
        words = text.rstrip().split(" ")  # a word at a time from the end: a regex would backtrack on many tags
        n = len(words)
        while n and _HASHTAG.fullmatch(words[n - 1]):
            n -= 1
        if n < len(words) and len(kept := " ".join(words[:n]).rstrip()) >= 20:
            text = kept
    return _first_words(text, limit)


def _first_words(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    m = _SENTENCE_END.search(text, 20, limit + 1)
    if m:
        return text[: m.end()]
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut.rstrip(" ,;:-–—") + "…"


def title_is_made(title: str, summary: str) -> bool:
    """The title was made here from the text (``headline_of``), or is the placeholder: the entry had none.
    (A feed's own title equal to its text leaves the text empty: the summary only repeated it.)"""
    # (the first words of the text, links and all, were the headline of an earlier release)
    return title == UNTITLED or (bool(summary) and title in (headline_of(summary), _first_words(summary, 100)))


MAX_TITLE = 300  # characters: the longest headlines run to about 200
FUTURE_SLACK = timedelta(minutes=10)  # clock skew allowed between a publisher and us


def not_after(published: datetime | None, seen: datetime | None) -> datetime | None:
    """A publication date, or ``seen`` when the date is after it (FUTURE_SLACK aside): a feed's clock or time
    zone is off, or a seed's year mistyped; what we have cannot have been published after we had it."""
    if published is not None and seen is not None and published > seen + FUTURE_SLACK:
        return seen
    return published


EARLIEST_YEAR = 1995  # a published date before this is a placeholder (the epoch, year 1, 1900)


def normalise_entry(
    entry: Entry,
    feed_url: str,
    fetched_at: datetime,
    feed_title: str | None,
    feed_tags: tuple[str, ...] = (),
    own_title: str | None = None,
) -> Item:
    """Entry -> Item. The guid falls back to the link, then to a hash of the text, so that every
    entry has a stable identity within its feed. ``feed_title`` is the name shown (the user's, else the
    feed's), ``own_title`` the feed's own: either after a headline's last separator is taken off."""
    title = html_to_text(entry.title)
    for name in {feed_title, own_title} - {None, ""}:  # a channel's name after every title ("... | Channel")
        title = strip_source(title, name or "")
    summary = entry_text(entry.summary_html, title)
    if entry.source:
        title = strip_source(title, entry.source)
        if title and summary.startswith(title):  # Google News: "<headline> <outlet>" (and what follows)
            rest = summary[len(title) :].lstrip(" -–—|:\u00a0")
            summary = rest[len(entry.source) :].lstrip() if rest.startswith(entry.source) else summary
    if summary and _repeats(summary, title, entry.source):
        summary = ""  # a description that only repeats the headline says nothing more
    elif summary:
        summary = _after_headline(summary, title, entry.summary_html)
    if len(title) > MAX_TITLE:  # a whole post or article as the title (a micro-blog bridge, a CMS's slip)
        summary = title if len(summary) < len(title) else summary
        title = headline_of(title)
    chash = content_hash(title, summary)
    guid = entry.guid or entry.url or f"sha1:{chash}"
    published = not_after(entry.published, fetched_at)
    if published is not None and published.year < EARLIEST_YEAR:
        published = None  # 1970-01-01 and the like: a CMS's empty date, not a date (no web feeds before 1995)
    return Item(
        feed_url=feed_url,
        guid=guid[:2000],
        url=entry.url,
        canonical_url=canonical_url(entry.url),
        title=title or headline_of(summary) or UNTITLED,
        summary=summary,
        summary_html=sanitise_html(entry.summary_html),
        author=entry.author,
        published=published,
        fetched_at=fetched_at,
        content_hash=chash,
        feed_title=feed_title,
        source=entry.source,
        feed_tags=feed_tags,
        comments_url=_discussion(entry.comments, entry.url),
    )


def _discussion(comments: str | None, url: str | None) -> str | None:
    """The page of an entry's discussion when it is a page of its own (Hacker News' thread, a Reddit post), not
    the article's own page again (WordPress writes "<article>#respond" into every entry's <comments>)."""
    key = canonical_url(comments)
    return comments if key and key != canonical_url(url) else None
