"""Order placement through the gateway, next to the gateway's own ceiling.

    python -m bench.orders [--orders 400] [--concurrency 8] [--buyers 20] [--products 10]

The stack runs as processes started with ``services.run.service_command`` (what
``make run`` and the image run), on a fresh RabbitMQ vhost when the management API
answers, with the embedded store in a temporary ``KOMPOR_DATA_DIR``. The gateway is
this benchmark's ``BenchGateway``: the real ``GatewayService`` plus one route,
``GET /bench/echo``, that makes one trivial RPC to ``bench_echo`` (a sixth process),
so the same run shows what the gateway and one RPC cost by themselves.

Set-up goes through the API like users: the admin creates a hub and its coordinator,
a seller is approved and offers ``--products`` products with plenty of stock, the
coordinator approves them, buyers register. Then ``--orders`` placements are sent by
``--concurrency`` threads, and the echo route as many times. Printed, never asserted:

- accepted orders/s and p50/p99 of ``POST /api/v1/orders`` (201);
- p50/p99 from sending a placement to its ``order_confirmed`` on ``orders.events``
  (catalogue reserved the stock; the orders service confirmed it);
- requests/s and p50/p99 of the echo route, and the ratio of the two rates.
"""

import argparse
import json
import sys
import threading
import time
import uuid

import kombu
import requests
from nameko.rpc import rpc

from bench.common import (
    Load,
    data_dir,
    free_port,
    fresh_vhost,
    percentile,
    running_stack,
    stop_on_sigterm,
)
from services.gateway.http import route
from services.gateway.service import GatewayService
from services.run import SERVICES, service_command

ADMIN_PHONE = "081100000001"
ADMIN_PASSWORD = "bench-admin-password"
PASSWORD = "bench-password-1"
STOCK = 1_000_000
CONFIRM_WITHIN = 120


class EchoService:
    name = "bench_echo"

    @rpc
    def echo(self, text):
        return {"echo": text}


class BenchGateway(GatewayService):
    @route("GET", "/bench/echo", hidden=True)
    def bench_echo(self, request):
        return self.backend.bench_echo.echo(request.args.get("say", "ok"))


def own_command(service_path):
    """``service_command`` for a service class of this benchmark."""
    return [*service_command("gateway")[:-1], service_path]


COMMANDS = {
    **{name: service_command(name) for name in SERVICES if name != "gateway"},
    "gateway": own_command("bench.orders:BenchGateway"),
    "bench_echo": own_command("bench.orders:EchoService"),
}


class Client:
    """A logged-in (or anonymous) API client for the set-up steps."""

    def __init__(self, url, token=None):
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method, path, headers=None, **kwargs):
        response = requests.request(
            method,
            self.url + path,
            headers={**self.headers, **(headers or {})},
            timeout=30,
            **kwargs,
        )
        if not response.ok:
            raise RuntimeError(f"{method} {path} → {response.status_code} {response.text}")
        return response.json()


def login(url, phone, password=PASSWORD):
    body = {"phone": phone, "password": password}
    return Client(url, Client(url).call("POST", "/api/v1/auth/token", json=body)["access_token"])


def member(url, index, name):
    phone = f"0813{index:08d}"
    body = {"name": name, "phone": phone, "password": PASSWORD}
    registered = Client(url).call("POST", "/api/v1/auth/register", json=body)
    return login(url, phone), registered["id"], phone


