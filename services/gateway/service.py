"""The HTTP API (docs/architecture.md §13): the only HTTP entrypoint. Each ``routes``
module adds the rows of one service; this class joins them and adds health and the API
document.
"""

import eventlet
from nameko.events import BROADCAST
from nameko.exceptions import RemoteError
from werkzeug.wrappers import Response

from services.common import metrics
from services.common.errors import NotFound, ServiceUnavailable
from services.common.events import listen
from services.common.service import Observed
from services.common.topology import BACKENDS as SERVICES
from services.community import contract as community
from services.gateway.http import route
from services.gateway.openapi import build_spec
from services.gateway.routes.catalogue import CatalogueRoutes
from services.gateway.routes.channels import ChannelsRoutes
from services.gateway.routes.community import CommunityRoutes
from services.gateway.routes.ledger import LedgerRoutes
from services.gateway.routes.messaging import MessagingRoutes
from services.gateway.routes.notifications import NotificationsRoutes
from services.gateway.routes.orders import OrdersRoutes
from services.gateway.rpc import BackendProvider
from services.gateway.schemas import HealthSchema, ReadinessSchema

READY_TIMEOUT = 2.0


class GatewayService(
    Observed,
    CommunityRoutes,
    ChannelsRoutes,
    CatalogueRoutes,
    OrdersRoutes,
    NotificationsRoutes,
    MessagingRoutes,
    LedgerRoutes,
):
    name = "gateway"

    backend = BackendProvider()

    @route(
        "GET",
        "/healthz",
        response=HealthSchema,
        summary="The gateway is running",
        operation_id="getHealth",
    )
    def healthz(self, request):
        return {"status": "ok"}

    @route(
        "GET",
        "/readyz",
        response=ReadinessSchema,
        responses={503: ReadinessSchema},
        summary="The broker and every service answer, and the gateway holds its copy of "
        "the showroom (503 lists what is not ready)",
        operation_id="getReadiness",
    )
    def readyz(self, request):
        """Ready once every service answers and the gateway holds its copy of the
        showroom (without it, every showroom read would go to catalogue)."""
        gateway = "ok" if self.showroom.ready else "starting"
        services = {"gateway": gateway, **self._statuses()}
        ready = all(status == "ok" for status in services.values())
        return (200 if ready else 503), {
            "status": "ok" if ready else "unavailable",
            "services": services,
        }

    @route("GET", "/metrics", hidden=True)
    def scrape(self, request):
        """Prometheus metrics (text, not part of the API document): the gateway's, and
        whether each service answers."""
        body, content_type = metrics.exposition(metrics.readiness(self._statuses()))
        return Response(body, content_type=content_type)

    def _statuses(self):
        pool = eventlet.GreenPool(len(SERVICES))
        return dict(zip(SERVICES, pool.imap(self._probe, SERVICES), strict=True))

    def _probe(self, service_name):
        try:
            self.backend.service(service_name, timeout=READY_TIMEOUT).health()
        except (ServiceUnavailable, RemoteError):
            return "unavailable"
        return "ok"

    @route("GET", "/api/v1/openapi.json", summary="This document", operation_id="getApiDocument")
    def openapi(self, request):
        return build_spec(type(self))

    @route("GET,POST,PUT,PATCH,DELETE", "/<path:path>", hidden=True)
    def not_found(self, request, path):
        raise NotFound(f"No such endpoint: {request.method} /{path}. See GET /api/v1/openapi.json.")

    @listen("community", community.ROLES_CHANGED, handler_type=BROADCAST, reliable_delivery=False)
    def handle_roles_changed(self, event):
        """Forget a member's cached roles as soon as community changes them."""
        self.backend.forget(event["data"]["member_id"])
