"""The showroom: approved products to browse, and the queries people send.

``seed`` writes the products straight into the stores before the services start, with
the catalogue's own rules (``domain.new_product`` then ``domain.approve``) and without
their events, so 10,000 products take seconds rather than the half hour the API would
need; the orders service's copy of each product (what it learns from
``product_approved``) is written through its own repository, so every service holds
what it would hold in production.
"""

import datetime
import urllib.parse

import requests

from bench.load import Request
from services.catalogue import domain
from services.catalogue.contract import CATEGORIES
from services.catalogue.repository import CatalogueRepository
from services.common.envelope import PENDING_EVENTS, isoformat, new_id, utcnow
from services.common.mongo import database_name, mongo_client
from services.orders.repository import OrdersRepository

WORDS = {
    "food": ["Keripik Tempe", "Sambal Bawang", "Kue Lapis", "Rengginang", "Dodol Apel"],
    "beverage": ["Kopi Robusta", "Teh Rosela", "Jahe Merah", "Susu Kambing", "Sari Apel"],
    "craft": ["Anyaman Bambu", "Topeng Malangan", "Gerabah Hias", "Tas Pandan"],
    "fashion": ["Batik Tulis", "Kain Tenun", "Kaos Sablon", "Peci Rajut"],
    "agriculture": ["Apel Manalagi", "Beras Organik", "Jeruk Dau", "Bibit Cabai"],
    "beauty": ["Sabun Sereh", "Lulur Kopi", "Minyak Kemiri"],
    "household": ["Sapu Ijuk", "Tikar Mendong", "Lilin Aroma"],
    "other": ["Paket Oleh-oleh", "Voucher Pelatihan"],
}
PLACES = ["Dampit", "Batu", "Tumpang", "Singosari", "Kepanjen", "Poncokusumo", "Dau"]
SEARCH_TERMS = ["keripik", "kopi", "batik", "apel", "dampit", "organik", "bambu"]


VARIANTS = 100  # requests of each query, drawn at random, gone round by the load


