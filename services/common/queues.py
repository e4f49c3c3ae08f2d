"""The type of every durable queue the services declare: classic or quorum.

``KOMPOR_QUEUE_TYPE=quorum`` (the compose and Kubernetes default) makes every durable,
shared queue a quorum queue, replicated over a majority of the RabbitMQ cluster, so a
lost node loses no accepted message: each service's ``rpc-<service>`` queue, every
event handler's queue, the retry queues and the dead-letter queue. Queues that live and
die with one connection (RPC reply queues, the gateway's broadcast listeners) stay
exclusive or auto-delete classic queues, as quorum queues cannot be either.

A quorum queue also bounds a poison message: after ``KOMPOR_DELIVERY_LIMIT`` deliveries
that ended without an acknowledgement (the consumer died handling it, again and again)
the broker dead-letters an event into ``kompor.dead_letters``, where the operator CLI
lists and replays it like any parked event (an RPC request is dropped instead).
Failures a handler survives take the retry path (``services.common.events``) long
before that.

RabbitMQ refuses to change the type of a queue that exists (``PRECONDITION_FAILED``,
``inequivalent arg 'x-queue-type'``): ``type_mismatch_hint`` turns that into a log line
that says what to do; the migration is in docs/architecture.md §14.
"""

import os
from typing import Any

from kombu import Exchange, Queue

from services.common import config as cfg
from services.common.envelope import DEAD_LETTER_QUEUE
from services.common.types import Config

QUEUE_TYPE_KEY = "KOMPOR_QUEUE_TYPE"
DELIVERY_LIMIT_KEY = "KOMPOR_DELIVERY_LIMIT"
CLASSIC = "classic"
QUORUM = "quorum"
DEFAULT_QUEUE_TYPE = CLASSIC
DEFAULT_DELIVERY_LIMIT = 10


def queue_type(config: Config | None = None) -> str:
    """``classic`` or ``quorum`` from the service's config (or, for commands run
    outside nameko, the environment); anything else is refused at start."""
    source = config if config is not None else os.environ
    value = str(cfg.setting(source, QUEUE_TYPE_KEY, DEFAULT_QUEUE_TYPE)).strip().lower()
    if value not in (CLASSIC, QUORUM):
        raise ValueError(f"{QUEUE_TYPE_KEY} {value!r} is not a queue type: use classic or quorum")
    return value


def durable_arguments(
    config: Config | None = None, consumed: bool = True, parks: bool = True
) -> dict[str, Any]:
    """Arguments a durable queue gets: none for classic queues (so queues declared
    before this setting existed stay as they are); for quorum queues the type and, for
    a queue the services consume, the delivery limit, and with ``parks`` the way a
    message over it goes to ``kompor.dead_letters`` (an event queue's; an RPC request
    over the limit is dropped: its caller gave up long before, and a service that
    takes no events may not publish into queues). The dead-letter queue itself has no
    limit: only the operator reads it."""
    if queue_type(config) != QUORUM:
        return {}
    if not consumed:
        return {"x-queue-type": QUORUM}
    source = config if config is not None else os.environ
    limit = int(cfg.setting(source, DELIVERY_LIMIT_KEY, DEFAULT_DELIVERY_LIMIT))
    arguments: dict[str, Any] = {"x-queue-type": QUORUM, "x-delivery-limit": limit}
    if parks:
        arguments["x-dead-letter-exchange"] = ""
        arguments["x-dead-letter-routing-key"] = DEAD_LETTER_QUEUE
    return arguments


def typed(queue: Queue, config: Config, parks: bool = True) -> Queue:
    """``queue`` with the configured type, when it is durable and shared (consumed by
    every replica, outliving connections). A retry queue keeps its own dead-letter
    route, back to the queue it came from."""
    if queue.durable and not queue.exclusive and not queue.auto_delete:
        given = dict(getattr(queue, "queue_arguments", None) or {})
        consumed = queue.name != DEAD_LETTER_QUEUE
        arguments = durable_arguments(config, consumed=consumed, parks=parks)
        queue.queue_arguments = {**arguments, **given}  # type: ignore[attr-defined]
    return queue


def parks_in_dead_letters(queue: Queue) -> bool:
    """Whether the broker sends ``queue``'s messages over its limit to the dead letters."""
    arguments = getattr(queue, "queue_arguments", None) or {}
    return bool(arguments.get("x-dead-letter-routing-key") == DEAD_LETTER_QUEUE)


def dead_letter_queue(config: Config) -> Queue:
    """``kompor.dead_letters``: where the retry path parks an event after its last
    try, and where a quorum queue sends a message over its delivery limit."""
    queue = Queue(
        DEAD_LETTER_QUEUE, exchange=Exchange(""), routing_key=DEAD_LETTER_QUEUE, durable=True
    )
    return typed(queue, config)


def type_mismatch_hint(exc: BaseException, config: Config) -> str | None:
    """What to do, when ``exc`` is RabbitMQ refusing a queue declared with another type
    than the existing one's; ``None`` for any other error."""
    text = str(exc)
    if "PRECONDITION_FAILED" not in text or "inequivalent arg" not in text:
        return None
    limit = cfg.setting(config, DELIVERY_LIMIT_KEY, DEFAULT_DELIVERY_LIMIT)
    return (
        f"RabbitMQ refused a queue declaration: {text}. A queue keeps the type (and "
        f"delivery limit) it was created with, and {QUEUE_TYPE_KEY} is now "
        f"{queue_type(config)!r} ({DELIVERY_LIMIT_KEY} {limit}). Stop every "
        "replica of this service, let the queue drain (or move its messages with a "
        "shovel) and delete it (rabbitmqctl delete_queue <name>): the service keeps "
        "trying, and declares it with the new type (docs/architecture.md §14)."
    )
