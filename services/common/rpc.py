"""``@rpc``: nameko's RPC entrypoint, except that a service outlives a broker outage.

nameko kills the whole service when the answer to a call cannot be published (the
broker went away while the call ran): the process exits and stays down. Here the
answer is given up instead, and the service keeps running and reconnects. The caller
loses nothing it cannot get back: its call times out and it retries (every command
is safe to retry, DESIGN §5), and a request that was not acknowledged is delivered
again by the broker.

Every ``@rpc`` of a service must come from here: all of a service's RPC entrypoints
share one consumer of its ``rpc-<service>`` queue, and a second (nameko's own) would
take requests for methods it does not know.
"""

import logging

from nameko import rpc as nameko_rpc

from services.common.consumer import QueueConsumer

logger = logging.getLogger(__name__)


class RpcConsumer(nameko_rpc.RpcConsumer):
    queue_consumer = QueueConsumer()

    def handle_result(self, message, result, exc_info):
        try:
            return super().handle_result(message, result, exc_info)
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


rpc = Rpc.decorator
