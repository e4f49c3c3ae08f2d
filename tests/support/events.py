"""See what services publish, and publish as another service would.

``EventLog`` binds an exclusive queue to every routing key of the sources'
exchanges in the test's vhost, so the test sees each event exactly as consumers do::

    with EventLog(config, "community") as events:
        ...
        event = events.wait_for("membership_approved", membership_id=m["id"])
"""

import uuid

from kombu import Connection, Queue, binding
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.standalone.events import event_dispatcher, get_event_exchange

from services.common.envelope import isoformat, utcnow
from tests.support.waiting import wait_until


def envelope(data, event_id=None):
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "occurred_at": isoformat(utcnow()),
        "data": data,
    }


def publish(config, source, event_type, data, event_id=None, headers=None):
    """Publish one event on ``<source>.events`` as its owner's relay would (with these
    AMQP ``headers``, such as its ``correlation_id``); returns it."""
    body = envelope(data, event_id)
    event_dispatcher(config, headers=headers or {})(source, event_type, body)
    return body


class EventLog:
    def __init__(self, config, *sources):
        self.sources = sources
        self.received = []
        self.headers = {}
        """Each received event's AMQP headers, by ``event_id``."""
        self.connection = Connection(config[AMQP_URI_CONFIG_KEY])
        channel = self.connection.channel()
        exchanges = [get_event_exchange(source, config) for source in sources]
        for exchange in exchanges:
            exchange(channel).declare()
        self.queue = Queue(
            exclusive=True,
            bindings=[binding(exchange, routing_key="#") for exchange in exchanges],
        )(channel)
        self.queue.declare()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.drain()
        self.connection.release()
        self.queue = None

    def drain(self):
        """Everything received so far: ``[{"type", "event_id", "occurred_at", "data"}]``
        (after ``close``, what had arrived by then)."""
        while self.queue is not None and (message := self.queue.get(no_ack=True)) is not None:
            self.received.append({"type": message.delivery_info["routing_key"], **message.payload})
            self.headers[message.payload.get("event_id")] = message.headers or {}
        return self.received

    @property
    def events(self):
        return self.drain()

    def of_type(self, event_type, **data):
        """The events of ``event_type`` whose ``data`` has these values."""
        return [
            event
            for event in self.drain()
            if event["type"] == event_type
            and all(event["data"].get(key) == value for key, value in data.items())
        ]

    def wait_for(self, event_type, timeout=10.0, **data):
        """The first event of ``event_type`` matching ``data``, waiting for it."""
        found = wait_until(
            lambda: self.of_type(event_type, **data),
            timeout=timeout,
            message=f"{'/'.join(self.sources)} event {event_type} {data}",
        )
        return found[0]
