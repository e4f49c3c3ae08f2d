"""Ledger benchmark: the network report's commission per hub over 100,000 settled
orders, on the embedded store a local run uses (litemongo over SQLite).

    python -m bench.ledger [--orders 100000] [--hubs 50] [--days 365] [--sellers 20]
                           [--calls 20] [--written 1000]

The orders' entries are seeded straight into the ledger's store with the ledger's own
rules (``domain.settlement``, ``domain.appended``), with the accounts' heads and the
hubs' tallies of commission per day they make, without events: through the service it
would take far longer than the benchmark and would measure writes. Then ``--written``
more orders go through the repository's own write path (``append``, ``tally``), for
the write rate on a store of that size; ``commission_by_hub`` is computed in this
process from the hubs' tallies, and the raw aggregation over every commission entry is
timed once for comparison; finally the ledger runs as its own process
(``services.run.service_command``) on a fresh vhost and ``commission_by_hub`` is
called over RPC ``--calls`` times, as the gateway calls it for the network report,
against the gateway's RPC deadline (5 s). The figures are printed, never asserted.
"""

import argparse
import datetime
import os
import random
import statistics
import subprocess
import sys
import time

from nameko.standalone.rpc import ClusterRpcProxy

from bench.common import data_dir, fresh_vhost, percentile, stop_on_sigterm
from services.common import config as cfg
from services.common.envelope import isoformat
from services.common.mongo import database_name, mongo_client
from services.common.periods import WIB, wib_day
from services.common.remote import DEFAULT_RPC_TIMEOUT
from services.common.signing import signed
from services.ledger import domain
from services.ledger.repository import LedgerRepository
from services.run import ROOT, service_command, stop

START = datetime.datetime(2026, 1, 1, tzinfo=WIB)
BATCH = 5_000
ADMIN = {"member_id": "bench-admin", "is_admin": True, "roles": {}}


def arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.ledger")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--hubs", type=int, default=50)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--sellers", type=int, default=20, help="per hub")
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--written", type=int, default=1_000)
    return parser.parse_args(argv)


def settled_orders(count, hubs, days, sellers, rng):
    """``count`` settled orders spread over ``days`` from ``START``, oldest first."""
    span = days * 86_400
    moments = sorted(rng.uniform(0, span) for _ in range(count))
    for number, offset in enumerate(moments):
        hub = rng.randrange(hubs)
        chosen = rng.sample(range(sellers), rng.randint(1, 3))
        items = [
            {
                "seller_id": f"seller-{hub}-{rng.choice(chosen)}",
                "line_total": rng.randint(1, 999) * rng.randrange(500, 100_000, 500),
            }
            for _ in range(rng.randint(1, 4))
        ]
        yield {
            "order_id": f"order-{number}",
            "number": f"KD-{number:06d}",
            "hub_id": f"hub-{hub}",
            "items": items,
            "total": sum(item["line_total"] for item in items),
            "commission_percent": rng.randint(0, 50),
            "settled_at": isoformat(START + datetime.timedelta(seconds=offset)),
        }


def seed(db, orders):
    """Every order's entries as the ledger would append them, each account's head and
    each hub's tally of its commission per day; returns how many hub-days."""
    last, entries, tallies = {}, [], {}
    for order in orders:
        for entry_draft in domain.settlement(order):
            entry = domain.appended(
                entry_draft, last.get(entry_draft["account"]), entry_draft["settled_at"]
            )
            last[entry["account"]] = entry
            entries.append({**entry, "version": 1, "outbox": [], "outbox_pending": False})
            if len(entries) >= BATCH:
                db.entries.insert_many(entries)
                entries = []
        tally = tallies.setdefault(order["hub_id"], {"tallied_seq": 0, "days": {}})
        day = tally["days"].setdefault(
            wib_day(entry["settled_at"]), {"commission": 0, "settled_orders": 0}
        )
        day["commission"] += entry["amount"]  # the last entry is the hub's commission
        day["settled_orders"] += 1
        tally["tallied_seq"] = entry["seq"]
    if entries:
        db.entries.insert_many(entries)
    heads = ("hub_id", "seller_id", "seq", "balance_after", "at")
    db.accounts.insert_many(
        [{"_id": account, **{k: e[k] for k in heads}} for account, e in last.items()]
    )
    db.tallies.insert_many([{"_id": hub_id, **tally} for hub_id, tally in tallies.items()])
    return sum(len(tally["days"]) for tally in tallies.values())


def timed(call, times):
    durations = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        durations.append(time.perf_counter() - started)
    return durations


def figures(name, durations):
    durations = sorted(durations)
    print(
        f"{name:<46}{len(durations):>6}{statistics.median(durations) * 1000:>10.1f}"
        f"{percentile(durations, 99) * 1000:>10.1f}{durations[-1] * 1000:>10.1f}"
    )


