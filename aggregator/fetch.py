"""Fetch stage: get a feed's bytes politely. The only module that touches httpx.

Contract of `Fetcher.fetch`: it never raises for a network or HTTP problem; it returns a
`FetchResult` with ``error_kind`` set (stable words: timeout, connect, http-NNN, gone,
too-large, redirect-loop, too-many-redirects, scheme, file) and the human message in ``error``.

Politeness: a global concurrency limit, a per-host limit with a minimum gap between two requests
to one host, conditional GET (RFC 9110 13.1: If-None-Match / If-Modified-Since), and a
User-Agent naming the project.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import zlib
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import getproxies

import httpx

from aggregator import USER_AGENT
from aggregator.models import FetchResult, Validators
from aggregator.normalise import joined, url_parts

MAX_REDIRECTS = 5
MAX_RETRY_AFTER = 24 * 3600
ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


@dataclass(frozen=True)
class FetchLimits:
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 60.0
    max_body: int = 10 * 2**20
    concurrency: int = 16
    per_host: int = 2
    host_gap: float = 1.0


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After is delay-seconds or an HTTP-date (RFC 9110 10.2.3). Capped at 24 h."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(min(int(value), MAX_RETRY_AFTER))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, min((when - now).total_seconds(), MAX_RETRY_AFTER))


def parse_max_age(cache_control: str | None) -> int | None:
    if not cache_control:
        return None
    for part in cache_control.split(","):
        name, _, value = part.strip().partition("=")
        if name.lower() == "max-age" and value.strip().strip('"').isdigit():
            return int(value.strip().strip('"'))
    return None


HOST_HOLD = 300.0  # seconds a host that answered 429 without a Retry-After is left alone


class _BodyTooLarge(Exception):
    pass


class _Undecodable(Exception):
    pass


class Fetcher:
    """Holds one httpx.AsyncClient and the politeness limits. Use as an async context manager."""

    def __init__(self, limits: FetchLimits | None = None, *, clock=time.monotonic) -> None:
        self.limits = limits or FetchLimits()
        self._clock = clock
        self._global = asyncio.Semaphore(self.limits.concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(self.limits.per_host))
        self._host_next: dict[str, float] = defaultdict(float)
        self._host_lock: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        # hosts that answered 429 Too Many Requests: not asked again until they said (clock time)
        self._host_hold: dict[str, float] = {}
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Fetcher:
        lim = self.limits
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            timeout=httpx.Timeout(lim.read_timeout, connect=lim.connect_timeout),
            limits=httpx.Limits(max_connections=lim.concurrency, max_keepalive_connections=lim.concurrency),
            # behind a proxy (HTTP_PROXY...), httpx's own transport, which applies the proxy settings (NO_PROXY...)
            transport=None if getproxies() else _Pools(lim.concurrency),
            headers={"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"},
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def fetch(self, url: str, validators: Validators | None = None) -> FetchResult:
        """Fetch one feed, conditionally when ``validators`` hold an ETag or Last-Modified."""
        validators = validators or Validators()
        start = self._clock()
        try:
            scheme = urlsplit(url).scheme.lower()
        except ValueError as e:  # a bracketed host that is no IPv6 address
            return _error(url, url, "url", f"{url}: not a valid URL: {e}")
        if not _port_ok(url):  # (typed to `seeds import` or `feeds import`: feeds.toml's are checked on load)
            return _error(url, url, "url", f"{url}: not a valid URL: the port must be a number from 0 to 65535")
        if scheme == "file":
            result = _read_file(url, validators, self.limits.max_body)
        elif scheme in ("http", "https"):
            result = await self._fetch_http(url, validators)
        else:
            result = _error(url, url, "scheme", f"{url}: unsupported URL scheme {scheme!r}: use http, https or file")
        return _with_elapsed(result, self._clock() - start)

    async def _polite(self, host: str) -> None:
        """Wait for this host's minimum gap; the lock keeps two requests from taking one slot."""
        async with self._host_lock[host]:
            wait = self._host_next[host] - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
            self._host_next[host] = self._clock() + self.limits.host_gap

    async def _fetch_http(self, url: str, validators: Validators) -> FetchResult:
        assert self._client is not None, "use Fetcher as an async context manager"
        headers: dict[str, str] = {}
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        current, permanent = url, True
        # each address asked for, with the cookies held then: asked again with new ones is no loop (a cookie check
        # redirects to a page that sets one and back, as a browser follows it)
        seen = {url: self._cookies()}
        # poll.total_timeout bounds the feed's own requests (redirects included), from its first request: the
        # time spent queued behind other feeds of its host (politeness) or all hosts (concurrency) is not its
        # server's slowness, and a feed among hundreds from one host must not time out for waiting its turn
        deadline: float | None = None
        for _ in range(MAX_REDIRECTS + 1):
            host = urlsplit(current).hostname or ""
            async with self._global, self._hosts[host]:
                if (held := self._host_hold.get(host, 0.0) - self._clock()) > 0:
                    # a rate limit is the client's, not one feed's: the host's other feeds wait as it asked
                    return _error(
                        url,
                        current,
                        "http-429",
                        f"{current}: not requested: {host} asked us to slow down (answering another of its feeds), "
                        f"retry after {held:.0f} s",
                        retry_after=held,
                    )
                await self._polite(host)
                if deadline is None:
                    deadline = time.monotonic() + self.limits.total_timeout
                try:
                    outcome = await asyncio.wait_for(
                        self._one_request(current, headers, validators), timeout=max(0.0, deadline - time.monotonic())
                    )
                except TimeoutError:
                    total = self.limits.total_timeout
                    return _error(url, current, "timeout", f"{url}: no complete answer within {total:g} s")
                except httpx.TimeoutException as e:
                    return _error(url, current, "timeout", f"timed out ({type(e).__name__}) while fetching {current}")
                except httpx.HTTPError as e:
                    kind = "connect" if isinstance(e, httpx.ConnectError | httpx.NetworkError) else "http"
                    if "location header" in str(e).lower():  # a redirect to a URL that cannot be read
                        kind = "redirect"
                    elif "CERTIFICATE_VERIFY_FAILED" in str(e) or "certificate verify failed" in str(e).lower():
                        kind = "tls"  # expired, self-signed or for another host: the publisher's to fix
                    return _error(url, current, kind, f"{type(e).__name__} while fetching {current}: {e}")
                except (httpx.InvalidURL, ValueError) as e:  # a bad port, a broken IPv6 literal
                    kind = "url" if current == url else "redirect"
                    return _error(url, current, kind, f"{current}: not a valid URL: {e}")
            if isinstance(outcome, FetchResult):
                moved = current if (permanent and current != url and outcome.ok) else None
                return replace(outcome, url=url, final_url=current, permanent_redirect=moved)
            status, location = outcome
            nxt = joined(current, location)
            if nxt is None or not _port_ok(nxt):  # "http://[your-domain/feed", ":99999": httpx passes them
                return _error(url, current, "redirect", f"{current} redirects to {location!r}: not a valid URL")
            if urlsplit(nxt).scheme.lower() not in ("http", "https"):
                return _error(url, current, "scheme", f"redirect from {current} to a non-http URL {nxt}")
            cookies = self._cookies()
            if seen.get(nxt) == cookies:
                return _error(url, current, "redirect-loop", f"redirect loop: {current} -> {nxt}")
            permanent = permanent and status in (301, 308)
            seen[nxt] = cookies
            current = nxt
        return _error(url, current, "too-many-redirects", f"more than {MAX_REDIRECTS} redirects from {url}")

    def _cookies(self) -> frozenset[tuple[str, str, str, str | None]]:
        """The cookies the client holds (servers set them on redirects: httpx keeps them for the cycle)."""
        assert self._client is not None
        return frozenset((c.domain, c.path, c.name, c.value) for c in self._client.cookies.jar)

    async def _one_request(
        self, url: str, headers: dict[str, str], validators: Validators
    ) -> FetchResult | tuple[int, str]:
        """One GET. Returns a FetchResult, or (status, Location) for a redirect to follow."""
        assert self._client is not None
        async with self._client.stream("GET", url, headers=headers) as resp:
            status = resp.status_code
            if status in (301, 302, 303, 307, 308) and resp.headers.get("location"):
                return status, resp.headers["location"]
            now = datetime.now(UTC)
            if status == 304:
                return FetchResult(
                    url=url,
                    final_url=url,
                    status=304,
                    not_modified=True,
                    validators=validators,
                    max_age=parse_max_age(resp.headers.get("cache-control")),
                )
            if status == 410:
                return _error(url, url, "gone", f"{url} answered 410 Gone: the publisher removed this feed", status)
            if status in (429, 503):
                retry = parse_retry_after(resp.headers.get("retry-after"), now)
                if status == 429:  # a rate limit: the whole host asks to be left alone for a while (a 503 is
                    # often one feed's backend, down or overloaded: that feed alone waits)
                    host = urlsplit(url).hostname or ""
                    until = self._clock() + (retry if retry is not None else HOST_HOLD)
                    self._host_hold[host] = max(self._host_hold.get(host, 0.0), until)
                return _error(
                    url,
                    url,
                    f"http-{status}",
                    f"{url} answered {status} {resp.reason_phrase}"
                    + (f", retry after {retry:.0f} s" if retry is not None else ""),
                    status,
                    retry,
                )
            if status >= 400:
                return _error(url, url, f"http-{status}", f"{url} answered {status} {resp.reason_phrase}", status)
            declared = resp.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > self.limits.max_body:
                return _error(
                    url,
                    url,
                    "too-large",
                    f"{url} declares {declared} bytes, over the {self.limits.max_body} byte cap",
                    status,
                )
            try:
                body = await self._read_capped(resp)
            except _Undecodable as e:
                return _error(url, url, "encoding", f"{url}: {e}", status)
            except _BodyTooLarge:
                return _error(
                    url,
                    url,
                    "too-large",
                    f"{url}: body over the {self.limits.max_body} byte cap (after decompression); cut off",
                    status,
                )
            new = Validators(
                etag=resp.headers.get("etag"),
                last_modified=resp.headers.get("last-modified"),
                body_hash=body_hash(body),
            )
            return FetchResult(
                url=url,
                final_url=url,
                status=status,
                body=body,
                not_modified=new.body_hash == validators.body_hash,
                validators=new,
                content_type=resp.headers.get("content-type"),
                max_age=parse_max_age(resp.headers.get("cache-control")),
            )

    async def _read_capped(self, resp: httpx.Response) -> bytes:
        """Stream the body as sent and stop at the cap (an endless body is cut off), then decode it under the
        same cap (a gzip bomb too)."""
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.aiter_raw():
            size += len(chunk)
            if size > self.limits.max_body:
                raise _BodyTooLarge
            chunks.append(chunk)
        cap = self.limits.max_body
        return gunzipped(decoded(b"".join(chunks), resp.headers.get("content-encoding"), cap), cap)


