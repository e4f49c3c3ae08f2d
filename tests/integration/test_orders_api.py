"""Orders through the gateway: placement with Idempotency-Key, bad input, what lists
show. Products reach the orders projection as catalogue's events would bring them.
Who may do what is in the one authorization matrix, tests/integration/test_authorization.py."""

import concurrent.futures
import datetime

import pytest

from services.common.mongo import database_name, mongo_client
from tests.support.community import hub_with_coordinator
from tests.support.orders import make_order, make_product, new_key, without_catalogue
from tests.support.waiting import wait_until

HUB = "hub-1"


@pytest.fixture
def stack(stack):
    return without_catalogue(stack)


@pytest.fixture
def product(api, catalogue):
    product = make_product(hub_id=HUB, price=15000)
    catalogue.approve(product)
    prober, _ = api.as_member()
    wait_until(
        lambda: place(prober, make_order(HUB, [product]), key="probe").status_code == 201,
        message="the product in the orders projection",
    )
    return product


def place(client, body, key=None):
    headers = {"Idempotency-Key": key or new_key()}
    return client.post("/api/v1/orders", json=body, headers=headers)


def test_a_member_places_an_order_and_reads_it_back(api, product):
    client, member = api.as_member()
    body = make_order(HUB, [(product, 3)], note="Ambil sore")
    placed = place(client, body)
    assert placed.status_code == 201
    order = placed.json()
    assert order["status"] == "pending" and order["payment_status"] == "unpaid"
    assert order["buyer_id"] == member["id"] and order["total"] == 45000
    assert order["items"][0]["line_total"] == 45000 and order["items"][0]["unit"] == "pack"
    assert order["history"][0]["status"] == "pending"
    fetched = client.get(f"/api/v1/orders/{order['id']}")
    assert fetched.status_code == 200 and fetched.json() == order
    mine = client.get("/api/v1/orders").json()
    assert mine["total"] == 1 and mine["items"][0]["id"] == order["id"]


def test_a_retried_placement_returns_the_same_order_and_a_changed_body_conflicts(api, product):
    client, _ = api.as_member()
    key, body = new_key(), make_order(HUB, [product])
    first = place(client, body, key)
    again = place(client, body, key)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    changed = place(client, make_order(HUB, [(product, 2)]), key)
    assert changed.status_code == 409
    assert "Idempotency-Key" in changed.json()["error"]["details"]


def test_five_concurrent_placements_with_one_key_make_one_order(api, product):
    client, _ = api.as_member()
    key, body = new_key(), make_order(HUB, [product])
    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        responses = list(pool.map(lambda _: place(client, body, key), range(5)))
    assert {response.status_code for response in responses} == {201}
    assert len({response.json()["id"] for response in responses}) == 1
    assert client.get("/api/v1/orders").json()["total"] == 1


@pytest.mark.parametrize("key", [None, "k" * 101])
def test_placing_needs_an_idempotency_key_of_1_to_100_characters(api, product, key):
    client, _ = api.as_member()
    headers = {} if key is None else {"Idempotency-Key": key}
    response = client.post("/api/v1/orders", json=make_order(HUB, [product]), headers=headers)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["details"]


@pytest.mark.parametrize(
    ("change", "status", "field"),
    # every rule is checked in tests/unit/test_orders_schemas.py; here, one of each kind
    [
        ({"items": "duplicate"}, 400, "items"),
        ({"items": [{"quantity": 10**9}]}, 400, "items.0.quantity"),
        ({"items": [{"product_id": "no-such-product"}]}, 404, "items.0.product_id"),
        ({"hub_id": "hub-2"}, 400, "items.0.product_id"),
        ({"fulfilment": {"method": "delivery"}}, 400, "fulfilment.address"),
    ],
)
def test_bad_orders_get_a_4xx_naming_the_field(api, product, change, status, field):
    client, _ = api.as_member()
    body = make_order(HUB, [product])
    if change.get("items") == "duplicate":
        change = {"items": body["items"] * 2}
    elif "items" in change and change["items"]:
        change = {"items": [{**body["items"][0], **change["items"][0]}]}
    response = place(client, {**body, **change})
    assert response.status_code == status, response.text
    assert field in response.json()["error"]["details"]


def test_the_buyer_cancels_a_pending_order_and_may_not_move_it_along(api, product):
    buyer, member = api.as_member()
    order = place(buyer, make_order(HUB, [product])).json()
    moved = buyer.post(f"/api/v1/orders/{order['id']}/status", json={"status": "completed"})
    assert moved.status_code == 403
    paid = buyer.post(f"/api/v1/orders/{order['id']}/payment", json={"status": "paid"})
    assert paid.status_code == 403
    cancelled = buyer.post(f"/api/v1/orders/{order['id']}/cancel", json={"reason": "Salah"})
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["history"][-1]["by"] == member["id"]
    assert buyer.post(f"/api/v1/orders/{order['id']}/cancel").status_code == 200
    assert buyer.get("/api/v1/orders?status=cancelled").json()["total"] == 1
    assert buyer.get("/api/v1/orders?status=pending").json()["total"] == 0


