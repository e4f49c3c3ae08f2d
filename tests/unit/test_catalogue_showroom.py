"""The in-memory showroom shelf, against a fake store."""

import datetime

import pytest

from services.catalogue import domain
from services.catalogue.showroom import Showroom

T0 = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)


def item(n, hub_id="a", price=1000, name=None, description="", status="approved", **extra):
    return {
        "_id": f"p{n:03d}",
        "hub_id": hub_id,
        "seller_id": "s1",
        "name": name or f"Produk {n}",
        "description": description,
        "category": "food",
        "price": price,
        "unit": "pcs",
        "stock": 10,
        "images": [],
        "created_at": T0 + datetime.timedelta(minutes=n),
        "status": status,
        **extra,
    }


class FakeStore:
    def __init__(self, products):
        self.products = {product["_id"]: product for product in products}
        self.version = 1
        self.scans = 0
        self.direct = []

    def showroom_version(self):
        return self.version

    def approved_products(self):
        self.scans += 1
        return [dict(p) for p in self.products.values() if p["status"] == domain.APPROVED]

    def current_stock(self, product_ids):
        return {pid: self.products[pid]["stock"] for pid in product_ids}

    def find_products(self, query, page, page_size, sort):
        self.direct.append(query)
        return [], 0

    def write(self, product):
        self.products[product["_id"]] = product
        self.version += 1


@pytest.fixture
def showroom():
    provider = Showroom()
    provider.setup()
    return provider


def ids(result):
    items, _ = result
    return [entry["_id"] for entry in items]


def test_the_shelf_sorts_newest_first_and_by_price_with_ties_newest_first(showroom):
    store = FakeStore([item(1, price=500), item(2, price=900), item(3, price=500)])
    assert ids(showroom.search(store, {}, 1, 10)) == ["p003", "p002", "p001"]
    assert ids(showroom.search(store, {}, 1, 10, "price_asc")) == ["p003", "p001", "p002"]
    assert ids(showroom.search(store, {}, 1, 10, "price_desc")) == ["p002", "p003", "p001"]


def test_the_shelf_filters_and_matches_text_literally_without_case(showroom):
    store = FakeStore(
        [
            item(1, hub_id="a", price=5_000, name="Kopi Dampit"),
            item(2, hub_id="b", price=7_000, name="Teh", description="Dari KEBUN kopi"),
            item(3, hub_id="a", price=9_000, name="Sambal 100%.*"),
            item(4, hub_id="a", status="pending_review", name="Kopi Baru"),
        ]
    )
    assert ids(showroom.search(store, {"q": "KOPI"}, 1, 10)) == ["p002", "p001"]
    assert ids(showroom.search(store, {"q": ".*"}, 1, 10)) == ["p003"]
    assert ids(showroom.search(store, {"q": "k.pi"}, 1, 10)) == []
    assert ids(showroom.search(store, {"hub_id": "a"}, 1, 10)) == ["p003", "p001"]
    assert ids(showroom.search(store, {"hub_id": "zzz"}, 1, 10)) == []
    between = {"min_price": 6_000, "max_price": 9_000}
    assert ids(showroom.search(store, between, 1, 10, "price_asc")) == ["p002", "p003"]


def test_pages_slice_the_matches_and_count_them_all(showroom):
    store = FakeStore([item(n) for n in range(1, 26)])
    first, total = showroom.search(store, {}, 1, 10)
    last, _ = showroom.search(store, {}, 3, 10)
    beyond, _ = showroom.search(store, {}, 4, 10)
    assert total == 25 and len(first) == 10 and len(last) == 5 and beyond == []
    assert last[-1]["_id"] == "p001"


def test_a_write_elsewhere_rebuilds_the_shelf_and_stock_is_always_fresh(showroom):
    store = FakeStore([item(1), item(2)])
    showroom.search(store, {}, 1, 10)
    showroom.search(store, {}, 1, 10)
    assert store.scans == 1

    store.products["p001"]["stock"] = 3  # an order took stock: no rebuild needed
    items, _ = showroom.search(store, {}, 1, 10)
    assert {entry["_id"]: entry["stock"] for entry in items} == {"p002": 10, "p001": 3}
    assert store.scans == 1

    store.write(item(3, name="Baru"))
    assert ids(showroom.search(store, {}, 1, 10)) == ["p003", "p002", "p001"]
    assert store.scans == 2


def test_listings_other_than_the_showroom_go_to_the_store(showroom):
    store = FakeStore([item(1)])
    query = {"status": domain.PENDING_REVIEW, "hub_id": "a"}
    showroom.search(store, query, 1, 10)
    assert store.direct == [query] and store.scans == 0
