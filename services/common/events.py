"""Events between services: the outbox relay and the inbox (docs/architecture.md §5, §6).

- ``OutboxRelay`` publishes the events that repositories wrote into aggregates'
  ``outbox`` field, with publisher confirms, and removes only what the broker
  confirmed. It runs right after each write that carried events (the write itself
  claimed the outbox with a lease) and, for what a crash or a broker outage left
  behind, on a timer that claims each document with a lease, so two replicas never
  publish the same document together. It publishes through one ``ConfirmedPublisher``
  per process: a long-lived confirm channel, one wait for the confirms of a batch.
- ``subscribe`` is nameko's ``event_handler`` plus an inbox (handled ``event_id``s
  under a unique key, so repeats are skipped) and retries: a failing handler's event
  waits in a retry queue (message TTL, then dead-lettered back to the handler's
  queue) with growing delays; after the last try it is parked in the dead-letter
  queue ``kompor.dead_letters``, where the operator CLI lists and replays it.
"""

import datetime
import itertools
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import eventlet
from eventlet.greenthread import GreenThread
from kombu import Connection, Exchange, Producer, Queue
from kombu.message import Message
from nameko.amqp.publish import Publisher
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.containers import ServiceContainer, WorkerContext
from nameko.events import EventHandler
from nameko.extensions import SharedExtension
from nameko.standalone.events import get_event_exchange
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from services.common import config as cfg
from services.common import metrics
from services.common.consumer import QueueConsumer
from services.common.envelope import (
    ATTEMPTS_HEADER,
    ERROR_HEADER,
    ORIGIN_HEADER,
    OUTBOX_PENDING,
    OutboxEntry,
    published_body,
    utcnow,
)
from services.common.mongo import database_name, mongo_client
from services.common.queues import dead_letter_queue, typed
from services.common.tracing import CORRELATION_HEADER
from services.common.types import Config, Document, Entrypoint, ExcInfo, Query

logger = logging.getLogger(__name__)

LEASE = datetime.timedelta(seconds=30)
INBOX_KEPT = datetime.timedelta(days=7)
SWEEP_BATCH = 100
PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5}
CONFIRM_TIMEOUT = 10.0  # seconds a batch waits for its confirms; then it waits for the sweep


def retry_queue(origin: str, delay: float, config: Config) -> Queue:
    """A queue where a message waits ``delay`` seconds, then returns to ``origin``."""
    name = f"{origin}.retry.{int(delay * 1000)}ms"
    queue = Queue(
        name,
        exchange=Exchange(""),
        routing_key=name,
        durable=True,
        queue_arguments={
            "x-message-ttl": int(delay * 1000),
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": origin,
        },
    )
    return typed(queue, config)


