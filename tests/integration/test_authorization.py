"""Who may call what: every operation of the API × every kind of caller, in one table.

Columns follow ``PERSONAS``: anonymous, a buyer and a seller approved in the hub (the
seller the products and orders belong to), another seller of that hub, a seller of
another hub, the hub's coordinator, another hub's coordinator, the admin, the hub's
agent who runs the group the requests are about, and an agent of the hub who runs
another group (both agents are approved buyers of the hub, and act as such). Each caller
gets a request of its own for anything but a GET (a pending membership each to
approve, a confirmed order each to cancel), so a status says what that kind of caller
may do, not what was left after someone else did it.

A product not yet approved is seen only by its seller and its hub's coordinators (404
for anyone else: its existence is not given away); the review queue is theirs (403
for anyone else, logged in or not). An order is seen by its buyer, its sellers and its
hub's coordinators, 404 for anyone else; the buyer (not the seller) may cancel it, the
seller (not the buyer) moves it along, only coordinators record the payment, a refund
or a counter sale, and only the buyer sends the reference of a bank transfer. A hub's
money settings and the goods received at its showroom are its coordinator's (and an
admin's).

A seller's statement is theirs and their hub's coordinators' (403 for anyone else), an
agent's statement the agent's and their hub's coordinators';
the hub's coordinator (or an admin) pays a seller and corrects their balance; everyone
sees their own earnings; the network report is the admins'.

A hub's agents are appointed and listed by its coordinator (or an admin), who also
creates its groups. A group, its contacts and its broadcasts are its hub's
coordinator's and its own agent's (403 for anyone else, an agent of another group
too); an agent lists only the groups they run.

The hub's coordinator (and an admin) may act for an approved member of the hub
(``on_behalf_of``: an order for a member, a product for a seller) and change a
seller's stock; nobody may for another hub's member, a suspended member, an applicant
or a buyer as seller, and nobody else may at all (403; a member naming themselves
acts for themselves). Rows of what nobody may do have no caller of their own.
"""

from tests.support.endpoints import ENDPOINTS, PERSONAS, build_world, document_operations

