"""Who may call what: every operation of the API × every kind of caller, in one table.

Columns follow ``PERSONAS``: anonymous, a buyer and a seller approved in the hub (the
seller the products and orders belong to), another seller of that hub, a seller of
another hub, the hub's coordinator, another hub's coordinator, the admin. Each caller
gets a request of its own for anything but a GET (a pending membership each to
approve, a confirmed order each to cancel), so a status says what that kind of caller
may do, not what was left after someone else did it.

A product not yet approved is seen only by its seller and its hub's coordinators (404
for anyone else: its existence is not given away); the review queue is theirs (403
for anyone else, logged in or not). An order is seen by its buyer, its sellers and its
hub's coordinators, 404 for anyone else; the buyer (not the seller) may cancel it, the
seller (not the buyer) moves it along, only coordinators record the payment.
"""

from tests.support.endpoints import ENDPOINTS, PERSONAS, build_world, document_operations

# fmt: off
EXPECTED = {
    # anonymous, buyer, seller, fellow seller, other hub's seller, coordinator, other hub's
    # coordinator, admin
    "GET /healthz":                                      (200, 200, 200, 200, 200, 200, 200, 200),
    "GET /readyz":                                       (200, 200, 200, 200, 200, 200, 200, 200),
    "GET /api/v1/openapi.json":                          (200, 200, 200, 200, 200, 200, 200, 200),
    "POST /api/v1/auth/register":                        (201, 201, 201, 201, 201, 201, 201, 201),
    "POST /api/v1/auth/token":                           (200, 200, 200, 200, 200, 200, 200, 200),
    "GET /api/v1/me":                                    (401, 200, 200, 200, 200, 200, 200, 200),
    "PATCH /api/v1/me":                                  (401, 200, 200, 200, 200, 200, 200, 200),
    "POST /api/v1/hubs":                                 (401, 403, 403, 403, 403, 403, 403, 201),
    "GET /api/v1/hubs":                                  (200, 200, 200, 200, 200, 200, 200, 200),
    "GET /api/v1/hubs/{hub_id}":                         (200, 200, 200, 200, 200, 200, 200, 200),
    "POST /api/v1/hubs/{hub_id}/coordinators":           (401, 403, 403, 403, 403, 403, 403, 200),
    "DELETE /api/v1/hubs/{hub_id}/coordinators/{member_id}": (401, 403, 403, 403, 403, 403, 403, 200),  # noqa: E501
    "POST /api/v1/hubs/{hub_id}/memberships":            (401, 201, 201, 201, 201, 201, 201, 201),
    "GET /api/v1/hubs/{hub_id}/memberships":             (401, 403, 403, 403, 403, 200, 403, 200),
    "POST /api/v1/memberships/{membership_id}/approve":  (401, 403, 403, 403, 403, 200, 403, 200),
    "POST /api/v1/memberships/{membership_id}/reject":   (401, 403, 403, 403, 403, 200, 403, 200),
    "POST /api/v1/memberships/{membership_id}/suspend":  (401, 403, 403, 403, 403, 200, 403, 200),
    "POST /api/v1/hubs/{hub_id}/trainings":              (401, 403, 403, 403, 403, 201, 403, 201),
    "GET /api/v1/hubs/{hub_id}/trainings":               (200, 200, 200, 200, 200, 200, 200, 200),
    "POST /api/v1/trainings/{training_id}/enrolments":   (401, 201, 201, 201, 403, 403, 403, 403),
    "POST /api/v1/trainings/{training_id}/completions":  (401, 403, 403, 403, 403, 200, 403, 200),
    "POST /api/v1/products":                             (401, 403, 201, 201, 403, 403, 403, 403),
    "GET /api/v1/products":                              (200, 200, 200, 200, 200, 200, 200, 200),
    "GET /api/v1/products (review queue)":               (403, 403, 403, 403, 403, 200, 403, 200),
    "GET /api/v1/products/{product_id}":                 (404, 404, 200, 404, 404, 200, 404, 200),
    "GET /api/v1/products/{product_id} (approved)":      (200, 200, 200, 200, 200, 200, 200, 200),
    "PATCH /api/v1/products/{product_id}":               (401, 403, 200, 403, 403, 403, 403, 403),
    "POST /api/v1/products/{product_id}/stock":          (401, 403, 200, 403, 403, 403, 403, 403),
    "POST /api/v1/products/{product_id}/approve":        (401, 403, 403, 403, 403, 200, 403, 200),
    "POST /api/v1/products/{product_id}/reject":         (401, 403, 403, 403, 403, 200, 403, 200),
    "POST /api/v1/orders":                               (401, 201, 201, 201, 201, 201, 201, 201),
    "GET /api/v1/orders":                                (401, 200, 200, 200, 200, 200, 200, 200),
    "GET /api/v1/orders (a hub's orders)":               (401, 403, 403, 403, 403, 200, 403, 200),
    "GET /api/v1/orders/{order_id}":                     (401, 200, 200, 404, 404, 200, 404, 200),
    "POST /api/v1/orders/{order_id}/cancel":             (401, 200, 403, 404, 404, 200, 404, 200),
    "POST /api/v1/orders/{order_id}/status":             (401, 403, 200, 404, 404, 200, 404, 200),
    "POST /api/v1/orders/{order_id}/payment":            (401, 403, 403, 404, 404, 200, 404, 200),
    "GET /api/v1/hubs/{hub_id}/reports/sales":           (401, 403, 403, 403, 403, 200, 403, 200),
    "GET /api/v1/notifications":                         (401, 200, 200, 200, 200, 200, 200, 200),
}
# fmt: on


def test_the_matrix_names_every_operation_of_the_api_document(api):
    documented = document_operations(api.get("/api/v1/openapi.json").json())
    assert {name.split(" (")[0] for name in EXPECTED} == documented
    assert {endpoint.label for endpoint in ENDPOINTS} == documented
    assert set(EXPECTED) == {endpoint.name for endpoint in ENDPOINTS}


def test_every_operation_answers_each_kind_of_caller_as_designed(api, admin):
    world = build_world(api, admin)
    actual = {}
    for endpoint in ENDPOINTS:
        request = endpoint.build(world)
        statuses = []
        for persona in PERSONAS:
            if endpoint.changes_state:
                request = endpoint.build(world)
            statuses.append(request.send(world.clients[persona]).status_code)
        actual[endpoint.name] = tuple(statuses)
        caller_status = statuses[PERSONAS.index(endpoint.caller)]
        assert 200 <= caller_status < 300, f"{endpoint.name} fails for its own caller"
    assert actual == EXPECTED
