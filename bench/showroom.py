"""Showroom benchmark: typical browsing through the gateway over 10,000 approved
products in 20 hubs.

    python -m bench.showroom [--products 10000] [--hubs 20] [--requests 400]
                             [--concurrency 8]

The stack runs as five processes started with ``services.run.service_command`` (what
``make run`` and the image run), on a fresh RabbitMQ vhost when the management API
answers (else ``AMQP_URI`` as given), with the embedded store in a temporary
``KOMPOR_DATA_DIR`` (or ``MONGO_URI`` when set). The products are seeded before the
services start, straight into the catalogue's store with the catalogue's own rules
(``domain.new_product`` then ``domain.approve``) and without their events: seeding
through the API would take far longer than the benchmark and would only measure
writes. Each query type is then sent ``--requests`` times by ``--concurrency``
threads; the figures are printed, never asserted.
"""

import argparse
import datetime
import os
import random
import sys
import time

from bench.common import (
    Load,
    data_dir,
    free_port,
    fresh_vhost,
    print_table,
    running_stack,
    stop_on_sigterm,
)
from services.catalogue import domain
from services.catalogue.contract import CATEGORIES
from services.catalogue.repository import CatalogueRepository
from services.common import config as cfg
from services.common.envelope import PENDING_EVENTS, new_id, utcnow
from services.common.mongo import database_name, mongo_client

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


def seed(config, products, hubs, rng):
    """Insert ``products`` approved products spread over ``hubs`` hubs; returns the hub
    ids and product ids."""
    db = mongo_client(config)[database_name("catalogue")]
    for collection, models in CatalogueRepository.indexes.items():
        db[collection].create_indexes(models)
    hub_ids = [new_id() for _ in range(hubs)]
    sellers = {
        hub_id: [{"member_id": new_id(), "roles": {hub_id: ["seller"]}} for _ in range(25)]
        for hub_id in hub_ids
    }
    coordinators = {
        hub_id: {"member_id": new_id(), "roles": {hub_id: ["coordinator"]}} for hub_id in hub_ids
    }
    now = utcnow()
    documents = []
    codes = set()  # random codes clash among thousands; the store's unique index would refuse
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
            code=_unused_code(codes),
        )
        domain.approve(product, coordinators[hub_id], now=now)
        product.pop(PENDING_EVENTS)  # seeded, not announced: nobody needs 20,000 events
        documents.append({**product, "version": 1, "outbox": []})
    for start in range(0, len(documents), 1000):
        db.products.insert_many(documents[start : start + 1000])
    return hub_ids, [document["_id"] for document in documents]


def _unused_code(used):
    code = domain.new_code()
    while code in used:
        code = domain.new_code()
    used.add(code)
    return code


def queries(base, hub_ids, product_ids, rng):
    """Typical showroom requests by name: each a ``session → response`` callable."""
    url = f"{base}/api/v1/products"

    def get(params=None, path=""):
        return lambda session: session.get(url + path, params=params, timeout=10)

    return {
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--hubs", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400, help="per query type")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    stop_on_sigterm()

    with fresh_vhost() as amqp_uri, data_dir() as path:
        env = {
            "AMQP_URI": amqp_uri,
            "KOMPOR_DATA_DIR": path / "var",
            "GATEWAY_ADDRESS": f"127.0.0.1:{free_port()}",
            "KOMPOR_LOG_LEVEL": "WARNING",
            "KOMPOR_RATE_LIMIT": 0,  # the bench is many clients behind one address
        }
        config = {cfg.DATA_DIR_KEY: str(env["KOMPOR_DATA_DIR"])}
        if os.environ.get(cfg.MONGO_URI_KEY):
            config[cfg.MONGO_URI_KEY] = os.environ[cfg.MONGO_URI_KEY]
        started = time.perf_counter()
        hub_ids, product_ids = seed(config, args.products, args.hubs, rng)
        mongo_client(config).close()
        print(
            f"seeded {len(product_ids)} approved products in {len(hub_ids)} hubs "
            f"in {time.perf_counter() - started:.1f}s",
            flush=True,
        )
        with running_stack(env, path) as stack:
            load = Load(args.concurrency)
            rows = []
            for name, make in queries(stack.url, hub_ids, product_ids, rng).items():
                load.run([make() for _ in range(min(20, args.requests))])  # warm up
                rows.append((name, load.run([make() for _ in range(args.requests)])))
                stack.check()  # figures from a half-dead stack would mislead
                print(f"  {name}: done", file=sys.stderr, flush=True)
        print_table(
            f"\nshowroom through the gateway: {args.products} products, {args.hubs} hubs, "
            f"{args.concurrency} concurrent clients, {args.requests} requests per query",
            rows,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
