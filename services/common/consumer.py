"""The one consumer of a service's queues, made so broker trouble cannot kill it.

nameko settles every message it consumed through its ``QueueConsumer``: an ack when
the work is done, a requeue when it was refused. Its guard only catches amqp's own
``ConnectionError``, so an ack on a socket the broker just reset (``BrokenPipeError``,
``ConnectionResetError``) escapes into the worker, and nameko kills the whole service
for an exception in a worker's result handling. Here a message that cannot be settled
is left to the broker: an unacknowledged message is delivered again once the
connection is back, and every handler is safe to run twice (the inbox skips repeats,
every command is idempotent).

Every consuming entrypoint (``services.common.rpc``, ``services.common.events``) uses
this class, so a service keeps one consumer connection for all its queues.
"""

import logging
from collections.abc import Callable, Iterable
from typing import Any

from kombu.message import Message
from nameko import messaging

from services.common.queues import dead_letter_queue, parks_in_dead_letters, type_mismatch_hint

logger = logging.getLogger(__name__)


class QueueConsumer(messaging.QueueConsumer):
    connections = 0
    """How many times it has connected and consumed its queues. A queue of a broadcast
    listener lives and dies with the connection, so what was published to it while the
    consumer reconnected is lost: a copy of another service's state fed by one catches
    up when this changes (the gateway's showroom)."""

    def on_consume_ready(
        self, connection: Any, channel: Any, consumers: Any, **kwargs: Any
    ) -> None:
        self.connections += 1
        super().on_consume_ready(connection, channel, consumers, **kwargs)

    def get_consumers(self, consumer_cls: Any, channel: Any) -> Iterable[Any]:
        """Declares the queues (with quorum queues, the dead-letter queue first). A
        queue that exists with another type is refused by RabbitMQ: the service logs
        a line saying how to migrate it and keeps trying, consuming nothing (so never
        ready) until the queue is gone."""
        config = self.container.config
        try:
            if any(parks_in_dead_letters(p.queue) for p in self._providers):
                dead_letter_queue(config)(channel).declare()  # before any message over a limit
            consumers: Iterable[Any] = super().get_consumers(consumer_cls, channel)
        except Exception as exc:
            hint = type_mismatch_hint(exc, config)
            if hint:
                logger.error(hint)
            raise
        return consumers

    def ack_message(self, message: Message) -> None:
        self._settle(message, message.ack, "acknowledge")

    def requeue_message(self, message: Message) -> None:
        self._settle(message, message.requeue, "requeue")

    @staticmethod
    def _settle(message: Message, settle: Callable[[], None], verb: str) -> None:
        if not message.channel.connection:  # the broker took the message back already
            return
        try:
            settle()
        except Exception as exc:  # whatever the broker did, the process must go on
            logger.warning(
                "could not %s a message from %s (%s); the broker will deliver it again",
                verb,
                message.delivery_info.get("routing_key"),
                exc,
            )
