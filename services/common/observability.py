"""What every service gets for being observed (``services.common.service.Observed``):

- each worker runs with its request id (and event type and id) in the log context,
  taken from the RPC's context data or the event's ``correlation_id`` header, and
  kept in the worker's context data so the RPCs it makes pass it on;
- one log line per RPC call and handled event, with its outcome and duration;
- RPC metrics (``services.common.metrics``);
- the metrics HTTP server on ``KOMPOR_METRICS_PORT`` (unset or ``0``: none).
"""

import logging
import time
from typing import Any

import eventlet
import eventlet.wsgi
from eventlet.greenthread import GreenThread
from nameko.containers import WorkerContext
from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc
from prometheus_client.metrics_core import Metric

from services.common import config as cfg
from services.common import logs, metrics, tracing
from services.common.types import ExcInfo

logger = logging.getLogger("kompor.work")

QUIET_METHODS = ("health",)  # asked every few seconds by readiness probes


class _Silent:
    def write(self, *_: Any) -> None:
        pass


class Observability(DependencyProvider):
    """See the module. Declared once, on ``Observed``."""

    def setup(self) -> None:
        logs.set_service(self.container.service_name)
        self.port = int(cfg.setting(self.container.config, metrics.METRICS_PORT_KEY, 0) or 0)
        self._server: GreenThread | None = None
        self._socket: Any = None
        self._tokens: dict[int, Any] = {}

    def start(self) -> None:
        self._unregister = metrics.register_probe(self._info)
        if not self.port:
            return
        try:
            self._socket = metrics.listen(self.port)
        except OSError as exc:  # a port taken must not take the service down with it
            logger.error("no metrics: cannot listen on port %s (%s)", self.port, exc)
            return
        self._server = self.container.spawn_managed_thread(self._serve)

    def _serve(self) -> None:
        try:
            eventlet.wsgi.server(self._socket, metrics.metrics_app, log=_Silent(), log_output=False)
        except Exception:  # the service goes on without its metrics
            logger.exception("the metrics server stopped")

    def _info(self) -> list[Metric]:
        name = self.container.service_name
        return [
            metrics.gauges(
                "kompor_service_info", "1: this service runs here.", {}, "service", {name: 1}
            )
        ]

    def stop(self) -> None:
        unregister = getattr(self, "_unregister", None)
        if unregister is not None:
            unregister()
        if self._server is not None:
            self._server.kill()
            self._server = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    kill = stop

    def worker_setup(self, worker_ctx: WorkerContext) -> None:
        request_id = tracing.request_id_of_message(worker_ctx.data)
        if request_id:
            worker_ctx.data[tracing.REQUEST_ID] = request_id  # passed on by its RPCs
        event_type = event_id = None
        entrypoint = worker_ctx.entrypoint
        if isinstance(entrypoint, EventHandler):
            event_type = f"{entrypoint.source_service}.{entrypoint.event_type}"
            body = worker_ctx.args[0] if worker_ctx.args else None
            event_id = body.get("event_id") if isinstance(body, dict) else None
        self._tokens[id(worker_ctx)] = (
            tracing.enter(request_id=request_id, event_type=event_type, event_id=event_id),
            time.monotonic(),
        )

    def worker_result(
        self, worker_ctx: WorkerContext, result: Any = None, exc_info: ExcInfo | None = None
    ) -> None:
        started = self._tokens.get(id(worker_ctx), (None, time.monotonic()))[1]
        took = time.monotonic() - started
        entrypoint = worker_ctx.entrypoint
        method = entrypoint.method_name
        outcome = _outcome(entrypoint, exc_info)
        if isinstance(entrypoint, Rpc):
            service = worker_ctx.service_name
            metrics.RPC_CALLS.labels(service, method, outcome).inc()
            metrics.RPC_LATENCY.labels(service, method).observe(took)
            if method not in QUIET_METHODS:
                logger.info("rpc %s %s in %.0f ms", method, outcome, took * 1000)
        elif isinstance(entrypoint, EventHandler):
            logger.info("event handled by %s: %s in %.0f ms", method, outcome, took * 1000)

    def worker_teardown(self, worker_ctx: WorkerContext) -> None:
        token = self._tokens.pop(id(worker_ctx), (None, 0.0))[0]
        if token is not None:
            tracing.leave(token)


def _outcome(entrypoint: Any, exc_info: ExcInfo | None) -> str:
    if exc_info is None:
        return "ok"
    expected = getattr(entrypoint, "expected_exceptions", ()) or ()
    if isinstance(exc_info[1], expected if isinstance(expected, tuple) else (expected,)):
        return "refused"
    return "error"
