"""Community channels over HTTP (DESIGN §9): a hub's agents, its congregation groups
and their contacts, and broadcasts of the hub's products to a group.

Community decides who may do what; the gateway resolves a broadcast's products from
its copy of the showroom (docs/architecture.md §18), and puts a broadcast together
with how far notifications got in sending it.
"""

import logging

from nameko.exceptions import MethodNotFound, RemoteError

from services.common.errors import NotFound, ServiceUnavailable
from services.common.schemas import PageSchema
from services.community import schemas
from services.gateway.http import json_body, query, route
from services.gateway.idempotency import key_header, key_of
from services.gateway.schemas import BROADCAST_COUNTS, BroadcastReportSchema

logger = logging.getLogger(__name__)


class ChannelsRoutes:
    # --- agents ---------------------------------------------------------------------

    @route(
        "POST",
        "/api/v1/hubs/<hub_id>/agents",
        body=schemas.AppointAgentSchema,
        response=schemas.AgentSchema,
        status=201,
        auth=True,
        summary="Appoint an approved member of the hub as its agent, with a share of the "
        "hub's commission (coordinator of the hub)",
        headers=key_header(),
    )
    def appoint_agent(self, request, hub_id):
        actor = self.backend.caller(request)
        body = json_body(request)
        agent = self.backend.community.appoint_agent(actor, hub_id, body, **key_of(request))
        self.backend.forget(agent["member_id"])  # their next request acts as an agent
        return 201, agent

    @route(
        "GET",
        "/api/v1/hubs/<hub_id>/agents",
        params=PageSchema,
        response=schemas.AgentSchema,
        many=True,
        auth=True,
        summary="The hub's agents, first appointed first (coordinator of the hub)",
    )
    def list_agents(self, request, hub_id):
        actor = self.backend.caller(request)
        return self.backend.community.list_agents(actor, hub_id, query(request))

    # --- groups and contacts --------------------------------------------------------

    @route(
        "POST",
        "/api/v1/hubs/<hub_id>/groups",
        body=schemas.CreateGroupSchema,
        response=schemas.GroupSchema,
        status=201,
        auth=True,
        summary="Create a congregation group of the hub, run by one of its agents or none "
        "(coordinator of the hub); the same request again returns the same group",
        headers=key_header(),
    )
    def create_group(self, request, hub_id):
        actor = self.backend.caller(request)
        body = json_body(request)
        return 201, self.backend.community.create_group(actor, hub_id, body, **key_of(request))

    @route(
        "GET",
        "/api/v1/hubs/<hub_id>/groups",
        params=PageSchema,
        response=schemas.GroupSchema,
        many=True,
        auth=True,
        summary="The hub's groups by name: all for its coordinator, their own for an agent",
    )
    def list_groups(self, request, hub_id):
        actor = self.backend.caller(request)
        return self.backend.community.list_groups(actor, hub_id, query(request))

    @route(
        "GET",
        "/api/v1/groups/<group_id>",
        response=schemas.GroupSchema,
        auth=True,
        summary="A group (coordinator of its hub, or its agent)",
    )
    def get_group(self, request, group_id):
        return self.backend.community.get_group(self.backend.caller(request), group_id)

    @route(
        "POST",
        "/api/v1/groups/<group_id>/contacts",
        body=schemas.AddContactSchema,
        response=schemas.ContactSchema,
        status=201,
        responses={200: schemas.ContactSchema},
        auth=True,
        summary="Add a mobile phone to the group; it is told once who added it and how to "
        "stop broadcasts (coordinator of its hub, or its agent). A phone the group has "
        "already: 200 with that contact",
        headers=key_header(),
    )
    def add_contact(self, request, group_id):
        actor = self.backend.caller(request)
        body = json_body(request)
        added = self.backend.community.add_contact(actor, group_id, body, **key_of(request))
        return (201 if added["created"] else 200), added["contact"]

    @route(
        "GET",
        "/api/v1/groups/<group_id>/contacts",
        params=PageSchema,
        response=schemas.ContactSchema,
        many=True,
        auth=True,
        summary="The group's contacts, first added first, each saying whether it opted out "
        "(coordinator of its hub, or its agent)",
    )
    def list_contacts(self, request, group_id):
        actor = self.backend.caller(request)
        return self.backend.community.list_contacts(actor, group_id, query(request))

    # --- broadcasts -----------------------------------------------------------------

    @route(
        "POST",
        "/api/v1/groups/<group_id>/broadcasts",
        body=schemas.StartBroadcastSchema,
        response=schemas.BroadcastSchema,
        status=202,
        auth=True,
        summary="Send 1 to 3 of the hub's products to every contact of the group who did "
        "not opt out, once a day (coordinator of its hub, or its agent)",
        headers=key_header(),
    )
    def start_broadcast(self, request, group_id):
        """``POST /api/v1/groups/<id>/broadcasts {"product_ids": ["…"]}`` → 202 broadcast;
        the messages go out from notifications."""
        actor = self.backend.caller(request)
        self.backend.community.get_group(actor, group_id)  # who may, before what they sent
        body = schemas.StartBroadcastSchema.shared().load_or_raise(json_body(request))
        products = self._on_show(body["product_ids"])
        broadcast = self.backend.community.start_broadcast(
            actor, group_id, products, **key_of(request)
        )
        return 202, broadcast

    @route(
        "GET",
        "/api/v1/broadcasts/<broadcast_id>",
        response=BroadcastReportSchema,
        auth=True,
        summary="A broadcast with how many of its messages were sent, failed or found the "
        "phone opted out (coordinator of its hub, or the group's agent)",
    )
    def get_broadcast(self, request, broadcast_id):
        broadcast = self.backend.community.get_broadcast(self.backend.caller(request), broadcast_id)
        return {**broadcast, **self._broadcast_counts(broadcast_id)}

    def _on_show(self, product_ids):
        """``product_ids`` as ``{id, code, name, price, hub_id}`` from the showroom copy;
        one not on show (unknown, not approved, or its seller suspended) is a 404 naming
        ``product_ids``, as an order's unknown product is."""
        products = {product_id: self.showroom.on_show(product_id) for product_id in product_ids}
        missing = [product_id for product_id, product in products.items() if product is None]
        if missing:
            raise NotFound(
                "Some products are not on show.",
                {
                    "product_ids": [
                        f"Send approved products on show in the hub's showroom; "
                        f"{', '.join(missing)} is not one."
                    ]
                },
            )
        return list(products.values())

    def _broadcast_counts(self, broadcast_id):
        """``{total, queued, sent, failed, opted_out}`` of the broadcast's messages from
        notifications; each ``None`` while notifications does not answer."""
        try:
            counts = self.backend.notifications.broadcast_counts(broadcast_id)
        except (ServiceUnavailable, MethodNotFound, RemoteError) as exc:
            logger.warning("broadcast %s shown without its counts: %r", broadcast_id, exc)
            counts = {}
        return {field: counts.get(field) for field in BROADCAST_COUNTS}
