"""Network report benchmark: 100,000 orders and a community of 5,000 members on the
embedded store a local run uses (litemongo over SQLite), and the report's parts
timed as the gateway asks for them.

    python -m bench.network [--orders 100000] [--hubs 50] [--days 365]
                            [--members 5000] [--trainings 500] [--calls 10]
                            [--written 1000]

The stores are seeded before the services start, each with its own service's rules:
orders placed, confirmed, moved on, paid, completed or cancelled by
``services.orders.domain`` (online, SMS, WhatsApp and counter sales, cash on delivery
and bank transfer; about 80 % completed), their months' tallies as the repository
counts them, but for the last ``--written`` completions, which go through
``OrdersRepository.tally`` itself (the write rate), after which the tallies must
equal the raw aggregation over every order they replace (timed once); hubs,
memberships and trainings by ``services.community.domain``; the settled orders'
ledger entries as ``bench.ledger`` seeds them. Then the whole stack runs as
``make run`` starts it and ``orders.network_sales``, ``community.network_members``
and ``ledger.commission_by_hub`` are called over RPC, for the whole year and for one
month, and ``GET /api/v1/reports/network`` through the gateway, against the RPC
deadline (5 s). The figures are printed, never asserted.
"""

import argparse
import datetime
import random
import sys
import time

import requests
from nameko.standalone.rpc import ClusterRpcProxy

from bench.common import ADMIN_PASSWORD, ADMIN_PHONE, running_stack, stop_on_sigterm
from bench.ledger import figures, timed
from bench.ledger import seed as seed_ledger
from services.common import config as cfg
from services.common.envelope import PENDING_EVENTS, isoformat
from services.common.mongo import database_name, mongo_client
from services.common.periods import WIB, wib_day
from services.common.remote import DEFAULT_RPC_TIMEOUT
from services.common.signing import signed
from services.community import domain as community
from services.community.repository import CommunityRepository
from services.ledger.repository import LedgerRepository
from services.orders import domain as orders
from services.orders.contract import (
    BANK_TRANSFER,
    COD,
    COMPLETED,
    COUNTER,
    DELIVERY,
    ONLINE,
    PICKUP,
    READY_FOR_PICKUP,
    SHIPPED,
    SMS,
    WHATSAPP,
)
from services.orders.repository import OrdersRepository

START = datetime.datetime(2026, 1, 1, tzinfo=WIB)
BATCH = 5_000
ADMIN = {"member_id": "bench-admin", "is_admin": True, "roles": {}}
CHANNELS = ((ONLINE, 50), (SMS, 15), (WHATSAPP, 15), (COUNTER, 20))
PRODUCTS_PER_HUB = 20


def arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.network")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--hubs", type=int, default=50)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--members", type=int, default=5_000)
    parser.add_argument("--trainings", type=int, default=500)
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--written", type=int, default=1_000, help="completions counted last")
    return parser.parse_args(argv)


def stored(document):
    """A new aggregate as ``Repository.insert`` writes it, its events already out."""
    document.pop(PENDING_EVENTS, None)
    return {**document, "version": 1, "outbox": [], "outbox_pending": False}


def catalogue(hubs):
    return {
        f"product-{hub}-{n}": {
            "hub_id": f"hub-{hub}",
            "seller_id": f"seller-{hub}-{n % 10}",
            "name": f"Produk {n}",
            "code": f"P{hub}X{n}",
            "unit": "pcs",
            "price": 5_000 * (1 + n),
            "status": "approved",
        }
        for hub in range(hubs)
        for n in range(PRODUCTS_PER_HUB)
    }


def one_order(number, hub, moment, products, rng):
    """An order of ``hub`` placed at ``moment`` and taken as far as its luck says."""
    hub_id = f"hub-{hub}"
    items = [
        {"product_id": f"product-{hub}-{n}", "quantity": rng.randint(1, 5)}
        for n in rng.sample(range(PRODUCTS_PER_HUB), rng.randint(1, 3))
    ]
    coordinator = {"member_id": f"coordinator-{hub}", "is_admin": False, "roles": {}}
    coordinator["roles"][hub_id] = ["coordinator"]
    key, code = f"key-{number}", orders.order_number(number + 1)
    channel = rng.choices(*zip(*CHANNELS, strict=True))[0]
    if channel == COUNTER:
        fields = {"hub_id": hub_id, "items": items}
        order = orders.new_counter_sale(
            coordinator, key, "h", fields, products, code, 10, 60, moment
        )
        orders.counter_sale_decided(order, {"sold": True}, moment)
        return order
    method = rng.choice((PICKUP, DELIVERY))
    fields = {
        "hub_id": hub_id,
        "items": items,
        "fulfilment": {"method": method, "address": "Jl. Desa 1" if method == DELIVERY else None},
        "payment_method": rng.choice((COD, BANK_TRANSFER)),
    }
    buyer = {"member_id": f"buyer-{rng.randrange(5_000)}", "is_admin": False, "roles": {}}
    order = orders.new_order(buyer, key, "h", fields, products, code, 60, moment, channel=channel)
    luck, later = rng.random(), moment
    if luck < 0.05:
        return order  # still pending
    later += datetime.timedelta(minutes=rng.randint(1, 30))
    orders.stock_reserved(order, later)
    if luck < 0.12:
        orders.cancel(order, coordinator, "habis", later)
        return order
    if fields["payment_method"] == BANK_TRANSFER and luck < 0.9:
        orders.mark_paid(order, coordinator, later)
    if luck < 0.25:
        return order  # confirmed, not yet moved on
    later += datetime.timedelta(hours=rng.randint(1, 48))
    orders.change_status(
        order, coordinator, READY_FOR_PICKUP if method == PICKUP else SHIPPED, later
    )
    orders.change_status(order, coordinator, COMPLETED, later + datetime.timedelta(hours=2))
    return order


