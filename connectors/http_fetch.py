"""HTTP GET for feeds and article pages, bounded in every dimension an untrusted server controls.

Every download is capped in size (after decompression), in redirects, and in total time:
one deadline covers connecting, the status line and headers, the body, and every redirect
hop. Socket timeouts alone cannot do that (a server that sends one byte a second never
trips a read timeout), so a watchdog shuts the connection's socket down at the deadline,
whatever the fetch is waiting for. Feeds are fetched conditionally (ETag /
If-Modified-Since) so an unchanged feed costs a 304.

Feed URLs and article links come from untrusted lists and feeds, so fetches can be
*guarded*: the address a connection actually reaches (after DNS resolution, on every
redirect hop) must be public; loopback, private, link-local (cloud metadata) and other
special ranges are refused unless listed in ``allowed_networks``.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3 import Timeout
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError

from newsmon import __version__

USER_AGENT = f"newsmon/{__version__} (news monitor; polls feeds politely, honours Retry-After)"
FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
               "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5")
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
CHUNK = 64 * 1024


class FetchError(Exception):
    """The resource could not be fetched; ``retry_after`` (seconds) when the server said when."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class BlockedAddressError(FetchError):
    """A guarded fetch would have connected to a non-public address."""


@dataclass(frozen=True)
class FetchLimits:
    timeout: float = 20.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5


@dataclass(frozen=True)
class FetchResult:
    url: str  # after redirects
    status: int  # 200, or 304 when not modified
    body: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None