# one row per operation, one column per persona: the rows are as long as that makes them
# ruff: noqa: E501
# fmt: off
EXPECTED = {
    # anonymous, buyer, seller, fellow seller, other hub's seller, coordinator, other hub's
    # coordinator, admin, the group's agent, another group's agent
    "GET /healthz":                                      (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "GET /readyz":                                       (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "GET /api/v1/openapi.json":                          (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "POST /api/v1/auth/register":                        (201, 201, 201, 201, 201, 201, 201, 201, 201, 201),
    "POST /api/v1/auth/token":                           (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "POST /api/v1/auth/otp":                             (202, 202, 202, 202, 202, 202, 202, 202, 202, 202),
    "POST /api/v1/auth/password-reset":                  (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "GET /api/v1/me":                                    (401, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "PATCH /api/v1/me":                                  (401, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "POST /api/v1/hubs":                                 (401, 403, 403, 403, 403, 403, 403, 201, 403, 403),
    "GET /api/v1/hubs":                                  (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "GET /api/v1/hubs/{hub_id}":                         (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "PATCH /api/v1/hubs/{hub_id}":                       (401, 403, 403, 403, 403, 200, 403, 200, 403, 403),
    "POST /api/v1/hubs/{hub_id}/coordinators":           (401, 403, 403, 403, 403, 403, 403, 200, 403, 403),
    "DELETE /api/v1/hubs/{hub_id}/coordinators/{member_id}": (401, 403, 403, 403, 403, 403, 403, 200, 403, 403),
    "POST /api/v1/hubs/{hub_id}/memberships":            (401, 201, 201, 201, 201, 201, 201, 201, 201, 201),
    "GET /api/v1/hubs/{hub_id}/memberships":             (401, 403, 403, 403, 403, 200, 403, 200, 403, 403),
    "POST /api/v1/memberships/{membership_id}/approve":  (401, 403, 403, 403, 403, 200, 403, 200, 403, 403),
    "POST /api/v1/memberships/{membership_id}/reject":   (401, 403, 403, 403, 403, 200, 403, 200, 403, 403),
    "POST /api/v1/memberships/{membership_id}/suspend":  (401, 403, 403, 403, 403, 200, 403, 200, 403, 403),
    "POST /api/v1/hubs/{hub_id}/trainings":              (401, 403, 403, 403, 403, 201, 403, 201, 403, 403),
    "GET /api/v1/hubs/{hub_id}/trainings":               (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "POST /api/v1/trainings/{training_id}/enrolments":   (401, 201, 201, 201, 403, 403, 403, 403, 201, 201),
    "POST /api/v1/trainings/{training_id}/completions":  (401, 403, 403, 403, 403, 200, 403, 200, 403, 403),
    "POST /api/v1/hubs/{hub_id}/agents":                 (401, 403, 403, 403, 403, 201, 403, 201, 403, 403),
    "GET /api/v1/hubs/{hub_id}/agents":                  (401, 403, 403, 403, 403, 200, 403, 200, 403, 403),
    "POST /api/v1/hubs/{hub_id}/groups":                 (401, 403, 403, 403, 403, 201, 403, 201, 403, 403),
    "GET /api/v1/hubs/{hub_id}/groups":                  (401, 403, 403, 403, 403, 200, 403, 200, 200, 200),
    "GET /api/v1/groups/{group_id}":                     (401, 403, 403, 403, 403, 200, 403, 200, 200, 403),
    "POST /api/v1/groups/{group_id}/contacts":           (401, 403, 403, 403, 403, 201, 403, 201, 201, 403),
    "GET /api/v1/groups/{group_id}/contacts":            (401, 403, 403, 403, 403, 200, 403, 200, 200, 403),
    "POST /api/v1/groups/{group_id}/broadcasts":         (401, 403, 403, 403, 403, 202, 403, 202, 202, 403),
    "GET /api/v1/broadcasts/{broadcast_id}":             (401, 403, 403, 403, 403, 200, 403, 200, 200, 403),
    "POST /api/v1/products":                             (401, 403, 201, 201, 403, 403, 403, 403, 403, 403),
    "POST /api/v1/products (for a seller)":              (401, 403, 201, 403, 403, 201, 403, 201, 403, 403),
    "POST /api/v1/products (for a suspended seller)":    (401, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "POST /api/v1/products (for a buyer)":               (401, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "GET /api/v1/products":                              (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "GET /api/v1/products (review queue)":               (403, 403, 403, 403, 403, 200, 403, 200, 403, 403),
    "GET /api/v1/products/{product_id}":                 (404, 404, 200, 404, 404, 200, 404, 200, 404, 404),
    "GET /api/v1/products/{product_id} (approved)":      (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "PATCH /api/v1/products/{product_id}":               (401, 403, 200, 403, 403, 403, 403, 403, 403, 403),
    "POST /api/v1/products/{product_id}/stock":          (401, 403, 200, 403, 403, 200, 403, 200, 403, 403),
    "POST /api/v1/products/{product_id}/stock (of a suspended seller)": (401, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "POST /api/v1/products/{product_id}/approve":        (401, 403, 403, 403, 403, 200, 403, 200, 403, 403),
    "POST /api/v1/products/{product_id}/reject":         (401, 403, 403, 403, 403, 200, 403, 200, 403, 403),
    "POST /api/v1/hubs/{hub_id}/intakes":                (401, 403, 403, 403, 403, 201, 403, 201, 403, 403),
    "GET /api/v1/hubs/{hub_id}/intakes":                 (401, 403, 403, 403, 403, 200, 403, 200, 403, 403),
    "POST /api/v1/orders":                               (401, 201, 201, 201, 201, 201, 201, 201, 201, 201),
    "POST /api/v1/orders (for a member)":                (401, 201, 403, 403, 403, 201, 403, 201, 403, 403),
    "POST /api/v1/orders (for a suspended member)":      (401, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "POST /api/v1/orders (for an applicant)":            (401, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "POST /api/v1/orders (for another hub's member)":    (401, 403, 403, 403, 201, 403, 403, 403, 403, 403),
    "GET /api/v1/orders":                                (401, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "GET /api/v1/orders (a hub's orders)":               (401, 403, 403, 403, 403, 200, 403, 200, 403, 403),
    "GET /api/v1/orders/{order_id}":                     (401, 200, 200, 404, 404, 200, 404, 200, 404, 404),
    "POST /api/v1/orders/{order_id}/cancel":             (401, 200, 403, 404, 404, 200, 404, 200, 404, 404),
    "POST /api/v1/orders/{order_id}/status":             (401, 403, 200, 404, 404, 200, 404, 200, 404, 404),
    "POST /api/v1/orders/{order_id}/payment":            (401, 403, 403, 404, 404, 200, 404, 200, 404, 404),
    "POST /api/v1/orders/{order_id}/payment-proof":      (401, 200, 403, 404, 404, 403, 404, 403, 404, 404),
    "POST /api/v1/orders/{order_id}/refund":             (401, 403, 403, 404, 404, 200, 404, 200, 404, 404),
    "POST /api/v1/hubs/{hub_id}/counter-sales":          (401, 403, 403, 403, 403, 201, 403, 201, 403, 403),
    "GET /api/v1/hubs/{hub_id}/reports/sales":           (401, 403, 403, 403, 403, 200, 403, 200, 403, 403),
    "GET /api/v1/notifications":                         (401, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    # the provider's signature authenticates it, whoever else's token comes along
    "POST /api/v1/inbound/sms":                          (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "POST /api/v1/inbound/whatsapp":                     (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "GET /api/v1/me/messages":                           (401, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "GET /api/v1/hubs/{hub_id}/messages":                (401, 403, 403, 403, 403, 200, 403, 200, 403, 403),
    "GET /api/v1/hubs/{hub_id}/sellers/{seller_id}/statement": (401, 403, 200, 403, 403, 200, 403, 200, 403, 403),
    "GET /api/v1/hubs/{hub_id}/agents/{agent_id}/statement": (401, 403, 403, 403, 403, 200, 403, 200, 200, 403),  # noqa: E501
    "GET /api/v1/me/earnings":                           (401, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "POST /api/v1/hubs/{hub_id}/payouts":                (401, 403, 403, 403, 403, 201, 403, 201, 403, 403),
    "POST /api/v1/hubs/{hub_id}/adjustments":            (401, 403, 403, 403, 403, 201, 403, 201, 403, 403),
    "GET /api/v1/reports/network":                       (401, 403, 403, 403, 403, 403, 403, 200, 403, 403),
}
# fmt: on


def test_the_matrix_names_every_operation_of_the_api_document(api):
    documented = document_operations(api.get("/api/v1/openapi.json").json())
    assert {name.split(" (")[0] for name in EXPECTED} == documented
    assert {endpoint.label for endpoint in ENDPOINTS} == documented
    assert set(EXPECTED) == {endpoint.name for endpoint in ENDPOINTS}


def test_every_operation_answers_each_kind_of_caller_as_designed(api, admin, sms_sink, events):
    world = build_world(api, admin, sms_sink, events)
    actual = {}
    for endpoint in ENDPOINTS:
        request = endpoint.build(world)
        statuses = []
        for persona in PERSONAS:
            if endpoint.changes_state:
                request = endpoint.build(world)
            statuses.append(request.send(world.clients[persona]).status_code)
        actual[endpoint.name] = tuple(statuses)
        if endpoint.caller is not None:
            caller_status = statuses[PERSONAS.index(endpoint.caller)]
            assert 200 <= caller_status < 300, f"{endpoint.name} fails for its own caller"
    assert actual == EXPECTED
