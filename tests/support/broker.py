"""Talk to services the way anyone with access to the broker can: one RPC request
published by hand to the ``nameko-rpc`` exchange, its reply read from a queue of our
own, with no nameko client in between to add or check anything."""

import uuid

from kombu import Connection, Producer, Queue
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.rpc import get_rpc_exchange

from tests.support.waiting import wait_until


def raw_call(config, service, method, *args, timeout=10, **kwargs):
    """The reply to ``service.method(*args, **kwargs)``: ``{"result": …, "error": None}``
    or ``{"result": None, "error": {"exc_type": "Unauthenticated", …}}``."""
    exchange = get_rpc_exchange(config)
    reply_to = f"rpc.reply-outsider-{uuid.uuid4().hex}"
    correlation_id = uuid.uuid4().hex
    with Connection(config[AMQP_URI_CONFIG_KEY]) as connection:
        channel = connection.channel()
        exchange(channel).declare()
        replies = Queue(
            reply_to, exchange=exchange, routing_key=reply_to, exclusive=True, auto_delete=True
        )(channel)
        replies.declare()
        Producer(channel).publish(
            {"args": list(args), "kwargs": kwargs},
            exchange=exchange,
            routing_key=f"{service}.{method}",
            reply_to=reply_to,
            correlation_id=correlation_id,
            serializer="json",
        )
        reply = wait_until(
            lambda: replies.get(no_ack=True), timeout=timeout, message=f"{service}.{method}"
        )
    assert reply.properties["correlation_id"] == correlation_id
    return reply.payload