def seed(config, products, rng):
    """``products`` approved products in one hub per 500 (20 at most, one at least);
    returns the hub ids and the product ids."""
    hubs = min(max(products // 500, 1), 20)
    client = mongo_client(config)
    catalogue = client[database_name("catalogue")]
    for collection, models in CatalogueRepository.indexes.items():
        catalogue[collection].create_indexes(models)
    hub_ids = [new_id() for _ in range(hubs)]
    sellers = {
        hub_id: [{"member_id": new_id(), "roles": {hub_id: ["seller"]}} for _ in range(25)]
        for hub_id in hub_ids
    }
    coordinators = {
        hub_id: {"member_id": new_id(), "roles": {hub_id: ["coordinator"]}} for hub_id in hub_ids
    }
    now = utcnow()
    codes, documents, approved = set(), [], []
    for n in range(products):
        hub_id = hub_ids[n % hubs]
        category = rng.choice(CATEGORIES)
        name = f"{rng.choice(WORDS[category])} {rng.choice(PLACES)} {n}"
        product = domain.new_product(
            rng.choice(sellers[hub_id]),
            {
                "hub_id": hub_id,
                "name": name,
                "description": f"{name}: produk UMKM simpul {rng.choice(PLACES)}, bahan lokal.",
                "category": category,
                "price": rng.randrange(2_000, 500_000, 500),
                "unit": rng.choice(["pcs", "pack", "kg", "botol", "ikat"]),
                "stock": rng.randrange(0, 200),
                "images": [f"https://img.kompordesa.id/{n}.jpg"],
            },
            now=now - datetime.timedelta(seconds=products - n),
            code=free_code(codes, rng),
        )
        domain.approve(product, coordinators[hub_id], now=now)
        approved.append(product.pop(PENDING_EVENTS)[-1]["data"])  # seeded, not announced
        documents.append({**product, "version": 1, "outbox": []})
    for start in range(0, len(documents), 1000):
        catalogue.products.insert_many(documents[start : start + 1000])
    orders = OrdersRepository(client[database_name("orders")])
    for snapshot in approved:
        orders.save_product(snapshot, isoformat(now))
    return hub_ids, [document["_id"] for document in documents]


def free_code(taken, rng):
    """A product code not in ``taken`` (which it joins): the store allows each once."""
    code = domain.new_code(pick=rng.choice)
    while code in taken:
        code = domain.new_code(domain.CODE_TRIES - 1, pick=rng.choice)  # longer: rarer clashes
    taken.add(code)
    return code


def queries(hub_ids, product_ids, rng):
    """Every showroom query by name, each as ``VARIANTS`` requests (hubs, categories
    and search terms drawn at random)."""

    def get(params=None, path=""):
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        return Request("GET", f"/api/v1/products{path}{query}")

    kinds = {
        "newest (all hubs)": lambda: get(),
        "hub showroom": lambda: get({"hub_id": rng.choice(hub_ids)}),
        "hub + category": lambda: get(
            {"hub_id": rng.choice(hub_ids), "category": rng.choice(CATEGORIES)}
        ),
        "price range, cheapest": lambda: get(
            {"min_price": 10_000, "max_price": 50_000, "sort": "price_asc"}
        ),
        "hub page 5 of 20 items": lambda: get({"hub_id": rng.choice(hub_ids), "page": 5}),
        "search q (all hubs)": lambda: get({"q": rng.choice(SEARCH_TERMS)}),
        "search q in a hub": lambda: get(
            {"hub_id": rng.choice(hub_ids), "q": rng.choice(SEARCH_TERMS)}
        ),
        "product detail": lambda: get(path=f"/{rng.choice(product_ids)}"),
    }
    return {name: [make() for _ in range(VARIANTS)] for name, make in kinds.items()}


def conditional_get(url, product_id):
    """The issue's checks of what a phone on 2G gets: ``(what, value, target, met)``
    each."""
    page_url, product_url = f"{url}/api/v1/products", f"{url}/api/v1/products/{product_id}"
    plain = {"Accept-Encoding": "identity"}
    page = requests.get(page_url, headers=plain, timeout=10)
    checks = [revalidated("page", page_url), revalidated("product", product_url)]
    cache = page.headers.get("Cache-Control", "")
    reusable = "max-age=" in cache and not {"no-store", "no-cache", "private"} & set(
        cache.split(", ")
    )
    checks.append(
        ("Cache-Control, anonymous page", cache or "none", "reusable for a stated time", reusable)
    )
    items = len(page.json().get("items", []))
    checks.append(
        (
            f"page of {items} products, uncompressed",
            f"{len(page.content):,} B",
            "< 10 KB for 20",
            items == 20 and len(page.content) < 10 * 1024,
        )
    )
    encoding = requests.get(page_url, headers={"Accept-Encoding": "gzip"}, timeout=10).headers
    offered = encoding.get("Content-Encoding", "none")
    checks.append(("gzip offered (Accept-Encoding)", offered, "gzip", offered == "gzip"))
    return checks


def revalidated(what, address):
    """A second ``GET`` with the first answer's ``ETag``: 304 and how many bytes."""
    etag = requests.get(address, timeout=10).headers.get("ETag")
    if not etag:
        return (f"ETag → 304, showroom {what}", "no ETag", "304 under 300 B", False)
    again = requests.get(address, headers={"If-None-Match": etag}, timeout=10)
    status_line = f"HTTP/1.1 {again.status_code} {again.reason}\r\n"
    size = len(status_line) + sum(len(f"{k}: {v}\r\n") for k, v in again.headers.items())
    size += 2 + len(again.content)
    return (
        f"ETag → 304, showroom {what}",
        f"{again.status_code}, {size} B",
        "304 under 300 B",
        again.status_code == 304 and size < 300,
    )
