"""What every service class has in common."""

from services.common.rpc import rpc


class HealthMixin:
    """``health`` RPC: answers while the service consumes its RPC queue."""

    name: str  # the service's, set by the class it is mixed into

    @rpc
    def health(self) -> dict[str, str]:
        """``health()`` → ``{"service": "orders", "status": "ok"}``."""
        return {"service": self.name, "status": "ok"}
