"""What every service class has in common."""

from typing import Any

from services.common.observability import Observability
from services.common.rpc import rpc
from services.common.storage import backlog_of


class Observed:
    """Request ids in the log context, one log line per call or event, metrics and
    their HTTP server (``services.common.observability``): every service class
    mixes this in, through ``HealthMixin`` or directly (the gateway)."""

    observability = Observability()


class HealthMixin(Observed):
    """``health`` RPC: answers while the service consumes its RPC queue; asked for
    details, with what waits in its store."""

    name: str  # the service's, set by the class it is mixed into

    @rpc
    def health(self, details: bool = False) -> dict[str, Any]:
        """``health()`` → ``{"service": "orders", "status": "ok"}`` (readiness: cheap);
        ``health(True)`` adds ``"store": "ok"`` and ``"backlog": {"outbox_waiting": 0,
        "outbox_oldest_seconds": 0.0, …}``, or ``"store": "unavailable"`` and an empty
        backlog when the store does not answer (``cli status``)."""
        if not details:
            return {"service": self.name, "status": "ok"}
        store, backlog = backlog_of(self)
        return {"service": self.name, "status": "ok", "store": store, "backlog": backlog}