class ConfirmedPublisher:
    """Publishes to one exchange over a connection and a channel in publisher-confirm
    mode kept for the life of the process: a batch goes out, then its confirms are
    awaited once (nameko's publisher opens a producer and waits after every message).

    Broker trouble closes the connection and the next batch opens a new one; a batch
    that failed on a connection opened earlier (the broker may have restarted since) is
    sent once more on a fresh one. ``publish`` never raises: what is not confirmed
    stays in the outbox for the sweep, and the service goes on."""

    def __init__(self, amqp_uri: str, exchange: Exchange, timeout: float = CONFIRM_TIMEOUT):
        self.amqp_uri = amqp_uri
        self.exchange = exchange
        self.timeout = timeout
        self._lock = threading.Lock()  # one batch at a time on the channel
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self._next_tag = 1
        self._batch: dict[int, bool | None] = {}  # delivery tag → confirmed, or waiting

    def publish(self, entries: Sequence[OutboxEntry]) -> list[str]:
        """Publish ``entries`` in order; the ``event_id``s the broker confirmed."""
        if not entries:
            return []
        with self._lock:
            if self._connection is not None:
                try:
                    return self._publish(entries)
                except Exception:  # perhaps stale: tried again below on a new connection
                    self.close(gracefully=False)
            try:
                return self._publish(entries)
            except Exception as exc:  # broker away: the sweep tries again later
                self.close(gracefully=False)
                logger.warning("publishing to %s failed: %s", self.exchange.name, exc)
                return []

    def close(self, gracefully: bool = True) -> None:
        """Let the connection go: as the service stops, with the closing handshake;
        after a failure, without it (a broker that stopped answering would not answer
        that either)."""
        connection, self._connection, self._producer = self._connection, None, None
        if connection is None:
            return
        try:
            if gracefully:
                connection.release()
            else:
                connection.collect()
        except Exception as exc:  # gone either way
            logger.debug("closing the connection publishing to %s: %s", self.exchange.name, exc)

    def _open(self) -> Producer:
        self._connection = Connection(self.amqp_uri)
        self._connection.connect()
        channel = self._connection.channel()
        channel.confirm_select()
        channel.events["basic_ack"].add(lambda tag, multiple: self._settle(tag, multiple, True))
        channel.events["basic_nack"].add(lambda tag, multiple: self._settle(tag, multiple, False))
        self.exchange(channel).declare()
        self._next_tag = 1  # the broker numbers each channel's messages from 1
        self._producer = Producer(channel, exchange=self.exchange, auto_declare=False)
        return self._producer

    def _publish(self, entries: Sequence[OutboxEntry]) -> list[str]:
        producer = self._producer or self._open()
        assert self._connection is not None
        sent: dict[int, str] = {}
        self._batch = {}
        for entry in entries:
            correlation = entry.get("correlation_id")
            self._batch[self._next_tag] = None
            producer.publish(
                published_body(entry),
                routing_key=entry["type"],
                serializer="json",
                message_id=entry["event_id"],
                headers={CORRELATION_HEADER: correlation} if correlation else {},
            )
            sent[self._next_tag] = entry["event_id"]
            self._next_tag += 1
        deadline = time.monotonic() + self.timeout
        while None in self._batch.values():
            # raises TimeoutError when the deadline passes with confirms missing
            self._connection.drain_events(timeout=max(deadline - time.monotonic(), 0.001))
        return [event_id for tag, event_id in sent.items() if self._batch[tag]]

    def _settle(self, tag: int, multiple: bool, confirmed: bool) -> None:
        for waiting, outcome in self._batch.items():
            if outcome is None and (waiting == tag or multiple and waiting < tag):
                self._batch[waiting] = confirmed


class OutboxRelay:
    """Moves events from aggregates' ``outbox`` to ``<service>.events``."""

    def __init__(
        self, container: ServiceContainer, db: Database[Document], collections: Sequence[str]
    ) -> None:
        config = container.config
        self.container = container
        self.db = db
        self.collections = collections
        self.publisher = ConfirmedPublisher(
            config[AMQP_URI_CONFIG_KEY], get_event_exchange(container.service_name, config)
        )
        self.interval = float(cfg.setting(config, cfg.OUTBOX_SWEEP_KEY, cfg.DEFAULT_OUTBOX_SWEEP))
        self._sweeper: GreenThread | None = None

    def start(self) -> None:
        if self.collections:
            self._sweeper = self.container.spawn_managed_thread(self._sweep_forever)

    def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.kill()
            self._sweeper = None
        self.publisher.close()

    def relay(self, collection: str, document_id: str) -> None:
        """Claim one document's outbox and publish its pending events; a failure
        leaves them for the sweep."""
        self._publish_claimed(collection, {"_id": document_id})

    def publish(self, collection: str, document_id: str, outbox: Sequence[OutboxEntry]) -> int:
        """Publish the ``outbox`` of a document whose lease the caller holds (its write
        claimed it), then remove what the broker confirmed and release the lease, in
        one write; returns how many events went out."""
        confirmed = self.publisher.publish(outbox)
        documents = self.db[collection]
        if len(confirmed) == len(outbox):
            # all out, and nothing added meanwhile (the outbox only grows while we hold
            # the lease): empty it and lower the flag in one write
            emptied = documents.update_one(
                {"_id": document_id, "outbox": {"$size": len(outbox)}},
                {"$set": {"outbox": [], "outbox_lease": None, OUTBOX_PENDING: False}},
            )
            if emptied.matched_count:
                return len(confirmed)
        documents.update_one(
            {"_id": document_id},
            {
                "$pull": {"outbox": {"event_id": {"$in": confirmed}}},
                "$set": {"outbox_lease": None},
            },
        )
        return len(confirmed)

    def sweep(self, everything: bool = False) -> int:
        """Publish whatever is still pending; returns how many events went out.

        Pending events are found by the ``outbox_pending`` flag each write sets with
        them (an index lookup); ``everything`` reads every document instead, for
        events written without the flag (by an older version, or a direct write)."""
        sent = 0
        pending: Query = (
            {"outbox.event_id": {"$exists": True}} if everything else {OUTBOX_PENDING: True}
        )
        for collection in self.collections:
            for _ in range(SWEEP_BATCH):
                published = self._publish_claimed(collection, pending)
                if published is None:
                    break
                sent += published
        return sent

    def _sweep_forever(self) -> None:
        for count in itertools.count():
            eventlet.sleep(self.interval)
            try:
                # every write raises the flag with its events (``with_events``), so the
                # pass over every document (slow on the embedded store, which cannot
                # index ``$exists``) is needed once, for what an older version left
                self.sweep(everything=count == 0)
            except Exception:  # the next sweep tries again; never let the loop die
                logger.exception("outbox sweep failed")

    def _publish_claimed(self, collection: str, query: Query) -> int | None:
        now = utcnow()
        document = self.db[collection].find_one_and_update(
            {**query, "$or": [{"outbox_lease": None}, {"outbox_lease": {"$lt": now}}]},
            {"$set": {"outbox_lease": now + LEASE}},
            projection={"outbox": True},
        )
        if document is None:
            return None
        return self.publish(collection, document["_id"], document.get("outbox") or [])


