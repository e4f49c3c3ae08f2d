"""Watch what a service publishes: a test queue bound to ``<source>.events``.

``EventLog`` binds an exclusive queue to every routing key of the exchange in the
test's vhost, so the test sees each event exactly as consumers do::

    event = community_events.wait_for("membership_approved", membership_id=m["id"])
    assert event["data"]["decided_by"] == coordinator_id
"""

from kombu import Connection, Queue
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.standalone.events import get_event_exchange

from tests.support.waiting import wait_until


class EventLog:
    def __init__(self, config, source):
        self.source = source
        self.received = []
        self.connection = Connection(config[AMQP_URI_CONFIG_KEY])
        exchange = get_event_exchange(source, config)
        self.queue = Queue(exclusive=True, exchange=exchange, routing_key="#")(
            self.connection.channel()
        )
        exchange(self.queue.channel).declare()
        self.queue.declare()

    def close(self):
        self.connection.release()

    def drain(self):
        """Everything received so far: ``[{"type", "event_id", "occurred_at", "data"}]``."""
        while (message := self.queue.get(no_ack=True)) is not None:
            self.received.append({"type": message.delivery_info["routing_key"], **message.payload})
        return self.received

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
            message=f"{self.source} event {event_type} {data}",
        )
        return found[0]
