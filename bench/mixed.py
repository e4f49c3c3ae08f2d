"""Mixed realistic load through the gateway at increasing rates, until p99 > 500 ms.

    python -m bench.mixed [--rates 5,10,20,30,40,60,80,100,130,160] [--step-seconds 10]
                          [--products 10000] [--hubs 20] [--buyers 20]

Of the requests 80 % browse the showroom (the queries of ``bench.showroom``), 15 %
place an order (a new ``Idempotency-Key`` each) and 5 % are a coordinator's work
(the hub's orders, its sales report, pending memberships, moving a confirmed order on
to ready for pickup and then completed).

The stack runs as processes the way operators start them, with the orders
benchmark's gateway (the real one plus ``GET /bench/echo``, one trivial RPC) and the
embedded store in a temporary ``KOMPOR_DATA_DIR``. ``--products`` approved products
are seeded into the catalogue's store first, as ``bench.showroom`` does, to browse;
the hub that takes orders is set up through the API like users do (``bench.orders``).

The load is open-loop: each step sends at a fixed rate whatever the answers, and a
request's latency counts from when it was due, so a slow server cannot hide behind a
slowed client. After each step it prints throughput, p50/p99, errors and each service
process's peak memory (``VmHWM``); it stops after the first step whose p99 exceeds
500 ms (or the last rate), and then measures the gateway → RPC echo ceiling in the
same run. Figures are printed, never asserted; every step is bounded in time.
"""

import argparse
import collections
import os
import pathlib
import random
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

from bench import orders as orders_bench
from bench import profiling, showroom
from bench.common import (
    Load,
    data_dir,
    free_port,
    fresh_vhost,
    percentile,
    running_stack,
    stop_on_sigterm,
)
from services.common import config as cfg
from services.common.mongo import mongo_client

P99_LIMIT_MS = 500.0
MIX = (("browse", 80), ("order", 15), ("coordinate", 5))
REQUEST_TIMEOUT = 10
MAX_IN_FLIGHT = 256
CONFIRMED_AFTER = 3.0  # an order this old has been confirmed by the saga (plenty of stock)
COORDINATOR_PHONE = "081300000001"  # the coordinator bench.orders.set_up_market registers