class Inbox(SharedExtension):
    """Handled events per handler, ``_id = "<handler>:<event_id>"`` (unique), kept
    ``INBOX_KEPT`` (a TTL index): far longer than any redelivery or retry takes."""

    collection_name = "inbox"

    def setup(self) -> None:
        db = mongo_client(self.container.config)[database_name(self.container.service_name)]
        self.collection = db[self.collection_name]
        self.collection.create_index(
            "handled_at", expireAfterSeconds=int(INBOX_KEPT.total_seconds())
        )

    def seen(self, key: str) -> bool:
        return self.collection.find_one({"_id": key}, projection={"_id": True}) is not None

    def remember(self, key: str) -> None:
        try:
            self.collection.insert_one({"_id": key, "handled_at": utcnow()})
        except DuplicateKeyError:
            pass


class Listener(EventHandler):
    """nameko's ``event_handler`` on the consumer that outlives broker trouble, for
    listeners that need no inbox or retries (the gateway's cache invalidation)."""

    queue_consumer = QueueConsumer()

    def setup(self) -> None:
        super().setup()
        typed(self.queue, self.container.config)  # declared when the consumer starts


def listen(
    source_service: str, event_type: str, **options: Any
) -> Callable[[Entrypoint], Entrypoint]:
    """``@listen("community", "roles_changed", handler_type=BROADCAST)``: see
    ``Listener``."""
    decorate: Callable[[Entrypoint], Entrypoint] = Listener.decorator(
        source_service, event_type, **options
    )
    return decorate