def seed_orders(db, args, rng):
    """The orders, and the completed ones in their months' tallies as
    ``OrdersRepository.tally`` counts them, but for the last ``--written``, left due
    for that write path; the settled orders as the ledger's seed takes them."""
    products = catalogue(args.hubs)
    db.products.insert_many([{"_id": key, **product} for key, product in products.items()])
    span = args.days * 86_400
    moments = sorted(rng.uniform(0, span) for _ in range(args.orders))
    batch, completed, settled = [], [], []
    for number, offset in enumerate(moments):
        moment = (START + datetime.timedelta(seconds=offset)).astimezone(datetime.UTC)
        order = one_order(number, rng.randrange(args.hubs), moment, products, rng)
        if order["status"] == COMPLETED:
            completed.append(order)
        if order["settled_at"] is not None:
            settled.append(ledger_order(order))
        # stored as counted: the orders left due are counted from this process
        batch.append(stored({k: v for k, v in order.items() if k != "tally_due"}))
        if len(batch) >= BATCH:
            db.orders.insert_many(batch)
            batch = []
    if batch:
        db.orders.insert_many(batch)
    tallied = completed[: len(completed) - args.written]
    db.tallies.insert_many(list(tallies(tallied).values()))
    return completed[len(tallied) :], sorted(settled, key=lambda order: order["settled_at"])


def tallies(completed):
    """What ``OrdersRepository.tally`` makes of ``completed``: per hub and month."""
    found = {}
    for order in completed:
        day = wib_day(order["completed_at"])
        key = f"{order['hub_id']}:{day[:7]}"
        tally = found.setdefault(
            key,
            {"_id": key, "hub_id": order["hub_id"], "month": day[:7], "days": {}, "counted": []},
        )
        tally["counted"].append(order["_id"])
        sold = tally["days"].setdefault(day, {}).setdefault(order["channel"], {"orders": 0})
        sold["orders"] += 1
        sold["gross"] = sold.get("gross", 0) + order["total"]
    return found


def raw_aggregation(db):
    """What the sales part cost before the tallies: every completed order of the
    period grouped by the store (litemongo does it in Python, document by document)."""
    return list(
        db.orders.aggregate(
            [
                {"$match": {"status": COMPLETED}},
                {
                    "$group": {
                        "_id": {"hub_id": "$hub_id", "channel": "$channel"},
                        "orders": {"$sum": 1},
                        "gross": {"$sum": "$total"},
                    }
                },
            ]
        )
    )


def written_and_checked(db, due):
    """The completed orders left due, through the repository's write path (one at a
    time, as ``apply`` does after a completion), then the tallies' figures against the
    raw aggregation over every order, which they must equal."""
    repository = OrdersRepository(db)
    started = time.perf_counter()
    for order in due:
        repository.tally(order)
    took = time.perf_counter() - started
    print(
        f"{len(due):,} completions counted through OrdersRepository.tally: "
        f"{took / max(len(due), 1) * 1000:.1f} ms an order"
    )
    started = time.perf_counter()
    raw = raw_aggregation(db)
    print(
        f"the raw aggregation over every order it replaces: {time.perf_counter() - started:.1f} s"
    )
    from_tallies = repository.network_sales(None, None)
    assert sum(row["gross"] for row in raw) == sum(row["gross"] for row in from_tallies)
    assert sum(row["orders"] for row in raw) == sum(row["orders"] for row in from_tallies)


def ledger_order(order):
    return {
        "order_id": order["_id"],
        "number": order["number"],
        "hub_id": order["hub_id"],
        "items": order["items"],
        "total": order["total"],
        "commission_percent": order["commission_percent"],
        "settled_at": isoformat(order["settled_at"]),
    }


