"""Order placement through the gateway, next to the gateway's own ceiling.

    .venv/bin/python -m bench.orders [--orders 400] [--concurrency 16]

Starts the five services as processes the way operators do (``services.run``), plus
this benchmark's own gateway: ``BenchGateway`` is the real ``GatewayService`` with one
extra route, ``GET /bench/echo``, that makes one trivial RPC (``bench_echo.echo``).
Then, in the same run, it prints:

- accepted orders/s and p50/p99 of the ``POST /api/v1/orders`` answer (201);
- p50/p99 from sending the placement to ``order_confirmed`` on ``orders.events``
  (catalogue reserved the stock);
- requests/s and p50/p99 of the echo route: what the gateway and one RPC cost, so
  the ratio shows what placing an order adds.

It asserts nothing about time; each loop is bounded in count and time.
"""

import argparse
import json
import threading
import time
import uuid

import kombu
import requests
from nameko.rpc import rpc

from bench.common import (
    ADMIN_PASSWORD,
    ADMIN_PHONE,
    Load,
    Refused,
    ms,
    nameko_command,
    percentile,
    running_stack,
)
from services.gateway.http import route
from services.gateway.service import GatewayService
from services.run import SERVICES, service_command

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


COMMANDS = {
    **{name: service_command(name) for name in SERVICES if name != "gateway"},
    "gateway": nameko_command("bench.orders:BenchGateway"),
    "bench_echo": nameko_command("bench.orders:EchoService"),
}


class Client:
    def __init__(self, url, token=None):
        self.url = url
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method, path, expect=(200, 201), **kwargs):
        response = self.session.request(method, self.url + path, timeout=30, **kwargs)
        if response.status_code not in expect:
            raise RuntimeError(f"{method} {path} → {response.status_code} {response.text}")
        return response.json()


def phone(index):
    return f"0813{index:08d}"


def member(url, index, name):
    anonymous = Client(url)
    number = phone(index)
    registered = anonymous.call(
        "POST", "/api/v1/auth/register", json={"name": name, "phone": number, "password": PASSWORD}
    )
    token = anonymous.call(
        "POST", "/api/v1/auth/token", json={"phone": number, "password": PASSWORD}
    )["access_token"]
    return Client(url, token), registered["id"]


def login(url, number, password):
    token = Client(url).call(
        "POST", "/api/v1/auth/token", json={"phone": number, "password": password}
    )["access_token"]
    return Client(url, token)


def set_up_hub(url, buyers, products):
    """A hub, its coordinator, one approved seller with ``products`` approved products
    of plenty of stock, and ``buyers`` logged-in members."""
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
    coordinator, coordinator_id = member(url, 1, "Koordinator")
    admin.call("POST", f"/api/v1/hubs/{hub['id']}/coordinators", json={"member_id": coordinator_id})
    seller, _ = member(url, 2, "Penjual")
    membership = seller.call(
        "POST",
        f"/api/v1/hubs/{hub['id']}/memberships",
        json={"role": "seller", "business_name": "UMKM Bench"},
    )
    coordinator.call("POST", f"/api/v1/memberships/{membership['id']}/approve")
    coordinator = login(url, phone(1), PASSWORD)  # fresh roles
    seller = login(url, phone(2), PASSWORD)
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
        )
        coordinator.call("POST", f"/api/v1/products/{product['id']}/approve")
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
    """Until the orders projection knows every product (catalogue's events arrived)."""
    deadline = time.monotonic() + within
    body = order_body(hub_id, product_ids, 0)
    body["items"] = [{"product_id": product_id, "quantity": 1} for product_id in product_ids]
    while time.monotonic() < deadline:
        response = client.session.post(
            client.url + "/api/v1/orders",
            json=body,
            headers={"Idempotency-Key": "bench-warm-up"},
            timeout=30,
        )
        if response.status_code == 201:
            return
        time.sleep(0.3)
    raise RuntimeError("products never reached the orders projection")


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

    def close(self):
        self._stop.set()
        self._thread.join(timeout=5)
        self._connection.release()


def bench(orders, concurrency, buyers, products):
    with running_stack(COMMANDS) as stack:
        url = stack.url
        hub_id, product_ids, clients = set_up_hub(url, buyers, products)
        wait_orderable(clients[0], hub_id, product_ids)
        for client in clients:  # each buyer's roles are resolved once, before timing
            client.call("GET", "/api/v1/orders")
        outcomes = Outcomes(stack.env["AMQP_URI"])
        sent = {}
        local = threading.local()

        def session():
            if not hasattr(local, "session"):
                local.session = requests.Session()
            return local.session

        def place(index):
            client = clients[index % len(clients)]
            started = time.perf_counter()
            response = session().post(
                url + "/api/v1/orders",
                json=order_body(hub_id, product_ids, index),
                headers={
                    "Idempotency-Key": f"bench-{index}",
                    "Authorization": client.session.headers["Authorization"],
                },
                timeout=30,
            )
            if response.status_code != 201:
                raise Refused(f"{response.status_code} {response.text[:200]}")
            sent[response.json()["id"]] = started

        placed = Load(concurrency).run(place, orders)
        deadline = time.monotonic() + CONFIRM_WITHIN
        while time.monotonic() < deadline and not set(sent) <= set(outcomes.at):
            time.sleep(0.2)
        outcomes.close()
        to_confirmed = [
            outcomes.at[order_id] - started
            for order_id, started in sent.items()
            if order_id in outcomes.at and order_id not in outcomes.rejected
        ]

        def echo(index):
            response = session().get(url + "/bench/echo", params={"say": str(index)}, timeout=30)
            if response.status_code != 200:
                raise Refused(f"{response.status_code} {response.text[:200]}")

        ceiling = Load(concurrency).run(echo, orders)

    print(
        f"orders benchmark: {orders} placements, {concurrency} concurrent clients, "
        f"{buyers} buyers, {products} products; stack as processes (embedded store)"
    )
    print(placed.line("POST /api/v1/orders (201)", "orders"))
    print(
        f"{'placement → order_confirmed':<34} "
        f"{len(to_confirmed):5d} confirmed, {len(outcomes.rejected)} rejected, "
        f"{len(sent) - len(set(sent) & set(outcomes.at))} unanswered  "
        f"p50 {ms(percentile(to_confirmed, 0.50))}  p99 {ms(percentile(to_confirmed, 0.99))}"
    )
    print(ceiling.line("ceiling: GET /bench/echo (1 RPC)"))
    if ceiling.rate:
        print(f"{'placement rate / echo ceiling':<34} {placed.rate / ceiling.rate:8.2f}")
    if placed.failures:
        print(f"first placement failures: {placed.failures[:3]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--buyers", type=int, default=20)
    parser.add_argument("--products", type=int, default=10)
    args = parser.parse_args()
    bench(args.orders, args.concurrency, args.buyers, args.products)


if __name__ == "__main__":
    main()
