"""The showroom through the gateway: approved products only, filters, text search,
sorting and pagination (issue: catalogue). Products are seeded over RPC as sellers
and coordinators of a hub."""

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.common import config as cfg
from services.common.signing import SigningProxy
from tests.support.catalogue import coordinator_of, make_product, new_hub_id, seller_of
from tests.support.orders import new_key

COMPACT_ITEM = {"id", "code", "hub_id", "name", "category", "price", "unit", "stock", "image"}


@pytest.fixture
def rpc(stack, config):
    """The services, called as the gateway would: each actor signed."""
    with ClusterRpcProxy(config) as proxy:
        yield SigningProxy(proxy, cfg.secret_key(config))


@pytest.fixture
def shelf(rpc):
    """Two hubs' showrooms, with products in every state."""
    hub_a, hub_b = new_hub_id(), new_hub_id()
    seller_a, seller_b = seller_of(hub_a), seller_of(hub_b)

    def add(seller, hub_id, status="approved", **fields):
        product = rpc.catalogue.create_product(
            seller, make_product(hub_id, **fields), idempotency_key=new_key()
        )
        coordinator = coordinator_of(hub_id)
        if status == "approved":
            return rpc.catalogue.approve_product(coordinator, product["id"])
        if status == "rejected":
            return rpc.catalogue.reject_product(coordinator, product["id"], {"reason": "Buram"})
        return product

    products = {
        "keripik": add(seller_a, hub_a, name="Keripik Tempe", price=15_000),
        "kopi": add(
            seller_a,
            hub_a,
            name="Kopi Robusta Dampit",
            description="Biji kopi sangrai dari lereng Semeru.",
            category="beverage",
            price=45_000,
        ),
        "batik": add(
            seller_a,
            hub_a,
            name="Batik Tulis Malangan",
            category="fashion",
            price=350_000,
            images=[],
        ),
        "odd": add(seller_a, hub_a, name="Sambal 100%.* Pedas", price=9_000),
        "apel": add(seller_b, hub_b, name="Apel Batu", category="agriculture", price=25_000),
        "pending": add(seller_a, hub_a, status="pending", name="Keripik Pisang"),
        "rejected": add(seller_a, hub_a, status="rejected", name="Keripik Singkong"),
    }
    return {"hub_a": hub_a, "hub_b": hub_b, "seller_a": seller_a, **products}


def names(response):
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


def test_the_showroom_lists_only_approved_products_newest_first_in_compact_form(api, shelf):
    response = api.get("/api/v1/products")
    assert names(response) == [
        "Apel Batu",
        "Sambal 100%.* Pedas",
        "Batik Tulis Malangan",
        "Kopi Robusta Dampit",
        "Keripik Tempe",
    ]
    body = response.json()
    assert (body["page"], body["page_size"], body["total"]) == (1, 20, 5)
    assert all(set(item) == COMPACT_ITEM for item in body["items"])
    batik = next(item for item in body["items"] if item["name"].startswith("Batik"))
    assert batik["image"] is None and batik["price"] == 350_000 and batik["stock"] == 40
    keripik = body["items"][-1]
    assert keripik["image"] == "https://img.kompordesa.id/keripik.jpg"


FILTERS = [
    ({"category": "beverage"}, ["Kopi Robusta Dampit"]),
    ({"min_price": 20_000, "max_price": 50_000}, ["Apel Batu", "Kopi Robusta Dampit"]),
    ({"max_price": 15_000, "sort": "price_asc"}, ["Sambal 100%.* Pedas", "Keripik Tempe"]),
    ({"q": "KERIPIK"}, ["Keripik Tempe"]),
    ({"q": "semeru"}, ["Kopi Robusta Dampit"]),  # the description counts too
    ({"q": ".*"}, ["Sambal 100%.* Pedas"]),  # literally, not a pattern
    ({"q": "100%.*"}, ["Sambal 100%.* Pedas"]),
    ({"q": "kopi|apel"}, []),
    ({"q": '{"$gt": ""}'}, []),
    ({"q": "[a-z]+"}, []),
    ({"q": "keripik", "category": "beverage"}, []),
]


def test_the_showroom_filters_and_searches_literally(api, shelf):
    for params, expected in FILTERS:
        assert names(api.get("/api/v1/products", params=params)) == expected, params


def test_the_showroom_of_one_hub_sorts_by_price(api, shelf):
    hub_a = {"hub_id": shelf["hub_a"]}
    ascending = names(api.get("/api/v1/products", params={**hub_a, "sort": "price_asc"}))
    assert ascending == [
        "Sambal 100%.* Pedas",
        "Keripik Tempe",
        "Kopi Robusta Dampit",
        "Batik Tulis Malangan",
    ]
    descending = names(api.get("/api/v1/products", params={**hub_a, "sort": "price_desc"}))
    assert descending == ascending[::-1]
    assert names(api.get("/api/v1/products", params={"hub_id": shelf["hub_b"]})) == ["Apel Batu"]


def test_pages_cover_the_showroom_once_each(api, shelf):
    pages = [
        api.get("/api/v1/products", params={"page": page, "page_size": 2, "sort": "price_asc"})
        for page in (1, 2, 3, 4)
    ]
    assert [response.json()["total"] for response in pages] == [5, 5, 5, 5]
    assert [len(response.json()["items"]) for response in pages] == [2, 2, 1, 0]
    seen = [name for response in pages for name in names(response)]
    assert seen == names(api.get("/api/v1/products", params={"sort": "price_asc"}))
    assert pages[2].json()["page"] == 3 and pages[2].json()["page_size"] == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_price": "murah", "max_price": 1000}, "min_price"),
        ({"page_size": 101, "sort": "cheapest"}, "sort"),
        ({"q[$gt]": ""}, "q[$gt]"),
    ],
)
def test_bad_showroom_queries_get_a_400_naming_the_parameter(api, params, field):
    response = api.get("/api/v1/products", params=params)
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_products_under_review_are_not_listed_for_the_public(api):
    response = api.get("/api/v1/products", params={"status": "pending_review"})
    assert response.status_code == 403
    assert "status" in response.json()["error"]["details"]


def test_an_approved_product_is_public_and_an_unapproved_one_is_not_found(api, shelf):
    kopi = api.get(f"/api/v1/products/{shelf['kopi']['id']}")
    assert kopi.status_code == 200
    assert kopi.json()["stock"] == 40 and kopi.json()["description"].startswith("Biji kopi")
    for hidden in ("pending", "rejected"):
        response = api.get(f"/api/v1/products/{shelf[hidden]['id']}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "NOT_FOUND"
    assert api.get("/api/v1/products/does-not-exist").status_code == 404


def test_the_coordinator_lists_what_waits_for_review_in_their_hub(rpc, shelf):
    coordinator = coordinator_of(shelf["hub_a"])
    queue = rpc.catalogue.list_products(
        coordinator, {"hub_id": shelf["hub_a"], "status": "pending_review"}
    )
    assert [item["id"] for item in queue["items"]] == [shelf["pending"]["id"]]
    own = rpc.catalogue.list_products(
        shelf["seller_a"], {"seller_id": shelf["seller_a"]["member_id"], "status": "rejected"}
    )
    assert [item["id"] for item in own["items"]] == [shelf["rejected"]["id"]]
