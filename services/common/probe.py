"""Readiness and liveness of a backend, for an exec probe: its ``health`` RPC answered
within a short deadline.

    python -m services.common.probe orders [--deadline 3]

Exit status 0 when ``orders.health()`` answered ``status: ok`` in time, 1 otherwise
(with one line on stderr saying why). ``AMQP_URI`` names the broker, as for the
service (a cluster may be listed, ``amqp://a;amqp://b``).

The probe logs in as the service itself, so it needs no more than what the service's
broker user may do (deploy/rabbitmq/definitions.json): publish ``<service>.health`` to
``nameko-rpc`` and read the answer from a queue of its own,
``rpc-<service>.probe-<hex>``, exclusive and gone with the probe's connection.
"""

import argparse
import sys
import uuid
from collections.abc import Sequence
from typing import Any

from kombu import Connection, Exchange, Producer, Queue

from services.common import config as cfg
from services.common.topology import BACKENDS

RPC_EXCHANGE = Exchange("nameko-rpc", type="topic", durable=True)
DEFAULT_DEADLINE = 3.0


def probe_queue_name(service: str) -> str:
    return f"rpc-{service}.probe-{uuid.uuid4().hex}"


def healthy(service: str, amqp_uri: str, deadline: float = DEFAULT_DEADLINE) -> str | None:
    """``None`` when ``service`` answered its health RPC within ``deadline`` seconds,
    else why not."""
    reply_to = str(uuid.uuid4())
    correlation_id = uuid.uuid4().hex
    try:
        with Connection(amqp_uri, connect_timeout=deadline) as connection:
            connection.ensure_connection(max_retries=1, timeout=deadline)
            channel = connection.channel()
            replies = Queue(
                probe_queue_name(service),
                exchange=RPC_EXCHANGE,
                routing_key=reply_to,
                exclusive=True,
                auto_delete=True,
            )(channel)
            replies.declare()
            answers: list[tuple[Any, Any]] = []
            consumer = connection.Consumer(
                replies, callbacks=[lambda body, message: answers.append((body, message))]
            )
            with consumer:
                Producer(channel).publish(
                    {"args": [], "kwargs": {}},
                    exchange=RPC_EXCHANGE,
                    routing_key=f"{service}.health",
                    reply_to=reply_to,
                    correlation_id=correlation_id,
                    serializer="json",
                )
                connection.drain_events(timeout=deadline)
    except TimeoutError:
        return f"{service} did not answer its health call within {deadline:g} s"
    except Exception as exc:  # the broker away, refused, …: not healthy, and say why
        return f"could not ask {service} ({type(exc).__name__}: {exc})"
    if not answers:
        return f"{service} did not answer its health call within {deadline:g} s"
    body, message = answers[0]
    if message.properties.get("correlation_id") != correlation_id:
        return f"{service} answered another call"
    answer: dict[str, Any] = body if isinstance(body, dict) else {}
    result = answer.get("result") or {}
    if answer.get("error") or result.get("status") != "ok":
        return f"{service} answered {body!r}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.common.probe", description=__doc__)
    parser.add_argument("service", choices=BACKENDS)
    parser.add_argument("--deadline", type=float, default=DEFAULT_DEADLINE)
    args = parser.parse_args(argv)
    problem = healthy(args.service, cfg.amqp_uri(), args.deadline)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