class Subscriber(Listener):
    """``@subscribe("community", "member_registered")``: the handler gets the
    envelope ``{"event_id", "occurred_at", "data"}`` at most once per ``event_id``
    (within a process; replicas meet an idempotent handler)."""

    inbox = Inbox()

    def setup(self) -> None:
        super().setup()
        config = self.container.config
        self.delays = cfg.retry_delays(config)
        self.in_flight: set[str] = set()
        """Events this process is handling now: a copy arriving meanwhile (an outbox
        batch sent again after lost confirms) is acknowledged, not handled twice."""
        self.publisher = Publisher(
            config[AMQP_URI_CONFIG_KEY],
            use_confirms=True,
            retry_policy=PUBLISH_RETRY_POLICY,
        )

    def inbox_key(self, body: Mapping[str, Any]) -> str:
        return f"{self.method_name}:{body.get('event_id')}"

    def handle_message(self, body: Any, message: Message) -> None:
        if not isinstance(body, dict) or "event_id" not in body:
            logger.error("dropping malformed event on %s: %r", self.queue.name, body)
            self._park(body, message, "malformed event: no event_id", attempts=0)
            return
        key = self.inbox_key(body)
        if key in self.in_flight or self._seen(body):
            # a copy being handled here now either succeeds, or goes to a retry queue
            self.queue_consumer.ack_message(message)
            return
        self.in_flight.add(key)
        try:
            super().handle_message(body, message)
        except BaseException:
            self.in_flight.discard(key)
            raise

    def _seen(self, body: Any) -> bool:
        # this runs in the consumer's own thread, whose death would end the service: a
        # store that cannot answer means "not seen", and the handler meets it next
        try:
            return bool(self.inbox.seen(self.inbox_key(body)))
        except Exception:
            logger.exception("inbox lookup failed on %s; handling the event", self.queue.name)
            return False

    def handle_result(
        self,
        message: Message,
        worker_ctx: WorkerContext,
        result: Any = None,
        exc_info: ExcInfo | None = None,
    ) -> tuple[Any, ExcInfo | None]:
        body = worker_ctx.args[0]
        try:
            self._settle(body, message, exc_info)
        finally:  # remembered, or on its way to a retry queue: a copy meets either
            self.in_flight.discard(self.inbox_key(body))
        return result, exc_info

    def _settle(self, body: Any, message: Message, exc_info: ExcInfo | None) -> None:
        labels = (self.container.service_name, self.source_service, self.event_type)
        if exc_info is None:
            self._remember(body)
            self.queue_consumer.ack_message(message)
            metrics.EVENTS_HANDLED.labels(*labels).inc()
        else:
            metrics.EVENTS_FAILED.labels(*labels).inc()
            attempts = int((message.headers or {}).get(ATTEMPTS_HEADER, 0)) + 1
            error = f"{exc_info[0].__name__}: {exc_info[1]}"
            if attempts <= len(self.delays):
                self._retry_later(body, message, attempts, error)
            else:
                metrics.EVENTS_DEAD_LETTERED.labels(*labels).inc()
                self._park(body, message, error, attempts)

    def _remember(self, body: Any) -> None:
        # the work is done: an exception here would kill the service, and the event, if
        # it came again, would meet an idempotent handler
        try:
            self.inbox.remember(self.inbox_key(body))
        except Exception:
            logger.exception("could not record %s as handled", self.inbox_key(body))

    def _retry_later(self, body: Any, message: Message, attempts: int, error: str) -> None:
        queue = retry_queue(self.queue.name, self.delays[attempts - 1], self.container.config)
        self._forward(body, message, queue, {ATTEMPTS_HEADER: attempts, ERROR_HEADER: error})

    def _park(self, body: Any, message: Message, error: str, attempts: int) -> None:
        logger.error("parking event on %s after %s attempts: %s", self.queue.name, attempts, error)
        headers = {ATTEMPTS_HEADER: attempts, ERROR_HEADER: error, ORIGIN_HEADER: self.queue.name}
        self._forward(body, message, dead_letter_queue(self.container.config), headers)

    def _forward(
        self, body: Any, message: Message, queue: Queue, headers: Mapping[str, Any]
    ) -> None:
        try:
            self.publisher.publish(
                body,
                exchange=queue.exchange,
                routing_key=queue.routing_key,
                declare=[queue],
                headers={**(message.headers or {}), **headers},
            )
        except Exception:  # broker trouble: hand the message back rather than lose it
            logger.exception("could not forward event from %s; requeueing", self.queue.name)
            self.queue_consumer.requeue_message(message)
            return
        self.queue_consumer.ack_message(message)


def subscribe(
    source_service: str, event_type: str, **options: Any
) -> Callable[[Entrypoint], Entrypoint]:
    """``@subscribe("community", "member_registered")``: see ``Subscriber``."""
    decorate: Callable[[Entrypoint], Entrypoint] = Subscriber.decorator(
        source_service, event_type, **options
    )
    return decorate
