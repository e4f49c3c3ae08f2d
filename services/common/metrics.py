"""Prometheus metrics (docs/architecture.md §16), in the standard text format.

Every service counts here what it does; the gateway answers them on ``GET /metrics``,
every other service on its own small HTTP server on ``KOMPOR_METRICS_PORT`` (unset or
``0``: none), started by ``services.common.observability.Observability`` for every
service class that mixes in ``services.common.service.Observed``.

What is waiting in a store (the outbox, messages not yet sent) is read when scraped,
from probes that services register (``register_probe``); a store that does not
answer is reported by ``kompor_store_up 0``, never by a failed scrape. Label values
are names from the code (routes as templates, methods, event types, channels,
statuses): never a member id or a phone number.
"""

import datetime
import logging
import socket
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from pymongo.database import Database

from services.common.envelope import OUTBOX_PENDING, utcnow
from services.common.types import Document

logger = logging.getLogger(__name__)

disable_created_metrics()  # type: ignore[no-untyped-call]  # no ``*_created`` series

METRICS_PORT_KEY = "KOMPOR_METRICS_PORT"
OUTBOX_SAMPLE = 1000  # pending documents read per scrape for the oldest event's age

HTTP_REQUESTS = Counter(
    "kompor_http_requests_total",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "kompor_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and method.",
    ["route", "method"],
)
RPC_CALLS = Counter(
    "kompor_rpc_calls_total",
    "RPC calls handled, by service, method and outcome (ok, refused: an expected "
    "error answered to the caller, error: an unexpected one).",
    ["service", "method", "outcome"],
)
RPC_CLIENT_CALLS = Counter(
    "kompor_rpc_client_calls_total",
    "RPC calls made to another service (by the gateway, by messaging), by service, "
    "method and outcome (ok; error: the service answered with an error; unavailable: "
    "no answer in time, a 503).",
    ["service", "method", "outcome"],
)
RPC_LATENCY = Histogram(
    "kompor_rpc_duration_seconds",
    "Time to handle an RPC call, by service and method.",
    ["service", "method"],
)
EVENTS_HANDLED = Counter(
    "kompor_events_handled_total",
    "Events a handler finished, by handling service, source service and event type.",
    ["service", "source", "event_type"],
)
EVENTS_FAILED = Counter(
    "kompor_events_failed_total",
    "Handler tries that failed (each is retried later or parked), by type.",
    ["service", "source", "event_type"],
)
EVENTS_DEAD_LETTERED = Counter(
    "kompor_events_dead_lettered_total",
    "Events parked in the dead-letter queue after their last try, by type.",
    ["service", "source", "event_type"],
)
NOTIFICATIONS = Counter(
    "kompor_notifications_total",
    "Message delivery tries, by channel, status (sent, failed; opted_out: a broadcast "
    "or a contact's welcome not sent to a phone that said BERHENTI) and template "
    "(broadcast: a broadcast's messages).",
    ["channel", "status", "template"],
)
LOGIN_FAILURES = Counter(
    "kompor_login_failures_total",
    "Log-ins refused for a wrong phone number or password.",
)
RATE_LIMITED = Counter(
    "kompor_rate_limited_total",
    "Requests refused with 429, by what limited them.",
    ["limiter"],
)

Probe = Callable[[], Iterable[Metric]]
_probes: dict[int, Probe] = {}
_probes_lock = threading.Lock()


def register_probe(probe: Probe) -> Callable[[], None]:
    """Have ``probe()`` report metrics at every scrape; returns what unregisters it."""
    with _probes_lock:
        _probes[id(probe)] = probe

    def unregister() -> None:
        with _probes_lock:
            _probes.pop(id(probe), None)

    return unregister


class _ProbeCollector:
    """Asks the registered probes at scrape time; one that fails is logged and left out."""

    def collect(self) -> Iterator[Metric]:
        with _probes_lock:
            probes = list(_probes.values())
        families: dict[str, Metric] = {}  # several services in one process: one family
        for probe in probes:
            try:
                for family in probe():
                    if family.name in families:
                        families[family.name].samples.extend(family.samples)
                    else:
                        families[family.name] = family
            except Exception:
                logger.exception("a metrics probe failed")
        yield from families.values()


