"""The orders service's own settings, read once at start."""

import types

from nameko.containers import WorkerContext
from nameko.extensions import DependencyProvider

from services.common import config as cfg

ORDER_RETRY_KEY = "KOMPOR_ORDER_RETRY_SECONDS"
DEFAULT_ORDER_RETRY = 60.0


class OrderSettings(DependencyProvider):
    """``self.settings.retry_seconds``: how long a pending order waits for catalogue's
    answer before it is announced again (``KOMPOR_ORDER_RETRY_SECONDS``)."""

    def setup(self) -> None:
        config = self.container.config
        self.settings = types.SimpleNamespace(
            retry_seconds=float(cfg.setting(config, ORDER_RETRY_KEY, DEFAULT_ORDER_RETRY))
        )

    def get_dependency(self, worker_ctx: WorkerContext) -> types.SimpleNamespace:
        return self.settings
