"""The shelf keeps the matches of recent filters: the same answers, less work."""

import datetime

from services.catalogue import showroom
from services.catalogue.showroom import Shelf

T0 = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)


def product(n, hub_id, category, price):
    return {
        "_id": f"p{n:03d}",
        "hub_id": hub_id,
        "seller_id": "s1",
        "name": f"Keripik {n}" if n % 2 else f"Kopi {n}",
        "description": "",
        "category": category,
        "price": price,
        "unit": "pcs",
        "stock": 10,
        "images": [],
        "created_at": T0 + datetime.timedelta(minutes=n),
        "status": "approved",
    }


PRODUCTS = [
    product(n, f"hub-{n % 3}", ("food", "beverage")[n % 2], 1000 + 250 * (n % 7)) for n in range(60)
]
QUERIES = [
    {},
    {"hub_id": "hub-1"},
    {"hub_id": "hub-1", "category": "food"},
    {"category": "beverage", "min_price": 1500, "max_price": 2000},
    {"q": "kopi"},
    {"hub_id": "hub-2", "q": "KERIPIK"},
]


def ids(page):
    return [item["_id"] for item in page[0]], page[1]


def test_asking_again_gives_the_same_pages_as_a_fresh_shelf():
    shelf = Shelf(PRODUCTS, version=1, built_at=0)
    for query in QUERIES:
        for sort in ("newest", "price_asc", "price_desc"):
            for page in (1, 2, 3):
                first = ids(shelf.search(query, page, 7, sort))
                again = ids(shelf.search(query, page, 7, sort))
                fresh = ids(Shelf(PRODUCTS, version=1, built_at=0).search(query, page, 7, sort))
                assert first == again == fresh, (query, sort, page)


def test_filters_that_differ_in_any_value_are_kept_apart():
    shelf = Shelf(PRODUCTS, version=1, built_at=0)
    food = shelf.search({"hub_id": "hub-1", "category": "food"}, 1, 100)
    drinks = shelf.search({"hub_id": "hub-1", "category": "beverage"}, 1, 100)
    assert {item["category"] for item in food[0]} == {"food"}
    assert {item["category"] for item in drinks[0]} == {"beverage"}


def test_only_the_most_recent_filters_are_kept(monkeypatch):
    monkeypatch.setattr(showroom, "RECENT_FILTERS", 3)
    shelf = Shelf(PRODUCTS, version=1, built_at=0)
    for low in range(1000, 1000 + 250 * 6, 250):
        shelf.search({"min_price": low}, 1, 10)
    assert len(shelf._recent) == 3
    assert ids(shelf.search({"min_price": 1000}, 1, 100))[1] == len(PRODUCTS)