def peak_rss_mb(pid):
    """Peak resident memory of a process (``VmHWM``), in MB; ``None`` once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Market:
    """What the mixed load works on: the seeded showroom, the hub that takes orders,
    its coordinator and buyers, and the orders placed so far."""

    def __init__(self, url, hub_ids, product_ids, rng, buyers):
        self.url = url
        self.rng = rng
        self.hub_id, self.order_products, self.buyers = orders_bench.set_up_market(
            url, buyers, products=10
        )
        orders_bench.wait_orderable(self.buyers[0], self.hub_id, self.order_products)
        self.coordinator = orders_bench.login(url, COORDINATOR_PHONE)
        self.browsing = list(
            showroom.queries(url, [*hub_ids, self.hub_id], product_ids, rng).values()
        )
        self.placed = collections.deque()  # (placed at, order id, next status)
        self._lock = threading.Lock()
        self._count = 0

    def browse(self):
        return self.rng.choice(self.browsing)()

    def order(self):
        with self._lock:
            self._count += 1
            index = self._count
        buyer = self.buyers[index % len(self.buyers)]
        body = orders_bench.order_body(self.hub_id, self.order_products, index)
        headers = {**buyer.headers, "Idempotency-Key": uuid.uuid4().hex}

        def send(session):
            response = session.post(
                f"{self.url}/api/v1/orders", json=body, headers=headers, timeout=REQUEST_TIMEOUT
            )
            if response.status_code == 201:
                with self._lock:
                    self.placed.append((time.monotonic(), response.json()["id"], "ready"))
            return response

        return send

    def coordinate(self):
        headers = self.coordinator.headers
        base = f"{self.url}/api/v1"
        pick = self.rng.random()
        if pick < 0.35:
            params = {"as": "coordinator", "hub_id": self.hub_id}
            return lambda session: session.get(
                f"{base}/orders", params=params, headers=headers, timeout=REQUEST_TIMEOUT
            )
        if pick < 0.50:
            path = f"{base}/hubs/{self.hub_id}/reports/sales"
            return lambda session: session.get(path, headers=headers, timeout=REQUEST_TIMEOUT)
        if pick < 0.65 or not self._due_order():
            path = f"{base}/hubs/{self.hub_id}/memberships"
            params = {"status": "pending"}
            return lambda session: session.get(
                path, params=params, headers=headers, timeout=REQUEST_TIMEOUT
            )
        with self._lock:
            _, order_id, step = self.placed.popleft()
        status = "ready_for_pickup" if step == "ready" else "completed"

        def move_on(session):
            response = session.post(
                f"{base}/orders/{order_id}/status",
                json={"status": status},
                headers=headers,
                timeout=REQUEST_TIMEOUT,
            )
            if response.ok and step == "ready":
                with self._lock:
                    self.placed.append((time.monotonic() - CONFIRMED_AFTER, order_id, "done"))
            return response

        return move_on

    def _due_order(self):
        with self._lock:
            return bool(self.placed) and self.placed[0][0] < time.monotonic() - CONFIRMED_AFTER


class OpenLoop:
    """Sends ``rate`` requests a second for ``seconds``, each of a kind drawn from
    ``MIX``; a request's latency counts from when it was due."""

    def __init__(self, market, rng):
        self.market = market
        self.rng = rng
        self.kinds = [kind for kind, _ in MIX]
        self.weights = [weight for _, weight in MIX]
        self._local = threading.local()

    def _session(self):
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def _timed(self, kind, request, due):
        try:
            ok = 200 <= request(self._session()).status_code < 300
        except requests.RequestException:
            ok = False
        return kind, time.perf_counter() - due, ok

    def step(self, rate, seconds, processes=None):
        processes = processes or {}
        cpu_before = {name: profiling.cpu_seconds(p.pid) for name, p in processes.items()}
        count = max(int(rate * seconds), 1)
        futures = []
        with ThreadPoolExecutor(MAX_IN_FLIGHT) as pool:
            started = time.perf_counter() + 0.05
            for index in range(count):
                due = started + index / rate
                time.sleep(max(due - time.perf_counter(), 0))
                kind = self.rng.choices(self.kinds, self.weights)[0]
                request = getattr(self.market, kind)()
                futures.append(pool.submit(self._timed, kind, request, due))
            results = [future.result() for future in futures]
        wall = time.perf_counter() - started
        cpu = {
            name: (profiling.cpu_seconds(process.pid) - cpu_before[name]) / wall
            for name, process in processes.items()
        }
        return Step(rate, results, wall, cpu)


class Step:
    def __init__(self, rate, results, wall, cpu):
        self.rate = rate
        self.results = results
        self.wall = wall
        self.cpu = cpu  # {process: share of one core used during the step}
        self.latencies = sorted(latency for _, latency, _ in results)
        self.errors = sum(1 for _, _, ok in results if not ok)

    @property
    def throughput(self):
        return (len(self.results) - self.errors) / self.wall

    def p(self, pct, kind=None):
        values = self.latencies
        if kind is not None:
            values = sorted(latency for k, latency, _ in self.results if k == kind)
        return percentile(values, pct) * 1000


def print_header(names):
    services = "".join(f"{name[:13]:>14}" for name in names)
    print(
        f"{'offered/s':>9}{'done/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'errors':>7}"
        f"{'browse p99':>11}{'order p99':>10}{'coord p99':>10}  "
        f"per process: peak RSS MB / CPU % of a core during the step\n{'':>71}{services}"
    )


def print_step(step, stack):
    services = "".join(
        f"{peak_rss_mb(process.pid) or 0:>8.0f} /{100 * step.cpu.get(name, 0):>3.0f}%"
        for name, process in stack.processes.items()
    )
    print(
        f"{step.rate:>9.0f}{step.throughput:>8.1f}{step.p(50):>8.1f}{step.p(99):>8.1f}"
        f"{step.errors:>7}{step.p(99, 'browse'):>11.1f}{step.p(99, 'order'):>10.1f}"
        f"{step.p(99, 'coordinate'):>10.1f}{services}",
        flush=True,
    )


def echo_ceiling(url, concurrency, count):
    def echo(index):
        return lambda session: session.get(
            f"{url}/bench/echo", params={"say": str(index)}, timeout=REQUEST_TIMEOUT
        )

    load = Load(concurrency)
    load.run([echo(-index) for index in range(concurrency * 4)])  # warm up
    return load.run([echo(index) for index in range(count)])