def set_up_market(url, buyers, products):
    """A hub with its coordinator, an approved seller with ``products`` approved
    products of plenty of stock, and ``buyers`` logged-in buyers."""
    admin = login(url, ADMIN_PHONE, ADMIN_PASSWORD)
    hub = admin.call(
        "POST",
        "/api/v1/hubs",
        json={
            "name": "Simpul Bench",
            "village": "Tulusbesar",
            "district": "Tumpang",
            "regency": "Malang",
            "province": "Jawa Timur",
            "address": "Jl. Raya Tulusbesar 1",
        },
    )
    coordinator, coordinator_id, _ = member(url, 1, "Koordinator")
    admin.call("POST", f"/api/v1/hubs/{hub['id']}/coordinators", json={"member_id": coordinator_id})
    seller, _, _ = member(url, 2, "Penjual")
    membership = seller.call(
        "POST",
        f"/api/v1/hubs/{hub['id']}/memberships",
        json={"role": "seller", "business_name": "UMKM Bench"},
    )
    coordinator.call("POST", f"/api/v1/memberships/{membership['id']}/approve", json={})
    product_ids = []
    for index in range(products):
        product = seller.call(
            "POST",
            "/api/v1/products",
            json={
                "hub_id": hub["id"],
                "name": f"Keripik Tempe {index}",
                "description": "Keripik tempe renyah khas Malang.",
                "category": "food",
                "price": 10000 + 500 * index,
                "unit": "pack",
                "stock": STOCK,
            },
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        coordinator.call("POST", f"/api/v1/products/{product['id']}/approve", json={})
        product_ids.append(product["id"])
    clients = [member(url, 100 + index, f"Pembeli {index}")[0] for index in range(buyers)]
    return hub["id"], product_ids, clients


def order_body(hub_id, product_ids, index):
    first = product_ids[index % len(product_ids)]
    second = product_ids[(index + 1) % len(product_ids)]
    items = [{"product_id": first, "quantity": 1 + index % 3}]
    if second != first:
        items.append({"product_id": second, "quantity": 1})
    return {
        "hub_id": hub_id,
        "items": items,
        "fulfilment": {"method": "pickup"},
        "payment_method": "cod",
    }


def wait_orderable(client, hub_id, product_ids, within=60):
    """Until the orders projection knows every product: an order for another hub is
    refused as "sold elsewhere" (400) rather than "unknown" (404), and never placed."""
    body = order_body("another-hub", product_ids, 0)
    body["items"] = [{"product_id": product_id, "quantity": 1} for product_id in product_ids]
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        response = requests.post(
            client.url + "/api/v1/orders",
            json=body,
            headers={**client.headers, "Idempotency-Key": uuid.uuid4().hex},
            timeout=30,
        )
        if response.status_code == 400:
            return
        time.sleep(0.3)
    raise RuntimeError("the products never reached the orders projection")


class Outcomes:
    """When each order's ``order_confirmed``/``order_rejected`` arrived."""

    def __init__(self, amqp_uri):
        self.at = {}
        self.rejected = set()
        self._stop = threading.Event()
        self._connection = kombu.Connection(amqp_uri)
        exchange = kombu.Exchange("orders.events", type="topic", durable=True)
        self._queue = kombu.Queue(
            f"bench-outcomes-{uuid.uuid4().hex}",
            bindings=[
                kombu.binding(exchange, routing_key="order_confirmed"),
                kombu.binding(exchange, routing_key="order_rejected"),
            ],
            exclusive=True,
            auto_delete=True,
        )
        self._queue(self._connection.default_channel).declare()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        with self._connection.Consumer([self._queue], callbacks=[self._on], accept=["json"]):
            while not self._stop.is_set():
                try:
                    self._connection.drain_events(timeout=0.2)
                except TimeoutError:
                    continue

    def _on(self, body, message):
        arrived = time.perf_counter()
        event = body if isinstance(body, dict) else json.loads(body)
        order_id = event["data"]["order_id"]
        self.at.setdefault(order_id, arrived)
        if message.delivery_info["routing_key"] == "order_rejected":
            self.rejected.add(order_id)
        message.ack()

    def wait(self, order_ids, within):
        deadline = time.monotonic() + within
        while time.monotonic() < deadline and not set(order_ids) <= set(self.at):
            time.sleep(0.2)

    def close(self):
        self._stop.set()
        self._thread.join(timeout=5)
        self._connection.release()


def ms(seconds):
    return "n/a" if seconds != seconds else f"{seconds * 1000:.1f} ms"  # nan: none


def bench(args):
    with fresh_vhost() as amqp_uri, data_dir() as path:
        env = {
            "AMQP_URI": amqp_uri,
            "KOMPOR_DATA_DIR": path / "var",
            "GATEWAY_ADDRESS": f"127.0.0.1:{free_port()}",
            "KOMPOR_ADMIN_PHONE": ADMIN_PHONE,
            "KOMPOR_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "KOMPOR_LOG_LEVEL": "WARNING",
            "KOMPOR_RATE_LIMIT": 0,  # the bench is many clients behind one address
        }
        with running_stack(env, path, commands=COMMANDS) as stack:
            url = stack.url
            hub_id, product_ids, clients = set_up_market(url, args.buyers, args.products)
            wait_orderable(clients[0], hub_id, product_ids)
            outcomes = Outcomes(amqp_uri)
            sent = {}

            def placement(index):
                client = clients[index % len(clients)]
                headers = {**client.headers, "Idempotency-Key": f"bench-{index}"}
                body = order_body(hub_id, product_ids, index)

                def send(session):
                    started = time.perf_counter()
                    response = session.post(
                        url + "/api/v1/orders", json=body, headers=headers, timeout=30
                    )
                    if response.status_code == 201:
                        sent[response.json()["id"]] = started
                    return response

                return send

            def echo(index):
                return lambda session: session.get(
                    url + "/bench/echo", params={"say": str(index)}, timeout=30
                )

            load = Load(args.concurrency)
            load.run([echo(-index) for index in range(args.concurrency * 4)])  # warm up
            placed = load.run([placement(index) for index in range(args.orders)])
            outcomes.wait(sent, CONFIRM_WITHIN)
            outcomes.close()
            stack.check()  # figures from a half-dead stack would mislead
            ceiling = load.run([echo(index) for index in range(args.orders)])
            stack.check()

    to_confirmed = sorted(
        outcomes.at[order_id] - started
        for order_id, started in sent.items()
        if order_id in outcomes.at and order_id not in outcomes.rejected
    )
    unanswered = len(set(sent) - set(outcomes.at))
    print(
        f"orders benchmark: {args.orders} placements by {args.concurrency} concurrent "
        f"clients ({args.buyers} buyers, {args.products} products), the stack as processes"
    )
    print(
        f"  POST /api/v1/orders     {placed['ok_rps']:7.1f} accepted orders/s   "
        f"p50 {placed['p50_ms']:.1f} ms  p99 {placed['p99_ms']:.1f} ms  "
        f"({placed['requests'] - placed['errors']} accepted, {placed['errors']} failed)"
    )
    print(
        f"  placement → confirmed   p50 {ms(percentile(to_confirmed, 50))}  "
        f"p99 {ms(percentile(to_confirmed, 99))}  ({len(to_confirmed)} confirmed, "
        f"{len(outcomes.rejected)} rejected, {unanswered} unanswered in {CONFIRM_WITHIN} s)"
    )
    print(
        f"  ceiling GET /bench/echo {ceiling['ok_rps']:7.1f} requests/s         "
        f"p50 {ceiling['p50_ms']:.1f} ms  p99 {ceiling['p99_ms']:.1f} ms  "
        f"({ceiling['errors']} failed)"
    )
    if ceiling["ok_rps"]:
        print(f"  placements / ceiling    {placed['ok_rps'] / ceiling['ok_rps']:.2f}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description="Order placement through the gateway.")
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--buyers", type=int, default=20)
    parser.add_argument("--products", type=int, default=10)
    args = parser.parse_args(argv)
    stop_on_sigterm()
    return bench(args)


if __name__ == "__main__":
    sys.exit(main())
