"""Every operation of the HTTP API with a request that works, and the people who call it.

One table for the suites that walk the whole API (the authorization matrix, the
``$``-operator walk): each ``Endpoint`` names the operation exactly as the OpenAPI
document does and builds a valid request for it in a ``World``::

    world = build_world(api, admin)
    for endpoint in ENDPOINTS:
        request = endpoint.build(world)
        response = request.send(world.clients[endpoint.caller])   # 2xx

``caller`` is a persona the request succeeds for (``None`` for a row of what nobody
may do, such as acting for a suspended member); ``build`` makes what the request
needs (a pending membership, an approved product, a confirmed order) each time.
A new operation in the document needs a row here: the suites check that the table
and the document list the same ones.
"""

import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.support.api import make_member, make_phone
from tests.support.catalogue import make_product
from tests.support.channels import (
    add_contact,
    appointed_agent,
    group_payload,
    make_group,
    product_on_show,
)
from tests.support.community import (
    approved_member,
    decide,
    hub_payload,
    hub_with_coordinator,
    pending_member,
    reset_body,
    schedule_training,
    training_payload,
)
from tests.support.inbound import inbound_body, signed_parts
from tests.support.ledger import settled_order, statement
from tests.support.waiting import wait_until

PERSONAS = (
    "anonymous",
    "buyer",
    "seller",
    "fellow_seller",
    "other_seller",
    "coordinator",
    "other_coordinator",
    "admin",
    "agent",
    "other_agent",
)
"""Who calls: nobody logged in; a buyer and a seller approved in the hub (the seller
whose products and orders the requests are about); another seller of the same hub; a
seller approved in another hub; the hub's coordinator; another hub's coordinator; the
admin; an agent of the hub (an approved buyer of it) who runs the group the requests
are about; another agent of the hub, who runs another group."""


@dataclass
class Request:
    method: str
    path: str
    json: object = None
    params: dict = None
    headers: dict = None
    signed: bool = False
    """A provider's webhook: the body is signed as sent (``tests.support.inbound``)."""

    def send(self, client):
        headers = self.headers
        if self.signed:
            headers = {**(headers or {}), **signed_parts(self.json)["headers"]}
        return client.request(
            self.method, self.path, json=self.json, params=self.params, headers=headers
        )

    def but(self, **changes):
        """A copy with some parts changed (deep copies: probes mutate bodies)."""
        fields = {key: copy.deepcopy(value) for key, value in vars(self).items()}
        return Request(**{**fields, **changes})


