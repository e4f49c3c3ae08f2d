"""Operator CLI: watch events, list and replay dead letters, see the backlog, follow
a request through the services' logs.

    python -m services.common.cli tail [--service orders] [--type order_placed]
    python -m services.common.cli dead-letters
    python -m services.common.cli replay [--all | MESSAGE_ID …]
    python -m services.common.cli status [--json]
    python -m services.common.cli trace REQUEST_ID [--logs var/log]

``AMQP_URI`` names the broker (default ``amqp://guest:guest@localhost:5672/``);
``status`` also asks RabbitMQ's management API (``KOMPOR_RABBITMQ_API``, by default
``http://<user>:<password>@<broker host>:15672/api``) how many messages each queue holds.
``trace`` reads the logs ``make run`` keeps (``<KOMPOR_DATA_DIR>/log/<service>.log``).
"""

import argparse
import json
import os
import pathlib
import re
import sys
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TextIO

import pika
import requests
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
from services.common.tracing import CORRELATION_HEADER

RABBITMQ_API_KEY = "KOMPOR_RABBITMQ_API"
HEALTH_TIMEOUT = 3.0
RECORD_START = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


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


# --- trace: what every service logged for one request -------------------------------


def log_records(path: pathlib.Path) -> Iterator[tuple[str, str, str]]:
    """``(time, request_id, text)`` of each record in one service's log: JSON lines,
    or text lines (``services.common.logs.TextFormatter``) with their continuation
    lines (tracebacks) attached."""
    current: list[str] = []
    with path.open(errors="replace") as lines:
        for line in lines:
            line = line.rstrip("\n")
            if line.startswith("{"):
                try:
                    record = json.loads(line)
                except ValueError:
                    record = None
                if isinstance(record, dict) and "time" in record:
                    yield from _text_record(current)
                    current = []
                    text = (
                        f"{record['time']} {record.get('level', '')} "
                        f"{record.get('service', '')} {record.get('logger', '')}: "
                        f"{record.get('message', '')}"
                    )
                    if record.get("exception"):
                        text += "\n" + record["exception"]
                    yield record["time"], record.get("request_id", ""), text
                    continue
            if RECORD_START.match(line):
                yield from _text_record(current)
                current = [line]
            elif current:
                current.append(line)
    yield from _text_record(current)


def _text_record(lines: list[str]) -> Iterator[tuple[str, str, str]]:
    if lines:
        found = re.search(r"\[req ([^\]]+)\]", lines[0])
        yield lines[0].split(" ", 1)[0], found.group(1) if found else "", "\n".join(lines)


def trace(request_id: str, logs: pathlib.Path, out: TextIO) -> int:
    """Print every record logged for ``request_id`` in ``logs/*.log``, in time order,
    each after its service's name; returns how many."""
    found = []
    for path in sorted(logs.glob("*.log")):
        for moment, record_id, text in log_records(path):
            if record_id == request_id:
                found.append((moment, path.stem, text))
    for _, service, text in sorted(found, key=lambda item: item[0]):
        print(f"{service:<14} {text}", file=out)
    print(f"{len(found)} record(s) for request {request_id} in {logs}", file=out)
    return len(found)


def default_logs() -> pathlib.Path:
    return pathlib.Path(os.environ.get(cfg.DATA_DIR_KEY, cfg.DEFAULT_DATA_DIR)) / "log"


# --- status: the backlog at a glance ---------------------------------------------------


def management_api(amqp_uri: str) -> tuple[str, str]:
    """The management API's base URL and the vhost, from ``KOMPOR_RABBITMQ_API`` or
    the broker's address."""
    parts = urllib.parse.urlparse(amqp_uri)
    vhost = urllib.parse.unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
    api = os.environ.get(RABBITMQ_API_KEY) or (
        f"http://{parts.username or 'guest'}:{parts.password or 'guest'}@"
        f"{parts.hostname or 'localhost'}:15672/api"
    )
    return api.rstrip("/"), vhost


def owner_of(queue: str) -> str | None:
    """The service consuming ``queue``: ``rpc-orders`` → orders,
    ``evt-orders-order_placed--notifications.handle_order_placed`` (and its retry
    queues) → notifications."""
    if queue.startswith("rpc-"):
        return queue.removeprefix("rpc-")
    if queue.startswith("evt-") and "--" in queue:
        return queue.split("--", 1)[1].split(".", 1)[0]
    return None


