"""``make bench``: the performance targets, measured in one run and printed as one
table, every load next to the same stack's nameko echo. It asserts nothing.

    python -m bench [--rounds 3] [--seconds 10] [--connections 20] [--threads 2]
                    [--products 60] [--large-products 10000] [--profile]

Each load is ``wrk -t2 -c20 -d10s`` (``bench.load``; threads of this process where
wrk is not installed), the median of ``--rounds`` rounds. Two stacks, one after the
other, each started as ``make run`` starts it (``bench.common``):

1. ``--products`` approved products and the ordering hub: the echo, ``/healthz``,
   every showroom query, ``/me``, order placement, the conditional-GET checks; then
   the order flow at half the measured order rate (placement → ``confirmed``, queues,
   CPU per order placed, confirmed and notified).
2. ``--large-products`` approved products (0 skips it): the echo, every showroom
   query, the mixed load, then every service's peak RSS.
"""

import argparse
import contextlib
import dataclasses
import datetime
import functools
import os
import pathlib
import random
import sys
import tempfile

from bench import mixed, orders, profiling, showroom
from bench.common import peak_rss_mb, running_stack, stop_on_sigterm
from bench.load import GENERATOR, Request, hit, median

# CPU seconds of all services per order placed, confirmed and notified before the
# performance work: the median of six order flows on main at 6941b11 (0.051 to 0.069 s,
# 3 to 20 orders/s, this 2-core machine shared with test runs); the target is half
CPU_PER_ORDER_BEFORE = 0.059
RSS_LIMIT_MB = 150
WARM_UP = 1.0  # seconds of each load before its rounds: connections, caches, first calls


@dataclasses.dataclass
class Row:
    what: str
    value: str
    target: str = "—"
    met: bool | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    ratio: float | None = None
    load_cpu: float | None = None
    note: str = ""


class Bench:
    """One stack's loads, each the median of the rounds with its ratio to the echo, as
    ``rows`` of the table."""

    def __init__(self, args, stack, profiles):
        self.args = args
        self.stack = stack
        self.profiles = profiles
        self.echo = None
        self.rows = []

    def reference(self, what):
        """The echo, which every later load of this stack is compared with."""
        self.echo = self.load(what, [Request("GET", "/bench/echo?say=ok")], "reference")

    def load(self, what, requests, target="—", met=lambda figures, ratio: None):
        self.stack.settle()
        hit(self.stack.url, requests, WARM_UP, self.args.connections, self.args.threads)
        rounds = []
        for number in range(self.args.rounds):
            self.stack.settle()
            with self._profiled(what, first=number == 0):
                rounds.append(
                    hit(
                        self.stack.url,
                        requests,
                        self.args.seconds,
                        self.args.connections,
                        self.args.threads,
                    )
                )
            self.stack.check()
        figures = median(rounds)
        echo = self.echo or figures
        ratio = figures.rate / echo.rate if echo.rate else float("nan")
        errors = f", {figures.errors} errors" if figures.errors else ""
        print(f"  {what}: {figures.rate:.1f} req/s{errors}", file=sys.stderr, flush=True)
        self.rows.append(
            Row(
                what,
                f"{figures.rate:,.1f} req/s{errors}",
                target,
                met(figures, ratio),
                figures.p50_ms,
                figures.p99_ms,
                ratio,
                figures.load_cpu,
            )
        )
        return figures

    def _profiled(self, what, first):
        if not (self.args.profile and first and profiling.py_spy()):
            return contextlib.nullcontext()
        slug = "".join(c if c.isalnum() else "-" for c in what).strip("-")
        recording = profiling.Recording(
            self.stack.services(), self.args.seconds, self.args.profile_dir / slug
        )
        self.profiles.append((what, recording))
        return recording


def small_stack(args, rng, profiles):
    """The stack with ``--products`` products: everything but the mixed load and RSS."""
    seed = functools.partial(showroom.seed, products=args.products, rng=rng)
    with running_stack(seed) as stack:
        hub_ids, product_ids = stack.seeded
        market = orders.set_up_market(stack.url, args.buyers)
        bench = Bench(args, stack, profiles)
        bench.reference("nameko echo: HTTP → RPC → reply")
        bench.load("GET /healthz (gateway only)", [Request("GET", "/healthz")])
        for name, requests in showroom.queries(hub_ids, product_ids, rng).items():
            bench.load(
                f"showroom: {name}",
                requests,
                "≥ 2 × echo, p99 < 50 ms",
                lambda figures, ratio: ratio >= 2 and figures.p99_ms < 50,
            )
        me = [Request("GET", "/api/v1/me", orders.signed_in(b)) for b in market.buyers]
        bench.load("GET /api/v1/me (token, cached roles)", me)
        placed = bench.load(
            "POST /api/v1/orders (new key each)",
            orders.placements(market),
            "≥ 0.6 × echo",
            lambda figures, ratio: ratio >= 0.6,
        )
        stack.settle()  # the saga's stock moves change the pages the checks compare
        checks = showroom.conditional_get(stack.url, product_ids[0])
        flow = orders.flow(stack, market, placed.rate / 2, args.seconds)
    return [*bench.rows, *(Row(*check) for check in checks), *flow_rows(flow)]


