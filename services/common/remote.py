"""Calling other services over RPC with a deadline, the actor signed for each call.

The gateway (``services/gateway/rpc.py``) and any service that acts for a member
(messaging runs a member's text command as that member) call through here: every call
has a timeout, a transport failure (the service or the broker away, the deadline
passed) is ``ServiceUnavailable``, and an actor passed first is signed for the one
method it is sent to (``services.common.actor.sign_actor``).

Every service's errors are loaded here (``load_service_errors``), so that a remote
error arrives as itself: nameko rebuilds it from its class path, and a path it does not
know gives a bare ``RemoteError`` where the service meant, say, a ``NotFound``.
"""

import functools
import importlib
from collections.abc import Callable
from typing import Any

import eventlet
from kombu.exceptions import OperationalError as KombuOperationalError
from nameko.containers import WorkerContext
from nameko.exceptions import RpcTimeout, UnknownService
from nameko.extensions import DependencyProvider
from nameko.rpc import ReplyListener, ServiceProxy

from services.common import config as cfg
from services.common import metrics
from services.common.actor import DEFAULT_SIGNED_ACTOR_TTL, Actor, sign_actor
from services.common.errors import ServiceUnavailable
from services.common.topology import BACKENDS

RPC_TIMEOUT_KEY = "KOMPOR_RPC_TIMEOUT"
DEFAULT_RPC_TIMEOUT = 5.0
ACTOR_TTL_KEY = "KOMPOR_ACTOR_TTL"
"""Seconds a signed actor is believed by the service it is sent to."""

UNAVAILABLE = (
    UnknownService,
    RpcTimeout,
    eventlet.Timeout,
    ConnectionError,
    OSError,
    KombuOperationalError,  # the broker itself is away
)
"""Transport failures: the service or the broker is down, overloaded or unreachable."""

Signer = Callable[..., Any]


def load_service_errors() -> None:
    """Import every backend's ``exceptions`` module (see the module's docstring)."""
    for name in BACKENDS:
        importlib.import_module(f"services.{name}.exceptions")


load_service_errors()


class TimedMethod:
    """One remote method: called with a deadline, its first argument signed by
    ``sign`` when there is one."""

    def __init__(
        self, method: Any, service_name: str, timeout: float, sign: Signer | None = None
    ) -> None:
        self.method = method
        self.service_name = service_name
        self.timeout = timeout
        self.sign = sign

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
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


class TimedService:
    """A remote service whose methods are ``TimedMethod``s; ``sign(first, service=,
    method=)`` decides what the first argument of a call becomes."""

    def __init__(self, proxy: ServiceProxy, timeout: float, sign: Signer | None = None) -> None:
        self.proxy = proxy
        self.timeout = timeout
        self.sign = sign

    def __getattr__(self, method_name: str) -> TimedMethod:
        service_name = self.proxy.service_name
        sign = self.sign and functools.partial(self.sign, service=service_name, method=method_name)
        return TimedMethod(getattr(self.proxy, method_name), service_name, self.timeout, sign)


def timed_service(
    worker_ctx: WorkerContext,
    reply_listener: ReplyListener,
    service_name: str,
    timeout: float,
    sign: Signer | None = None,
) -> TimedService:
    proxy = ServiceProxy(
        worker_ctx,
        service_name,
        reply_listener,
        # a request nobody picked up before the deadline is dropped, not run late
        expiration=timeout,
    )
    return TimedService(proxy, timeout, sign)


class Remote(DependencyProvider):
    """``remote = Remote()`` in a service: ``self.remote.community.get_hub(slug)``
    calls as nobody; ``self.remote.acting_as(actor).orders.place_order(key, payload)``
    calls as ``actor``, signed for that method (the actor is the first argument)."""

    rpc_reply_listener = ReplyListener()

    def setup(self) -> None:
        config = self.container.config
        self.timeout = float(cfg.setting(config, RPC_TIMEOUT_KEY, DEFAULT_RPC_TIMEOUT))
        self.secret = cfg.secret_key(config)
        self.actor_ttl = float(cfg.setting(config, ACTOR_TTL_KEY, DEFAULT_SIGNED_ACTOR_TTL))

    def get_dependency(self, worker_ctx: WorkerContext) -> "Services":
        return Services(self, worker_ctx)


class Services:
    def __init__(self, provider: Remote, worker_ctx: WorkerContext) -> None:
        self._provider = provider
        self._worker_ctx = worker_ctx

    def __getattr__(self, service_name: str) -> TimedService:
        return self.service(service_name)

    def service(self, service_name: str, sign: Signer | None = None) -> TimedService:
        provider = self._provider
        return timed_service(
            self._worker_ctx, provider.rpc_reply_listener, service_name, provider.timeout, sign
        )

    def acting_as(self, actor: Actor | None) -> "Acting":
        return Acting(self, actor)

    def _sign(self, actor: Actor | None, service: str, method: str) -> Any:
        provider = self._provider
        return sign_actor(actor, service, method, provider.secret, provider.actor_ttl)


class Acting:
    """Calls whose first argument is the actor, signed per method."""

    def __init__(self, services: Services, actor: Actor | None) -> None:
        self._services = services
        self._actor = actor

    def __getattr__(self, service_name: str) -> "_ActingService":
        return _ActingService(self._services, service_name, self._actor)


class _ActingService:
    def __init__(self, services: Services, service_name: str, actor: Actor | None) -> None:
        self._service = services.service(
            service_name, sign=lambda first, service, method: services._sign(first, service, method)
        )
        self._actor = actor

    def __getattr__(self, method_name: str) -> Callable[..., Any]:
        method = getattr(self._service, method_name)
        return functools.partial(method, self._actor)
