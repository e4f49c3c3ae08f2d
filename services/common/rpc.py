"""``@rpc``: nameko's RPC entrypoint, except that a service outlives a broker outage.

nameko kills the whole service when the answer to a call cannot be published (the
broker went away while the call ran): the process exits and stays down. Here the
answer is given up instead, and the service keeps running and reconnects. The caller
loses nothing it cannot get back: its call times out and it retries (every command
is safe to retry, docs/architecture.md §12), and a request that was not acknowledged is delivered
again by the broker.

Every ``@rpc`` of a service must come from here: all of a service's RPC entrypoints
share one consumer of its ``rpc-<service>`` queue, and a second (nameko's own) would
take requests for methods it does not know.

It is also where a service decides whether to believe who is calling. Anyone who can
publish to the broker can send a request, so a method whose first parameter is
``actor`` runs only when that argument is an actor signed for this very method
(``services.common.actor.sign_actor``, which the gateway does on every call): the
method then gets the plain actor, and a request with an unsigned, forged, expired or
misdirected one is answered ``Unauthenticated`` without running. Methods without an
``actor`` (``register``, ``list_hubs``, ``health`` …) take requests as nameko does.
"""

import inspect
import logging
from collections.abc import Callable, Iterable
from typing import Any, overload

from kombu.message import Message
from nameko import rpc as nameko_rpc

from services.common import config as cfg
from services.common.actor import ActorNotBelieved, verify_actor
from services.common.consumer import QueueConsumer
from services.common.errors import Unauthenticated
from services.common.queues import typed
from services.common.types import Entrypoint, ExcInfo

logger = logging.getLogger(__name__)


class RpcConsumer(nameko_rpc.RpcConsumer):
    queue_consumer = QueueConsumer()

    def setup(self) -> None:
        super().setup()
        # ``rpc-<service>``, shared by replicas; a request over the limit is dropped
        typed(self.queue, self.container.config, parks=False)

    def handle_result(
        self, message: Message, result: Any, exc_info: ExcInfo | None
    ) -> tuple[Any, ExcInfo | None]:
        try:
            answered: tuple[Any, ExcInfo | None] = super().handle_result(message, result, exc_info)
            return answered
        except Exception as exc:  # the broker is away; a dead service would help nobody
            logger.warning(
                "could not answer %s (%s); the caller will time out and retry",
                message.delivery_info.get("routing_key"),
                exc,
            )
            self.queue_consumer.ack_message(message)  # never raises
            return result, exc_info


class Rpc(nameko_rpc.Rpc):
    rpc_consumer = RpcConsumer()

    takes_actor = False
    secret = b""

    def setup(self) -> None:
        super().setup()
        self.takes_actor = _first_parameter(self.container.service_cls, self.method_name) == ACTOR
        if self.takes_actor:
            self.secret = cfg.secret_key(self.container.config)

    def handle_message(self, body: Any, message: Message) -> None:
        if self.takes_actor:
            body = self._with_believed_actor(body, message)
        super().handle_message(body, message)

    def _with_believed_actor(self, body: Any, message: Message) -> Any:
        """``body`` with its signed actor replaced by the plain one; ``Unauthenticated``
        (answered to the caller by the consumer) when the actor is not believed."""
        try:
            args, kwargs = list(body["args"]), dict(body["kwargs"])
        except (KeyError, TypeError, ValueError):
            return body  # nameko answers MalformedRequest
        service = self.container.service_name
        try:
            if args:
                args[0] = verify_actor(args[0], service, self.method_name, self.secret)
            elif ACTOR in kwargs:
                kwargs[ACTOR] = verify_actor(kwargs[ACTOR], service, self.method_name, self.secret)
            else:
                return body  # nameko answers IncorrectSignature
        except ActorNotBelieved as reason:
            logger.warning(
                "refused %s.%s from %s: %s",
                service,
                self.method_name,
                message.properties.get("reply_to", "a caller without reply_to"),
                reason,
            )
            raise Unauthenticated(
                "The caller is not vouched for: send the actor signed for this method "
                "(services.common.signing)."
            ) from None
        return {**body, "args": args, "kwargs": kwargs}


ACTOR = "actor"
"""The parameter a method names first to say it acts for someone."""


def _first_parameter(service_cls: type, method_name: str) -> str | None:
    """The name of a method's first parameter after ``self``."""
    parameters = list(inspect.signature(getattr(service_cls, method_name)).parameters)
    return parameters[1] if len(parameters) > 1 else None


@overload
def rpc(method: Entrypoint, /) -> Entrypoint: ...


@overload
def rpc(
    *,
    expected_exceptions: Iterable[type[BaseException]] | type[BaseException] = ...,
    sensitive_arguments: Iterable[str] | str = ...,
) -> Callable[[Entrypoint], Entrypoint]: ...


def rpc(*args: Any, **kwargs: Any) -> Any:
    """``@rpc`` or ``@rpc(expected_exceptions=EXPECTED)``: ``Rpc.decorator``, typed so
    that the decorated method keeps its signature for the type checker."""
    return Rpc.decorator(*args, **kwargs)