def flow_rows(flow):
    print(f"  order flow at {flow.rate:.1f}/s: done", file=sys.stderr, flush=True)
    counts = f"{flow.placed} of {flow.sent} placed, {flow.notified} notified"
    counts += f", {flow.rejected} rejected" if flow.rejected else ""
    deepest_queue, deepest = flow.deepest
    growing = ", ".join(f"{queue} +{slope:.1f}/s" for queue, slope in flow.growing.items())
    backlog = f"{len(flow.growing)} growing" if growing else f"none growing; deepest {deepest}"
    before, per_order = CPU_PER_ORDER_BEFORE, sum(flow.cpu_per_order.values()) or float("nan")
    busiest = sorted(flow.cpu_per_order.items(), key=lambda item: -item[1])
    return [
        Row(
            f"order flow at {flow.rate:.1f}/s: placement → confirmed",
            counts,
            "p99 < 300 ms",
            flow.confirmed_p99_ms < 300,
            flow.confirmed_p50_ms,
            flow.confirmed_p99_ms,
            load_cpu=flow.load_cpu,
        ),
        Row(
            "order flow: queues' backlog",
            backlog,
            "no queue growing",
            not growing,
            note=growing or f"deepest: {deepest_queue}",
        ),
        Row(
            "CPU s per order placed, confirmed, notified",
            f"{per_order:.3f} s",
            f"≤ {before / 2:.3f} s (half of {before:.3f})",
            per_order <= before / 2,
            note=", ".join(f"{name} {seconds:.3f}" for name, seconds in busiest),
        ),
    ]


def large_stack(args, rng, profiles):
    """The stack with ``--large-products`` products: the showroom's p99 over them, the
    mixed load, then every service's peak memory."""
    seed = functools.partial(showroom.seed, products=args.large_products, rng=rng)
    with running_stack(seed) as stack:
        hub_ids, product_ids = stack.seeded
        market = orders.set_up_market(stack.url, args.buyers)
        bench = Bench(args, stack, profiles)
        at = f"{args.large_products:,} products"
        bench.reference(f"nameko echo, {at}")
        for name, requests in showroom.queries(hub_ids, product_ids, rng).items():
            bench.load(
                f"showroom at {at}: {name}",
                requests,
                "p99 < 100 ms",
                lambda figures, ratio: figures.p99_ms < 100,
            )
        bench.load(
            f"mixed 80/15/5 at {at}",
            mixed.requests(market, hub_ids, product_ids, rng),
            "≥ 1.0 × echo, p99 < 500 ms",
            lambda figures, ratio: ratio >= 1 and figures.p99_ms < 500,
        )
        peaks = {name: peak_rss_mb(pid) or float("nan") for name, pid in stack.services().items()}
    return [
        *bench.rows,
        *(
            Row(f"peak RSS {name}, {at}", f"{mb:.0f} MB", f"< {RSS_LIMIT_MB} MB", mb < RSS_LIMIT_MB)
            for name, mb in peaks.items()
        ),
    ]


def number(value, form):
    return "" if value is None or value != value else format(value, form)  # nan: none


def print_table(rows):
    met = {True: "met", False: "NOT MET", None: ""}
    header = (
        f"{'what':<52}{'value':>30}{'p50 ms':>9}{'p99 ms':>9}{'× echo':>8}{'load CPU':>10}"
        f"  {'target':<28}{'':>8}  note"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        load_cpu = "" if row.load_cpu is None else f"{100 * row.load_cpu:.0f} %"
        print(
            f"{row.what:<52}{row.value:>30}{number(row.p50_ms, '.1f'):>9}"
            f"{number(row.p99_ms, '.1f'):>9}{number(row.ratio, '.2f'):>8}"
            f"{load_cpu:>10}  {row.target:<28}{met[row.met]:>8}  {row.note}".rstrip()
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0, help="of each round")
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--products", type=int, default=60)
    parser.add_argument("--large-products", type=int, default=10_000)
    parser.add_argument("--buyers", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--profile", action="store_true", help="py-spy on every service in each load's first round"
    )
    parser.add_argument(
        "--profile-dir", type=pathlib.Path, help="where py-spy's raw stacks are kept"
    )
    args = parser.parse_args(argv)
    stop_on_sigterm()
    rng = random.Random(args.seed)
    if args.profile and not profiling.py_spy():
        print("--profile: py-spy is not installed (pip install py-spy); running unprofiled")
    with tempfile.TemporaryDirectory(prefix="kompor-profile-") as directory:
        args.profile_dir = args.profile_dir or pathlib.Path(directory)
        profiles = []
        rows = small_stack(args, rng, profiles)
        if args.large_products:
            rows += large_stack(args, rng, profiles)
        print(
            f"\n{datetime.date.today()}, {os.cpu_count()} cores; load by "
            f"{GENERATOR}, -t{args.threads} -c{args.connections}, {args.seconds:g} s per round, "
            f"median of {args.rounds}; load CPU: the load generator's share of one core\n"
        )
        print_table(rows)
        for what, recording in profiles:
            recording.report(what)
    return 0


if __name__ == "__main__":
    sys.exit(main())