def raw_aggregation(db):
    """What the report would cost without the day totals: every commission entry of the
    period grouped by hub."""
    return list(
        db.entries.aggregate(
            [
                {"$match": {"kind": "commission", "settled_at": {"$gte": START}}},
                {"$group": {"_id": "$hub_id", "commission": {"$sum": "$amount"}}},
            ]
        )
    )


def full_sweep(db):
    """The query the outbox relay runs over every aggregate once a minute, for events
    written without the flag (``services.common.events.OutboxRelay.sweep``): the
    embedded store reads every entry to answer it, and the process waits meanwhile."""
    return db.entries.find_one({"outbox.event_id": {"$exists": True}})


def main(argv=None):
    args = arguments(sys.argv[1:] if argv is None else argv)
    stop_on_sigterm()
    rng = random.Random(2026)
    with data_dir() as directory, fresh_vhost() as amqp_uri:
        config = {cfg.DATA_DIR_KEY: str(directory)}
        db = mongo_client(config)[database_name("ledger")]
        for collection, models in LedgerRepository.indexes.items():
            db[collection].create_indexes(models)
        started = time.perf_counter()
        orders = settled_orders(args.orders, args.hubs, args.days, args.sellers, rng)
        day_count = seed(db, orders)
        entry_count = db.entries.count_documents({})
        print(
            f"seeded {args.orders:,} settled orders ({entry_count:,} entries, {day_count:,} "
            f"hub-days in {args.hubs} hubs over {args.days} days) "
            f"in {time.perf_counter() - started:.0f} s"
        )

        repository = LedgerRepository(db)
        more = settled_orders(args.written, args.hubs, 1, args.sellers, random.Random(7))
        started = time.perf_counter()
        for number, order in enumerate(more):
            order = {**order, "order_id": f"written-{number}"}
            for entry_draft in domain.settlement(order):
                repository.append(entry_draft)
            repository.tally(order["hub_id"])
        took = time.perf_counter() - started
        print(
            f"{args.written:,} more orders through the repository's write path: "
            f"{took / args.written * 1000:.1f} ms an order ({args.written / took:.0f} orders/s)\n"
        )

        end_day = (START + datetime.timedelta(days=args.days)).date().isoformat()
        month_end = (START + datetime.timedelta(days=30)).date().isoformat()
        first_day = START.date().isoformat()
        print(f"{'query':<46}{'calls':>6}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
        print("-" * 82)
        figures(
            "commission_by_hub, the whole period (store)",
            timed(lambda: domain.commission_by_hub(repository.tallies(), first_day, end_day), 5),
        )
        figures(
            "commission_by_hub, one month (store)",
            timed(lambda: domain.commission_by_hub(repository.tallies(), first_day, month_end), 5),
        )
        figures("raw aggregation over every entry (store)", timed(lambda: raw_aggregation(db), 1))
        figures("the relay's full outbox sweep (store)", timed(lambda: full_sweep(db), 1))
        mongo_client(config).close()
        over_rpc(args, directory, amqp_uri, first_day, end_day)
    return 0


def over_rpc(args, directory, amqp_uri, first_day, last_day):
    """The ledger as its own process over the seeded store, called as the gateway calls."""
    env = {**os.environ, "AMQP_URI": amqp_uri, cfg.DATA_DIR_KEY: str(directory)}
    env.pop("MONGO_URI", None)
    env.pop("KOMPOR_METRICS_PORT", None)
    log = open(directory / "ledger.log", "ab")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        service_command("ledger"), env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    config = {"AMQP_URI": amqp_uri, cfg.DATA_DIR_KEY: str(directory)}
    secret = cfg.secret_key(config)
    query = {"from": first_day, "to": last_day}
    try:
        with ClusterRpcProxy(config, timeout=60) as cluster:
            deadline = time.monotonic() + 60
            while True:
                try:
                    cluster.ledger.health()
                    break
                except Exception:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError(
                            f"the ledger did not start; see {directory}/ledger.log"
                        ) from None
                    time.sleep(0.5)

            def call():
                actor = signed(ADMIN, "ledger", "commission_by_hub", secret)
                return cluster.ledger.commission_by_hub(actor, query)

            rows = call()
            durations = timed(call, args.calls)
        figures("commission_by_hub over RPC, the whole period", durations)
        late = sum(1 for took in durations if took > DEFAULT_RPC_TIMEOUT)
        print(
            f"\n{len(rows)} hubs, {sum(row['settled_orders'] for row in rows):,} settled orders; "
            f"slowest call {max(durations):.2f} s, {late} of {len(durations)} past the "
            f"{DEFAULT_RPC_TIMEOUT:.0f} s RPC deadline"
        )
    finally:
        stop({"ledger": process})
        log.close()


if __name__ == "__main__":
    sys.exit(main())
