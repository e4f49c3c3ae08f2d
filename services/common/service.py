"""What every service class has in common."""

from services.common.rpc import rpc


class HealthMixin:
    """``health`` RPC: answers while the service consumes its RPC queue."""

    @rpc
    def health(self):
        """``health()`` → ``{"service": "orders", "status": "ok"}``."""
        return {"service": self.name, "status": "ok"}