def queues(amqp_uri: str) -> list[dict[str, Any]]:
    """``[{"name", "messages", "consumers"}]`` of the vhost's queues (management API)."""
    api, vhost = management_api(amqp_uri)
    response = requests.get(
        f"{api}/queues/{urllib.parse.quote(vhost, safe='')}",
        params={"columns": "name,messages,consumers"},
        timeout=10,
    )
    response.raise_for_status()
    return [
        {"name": q["name"], "messages": q.get("messages", 0), "consumers": q.get("consumers", 0)}
        for q in response.json()
    ]


def healths(amqp_uri: str, timeout: float = HEALTH_TIMEOUT) -> dict[str, dict[str, Any] | None]:
    """Each backend's ``health()`` answer, or ``None`` when it did not answer in time."""
    # only this command needs nameko
    from nameko.rpc import ServiceProxy
    from nameko.standalone.rpc import ClusterRpcProxy

    answers: dict[str, dict[str, Any] | None] = {}
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=timeout) as cluster:
        for name in BACKENDS:
            # a question nobody took in time expires, rather than wait in the queue
            # of a service that is down for its return
            proxy = ServiceProxy(
                cluster._worker_ctx, name, cluster._reply_listener, expiration=timeout
            )
            try:
                answers[name] = proxy.health(True)
            except Exception:
                answers[name] = None
    return answers


def status(amqp_uri: str) -> dict[str, Any]:
    """Per service: ready, its backlog (outbox, its own), the messages waiting in its
    queues; and the dead letters by the queue they failed in."""
    answers = healths(amqp_uri)
    listed = queues(amqp_uri)
    report: dict[str, Any] = {"services": {}, "dead_letters": {"total": 0, "by_queue": {}}}
    for name in BACKENDS:
        answer = answers.get(name)
        report["services"][name] = {
            "ready": answer is not None and answer.get("status") == "ok",
            "store": (answer or {}).get("store", "unknown"),
            "backlog": (answer or {}).get("backlog", {}),
            "queues": {
                q["name"]: q["messages"]
                for q in listed
                if owner_of(q["name"]) == name and q["messages"]
            },
            "waiting": sum(q["messages"] for q in listed if owner_of(q["name"]) == name),
        }
    for q in listed:
        if q["name"] == DEAD_LETTER_QUEUE:
            report["dead_letters"]["total"] = q["messages"]
    if report["dead_letters"]["total"]:
        connection = connect(amqp_uri)
        try:
            for _, headers, _ in dead_letters(connection.channel()):
                origin = str(headers.get(ORIGIN_HEADER))
                by_queue = report["dead_letters"]["by_queue"]
                by_queue[origin] = by_queue.get(origin, 0) + 1
        finally:
            connection.close()
    return report


def print_status(report: dict[str, Any], out: TextIO) -> None:
    print(
        f"{'service':<14} {'ready':<6} {'queued':>7} {'outbox':>7} {'oldest':>8}  other", file=out
    )
    for name, service in report["services"].items():
        backlog = dict(service["backlog"])
        outbox = backlog.pop("outbox_waiting", "-")
        oldest = backlog.pop("outbox_oldest_seconds", None)
        other = ", ".join(f"{key} {value:g}" for key, value in backlog.items())
        if service["store"] != "ok":
            other = f"store {service['store']}; {other}".rstrip("; ")
        line = (
            f"{name:<14} {'yes' if service['ready'] else 'NO':<6} {service['waiting']:>7} "
            f"{outbox:>7} {'-' if oldest is None else f'{oldest:.0f} s':>8}  {other}"
        )
        print(line.rstrip(), file=out)
        for queue, messages in service["queues"].items():
            print(f"    {messages:>7}  {queue}", file=out)
    dead = report["dead_letters"]
    print(f"dead letters: {dead['total']}", file=out)
    for queue, count in dead["by_queue"].items():
        print(f"    {count:>7}  from {queue}", file=out)


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
    status_parser = commands.add_parser("status", help="readiness and backlog per service")
    status_parser.add_argument("--json", action="store_true", help="as one JSON object")
    trace_parser = commands.add_parser("trace", help="what every service logged for a request")
    trace_parser.add_argument("request_id", metavar="REQUEST_ID")
    trace_parser.add_argument("--logs", type=pathlib.Path, default=default_logs())
    args = parser.parse_args(argv)
    if args.command == "replay" and not (args.all or args.message_ids):
        parser.error("name the MESSAGE_IDs to replay, or --all")
    if args.command == "trace":
        return 0 if trace(args.request_id, args.logs, out) else 1
    if args.command == "status":
        report = status(args.amqp_uri)
        if args.json:
            print(json.dumps(report, indent=2), file=out)
        else:
            print_status(report, out)
        return 0

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
                    f"request={headers.get(CORRELATION_HEADER, '-')}  "
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