def seed_community(db, args, rng):
    admin = {**ADMIN}
    hubs = []
    for hub in range(args.hubs):
        fields = {
            "name": f"Hub {hub}",
            "village": f"Desa {hub}",
            "district": f"Kecamatan {hub % 8}",
            "regency": "Jombang",
            "province": "Jawa Timur",
            "address": f"Jl. Pesantren {hub}",
        }
        found = community.new_hub(fields, admin, START)
        found.update(_id=f"hub-{hub}", coordinator_ids=[f"coordinator-{hub}"])
        hubs.append(found)
    db.hubs.insert_many([stored(hub) for hub in hubs])
    memberships = []
    for member in range(args.members):
        hub = rng.choice(hubs)
        role = rng.choices(("buyer", "seller"), (3, 1))[0]
        found = community.new_membership(f"member-{member}", hub, {"role": role}, START)
        found["status"] = rng.choices(("approved", "pending", "rejected"), (85, 10, 5))[0]
        memberships.append(stored(found))
    db.memberships.insert_many(memberships)
    trainings = []
    for number in range(args.trainings):
        hub = rng.choice(hubs)
        coordinator = {"member_id": hub["coordinator_ids"][0], "is_admin": False}
        coordinator["roles"] = {hub["_id"]: ["coordinator"]}
        starts_at = START + datetime.timedelta(days=rng.uniform(0, args.days))
        fields = {
            "title": f"Pelatihan {number}",
            "topic": "pemasaran",
            "starts_at": starts_at,
            "capacity": 30,
        }
        found = community.new_training(hub, fields, coordinator, START)
        enrolled = [f"member-{rng.randrange(args.members)}" for _ in range(rng.randint(5, 30))]
        found.update(enrolled=enrolled, completed=enrolled[: len(enrolled) * 2 // 3])
        trainings.append(stored(found))
    db.trainings.insert_many(trainings)


def seed(args):
    def seed_stores(config):
        rng = random.Random(2026)
        client = mongo_client(config)
        started = time.perf_counter()
        stores = {}
        for name, repository in (
            ("orders", OrdersRepository),
            ("community", CommunityRepository),
            ("ledger", LedgerRepository),
        ):
            stores[name] = client[database_name(name)]
            for collection, models in repository.indexes.items():
                stores[name][collection].create_indexes(models)
        due, settled = seed_orders(stores["orders"], args, rng)
        seed_community(stores["community"], args, rng)
        seed_ledger(stores["ledger"], settled)
        print(
            f"seeded {args.orders:,} orders ({len(settled):,} settled) in {args.hubs} hubs "
            f"over {args.days} days, {args.members:,} memberships, {args.trainings} "
            f"trainings in {time.perf_counter() - started:.0f} s"
        )
        written_and_checked(stores["orders"], due)
        client.close()

    return seed_stores


def main(argv=None):
    args = arguments(sys.argv[1:] if argv is None else argv)
    stop_on_sigterm()
    last_day = (START + datetime.timedelta(days=args.days - 1)).date().isoformat()
    year = {"from": START.date().isoformat(), "to": last_day}
    month = {"from": "2026-06-01", "to": "2026-06-30"}
    with running_stack(seed=seed(args), within=180) as stack:
        config = {"AMQP_URI": stack.amqp_uri, cfg.DATA_DIR_KEY: str(stack.logs_dir / "var")}
        secret = cfg.secret_key(config)
        print(f"\n{'query':<46}{'calls':>6}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
        print("-" * 82)
        slowest = 0.0
        with ClusterRpcProxy(config, timeout=60) as cluster:
            for service, method in (
                ("orders", "network_sales"),
                ("community", "network_members"),
                ("ledger", "commission_by_hub"),
            ):
                call = getattr(getattr(cluster, service), method)
                for name, period in (("the year", year), ("one month", month)):
                    signature = signed(ADMIN, service, method, secret)
                    call(signature, period)  # warm
                    durations = timed(lambda: call(signature, period), args.calls)  # noqa: B023
                    figures(f"{service}.{method}, {name}", durations)
                    slowest = max(slowest, *durations)
        body = {"phone": ADMIN_PHONE, "password": ADMIN_PASSWORD}
        token = requests.post(f"{stack.url}/api/v1/auth/token", json=body, timeout=30)
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        for name, period in (("the year", year), ("one month", month)):

            def report(period=period):
                answer = requests.get(
                    f"{stack.url}/api/v1/reports/network",
                    params=period,
                    headers=headers,
                    timeout=60,
                )
                answer.raise_for_status()
                return answer.json()

            totals = report()["totals"]
            durations = timed(report, args.calls)
            figures(f"GET /api/v1/reports/network, {name}", durations)
            slowest = max(slowest, *durations)
            print(f"{'':<6}{totals['orders']:,} orders, {totals['settled_orders']:,} settled")
        stack.check()
        print(
            f"\nslowest answer {slowest:.2f} s against the {DEFAULT_RPC_TIMEOUT:.0f} s RPC deadline"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
