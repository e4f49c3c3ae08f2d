"""RPC from the gateway: every call has a deadline, and who is calling is resolved
once per request (and cached briefly).

Only a route declared ``auth=True`` has a caller: it is authenticated before the
handler runs (``Backend.authenticate``) and kept on the request, and ``caller()``
hands it out. A handler asking for a caller on any other route fails loudly, so a route
that acts for someone cannot ship without declaring it.

The caller a handler got from ``caller()`` (or ``authenticate``) travels signed: when
it is the first argument of a call, it is signed for that service and method
(``services.common.actor.sign_actor``), since services believe no other actor. A
handler passes it on exactly as it got it; an actor it built itself is refused.
"""

import functools
import hashlib
import time

import eventlet
from kombu.exceptions import OperationalError as KombuOperationalError
from nameko.exceptions import RpcTimeout, UnknownService
from nameko.extensions import DependencyProvider
from nameko.rpc import ReplyListener, ServiceProxy

# every service's errors, loaded so that they arrive here as themselves: nameko rebuilds
# a remote error from its class path, and a path it does not know gives a bare
# RemoteError (a 500) where the service meant, say, the 400 of ``ItemsNotInHub``
import services.catalogue.exceptions
import services.community.exceptions
import services.notifications.exceptions
import services.orders.exceptions  # noqa: F401
from services.common import config as cfg
from services.common import metrics
from services.common.actor import DEFAULT_SIGNED_ACTOR_TTL, Actor, sign_actor
from services.common.errors import ServiceUnavailable, Unauthenticated

RPC_TIMEOUT_KEY = "KOMPOR_RPC_TIMEOUT"
DEFAULT_RPC_TIMEOUT = 5.0
ACTOR_TTL_KEY = "KOMPOR_ACTOR_TTL"
"""Seconds a signed actor is believed by the service it is sent to."""
ACTOR_CACHE_SECONDS = 30
ACTOR_CACHE_SIZE = 10_000
ACTOR_KEY = "kompor.actor"
"""Where an authenticated request keeps its actor (in its WSGI environ)."""

UNAVAILABLE = (
    UnknownService,
    RpcTimeout,
    eventlet.Timeout,
    ConnectionError,
    OSError,
    KombuOperationalError,  # the broker itself is away
)
"""Transport failures: the service or the broker is down, overloaded or unreachable → 503."""


class RouteWithoutAuth(RuntimeError):
    """A handler asked who is calling on a route not declared ``auth=True``: a
    programming error (the request answers 500), not the caller's fault."""


class _TimedMethod:
    def __init__(self, method, service_name, timeout, sign=None):
        self.method = method
        self.service_name = service_name
        self.timeout = timeout
        self.sign = sign

    def __call__(self, *args, **kwargs):
        if args and self.sign is not None:
            args = (self.sign(args[0]), *args[1:])
        outcome = "error"
        try:
            with eventlet.Timeout(self.timeout):
                answer = self.method.call_async(*args, **kwargs).result()
            outcome = "ok"
            return answer
        except UNAVAILABLE:
            outcome = "unavailable"
            raise ServiceUnavailable(
                f"The {self.service_name} service is not answering; try again shortly.",
                {"service": [self.service_name]},
            ) from None
        finally:
            method = getattr(self.method, "method_name", "unknown")
            metrics.RPC_CLIENT_CALLS.labels(self.service_name, method, outcome).inc()


class _TimedService:
    def __init__(self, proxy, timeout, sign=None):
        self.proxy = proxy
        self.timeout = timeout
        self.sign = sign

    def __getattr__(self, method_name):
        service_name = self.proxy.service_name
        sign = self.sign and functools.partial(self.sign, service=service_name, method=method_name)
        return _TimedMethod(getattr(self.proxy, method_name), service_name, self.timeout, sign)


class Backend:
    """``backend.community.register(payload)``; ``backend.caller(request)``."""

    def __init__(self, provider, worker_ctx):
        self._provider = provider
        self._worker_ctx = worker_ctx
        self._callers = []  # the actors handed out for this request: these are signed

    def __getattr__(self, service_name):
        return self.service(service_name)

    def service(self, service_name, timeout=None):
        timeout = timeout or self._provider.timeout
        proxy = ServiceProxy(
            self._worker_ctx,
            service_name,
            self._provider.rpc_reply_listener,
            # a request nobody picked up before the deadline is dropped, not run late
            expiration=timeout,
        )
        return _TimedService(proxy, timeout, self._signed)

    def _handed_out(self, actor):
        self._callers.append(actor)
        return actor

    def _signed(self, first, service, method):
        """``first`` signed for the call when it is the caller handed out, else as is."""
        if not any(first is actor for actor in self._callers):
            return first
        provider = self._provider
        return sign_actor(first, service, method, provider.secret, provider.actor_ttl)

    def forget(self, member_id):
        """Drop the cached roles of ``member_id`` (they just changed)."""
        self._provider.forget(member_id)

    def authenticate(self, request) -> Actor:
        """Resolve who makes ``request`` and keep it on the request; ``Unauthenticated``
        (401) without a valid bearer token. Runs before the handler of every route
        declared ``auth=True``."""
        actor = self._handed_out(self._bearer_actor(request, required=True))
        request.environ[ACTOR_KEY] = actor
        return actor

    def caller(self, request, required=True) -> Actor | None:
        """The actor making ``request``: ``{"member_id", "is_admin", "roles"}``.

        On a route declared ``auth=True``, the one authenticated before the handler
        ran. Elsewhere only an optional caller can be asked for (``required=False``:
        ``None`` for an anonymous request); a required one is ``RouteWithoutAuth``."""
        if ACTOR_KEY in request.environ:
            return request.environ[ACTOR_KEY]  # handed out by authenticate
        if required:
            raise RouteWithoutAuth(
                f"{request.method} {request.path} asks who is calling but its route is not "
                "declared auth=True; declare it, or ask caller(request, required=False)."
            )
        return self._handed_out(self._bearer_actor(request, required=False))

    def _bearer_actor(self, request, required):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            if required:
                raise Unauthenticated(
                    "Log in first: send 'Authorization: Bearer <access_token>' "
                    "from POST /api/v1/auth/token."
                )
            return None
        return self._provider.cached_actor(token.strip(), self)


class BackendProvider(DependencyProvider):
    rpc_reply_listener = ReplyListener()

    def setup(self):
        config = self.container.config
        self.timeout = float(cfg.setting(config, RPC_TIMEOUT_KEY, DEFAULT_RPC_TIMEOUT))
        self.secret = cfg.secret_key(config)
        self.actor_ttl = float(cfg.setting(config, ACTOR_TTL_KEY, DEFAULT_SIGNED_ACTOR_TTL))
        self._actors = {}

    def get_dependency(self, worker_ctx):
        return Backend(self, worker_ctx)

    def cached_actor(self, token, backend):
        key = hashlib.sha256(token.encode()).hexdigest()
        now = time.monotonic()
        hit = self._actors.get(key)
        if hit and hit[0] > now:
            return hit[1]
        actor = backend.community.authenticate(token)
        if len(self._actors) >= ACTOR_CACHE_SIZE:
            self._actors = {k: v for k, v in self._actors.items() if v[0] > now}
            if len(self._actors) >= ACTOR_CACHE_SIZE:
                self._actors.clear()
        ttl = min(ACTOR_CACHE_SECONDS, max(actor.pop("expires_in", 0), 0))
        self._actors[key] = (now + ttl, actor)
        return actor

    def forget(self, member_id):
        self._actors = {
            key: hit for key, hit in self._actors.items() if hit[1]["member_id"] != member_id
        }