def profile(args, stack, loop, out_dir):
    """One step at ``--profile-rate`` with py-spy on every process."""
    names = args.profile_services.split(",") if args.profile_services else None
    recording = profiling.Recording(stack.processes, args.step_seconds, out_dir, names)
    with recording:
        step = loop.step(args.profile_rate, args.step_seconds, stack.processes)
    print(f"\nprofiled step: mixed load at {args.profile_rate:.0f} requests/s offered")
    print_header(stack.processes)
    print_step(step, stack)
    recording.report(step.wall, busiest=args.profile_busiest)
    return 0


def ok_rate(figures):
    return figures["rps"] * (figures["requests"] - figures["errors"]) / figures["requests"]


def bench(args):
    rng = random.Random(args.seed)
    rates = [float(rate) for rate in args.rates.split(",")]
    with fresh_vhost() as amqp_uri, data_dir() as path:
        env = {
            "AMQP_URI": amqp_uri,
            "KOMPOR_DATA_DIR": path / "var",
            "GATEWAY_ADDRESS": f"127.0.0.1:{free_port()}",
            "KOMPOR_ADMIN_PHONE": orders_bench.ADMIN_PHONE,
            "KOMPOR_ADMIN_PASSWORD": orders_bench.ADMIN_PASSWORD,
            "KOMPOR_LOG_LEVEL": "WARNING",
            "KOMPOR_RATE_LIMIT": 0,  # the bench is many clients behind one address
        }
        config = {cfg.DATA_DIR_KEY: str(env["KOMPOR_DATA_DIR"])}
        if os.environ.get(cfg.MONGO_URI_KEY):
            config[cfg.MONGO_URI_KEY] = os.environ[cfg.MONGO_URI_KEY]
        hub_ids, product_ids = showroom.seed(config, args.products, args.hubs, rng)
        mongo_client(config).close()
        with running_stack(env, path, commands=orders_bench.COMMANDS) as stack:
            market = Market(stack.url, hub_ids, product_ids, rng, args.buyers)
            loop = OpenLoop(market, rng)
            loop.step(rates[0], 2)  # warm up: connections, caches, the showroom shelf
            if args.profile:
                return profile(args, stack, loop, args.profile_dir or path / "profile")
            print(
                f"\nmixed load (browse 80 %, order 15 %, coordinator 5 %), open loop, "
                f"{args.step_seconds:.0f} s per step; {args.products} seeded products in "
                f"{args.hubs} hubs + the ordering hub; stack as processes (embedded store)"
            )
            print_header(stack.processes)
            for rate in rates:
                step = loop.step(rate, args.step_seconds, stack.processes)
                stack.check()  # figures from a half-dead stack would mislead
                print_step(step, stack)
                if step.p(99) > P99_LIMIT_MS:
                    print(f"p99 above {P99_LIMIT_MS:.0f} ms at {rate:.0f} requests/s offered")
                    break
            ceiling = echo_ceiling(stack.url, args.echo_concurrency, args.echo_requests)
            print(
                f"same run, gateway → RPC echo ceiling ({args.echo_concurrency} concurrent): "
                f"{ok_rate(ceiling):.1f} requests/s, p50 {ceiling['p50_ms']:.1f} ms, "
                f"p99 {ceiling['p99_ms']:.1f} ms, {ceiling['errors']} errors"
            )
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="5,10,20,30,40,60,80,100,130,160")
    parser.add_argument("--step-seconds", type=float, default=10.0)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--hubs", type=int, default=20)
    parser.add_argument("--buyers", type=int, default=20)
    parser.add_argument("--echo-concurrency", type=int, default=16)
    parser.add_argument("--echo-requests", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead of the steps: one step at --profile-rate under py-spy, and where "
        "each service spends its CPU",
    )
    parser.add_argument("--profile-rate", type=float, default=30.0)
    parser.add_argument("--profile-busiest", type=int, default=2)
    parser.add_argument(
        "--profile-services", default="", help="comma-separated; default: every process"
    )
    parser.add_argument(
        "--profile-dir", type=pathlib.Path, help="keep py-spy's raw stacks here (one file each)"
    )
    args = parser.parse_args(argv)
    stop_on_sigterm()
    return bench(args)


if __name__ == "__main__":
    sys.exit(main())
