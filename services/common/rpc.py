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
"""

import logging
from collections.abc import Callable, Iterable
from typing import Any, overload

from kombu.message import Message
from nameko import rpc as nameko_rpc

from services.common.types import Entrypoint, ExcInfo

logger = logging.getLogger(__name__)


class RpcConsumer(nameko_rpc.RpcConsumer):
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
            self.queue_consumer.ack_message(message)  # a no-op if the connection is gone
            return result, exc_info


class Rpc(nameko_rpc.Rpc):
    rpc_consumer = RpcConsumer()


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
