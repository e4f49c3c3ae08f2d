"""See what services publish, and publish as another service would."""

import json
import threading
import uuid

import kombu
from nameko.standalone.events import event_dispatcher

from services.common.envelope import isoformat, utcnow


def envelope(data, event_id=None):
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "occurred_at": isoformat(utcnow()),
        "data": data,
    }


def publish(config, source, event_type, data, event_id=None):
    """Publish one event on ``<source>.events`` as its owner's relay would; returns it."""
    body = envelope(data, event_id)
    event_dispatcher(config)(source, event_type, body)
    return body


class EventRecorder:
    """Records every event on the given services' exchanges (a private queue each)."""

    def __init__(self, amqp_uri, *sources):
        self.events = []
        self._connection = kombu.Connection(amqp_uri)
        self._queue = kombu.Queue(
            f"test-recorder-{uuid.uuid4().hex}", exclusive=True, auto_delete=True
        )
        self._bindings = [
            kombu.binding(
                kombu.Exchange(f"{source}.events", type="topic", durable=True), routing_key="#"
            )
            for source in sources
        ]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        queue = kombu.Queue(
            self._queue.name, exclusive=True, auto_delete=True, bindings=self._bindings
        )
        self._consumer_queue = queue(self._connection.default_channel)
        self._consumer_queue.declare()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)
        self._connection.release()

    def _run(self):
        with self._connection.Consumer(
            [self._consumer_queue], callbacks=[self._on_message], accept=["json"]
        ):
            while not self._stop.is_set():
                try:
                    self._connection.drain_events(timeout=0.2)
                except TimeoutError:
                    continue

    def _on_message(self, body, message):
        event = body if isinstance(body, dict) else json.loads(body)
        self.events.append({"type": message.delivery_info["routing_key"], **event})
        message.ack()

    def of_type(self, event_type):
        return [event for event in self.events if event["type"] == event_type]