class _Pools(httpx.AsyncBaseTransport):
    """Several small connection pools in place of one. httpx's pool looks at every connection it holds at each
    request and each response (whether it expired: a system call; whether too many are idle: over all of them,
    for each one), which with 16 connections was half of the CPU time of fetching. The k-th request in flight
    to a host always goes to the same pool, where its kept-alive connection waits, so connections are reused
    as with one pool. The Fetcher's own semaphore bounds the requests in flight."""

    PER_POOL = 2

    def __init__(self, concurrency: int) -> None:
        self._n = max(1, -(-concurrency // self.PER_POOL))
        tls = httpx.create_ssl_context()  # loaded once for all pools
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=-(-concurrency // self._n))
        self._pools = [httpx.AsyncHTTPTransport(verify=tls, limits=limits) for _ in range(self._n)]
        self._busy: dict[tuple[bytes, str, int | None], set[int]] = defaultdict(set)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        origin = (request.url.raw_scheme, request.url.host, request.url.port)
        busy = self._busy[origin]
        slot = next(k for k in range(len(busy) + 1) if k not in busy)
        busy.add(slot)
        pool = self._pools[(zlib.crc32(repr(origin).encode()) + slot) % self._n]
        try:
            response = await pool.handle_async_request(request)
        except BaseException:
            busy.discard(slot)
            raise
        response.stream = _Releasing(response.stream, lambda: busy.discard(slot))  # type: ignore[arg-type]
        return response

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.aclose()


class _Releasing(httpx.AsyncByteStream):
    """A response body that frees its request's slot (see _Pools) once closed."""

    def __init__(self, stream: httpx.AsyncByteStream, release) -> None:
        self._stream, self._release = stream, release

    async def __aiter__(self):
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            self._release()


async def fetch_once(url: str) -> FetchResult:
    """One page or file fetched outside a poll cycle (an OPML list, a seed article): same limits, same
    politeness, same User-Agent."""
    async with Fetcher() as fetcher:
        return await fetcher.fetch(url)


def decoded(body: bytes, coding: str | None, cap: int) -> bytes:
    """A body under its Content-Encoding (gzip and deflate: what we ask for). A body labelled gzip or deflate
    that is not compressed at all (a server or a CMS plugin adding the header to a plain answer: readers on
    httplib2 or node-fetch fail on such feeds) is read as it is; "deflate" is zlib-wrapped or raw, as servers
    send it. Raises _Undecodable when the body is compressed but corrupt, or in a coding we did not ask for."""
    for name in reversed([c.strip().lower() for c in (coding or "").split(",")]):
        if name in ("", "identity"):
            continue
        if name in ("gzip", "x-gzip"):
            attempts: tuple[int, ...] = (31,) if body[:2] == b"\x1f\x8b" else ()
        elif name == "deflate":
            attempts = (15, -15)  # zlib-wrapped (the standard), else raw (as IIS sent it)
        else:
            raise _Undecodable(f"the server compressed its answer as {name!r}, which we did not ask for")
        error: Exception | None = None
        for wbits in attempts:
            try:
                out = zlib.decompressobj(wbits).decompress(body, cap + 1)
            except zlib.error as e:
                error = e
                continue
            if len(out) > cap:
                raise _BodyTooLarge
            if _plain(body) and not _plain(out):
                continue  # a plain document read as raw deflate gives garbage, not an error
            body = out
            break
        else:
            if not _plain(body):
                raise _Undecodable(
                    f"its answer, compressed as {name} (Content-Encoding), is corrupt ({error}): the publisher's "
                    "server is misconfigured"
                )
            # a plain document under the label by mistake: read as it is
    return body


def _plain(body: bytes) -> bool:
    """Whether a body reads as an uncompressed feed or page (markup or JSON, perhaps after a byte-order mark)."""
    return body[:1024].lstrip().removeprefix(b"\xef\xbb\xbf").lstrip()[:1] in (b"<", b"{", b"[")  # no copy of it all


def gunzipped(body: bytes, cap: int) -> bytes:
    """A body that is still gzip (a feed.xml.gz served as is, or compressed twice by a misconfigured server)
    decompressed, under the same cap; any other body as it is."""
    if body[:2] != b"\x1f\x8b":
        return body
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(body, cap + 1)
    except zlib.error:
        return body  # not gzip after all: the parser says what it is
    if len(out) > cap:
        raise _BodyTooLarge
    return out


def _read_file(url: str, validators: Validators, max_body: int) -> FetchResult:
    path = Path(unquote(urlsplit(url).path))
    try:
        size = path.stat().st_size
        if size > max_body:
            return _error(url, url, "too-large", f"{path}: {size} bytes, over the {max_body} byte cap")
        body = gunzipped(path.read_bytes(), max_body)
    except OSError as e:
        return _error(url, url, "file", f"cannot read {path}: {e.strerror}")
    except _BodyTooLarge:
        return _error(url, url, "too-large", f"{path}: over the {max_body} byte cap after decompression")
    h = body_hash(body)
    return FetchResult(
        url=url,
        final_url=url,
        status=200,
        body=body,
        not_modified=h == validators.body_hash,
        validators=Validators(body_hash=h),
    )


_RETRIED = "retried later, with backoff"
_HINTS = {
    "timeout": f"a slow or overloaded server; {_RETRIED} (poll.total_timeout sets the limit)",
    "connect": f"check the URL's host name and the network; {_RETRIED}",
    "http": _RETRIED,
    "redirect-loop": f"the publisher's server is misconfigured; {_RETRIED}",
    "too-many-redirects": f"the publisher's server is misconfigured; {_RETRIED}",
    "redirect": f"the publisher's server is misconfigured; {_RETRIED}",
    "encoding": _RETRIED,
    "tls": f"the site's TLS certificate is not valid (expired, self-signed or for another name); {_RETRIED}",
    "url": "fix the feed's URL in feeds.toml",
    "gone": "remove it with `aggregator feeds remove URL`; it is no longer polled",
    "too-large": "raise poll.max_body if the feed really is this big",
    "file": "check the path in feeds.toml (a relative path starts from the config folder)",
    "http-401": 'the feed needs a login: put "user:password@" before the host in its URL in feeds.toml '
    "(the password is never printed or logged)",
    "http-403": f"the server refuses this reader (a login, or a block on automated clients); {_RETRIED}",
    "http-404": "the feed moved or the URL is wrong: `aggregator feeds add` with the site's address finds its feeds",
    "http-429": "the server asks us to slow down: the next poll waits as long as it asks",
}


def _hint(kind: str) -> str | None:
    """What the user can do about a fetch error of this kind (shown with it by status and the digest)."""
    if kind in _HINTS:
        return _HINTS[kind]
    if kind.startswith("http-5"):
        return f"a fault at the publisher's end; {_RETRIED}"
    if kind.startswith("http-4"):
        return f"check the URL; {_RETRIED}"
    return None


def _port_ok(url: str) -> bool:
    """Whether an address's port, if it names one, is a number from 0 to 65535 (one over it is an error deep in
    the connection code, not httpx's InvalidURL)."""
    try:
        return (parts := url_parts(url)) is not None and (parts.port or 0) >= 0
    except ValueError:
        return False


def _error(
    url: str, final: str, kind: str, message: str, status: int | None = None, retry_after: float | None = None
) -> FetchResult:
    return FetchResult(
        url=url,
        final_url=final,
        status=status,
        error_kind=kind,
        error=message,
        retry_after=retry_after,
        hint=_hint(kind),
    )


def _with_elapsed(result: FetchResult, elapsed: float) -> FetchResult:
    return replace(result, elapsed=elapsed)