def blocked_reason(address: str, allowed: tuple[ipaddress._BaseNetwork, ...] = ()) -> str | None:
    """Why a guarded fetch must not connect to ``address`` (an IP literal), or None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if any(ip in network for network in allowed):
        return None
    for kind in ("loopback", "unspecified", "link_local", "multicast", "private", "reserved"):
        if getattr(ip, f"is_{kind}"):
            return f"{ip} is a {kind.replace('_', '-')} address"
    if not ip.is_global:
        return f"{ip} is not a public address"
    return None


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: either delay-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class _Watchdog:
    """Shuts down, at the deadline, every connection a fetch uses, so that a blocked
    connect, TLS handshake, header read or body read returns at once in the fetching thread.
    """

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._handles: list[_SocketHandle] = []
        self._stopped = False
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, handle: _SocketHandle) -> None:
        with self._lock:
            self._handles.append(handle)
            expired = self.expired
        if expired:
            handle.shut()

    def _expire(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self.expired = True
            handles = list(self._handles)
        for handle in handles:
            handle.shut()

    def stop(self) -> bool:
        """Stand down (no connection is shut after this returns); True if it had fired."""
        with self._lock:
            self._stopped = True
        self._timer.cancel()
        return self.expired


_current = threading.local()  # the watchdog of the fetch this thread is running


class _SocketHandle:
    """A second descriptor of a connection's socket: shutting it down ends the connection
    (shutdown acts on the socket, not on one descriptor), also while TLS has taken over the
    first; closed with the connection.
    """

    def __init__(self, sock: socket.socket) -> None:
        self._lock = threading.Lock()
        self._sock: socket.socket | None = sock.dup()

    def shut(self) -> None:
        with self._lock:
            if self._sock is not None:
                try:
                    self._sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # not connected yet, or already closed by its owner

    def close(self) -> None:
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None


def _watched(connection_class: type[HTTPConnection], *, guarded: bool) -> type[HTTPConnection]:
    """``connection_class`` whose sockets the current fetch's watchdog can shut down and,
    when ``guarded``, that refuses to stay connected to a non-public address.
    """

    class Watched(connection_class):
        allowed_networks: tuple[ipaddress._BaseNetwork, ...] = ()
        _handle: _SocketHandle | None = None

        def _new_conn(self):
            sock = super()._new_conn()
            if guarded:
                reason = blocked_reason(sock.getpeername()[0], self.allowed_networks)
                if reason:
                    sock.close()
                    msg = f"refused to fetch from {self.host}: {reason}"
                    raise BlockedAddressError(msg)
            if self._handle is not None:
                self._handle.close()
            self._handle = _SocketHandle(sock)
            self._watch()
            return sock

        def request(self, *args, **kwargs):  # a pooled connection, already connected
            self._watch()
            return super().request(*args, **kwargs)

        def close(self) -> None:
            super().close()
            if self._handle is not None:
                self._handle.close()
                self._handle = None

        def _watch(self) -> None:
            watchdog = getattr(_current, "watchdog", None)
            if watchdog is not None and self._handle is not None:
                watchdog.watch(self._handle)

    return Watched


def _give_back(response) -> None:
    """Return the connection to the pool with no unread bytes on it, or close it when the
    unread rest (of a redirect, a 304) is not short.
    """
    remaining = response.length_remaining
    if remaining is not None and remaining <= CHUNK:
        response.drain_conn()
    else:
        response.close()
    response.release_conn()


class Fetcher:
    """A thread-safe connection pool with the limits above; one per poller."""

    def __init__(self, limits: FetchLimits = FetchLimits(), *, guard: bool = False,
                 allowed_networks: tuple[str, ...] = (), pool_size: int = 16) -> None:
        self.limits = limits
        self._pool = urllib3.PoolManager(num_pools=pool_size * 4, maxsize=pool_size, block=False,
                                         retries=False, timeout=Timeout(limits.timeout))
        networks = tuple(ipaddress.ip_network(n, strict=False) for n in allowed_networks)
        pools = {}
        for scheme, pool_class, connection_class in (
                ("http", HTTPConnectionPool, HTTPConnection),
                ("https", HTTPSConnectionPool, HTTPSConnection)):
            watched = _watched(connection_class, guarded=guard)
            watched.allowed_networks = networks
            pools[scheme] = type(f"Watched{pool_class.__name__}", (pool_class,), {"ConnectionCls": watched})
        self._pool.pool_classes_by_scheme = pools

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
            accept: str = FEED_ACCEPT) -> FetchResult:
        """Download ``url`` within the limits; FetchError (BlockedAddressError for a refused
        address) says why not.
        """
        watchdog = _Watchdog(self.limits.timeout)
        _current.watchdog = watchdog
        try:
            return self._get(url, watchdog, etag=etag, last_modified=last_modified, accept=accept)
        except FetchError as exc:
            if watchdog.stop() and not isinstance(exc, BlockedAddressError):
                raise self._too_slow(url) from exc
            raise
        finally:
            watchdog.stop()
            _current.watchdog = None

    def _too_slow(self, url: str) -> FetchError:
        return FetchError(f"{url} took longer than {self.limits.timeout:g}s to download")

    def _get(self, url: str, watchdog: _Watchdog, *, etag: str | None, last_modified: str | None,
             accept: str) -> FetchResult:
        deadline = time.monotonic() + self.limits.timeout
        headers = {"User-Agent": USER_AGENT, "Accept": accept, "Accept-Encoding": "gzip, deflate"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        for _ in range(self.limits.max_redirects + 1):
            if urlsplit(url).scheme not in ("http", "https"):
                msg = f"refused to follow a redirect to {url[:200]}: not http(s)"
                raise FetchError(msg)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._too_slow(url)
            try:
                # Socket timeouts from the time left, so a connect fails in time by itself;
                # the watchdog ends whatever else would run past the deadline.
                response = self._pool.request("GET", url, headers=headers, redirect=False,
                                              preload_content=False, decode_content=True,
                                              timeout=Timeout(connect=remaining, read=remaining))
            except BlockedAddressError:
                raise
            except (HTTPError, OSError) as exc:
                msg = f"cannot fetch {url}: {exc}"
                raise FetchError(msg) from exc
            if response.status in REDIRECTS and response.headers.get("Location"):
                url = urljoin(url, response.headers["Location"])
                # Closed, not pooled: the watchdog may still shut it down before this fetch ends.
                response.close()
                response.release_conn()
                continue
            try:
                result = self._finish(url, response, deadline)
                if watchdog.stop():  # the body may look complete when the watchdog cut it short
                    raise self._too_slow(url)
            except BaseException:
                response.close()  # the rest of a refused or broken body is not worth reading
                response.release_conn()
                raise
            _give_back(response)  # the watchdog has stood down: the connection is safe to reuse
            return result
        msg = f"more than {self.limits.max_redirects} redirects"
        raise FetchError(msg)

    def _finish(self, url: str, response, deadline: float) -> FetchResult:
        status = response.status
        headers = response.headers
        if status in (429, 503):
            msg = f"HTTP {status} from {url}"
            raise FetchError(msg, retry_after=retry_after_seconds(headers.get("Retry-After")))
        if status != 304 and not 200 <= status < 300:
            msg = f"HTTP {status} from {url}"
            raise FetchError(msg)
        body = b"" if status == 304 else self._read(url, response, deadline)
        return FetchResult(url=url, status=304 if status == 304 else 200, body=body,
                           content_type=headers.get("Content-Type"), etag=headers.get("ETag"),
                           last_modified=headers.get("Last-Modified"))

    def _read(self, url: str, response, deadline: float) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.limits.max_bytes:
            msg = f"{url} is {int(declared):,} bytes, more than the limit of {self.limits.max_bytes:,}"
            raise FetchError(msg)
        chunks, size = [], 0
        try:
            # read1 returns what one socket read brings, so a trickling server meets the deadline.
            while chunk := response.read1(CHUNK):
                size += len(chunk)
                if size > self.limits.max_bytes:
                    msg = f"{url} is larger than the limit of {self.limits.max_bytes:,} bytes (decompressed)"
                    raise FetchError(msg)
                if time.monotonic() > deadline:
                    msg = f"{url} took longer than {self.limits.timeout:g}s to download"
                    raise FetchError(msg)
                chunks.append(chunk)
        except (HTTPError, OSError) as exc:
            msg = f"reading {url} failed: {exc}"
            raise FetchError(msg) from exc
        return b"".join(chunks)

    def close(self) -> None:
        self._pool.clear()