@dataclass
class World:
    """Two hubs with their coordinators, a buyer and two sellers in the first, a
    seller in the second, the admin; ``clients`` by persona (``anonymous`` is the bare api)."""

    api: object
    admin: object
    hub: object
    other: object
    buyer: object
    seller: object
    fellow_seller: object
    other_seller: object
    agent: object = None
    """The hub's agent who runs ``group`` (``tests.support.channels.Agent``)."""
    other_agent: object = None
    group: dict = None
    clients: dict = field(default_factory=dict)
    stocked_product: str = None
    sms: object = None
    """The stack's SMS provider stand-in (``HttpSink``): one-time codes are read there."""
    acting_for_buyer: bool = False
    sold_at_counter: bool = False
    suspended: dict = field(default_factory=dict)
    applicant_id: str = None
    events: object = None
    """Publishes events as their owners would (``tests.support.notifications.Events``):
    a seller's earnings come from ``order_settled``."""
    shown_product: str = None
    sent_broadcast: str = None

    @property
    def hub_id(self):
        return self.hub.hub_id

    def pending_membership(self):
        return pending_member(self.api, self.hub_id).membership_id

    def approved_membership(self):
        return approved_member(self.api, self.hub.coordinator, self.hub_id).membership_id

    def new_member_id(self):
        return self.api.as_member()[1]["id"]

    def new_coordinator_id(self):
        """A member just made a coordinator of the hub (besides its own)."""
        member_id = self.new_member_id()
        response = self.admin.post(
            f"/api/v1/hubs/{self.hub_id}/coordinators", json={"member_id": member_id}
        )
        assert response.status_code == 200, response.text
        return member_id

    def training(self, **overrides):
        return schedule_training(self.hub.coordinator, self.hub_id, **overrides)["id"]

    def new_product(self):
        """A product of the seller, waiting for review."""
        response = self.seller.client.post(
            "/api/v1/products", json=make_product(self.hub_id), headers=new_key()
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def product(self):
        """An approved product of the seller, in stock."""
        product_id = self.new_product()
        response = self.hub.coordinator.post(f"/api/v1/products/{product_id}/approve")
        assert response.status_code == 200, response.text
        return product_id

    def stocked(self):
        """One of the seller's approved products, the same one each time: it has stock
        for every order a suite places."""
        if self.stocked_product is None:
            self.stocked_product = self.product()
        return self.stocked_product

    def order_body(self):
        """A pickup order, cash on delivery, of the ``stocked`` product."""
        return {
            "hub_id": self.hub_id,
            "items": [{"product_id": self.stocked(), "quantity": 1}],
            "fulfilment": {"method": "pickup"},
            "payment_method": "cod",
        }

    def counter_sale_body(self):
        """One of the ``stocked`` product sold at the counter, once orders knows it."""
        if not self.sold_at_counter:
            self.order()  # orders learns of the approved product from catalogue's event
            self.sold_at_counter = True
        return {"items": [{"product_id": self.stocked(), "quantity": 1}]}

    def intake_body(self):
        """Goods received for the ``stocked`` product: plenty, for the orders after."""
        return {"product_id": self.stocked(), "quantity": 50, "note": "Titipan baru"}

    def order_for(self, member_id):
        """``order_body`` placed by someone for ``member_id`` (``on_behalf_of``)."""
        return {**self.order_body(), "on_behalf_of": member_id}

    def order_for_buyer(self):
        """``order_for`` the buyer, once orders knows them as an approved member."""
        body = self.order_for(self.buyer.member_id)
        if not self.acting_for_buyer:
            wait_until(
                lambda: (
                    self.hub.coordinator.post(
                        "/api/v1/orders", json=body, headers=new_key()
                    ).status_code
                    == 201
                ),
                message="orders to know the buyer and the product",
            )
            self.acting_for_buyer = True
        return body

    def suspended_buyer(self):
        """A member approved as a buyer of the hub, since suspended (and orders knows)."""
        if "buyer" not in self.suspended:
            member = approved_member(self.api, self.hub.coordinator, self.hub_id, role="buyer")
            _suspend(self, member)
            body = self.order_body()
            wait_until(
                lambda: (
                    member.client.post("/api/v1/orders", json=body, headers=new_key()).status_code
                    == 403
                ),
                message="orders to hear of the suspension",
            )
            self.suspended["buyer"] = member.member_id
        return self.suspended["buyer"]

    def suspended_seller(self):
        """``(member_id, product_id)``: a seller of the hub with an approved product,
        since suspended (and catalogue knows)."""
        if "seller" not in self.suspended:
            member = approved_member(self.api, self.hub.coordinator, self.hub_id, role="seller")
            response = member.client.post(
                "/api/v1/products", json=make_product(self.hub_id), headers=new_key()
            )
            assert response.status_code == 201, response.text
            product_id = response.json()["id"]
            approved = self.hub.coordinator.post(f"/api/v1/products/{product_id}/approve")
            assert approved.status_code == 200, approved.text
            _suspend(self, member)
            wait_until(
                lambda: self.api.get(f"/api/v1/products/{product_id}").status_code == 404,
                message="catalogue to hear of the suspension",
            )
            self.suspended["seller"] = (member.member_id, product_id)
        return self.suspended["seller"]

    def applicant(self):
        """A member whose application to the hub waits for a decision."""
        if self.applicant_id is None:
            self.applicant_id = pending_member(self.api, self.hub_id, role="buyer").member_id
        return self.applicant_id

    def order(self, status="confirmed", **changes):
        """An order of the buyer for one of the seller's products (its body with
        ``changes``), once ``status``."""
        body, client = {**self.order_body(), **changes}, self.buyer.client

        def placed():
            response = client.post("/api/v1/orders", json=body, headers=new_key())
            return response.json() if response.status_code == 201 else None

        # orders learns of the approved product from catalogue's event
        order = wait_until(placed, message="the approved product to reach orders")
        wait_until(
            lambda: client.get(f"/api/v1/orders/{order['id']}").json()["status"] == status,
            message=f"the order to be {status}",
        )
        return order["id"]

    def refund_due(self):
        """A paid order of the buyer, cancelled by the coordinator: a refund is due."""
        order_id, coordinator = self.order(), self.hub.coordinator
        for step, body in (("payment", {"status": "paid"}), ("cancel", {"reason": "Rusak"})):
            response = coordinator.post(f"/api/v1/orders/{order_id}/{step}", json=body)
            assert response.status_code == 200, response.text
        return order_id

    def earned(self, amount=10_000):
        """The seller earns from one more settled order (``amount`` less 10 %), and the
        ledger has booked it; returns the seller's id."""
        assert self.events is not None, "build_world(..., events=events): earnings come by event"
        order = settled_order(self.hub_id, [(self.seller.member_id, amount)])
        self.events.publish("orders", "order_settled", order)
        wait_until(
            lambda: any(
                entry["order_number"] == order["number"]
                for entry in statement(self.hub.coordinator, self.hub_id, self.seller.member_id)[
                    "entries"
                ]
            ),
            message="the ledger to book the order",
        )
        return self.seller.member_id

    def appointable(self):
        """A member just approved as a buyer of the hub: one who may be its agent."""
        return approved_member(self.api, self.hub.coordinator, self.hub_id, role="buyer").member_id

    def group_body(self):
        """A new group of the hub, run by the ``agent``."""
        return group_payload(agent_id=self.agent.agent_id)

    def on_show(self):
        """An approved product of the seller that the gateway's showroom copy shows,
        the same one each time."""
        if self.shown_product is None:
            product = product_on_show(
                self.api, self.seller.client, self.hub.coordinator, self.hub_id
            )
            self.shown_product = product["id"]
        return self.shown_product

    def broadcast_group(self):
        """A new group run by the ``agent``, with a contact: ready for its broadcast of
        the day."""
        group = make_group(self.hub.coordinator, self.hub_id, agent_id=self.agent.agent_id)
        response = add_contact(self.agent.client, group["id"])
        assert response.status_code == 201, response.text
        return group["id"]

    def broadcast(self):
        """The broadcast of ``group`` today, the same one each time."""
        if self.sent_broadcast is None:
            group_id = self.broadcast_group()
            response = self.agent.client.post(
                f"/api/v1/groups/{group_id}/broadcasts",
                json={"product_ids": [self.on_show()]},
            )
            assert response.status_code == 202, response.text
            self.sent_broadcast = response.json()["id"]
        return self.sent_broadcast

    def registered(self):
        """A registered member's login body."""
        member = make_member()
        response = self.api.post("/api/v1/auth/register", json=member)
        assert response.status_code == 201, response.text
        return {"phone": member["phone"], "password": member["password"]}

    def reset_body(self):
        """A registered member's password reset, with the code just sent to them."""
        assert self.sms is not None, "build_world(api, admin, sms_sink): codes come by SMS"
        return reset_body(self.api, self.sms, self.registered()["phone"], "sandi-baru-desa-2")


def _suspend(world, member):
    response = decide(world.hub.coordinator, member.membership_id, "suspend")
    assert response.status_code == 200, response.text


def build_world(api, admin, sms=None, events=None):
    hub = hub_with_coordinator(api, admin)
    other = hub_with_coordinator(api, admin)
    world = World(
        api=api,
        admin=admin,
        hub=hub,
        other=other,
        buyer=approved_member(api, hub.coordinator, hub.hub_id, role="buyer"),
        seller=approved_member(api, hub.coordinator, hub.hub_id, role="seller"),
        fellow_seller=approved_member(api, hub.coordinator, hub.hub_id, role="seller"),
        other_seller=approved_member(api, other.coordinator, other.hub_id, role="seller"),
        sms=sms,
        events=events,
    )
    world.agent = appointed_agent(api, hub.coordinator, hub.hub_id)
    world.other_agent = appointed_agent(api, hub.coordinator, hub.hub_id)
    world.group = make_group(hub.coordinator, hub.hub_id, agent_id=world.agent.agent_id)
    make_group(hub.coordinator, hub.hub_id, agent_id=world.other_agent.agent_id)
    world.clients = dict(
        zip(
            PERSONAS,
            (
                api,
                world.buyer.client,
                world.seller.client,
                world.fellow_seller.client,
                world.other_seller.client,
                hub.coordinator,
                other.coordinator,
                admin,
                world.agent.client,
                world.other_agent.client,
            ),
            strict=True,
        )
    )
    return world


@dataclass(frozen=True)
class Endpoint:
    label: str
    """``"METHOD /path/{param}"`` as in the OpenAPI document."""
    caller: str | None
    """A persona this endpoint's request succeeds for; ``None``: nobody may."""
    build: Callable[[World], Request]
    variant: str = ""
    """Another row for the same operation asked another way (``"review queue"``)."""

    @property
    def name(self):
        return f"{self.label} ({self.variant})" if self.variant else self.label

    @property
    def changes_state(self):
        """Anything but a GET: each call gets a request of its own (a new phone to
        register, a pending membership to approve …), so no call sees another's effect."""
        return not self.label.startswith("GET ")


def _hub(world, suffix=""):
    return f"/api/v1/hubs/{world.hub_id}{suffix}"


ENDPOINTS = (
    Endpoint("GET /healthz", "anonymous", lambda w: Request("GET", "/healthz")),
    Endpoint("GET /readyz", "anonymous", lambda w: Request("GET", "/readyz")),
    Endpoint(
        "GET /api/v1/openapi.json", "anonymous", lambda w: Request("GET", "/api/v1/openapi.json")
    ),
    # --- community: members -------------------------------------------------
    Endpoint(
        "POST /api/v1/auth/register",
        "anonymous",
        lambda w: Request("POST", "/api/v1/auth/register", json=make_member()),
    ),
    Endpoint(
        "POST /api/v1/auth/token",
        "anonymous",
        lambda w: Request("POST", "/api/v1/auth/token", json=w.registered()),
    ),
    Endpoint(
        "POST /api/v1/auth/otp",
        "anonymous",
        lambda w: Request(
            "POST",
            "/api/v1/auth/otp",
            json={"phone": w.registered()["phone"], "purpose": "reset_password"},
            headers=new_key(),
        ),
    ),
    Endpoint(
        "POST /api/v1/auth/password-reset",
        "anonymous",
        lambda w: Request("POST", "/api/v1/auth/password-reset", json=w.reset_body()),
    ),
    Endpoint("GET /api/v1/me", "buyer", lambda w: Request("GET", "/api/v1/me")),
    Endpoint(
        "PATCH /api/v1/me",
        "buyer",
        lambda w: Request("PATCH", "/api/v1/me", json={"language": "en", "name": "Bu Siti"}),
    ),
    # --- community: hubs ----------------------------------------------------
    Endpoint(
        "POST /api/v1/hubs",
        "admin",
        lambda w: Request("POST", "/api/v1/hubs", json=hub_payload()),
    ),
    Endpoint(
        "GET /api/v1/hubs",
        "anonymous",
        lambda w: Request("GET", "/api/v1/hubs", params={"page": 1, "page_size": 10}),
    ),
    Endpoint("GET /api/v1/hubs/{hub_id}", "anonymous", lambda w: Request("GET", _hub(w))),
    Endpoint(
        "PATCH /api/v1/hubs/{hub_id}",
        "coordinator",
        lambda w: Request(
            "PATCH",
            _hub(w),
            json={
                "commission_percent": 12,
                "bank_account": {"bank": "BRI", "number": "0012010001", "holder": "Simpul"},
            },
        ),
    ),
    Endpoint(
        "POST /api/v1/hubs/{hub_id}/coordinators",
        "admin",
        lambda w: Request("POST", _hub(w, "/coordinators"), json={"member_id": w.new_member_id()}),
    ),
    Endpoint(
        "DELETE /api/v1/hubs/{hub_id}/coordinators/{member_id}",
        "admin",
        lambda w: Request("DELETE", _hub(w, f"/coordinators/{w.new_coordinator_id()}")),
    ),
    # --- community: memberships ---------------------------------------------
    Endpoint(
        "POST /api/v1/hubs/{hub_id}/memberships",
        "buyer",
        lambda w: Request("POST", _hub(w, "/memberships"), json={"role": "buyer"}),
    ),
    Endpoint(
        "GET /api/v1/hubs/{hub_id}/memberships",
        "coordinator",
        lambda w: Request(
            "GET", _hub(w, "/memberships"), params={"status": "approved", "role": "seller"}
        ),
    ),
    Endpoint(
        "POST /api/v1/memberships/{membership_id}/approve",
        "coordinator",
        lambda w: Request("POST", f"/api/v1/memberships/{w.pending_membership()}/approve"),
    ),
    Endpoint(
        "POST /api/v1/memberships/{membership_id}/reject",
        "coordinator",
        lambda w: Request(
            "POST",
            f"/api/v1/memberships/{w.pending_membership()}/reject",
            json={"reason": "Belum lengkap"},
        ),
    ),
    Endpoint(
        "POST /api/v1/memberships/{membership_id}/suspend",
        "coordinator",
        lambda w: Request(
            "POST",
            f"/api/v1/memberships/{w.approved_membership()}/suspend",
            json={"reason": "Produk kedaluwarsa"},
        ),
    ),
    # --- community: trainings -----------------------------------------------
    Endpoint(
        "POST /api/v1/hubs/{hub_id}/trainings",
        "coordinator",
        lambda w: Request("POST", _hub(w, "/trainings"), json=training_payload()),
    ),
    Endpoint(
        "GET /api/v1/hubs/{hub_id}/trainings",
        "anonymous",
        lambda w: Request("GET", _hub(w, "/trainings"), params={"page": 1}),
    ),
    Endpoint(
        "POST /api/v1/trainings/{training_id}/enrolments",
        "buyer",
        lambda w: Request("POST", f"/api/v1/trainings/{w.training(capacity=10)}/enrolments"),
    ),
    Endpoint(
        "POST /api/v1/trainings/{training_id}/completions",
        "coordinator",
        lambda w: Request(
            "POST",
            f"/api/v1/trainings/{_enrolled_training(w)}/completions",
            json={"member_id": w.buyer.member_id},
        ),
    ),
    # --- community: agents, groups, contacts, broadcasts ---------------------
    Endpoint(
        "POST /api/v1/hubs/{hub_id}/agents",
        "coordinator",
        lambda w: Request(
            "POST",
            _hub(w, "/agents"),
            json={"member_id": w.appointable(), "commission_percent": 3},
            headers=new_key(),
        ),
    ),
    Endpoint(
        "GET /api/v1/hubs/{hub_id}/agents",
        "coordinator",
        lambda w: Request("GET", _hub(w, "/agents"), params={"page_size": 5}),
    ),
    Endpoint(
        "POST /api/v1/hubs/{hub_id}/groups",
        "coordinator",
        lambda w: Request("POST", _hub(w, "/groups"), json=w.group_body(), headers=new_key()),
    ),
    Endpoint(
        "GET /api/v1/hubs/{hub_id}/groups",
        "agent",
        lambda w: Request("GET", _hub(w, "/groups"), params={"page": 1}),
    ),
    Endpoint(
        "GET /api/v1/groups/{group_id}",
        "agent",
        lambda w: Request("GET", f"/api/v1/groups/{w.group['id']}"),
    ),
    Endpoint(
        "POST /api/v1/groups/{group_id}/contacts",
        "agent",
        lambda w: Request(
            "POST",
            f"/api/v1/groups/{w.group['id']}/contacts",
            json={"phone": make_phone(), "name": "Bu Aminah"},
            headers=new_key(),
        ),
    ),
    Endpoint(
        "GET /api/v1/groups/{group_id}/contacts",
        "agent",
        lambda w: Request("GET", f"/api/v1/groups/{w.group['id']}/contacts", params={"page": 1}),
    ),
    Endpoint(
        "POST /api/v1/groups/{group_id}/broadcasts",
        "agent",
        lambda w: Request(
            "POST",
            f"/api/v1/groups/{w.broadcast_group()}/broadcasts",
            json={"product_ids": [w.on_show()]},
            headers=new_key(),
        ),
    ),
    Endpoint(
        "GET /api/v1/broadcasts/{broadcast_id}",
        "agent",
        lambda w: Request("GET", f"/api/v1/broadcasts/{w.broadcast()}"),
    ),
    # --- catalogue ----------------------------------------------------------
    Endpoint(
        "POST /api/v1/products",
        "seller",
        lambda w: Request(
            "POST", "/api/v1/products", json=make_product(w.hub_id), headers=new_key()
        ),
    ),
    Endpoint(
        "POST /api/v1/products",
        "coordinator",
        lambda w: Request(
            "POST",
            "/api/v1/products",
            json=make_product(w.hub_id, on_behalf_of=w.seller.member_id),
            headers=new_key(),
        ),
        variant="for a seller",
    ),
    Endpoint(
        "POST /api/v1/products",
        None,
        lambda w: Request(
            "POST",
            "/api/v1/products",
            json=make_product(w.hub_id, on_behalf_of=w.suspended_seller()[0]),
            headers=new_key(),
        ),
        variant="for a suspended seller",
    ),
    Endpoint(
        "POST /api/v1/products",
        None,
        lambda w: Request(
            "POST",
            "/api/v1/products",
            json=make_product(w.hub_id, on_behalf_of=w.buyer.member_id),
            headers=new_key(),
        ),
        variant="for a buyer",
    ),
    Endpoint(
        "GET /api/v1/products",
        "anonymous",
        lambda w: Request("GET", "/api/v1/products", params={"hub_id": w.hub_id, "q": "keripik"}),
    ),
    Endpoint(
        "GET /api/v1/products",
        "coordinator",
        lambda w: Request(
            "GET", "/api/v1/products", params={"hub_id": w.hub_id, "status": "pending_review"}
        ),
        variant="review queue",
    ),
    Endpoint(
        "GET /api/v1/products/{product_id}",
        "seller",
        lambda w: Request("GET", f"/api/v1/products/{w.new_product()}"),
    ),
    Endpoint(
        "GET /api/v1/products/{product_id}",
        "anonymous",
        lambda w: Request("GET", f"/api/v1/products/{w.product()}"),
        variant="approved",
    ),
    Endpoint(
        "PATCH /api/v1/products/{product_id}",
        "seller",
        lambda w: Request("PATCH", f"/api/v1/products/{w.product()}", json={"price": 16_000}),
    ),
    Endpoint(
        "POST /api/v1/products/{product_id}/stock",
        "seller",
        lambda w: Request(
            "POST", f"/api/v1/products/{w.product()}/stock", json={"delta": 5}, headers=new_key()
        ),
    ),
    Endpoint(
        "POST /api/v1/products/{product_id}/stock",
        None,
        lambda w: Request(
            "POST",
            f"/api/v1/products/{w.suspended_seller()[1]}/stock",
            json={"delta": 5},
            headers=new_key(),
        ),
        variant="of a suspended seller",
    ),
    Endpoint(
        "POST /api/v1/products/{product_id}/approve",
        "coordinator",
        lambda w: Request("POST", f"/api/v1/products/{w.new_product()}/approve"),
    ),
    Endpoint(
        "POST /api/v1/products/{product_id}/reject",
        "coordinator",
        lambda w: Request(
            "POST",
            f"/api/v1/products/{w.new_product()}/reject",
            json={"reason": "Foto produk buram"},
        ),
    ),
    Endpoint(
        "POST /api/v1/hubs/{hub_id}/intakes",
        "coordinator",
        lambda w: Request("POST", _hub(w, "/intakes"), json=w.intake_body(), headers=new_key()),
    ),
    Endpoint(
        "GET /api/v1/hubs/{hub_id}/intakes",
        "coordinator",
        lambda w: Request("GET", _hub(w, "/intakes"), params={"page_size": 5}),
    ),
    # --- orders -------------------------------------------------------------
    Endpoint(
        "POST /api/v1/orders",
        "buyer",
        lambda w: Request("POST", "/api/v1/orders", json=w.order_body(), headers=new_key()),
    ),
    Endpoint(
        "POST /api/v1/orders",
        "coordinator",
        lambda w: Request("POST", "/api/v1/orders", json=w.order_for_buyer(), headers=new_key()),
        variant="for a member",
    ),
    Endpoint(
        "POST /api/v1/orders",
        None,
        lambda w: Request(
            "POST", "/api/v1/orders", json=w.order_for(w.suspended_buyer()), headers=new_key()
        ),
        variant="for a suspended member",
    ),
    Endpoint(
        "POST /api/v1/orders",
        None,
        lambda w: Request(
            "POST", "/api/v1/orders", json=w.order_for(w.applicant()), headers=new_key()
        ),
        variant="for an applicant",
    ),
    Endpoint(
        "POST /api/v1/orders",
        "other_seller",
        lambda w: Request(
            "POST",
            "/api/v1/orders",
            json=w.order_for(w.other_seller.member_id),
            headers=new_key(),
        ),
        variant="for another hub's member",
    ),
    Endpoint(
        "GET /api/v1/orders",
        "buyer",
        lambda w: Request("GET", "/api/v1/orders", params={"as": "buyer", "status": "confirmed"}),
    ),
    Endpoint(
        "GET /api/v1/orders",
        "coordinator",
        lambda w: Request(
            "GET", "/api/v1/orders", params={"as": "coordinator", "hub_id": w.hub_id}
        ),
        variant="a hub's orders",
    ),
    Endpoint(
        "GET /api/v1/orders/{order_id}",
        "buyer",
        lambda w: Request("GET", f"/api/v1/orders/{w.order()}"),
    ),
    Endpoint(
        "POST /api/v1/orders/{order_id}/cancel",
        "buyer",
        lambda w: Request(
            "POST", f"/api/v1/orders/{w.order()}/cancel", json={"reason": "Salah pesan"}
        ),
    ),
    Endpoint(
        "POST /api/v1/orders/{order_id}/status",
        "coordinator",
        lambda w: Request(
            "POST", f"/api/v1/orders/{w.order()}/status", json={"status": "ready_for_pickup"}
        ),
    ),
    Endpoint(
        "POST /api/v1/orders/{order_id}/payment",
        "coordinator",
        lambda w: Request("POST", f"/api/v1/orders/{w.order()}/payment", json={"status": "paid"}),
    ),
    Endpoint(
        "POST /api/v1/orders/{order_id}/payment-proof",
        "buyer",
        lambda w: Request(
            "POST",
            f"/api/v1/orders/{w.order(payment_method='bank_transfer')}/payment-proof",
            json={"reference": "BRI 0912 7781"},
        ),
    ),
    Endpoint(
        "POST /api/v1/orders/{order_id}/refund",
        "coordinator",
        lambda w: Request(
            "POST", f"/api/v1/orders/{w.refund_due()}/refund", json={"reference": "TRF 1203"}
        ),
    ),
    Endpoint(
        "POST /api/v1/hubs/{hub_id}/counter-sales",
        "coordinator",
        lambda w: Request(
            "POST", _hub(w, "/counter-sales"), json=w.counter_sale_body(), headers=new_key()
        ),
    ),
    Endpoint(
        "GET /api/v1/hubs/{hub_id}/reports/sales",
        "coordinator",
        lambda w: Request(
            "GET", _hub(w, "/reports/sales"), params={"from": "2026-01-01", "to": "2026-12-31"}
        ),
    ),
    # --- notifications ------------------------------------------------------
    Endpoint(
        "GET /api/v1/notifications",
        "buyer",
        lambda w: Request("GET", "/api/v1/notifications", params={"page_size": 5}),
    ),
    # --- messaging: the provider's signature is the authentication -------------
    Endpoint(
        "POST /api/v1/inbound/sms",
        "anonymous",
        lambda w: Request("POST", "/api/v1/inbound/sms", json=inbound_body(), signed=True),
    ),
    Endpoint(
        "POST /api/v1/inbound/whatsapp",
        "anonymous",
        lambda w: Request("POST", "/api/v1/inbound/whatsapp", json=inbound_body(), signed=True),
    ),
    Endpoint("GET /api/v1/me/messages", "buyer", lambda w: Request("GET", "/api/v1/me/messages")),
    Endpoint(
        "GET /api/v1/hubs/{hub_id}/messages",
        "coordinator",
        lambda w: Request("GET", _hub(w, "/messages"), params={"page_size": 5}),
    ),
    # --- ledger -------------------------------------------------------------
    Endpoint(
        "GET /api/v1/hubs/{hub_id}/sellers/{seller_id}/statement",
        "seller",
        lambda w: Request(
            "GET",
            _hub(w, f"/sellers/{w.seller.member_id}/statement"),
            params={"from": "2026-01-01"},
        ),
    ),
    Endpoint(
        "GET /api/v1/hubs/{hub_id}/agents/{agent_id}/statement",
        "agent",
        lambda w: Request(
            "GET", _hub(w, f"/agents/{w.agent.agent_id}/statement"), params={"from": "2026-01-01"}
        ),
    ),
    Endpoint("GET /api/v1/me/earnings", "seller", lambda w: Request("GET", "/api/v1/me/earnings")),
    Endpoint(
        "POST /api/v1/hubs/{hub_id}/payouts",
        "coordinator",
        lambda w: Request(
            "POST",
            _hub(w, "/payouts"),
            json={"seller_id": w.earned(), "amount": 5_000, "method": "cash"},
            headers=new_key(),
        ),
    ),
    Endpoint(
        "POST /api/v1/hubs/{hub_id}/adjustments",
        "coordinator",
        lambda w: Request(
            "POST",
            _hub(w, "/adjustments"),
            json={"seller_id": w.seller.member_id, "amount": 500, "reason": "Kurang bayar"},
            headers=new_key(),
        ),
    ),
    Endpoint(
        "GET /api/v1/reports/network",
        "admin",
        lambda w: Request(
            "GET", "/api/v1/reports/network", params={"from": "2026-01-01", "to": "2026-12-31"}
        ),
    ),
)


def new_key():
    """A fresh ``Idempotency-Key`` header."""
    return {"Idempotency-Key": str(uuid.uuid4())}


def _enrolled_training(world):
    """A training the buyer is enrolled in."""
    training_id = world.training()
    response = world.buyer.client.post(f"/api/v1/trainings/{training_id}/enrolments")
    assert response.status_code == 201, response.text
    return training_id


def document_operations(document):
    """``{"METHOD /path"}`` of every operation in an OpenAPI document."""
    return {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method in operations
    }