def test_a_pending_order_cannot_be_paid_until_it_is_confirmed(api, admin, catalogue, product):
    buyer, _ = api.as_member()
    body = make_order(HUB, [product], payment_method="bank_transfer")
    order = place(buyer, body).json()
    pay = {"status": "paid"}
    refused = admin.post(f"/api/v1/orders/{order['id']}/payment", json=pay)
    assert refused.status_code == 409, refused.text
    assert "confirmed" in refused.json()["error"]["message"]
    assert buyer.get(f"/api/v1/orders/{order['id']}").json()["payment_status"] == "unpaid"
    catalogue.reserve(order)
    wait_until(
        lambda: buyer.get(f"/api/v1/orders/{order['id']}").json()["status"] == "confirmed",
        message="the order confirmed",
    )
    paid = admin.post(f"/api/v1/orders/{order['id']}/payment", json=pay)
    assert paid.status_code == 200 and paid.json()["payment_status"] == "paid"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/orders?status=lost", "status"),
        ("/api/v1/orders?as=coordinator", "as"),
    ],
)
def test_bad_order_lists_name_the_parameter(api, path, field):
    client, _ = api.as_member()
    response = client.get(path)
    assert response.status_code in (400, 403)
    assert field in response.json()["error"]["details"]


def test_the_api_document_lists_the_order_routes(api):
    paths = api.get("/api/v1/openapi.json").json()["paths"]
    assert "post" in paths["/api/v1/orders"]
    assert {"/api/v1/orders/{order_id}/status", "/api/v1/hubs/{hub_id}/reports/sales"} <= set(paths)


@pytest.fixture
def two_hubs(api, admin):
    return hub_with_coordinator(api, admin), hub_with_coordinator(api, admin)


def test_the_hub_coordinator_sees_its_orders_and_another_hubs_does_not(api, catalogue, two_hubs):
    (hub, coordinator, _), (other_hub, other_coordinator, _) = two_hubs
    product = make_product(hub_id=hub["id"])
    catalogue.approve(product)
    buyer, _ = api.as_member()
    body = make_order(hub["id"], [product])
    response = wait_until(
        lambda: (placed := place(buyer, body, key="first")).status_code == 201 and placed,
        message="the product in the orders projection",
    )
    order = response.json()

    assert coordinator.get(f"/api/v1/orders/{order['id']}").status_code == 200
    listed = coordinator.get("/api/v1/orders?as=coordinator").json()
    assert [item["id"] for item in listed["items"]] == [order["id"]]
    assert other_coordinator.get(f"/api/v1/orders/{order['id']}").status_code == 404
    assert other_coordinator.get("/api/v1/orders?as=coordinator").json()["total"] == 0
    foreign = other_coordinator.get(f"/api/v1/orders?as=coordinator&hub_id={hub['id']}")
    assert foreign.status_code == 403
    cancelled = other_coordinator.post(f"/api/v1/orders/{order['id']}/cancel")
    assert cancelled.status_code == 404
    report = other_coordinator.get(f"/api/v1/hubs/{hub['id']}/reports/sales")
    assert report.status_code == 403
    assert other_hub["id"] != hub["id"]


@pytest.mark.parametrize(
    ("query", "field"),
    [("from=kemarin", "from"), ("to=2026-02-30", "to"), ("from=2026-11-02&to=2026-11-01", "to")],
)
def test_report_periods_are_validated_naming_the_field(api, admin, query, field):
    hub, coordinator, _ = hub_with_coordinator(api, admin)
    response = coordinator.get(f"/api/v1/hubs/{hub['id']}/reports/sales?{query}")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_an_empty_report_has_zero_totals(api, admin):
    hub, coordinator, _ = hub_with_coordinator(api, admin)
    response = coordinator.get(
        f"/api/v1/hubs/{hub['id']}/reports/sales?from=2026-01-01&to=2026-12-31"
    )
    assert response.status_code == 200
    report = response.json()
    # WIB days: 1 Jan 2026 00:00 WIB is 31 Dec 2025 17:00 UTC
    assert (
        report["from"] == "2025-12-31T17:00:00.000Z" and report["to"] == "2026-12-31T17:00:00.000Z"
    )
    assert (
        report["completed"]
        == report["confirmed"]
        == {
            "order_count": 0,
            "gross_total": 0,
            "by_product": [],
            "by_seller": [],
            "by_channel": [
                {"channel": channel, "orders": 0, "gross": 0}
                for channel in ("online", "sms", "whatsapp", "counter", "agent")
            ],
            "by_agent": [],
        }
    )


def test_report_days_are_wib_days(api, admin, catalogue, config):
    """An order placed at 18:00 UTC on 1 January is counted on 2 January, WIB."""
    hub, coordinator, _ = hub_with_coordinator(api, admin)
    product = make_product(hub_id=hub["id"], price=15000)
    catalogue.approve(product)
    buyer, _ = api.as_member()
    response = wait_until(
        lambda: (
            (placed := place(buyer, make_order(hub["id"], [(product, 2)]))).status_code == 201
            and placed
        ),
        message="the product in the orders projection",
    )
    order = response.json()
    catalogue.reserve(order)
    wait_until(
        lambda: buyer.get(f"/api/v1/orders/{order['id']}").json()["status"] == "confirmed",
        message="the order confirmed",
    )
    placed_at = datetime.datetime(2026, 1, 1, 18, tzinfo=datetime.UTC)  # 2 Jan, 01:00 WIB
    orders = mongo_client(config)[database_name("orders")].orders
    orders.update_one({"_id": order["id"]}, {"$set": {"created_at": placed_at}})

    def counted(day):
        path = f"/api/v1/hubs/{hub['id']}/reports/sales?from={day}&to={day}"
        report = coordinator.get(path)
        assert report.status_code == 200, report.text
        return report.json()["confirmed"]["order_count"], report.json()["confirmed"]["gross_total"]

    assert counted("2026-01-01") == (0, 0)
    assert counted("2026-01-02") == (1, 30000)
