"""A request budget per client at the gateway, so that no one client can take every
worker of the stack: a token bucket per member, and per address for anonymous calls.

Each client has ``KOMPOR_RATE_BURST`` requests in hand, refilled at
``KOMPOR_RATE_LIMIT`` per second; a request without one is answered 429
``RATE_LIMITED`` with ``Retry-After`` before any worker or service sees it. The
defaults (20 per second, 60 at once) are far above what a person on a phone does.
A request counts for the member when it carries a token this gateway can verify (same
``KOMPOR_SECRET_KEY`` as community), and for its address otherwise.

The buckets live in the gateway process: each replica keeps its own, so N replicas
let a client through at up to N times the rate. Memory is bounded: a bucket idle long
enough to have refilled is dropped (a new one is the same), and beyond
``MAX_CLIENTS`` the longest idle go first.

The client address is the connection's peer (``REMOTE_ADDR``). Only when that peer is
one of ``KOMPOR_TRUSTED_PROXIES`` (addresses or networks, comma-separated) is
``X-Forwarded-For`` read: from the right, the first hop that is not a trusted proxy.
"""

import collections
import ipaddress
import logging
import math
import time

from nameko.extensions import SharedExtension

from services.common import config as cfg
from services.common.auth import TokenSigner
from services.common.errors import RateLimited, Unauthenticated

logger = logging.getLogger(__name__)

RATE_LIMIT_KEY = "KOMPOR_RATE_LIMIT"
RATE_BURST_KEY = "KOMPOR_RATE_BURST"
TRUSTED_PROXIES_KEY = "KOMPOR_TRUSTED_PROXIES"
DEFAULT_RATE_LIMIT = 20.0
DEFAULT_RATE_BURST = 60.0
MAX_CLIENTS = 100_000
CLIENT_ADDRESS_ENVIRON = "kompor.client_address"
UNREADABLE_TOKEN = (Unauthenticated, ValueError, KeyError, TypeError)


def trusted_networks(setting):
    """``"10.0.0.5, 172.16.0.0/12"`` → networks; a wrong entry stops the start."""
    entries = [entry.strip() for entry in str(setting or "").split(",") if entry.strip()]
    try:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)
    except ValueError as exc:
        raise ValueError(f"{TRUSTED_PROXIES_KEY}: {exc}") from None


def resolve_address(request, trusted=()):
    """Who is at the other end of ``request``, proxies in ``trusted`` seen through."""
    peer = request.remote_addr or ""
    if not _within(peer, trusted):
        return peer
    hops = request.headers.get("X-Forwarded-For", "").split(",")
    for hop in reversed([hop.strip() for hop in hops]):
        if _ip(hop) is None:
            break  # a hop no proxy wrote: the last one we trust is the client
        if not _within(hop, trusted):
            return hop
        peer = hop
    return peer


def client_address(request):
    """The address the rate limiter resolved for ``request`` (its peer otherwise)."""
    return request.environ.get(CLIENT_ADDRESS_ENVIRON) or request.remote_addr


def _ip(text):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _within(address, networks):
    ip = _ip(address)
    return ip is not None and any(ip in network for network in networks)


class Buckets:
    """Token buckets by client; ``take(client)`` → 0 when allowed, else the seconds
    until a request would be."""

    def __init__(self, rate, burst, capacity=MAX_CLIENTS, clock=time.monotonic):
        self.rate = rate
        self.burst = burst
        self.capacity = capacity
        self.clock = clock
        self._buckets = collections.OrderedDict()  # client → (tokens, at), oldest first

    def __len__(self):
        return len(self._buckets)

    def take(self, client):
        now = self.clock()
        self._forget_full(now)
        tokens, at = self._buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        wait = 0 if tokens >= 1 else math.ceil((1 - tokens) / self.rate)
        self._buckets[client] = (tokens - 1 if wait == 0 else tokens, now)
        while len(self._buckets) > self.capacity:
            self._buckets.popitem(last=False)
        return wait

    def _forget_full(self, now):
        # ordered by last use: once the oldest has not refilled, neither have the rest
        refill = self.burst / self.rate
        while self._buckets:
            _, at = next(iter(self._buckets.values()))
            if now - at < refill:
                return
            self._buckets.popitem(last=False)


class RateLimiter(SharedExtension):
    """Shared by every route of the gateway: ``refuse(request)`` → ``RateLimited``
    or ``None``; it also records the client address for the handlers."""

    def setup(self):
        config = self.container.config
        self.rate = float(cfg.setting(config, RATE_LIMIT_KEY, DEFAULT_RATE_LIMIT))
        burst = float(cfg.setting(config, RATE_BURST_KEY, DEFAULT_RATE_BURST))
        self.trusted = trusted_networks(cfg.setting(config, TRUSTED_PROXIES_KEY))
        ttl = cfg.setting(config, cfg.TOKEN_TTL_KEY, cfg.DEFAULT_TOKEN_TTL)
        self.signer = TokenSigner(cfg.secret_key(config), ttl)
        self.buckets = Buckets(self.rate, max(burst, 1.0)) if self.rate > 0 else None
        if self.buckets is None:
            logger.warning("%s is %s: requests are not rate limited", RATE_LIMIT_KEY, self.rate)

    def refuse(self, request):
        address = resolve_address(request, self.trusted)
        request.environ[CLIENT_ADDRESS_ENVIRON] = address
        if self.buckets is None:
            return None
        wait = self.buckets.take(self._client(request, address))
        if not wait:
            return None
        return RateLimited(
            f"Too many requests; wait {wait} seconds and try again.",
            {"retry_after": [str(wait)]},
        )

    def _client(self, request, address):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            try:
                member_id, _ = self.signer.verify(token.strip())
                return f"member:{member_id}"
            except UNREADABLE_TOKEN:
                pass  # not a token of ours: the address pays for it
        return f"address:{address}"