REGISTRY.register(_ProbeCollector())


def outbox_probe(service: str, db: Database[Document], collections: Iterable[str]) -> Probe:
    """``kompor_outbox_waiting`` and ``kompor_outbox_oldest_seconds`` per aggregate
    collection of ``service`` (found by the indexed ``outbox_pending`` flag), and
    ``kompor_store_up``."""
    collections = tuple(collections)

    def probe() -> Iterable[Metric]:
        waiting = GaugeMetricFamily(
            "kompor_outbox_waiting",
            "Events written but not yet published, by service and collection.",
            labels=["service", "collection"],
        )
        oldest = GaugeMetricFamily(
            "kompor_outbox_oldest_seconds",
            "Age of the oldest event waiting in the outbox (0: none).",
            labels=["service", "collection"],
        )
        up = GaugeMetricFamily(
            "kompor_store_up", "1 when the service's store answered.", labels=["service"]
        )
        try:
            for collection in collections:
                count, age = outbox_backlog(db, collection)
                waiting.add_metric([service, collection], count)
                oldest.add_metric([service, collection], age)
        except Exception as exc:
            logger.warning("metrics: the store did not answer: %s", exc)
            up.add_metric([service], 0)
            return [up]
        up.add_metric([service], 1)
        return [waiting, oldest, up]

    return probe


def outbox_backlog(db: Database[Document], collection: str) -> tuple[int, float]:
    """How many events wait in ``collection``'s outboxes, and the oldest's age in
    seconds (read from at most ``OUTBOX_SAMPLE`` pending documents)."""
    count, first = 0, None
    pending = db[collection].find(
        {OUTBOX_PENDING: True}, projection={"outbox.occurred_at": True}, limit=OUTBOX_SAMPLE
    )
    for document in pending:
        for entry in document.get("outbox") or []:
            count += 1
            moment = entry.get("occurred_at")
            if moment and (first is None or moment < first):
                first = moment
    if first is None:
        return count, 0.0
    at = datetime.datetime.fromisoformat(first.replace("Z", "+00:00"))
    return count, max((utcnow() - at).total_seconds(), 0.0)


def gauges(
    name: str, help_text: str, fixed: Mapping[str, str], label: str, values: Mapping[str, float]
) -> Metric:
    """A gauge family with the ``fixed`` labels and one sample per ``values`` key
    under ``label``."""
    family = GaugeMetricFamily(name, help_text, labels=[*fixed, label])
    for key, value in values.items():
        family.add_metric([*fixed.values(), key], value)
    return family


def readiness(statuses: Mapping[str, str]) -> Metric:
    """``kompor_service_ready`` from ``{service: "ok" | "unavailable"}``."""
    ready = {name: float(status == "ok") for name, status in statuses.items()}
    return gauges(
        "kompor_service_ready", "1 when the service answers its health RPC.", {}, "service", ready
    )


class _Fixed:
    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


def exposition(*extra: Metric) -> tuple[bytes, str]:
    """The current metrics in the text format (and ``extra`` families, computed by
    the caller for this scrape alone), and its content type."""
    body = generate_latest(REGISTRY)
    if extra:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Fixed(extra))
        body += generate_latest(registry)
    return body, CONTENT_TYPE_LATEST


def metrics_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """A WSGI app answering the metrics on ``/metrics`` (and ``/``)."""
    if environ.get("PATH_INFO", "/") not in ("/", "/metrics"):
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"metrics are on /metrics\n"]
    body, content_type = exposition()
    start_response("200 OK", [("Content-Type", content_type)])
    return [body]


def listen(port: int, host: str = "0.0.0.0") -> socket.socket:
    import eventlet

    return eventlet.listen((host, port))  # type: ignore[no-any-return]
