"""Calling a service as someone from outside the gateway: ``nameko shell``, an
operator's script, a test.

A service believes an ``actor`` argument only when it is signed for the one method
it is sent to (``services/common/rpc.py``). The gateway signs each call itself; any
other caller wraps its proxy and passes the plain actor as before::

    >>> from services.common.signing import SigningProxy
    >>> orders = SigningProxy(n.rpc.orders)      # or SigningProxy(n.rpc).orders
    >>> orders.cancel_order(actor, "6650…", {"reason": "Dobel"})

The key is the one the services use: ``KOMPOR_SECRET_KEY``, else the key kept under
``KOMPOR_DATA_DIR`` (run the shell where the services run).
"""

import os
from collections.abc import Callable
from typing import Any

from nameko.rpc import ServiceProxy

from services.common import config as cfg
from services.common.actor import (
    DEFAULT_SIGNED_ACTOR_TTL,
    Actor,
    SignedActor,
    sign_actor,
)


def environment_secret() -> bytes:
    """The services' secret key, found as a service would find it from this
    process's environment."""
    return cfg.secret_key(os.environ)


def signed(
    actor: Actor | None, service: str, method: str, secret: bytes | None = None
) -> SignedActor:
    """``actor`` signed for one call of ``service.method``:
    ``n.rpc.orders.get_order(signed(actor, "orders", "get_order"), order_id)``."""
    key = environment_secret() if secret is None else secret
    return sign_actor(actor, service, method, key, DEFAULT_SIGNED_ACTOR_TTL)


class SigningProxy:
    """A nameko proxy whose calls sign their first argument, the actor.

    Wraps a service proxy (``n.rpc.orders``, ``ServiceRpcProxy(...)``), or a cluster
    proxy (``n.rpc``, ``ClusterRpcProxy(...)``), whose services it then wraps in turn.
    Only for methods that take an actor first."""

    def __init__(self, proxy: Any, secret: bytes | None = None) -> None:
        self._proxy = proxy
        self._secret = environment_secret() if secret is None else secret

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._proxy, name)
        if not isinstance(self._proxy, ServiceProxy):
            return SigningProxy(target, self._secret)
        service: str = self._proxy.service_name
        return _signing_call(target, service, name, self._secret)


def _signing_call(
    method: Callable[..., Any], service: str, name: str, secret: bytes
) -> Callable[..., Any]:
    def call(actor: Actor | None, *args: Any, **kwargs: Any) -> Any:
        return method(sign_actor(actor, service, name, secret), *args, **kwargs)

    return call
