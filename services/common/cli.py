"""Operator CLI over AMQP (pika): watch events, list and replay dead letters.

    python -m services.common.cli tail [--service orders] [--type order_placed]
    python -m services.common.cli dead-letters
    python -m services.common.cli replay [--all | MESSAGE_ID …]

``AMQP_URI`` names the broker (default ``amqp://guest:guest@localhost:5672/``).
"""

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

import pika
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from services.common import config as cfg
from services.common.envelope import (
    ATTEMPTS_HEADER,
    DEAD_LETTER_QUEUE,
    ERROR_HEADER,
    ORIGIN_HEADER,
)
from services.common.queues import durable_arguments
from services.common.topology import BACKENDS


def connect(amqp_uri: str) -> BlockingConnection:
    return pika.BlockingConnection(pika.URLParameters(amqp_uri))


def tail(
    channel: BlockingChannel,
    services: Iterable[str],
    event_type: str | None,
    out: TextIO,
    limit: int | None = None,
) -> None:
    """Print events as they are published, until interrupted (or ``limit`` events)."""
    queue = channel.queue_declare(queue="", exclusive=True, auto_delete=True).method.queue
    for service in services:
        channel.exchange_declare(
            exchange=f"{service}.events", exchange_type="topic", durable=True, passive=False
        )
        channel.queue_bind(queue=queue, exchange=f"{service}.events", routing_key=event_type or "#")
    print(f"watching {', '.join(services)} events; Ctrl-C stops", file=out, flush=True)
    seen = 0
    for method, _, body in channel.consume(queue, auto_ack=True):
        event = json.loads(body)
        print(
            f"{event.get('occurred_at')} {method.exchange.removesuffix('.events')}."
            f"{method.routing_key} {event.get('event_id')} "
            f"{json.dumps(event.get('data'), ensure_ascii=False)}",
            file=out,
            flush=True,
        )
        seen += 1
        if limit is not None and seen >= limit:
            break
    channel.cancel()


def _declare_dead_letters(channel: BlockingChannel) -> None:
    # the same type the services declare it with (KOMPOR_QUEUE_TYPE)
    channel.queue_declare(
        queue=DEAD_LETTER_QUEUE, durable=True, arguments=durable_arguments(consumed=False)
    )


def _origin(headers: dict[str, Any]) -> str | None:
    """The queue a parked message failed in: ours, or, for a message the broker parked
    over a quorum queue's delivery limit, the first of its ``x-death`` records."""
    origin = headers.pop(ORIGIN_HEADER, None)
    if origin is None:
        deaths = headers.get("x-death") or [{}]
        origin = deaths[0].get("queue")
    return None if origin is None else str(origin)


def dead_letters(channel: BlockingChannel) -> list[tuple[str | None, dict[str, Any], bytes]]:
    """Every parked message, left in place: ``[(message_id, headers, body)]``."""
    _declare_dead_letters(channel)
    parked = []
    while True:
        method, properties, body = channel.basic_get(DEAD_LETTER_QUEUE, auto_ack=False)
        if method is None:
            break
        parked.append((_message_id(properties, body), properties.headers or {}, body))
    channel.basic_recover(requeue=True)  # hand them all back, unacknowledged
    return parked


def replay(channel: BlockingChannel, message_ids: Iterable[str] | None = None) -> int:
    """Send parked messages back to the queue they failed in; returns how many."""
    _declare_dead_letters(channel)
    wanted = set(message_ids or ())
    replayed = 0
    while True:
        method, properties, body = channel.basic_get(DEAD_LETTER_QUEUE, auto_ack=False)
        if method is None:
            break
        headers = dict(properties.headers or {})
        if wanted and _message_id(properties, body) not in wanted:
            continue
        origin = _origin(headers)
        if origin is None:
            continue
        for header in (ATTEMPTS_HEADER, ERROR_HEADER):
            headers.pop(header, None)
        channel.basic_publish(
            exchange="",
            routing_key=origin,
            body=body,
            properties=pika.BasicProperties(
                headers=headers,
                delivery_mode=2,
                content_type=properties.content_type,
                content_encoding=properties.content_encoding,
            ),
        )
        channel.basic_ack(method.delivery_tag)
        replayed += 1
    channel.basic_recover(requeue=True)
    return replayed


def _message_id(properties: pika.BasicProperties, body: bytes) -> str | None:
    message_id: str | None = properties.message_id
    try:
        event_id: str | None = json.loads(body).get("event_id")
    except (ValueError, AttributeError):
        return message_id
    return event_id or message_id


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.common.cli",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--amqp-uri", default=cfg.amqp_uri())
    commands = parser.add_subparsers(dest="command", required=True)
    tail_parser = commands.add_parser("tail", help="print events live")
    tail_parser.add_argument("--service", action="append", choices=BACKENDS)
    tail_parser.add_argument("--type", help="only this event type")
    commands.add_parser("dead-letters", help="list parked messages")
    replay_parser = commands.add_parser("replay", help="send parked messages back")
    replay_parser.add_argument("message_ids", nargs="*", metavar="MESSAGE_ID")
    replay_parser.add_argument("--all", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "replay" and not (args.all or args.message_ids):
        parser.error("name the MESSAGE_IDs to replay, or --all")

    connection = connect(args.amqp_uri)
    channel = connection.channel()
    try:
        if args.command == "tail":
            tail(channel, args.service or BACKENDS, args.type, out)
        elif args.command == "dead-letters":
            parked = dead_letters(channel)
            for message_id, headers, body in parked:
                print(
                    f"{message_id}  queue={_origin(dict(headers))}  "
                    f"attempts={headers.get(ATTEMPTS_HEADER)}  "
                    f"error={headers.get(ERROR_HEADER)}\n    {body.decode(errors='replace')}",
                    file=out,
                )
            print(f"{len(parked)} dead letter(s)", file=out)
        else:
            print(f"replayed {replay(channel, args.message_ids)} message(s)", file=out)
    except KeyboardInterrupt:
        pass
    finally:
        connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
