"""Orders: a market set up through the API like users do, order placements for the
load, and the order flow followed to its end.

``set_up_market``: the admin creates a hub and its coordinator, a seller is approved
and offers products with plenty of stock, the coordinator approves them, buyers
register and sign in. ``placements`` are ``POST /api/v1/orders`` by those buyers, each
send under a new ``Idempotency-Key``.

``flow`` places orders at a fixed rate from this process (wrk cannot tie a response
to the order's later events) and follows each one on the broker: ``order_confirmed``
(catalogue reserved the stock, orders confirmed it) and the buyer's
``notification_sent`` for it (the SMS is at the provider). While it sends it samples
every queue's depth from the management API, and it counts the CPU seconds each
service used until the last order was notified.
"""

import dataclasses
import json
import statistics
import threading
import time
import uuid

import kombu
import requests

from bench.common import ADMIN_PASSWORD, ADMIN_PHONE, percentile
from bench.load import Request, paced
from services.common import cli
from services.notifications.contract import NOTIFICATION_SENT
from services.orders.contract import ORDER_CONFIRMED, ORDER_REJECTED

PASSWORD = "bench-password-1"
STOCK = 1_000_000
FOLLOW_WITHIN = 120  # seconds the flow waits for its last order's confirmation and SMS
SAMPLE_EVERY = 1.0  # the management API refreshes its counts every 5 s by default
GROWING = 1.0  # messages a second more in a queue, on average over the flow
JSON = ("Content-Type", "application/json")


class Client:
    """A signed-in (or anonymous) API client for the set-up steps."""

    def __init__(self, url, token=None):
        self.url = url
        self.token = token
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
    return login(url, phone), registered["id"]


@dataclasses.dataclass
class Market:
    hub_id: str
    product_ids: list[str]
    buyers: list[Client]
    coordinator: Client


def set_up_market(url, buyers=20, products=10):
    """A hub with its coordinator, an approved seller with ``products`` approved
    products of plenty of stock, and ``buyers`` signed-in buyers; returns once the
    orders service knows the products."""
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
    market = Market(hub["id"], product_ids, clients, coordinator)
    wait_orderable(url, market)
    return market


def order_body(market, index):
    first = market.product_ids[index % len(market.product_ids)]
    second = market.product_ids[(index + 1) % len(market.product_ids)]
    items = [{"product_id": first, "quantity": 1 + index % 3}]
    if second != first:
        items.append({"product_id": second, "quantity": 1})
    return {
        "hub_id": market.hub_id,
        "items": items,
        "fulfilment": {"method": "pickup"},
        "payment_method": "cod",
    }


def wait_orderable(url, market, within=60):
    """Until the orders projection knows every product: an order for another hub is
    refused as "sold elsewhere" (400) rather than "unknown" (404), and never placed."""
    body = {
        **order_body(market, 0),
        "hub_id": "another-hub",
        "items": [{"product_id": product_id, "quantity": 1} for product_id in market.product_ids],
    }
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        response = requests.post(
            url + "/api/v1/orders",
            json=body,
            headers={**market.buyers[0].headers, "Idempotency-Key": uuid.uuid4().hex},
            timeout=30,
        )
        if response.status_code == 400:
            return
        time.sleep(0.3)
    raise RuntimeError("the products never reached the orders projection")


def signed_in(client):
    return (("Authorization", f"Bearer {client.token}"),)


def placements(market, count=60):
    """``POST /api/v1/orders`` by every buyer in turn, a new key on each send."""
    return [
        Request(
            "POST",
            "/api/v1/orders",
            (*signed_in(market.buyers[index % len(market.buyers)]), JSON),
            json.dumps(order_body(market, index)),
            keyed=True,
        )
        for index in range(count)
    ]


class Outcomes:
    """When each order's ``order_confirmed``/``order_rejected`` and the notification
    sent for its confirmation arrived."""

    def __init__(self, amqp_uri):
        self.decided = {}  # order id → arrival
        self.rejected = set()
        self.confirmations = {}  # order_confirmed's event id → order id
        self.notified = {}  # event id a notification was sent for → arrival
        self._stop = threading.Event()
        self._connection = kombu.Connection(amqp_uri)
        orders = kombu.Exchange("orders.events", type="topic", durable=True)
        notifications = kombu.Exchange("notifications.events", type="topic", durable=True)
        self._queue = kombu.Queue(
            f"bench-outcomes-{uuid.uuid4().hex}",
            bindings=[
                kombu.binding(orders, routing_key=ORDER_CONFIRMED),
                kombu.binding(orders, routing_key=ORDER_REJECTED),
                kombu.binding(notifications, routing_key=NOTIFICATION_SENT),
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
        data, kind = event["data"], message.delivery_info["routing_key"]
        if kind == NOTIFICATION_SENT:
            self.notified.setdefault(data["event_id"], arrived)
        else:
            self.decided.setdefault(data["order_id"], arrived)
            if kind == ORDER_REJECTED:
                self.rejected.add(data["order_id"])
            else:
                self.confirmations[event["event_id"]] = data["order_id"]
        message.ack()

    def notified_orders(self):
        """``{order id: when the SMS of its confirmation was sent}``."""
        return {
            order_id: self.notified[event_id]
            for event_id, order_id in list(self.confirmations.items())
            if event_id in self.notified
        }

    def wait(self, order_ids, within):
        """Until every order is notified of its confirmation or rejected."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if set(order_ids) <= set(self.notified_orders()) | self.rejected:
                return
            time.sleep(0.2)

    def close(self):
        self._stop.set()
        self._thread.join(timeout=5)
        self._connection.release()


class Backlog:
    """Every queue's depth (ready + unacknowledged): on entry, once a second, and on
    exit."""

    def __init__(self, amqp_uri):
        self.samples = {}  # queue → [(seconds since start, messages)]
        self._amqp_uri = amqp_uri
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self):
        while not self._stop.wait(SAMPLE_EVERY):
            self._sample()

    def _sample(self):
        try:
            listed = cli.queues(self._amqp_uri)
        except requests.RequestException:
            return
        for queue in listed:
            if not queue["name"].startswith("bench-"):
                # an event queue by its handler: notifications.handle_order_placed
                name = queue["name"].rpartition("--")[2]
                sample = (time.monotonic() - self._started, queue["messages"])
                self.samples.setdefault(name, []).append(sample)

    def growing(self):
        """``{queue: messages a second}`` of the queues that grew during the flow."""
        slopes = {}
        for queue, samples in self.samples.items():
            if len({messages for _, messages in samples}) > 1:
                slope = statistics.linear_regression(*zip(*samples, strict=True)).slope
                if slope > GROWING:
                    slopes[queue] = slope
        return slopes

    def deepest(self):
        """``(queue, messages)`` the deepest any queue was."""
        return max(
            ((queue, max(m for _, m in samples)) for queue, samples in self.samples.items()),
            key=lambda item: item[1],
            default=("none", 0),
        )


@dataclasses.dataclass
class Flow:
    rate: float
    sent: int
    placed: int
    notified: int
    rejected: int
    confirmed_p50_ms: float
    confirmed_p99_ms: float
    cpu_per_order: dict  # {service: its CPU seconds per order placed, confirmed, notified}
    growing: dict
    deepest: tuple
    load_cpu: float


def flow(stack, market, rate, seconds):
    """Orders at ``rate`` a second for ``seconds``, each followed to its SMS."""
    outcomes, sent = Outcomes(stack.amqp_uri), {}

    def placement(index):
        body = order_body(market, index)
        headers = {**market.buyers[index % len(market.buyers)].headers}
        headers["Idempotency-Key"] = uuid.uuid4().hex

        def send(session):
            started = time.perf_counter()
            response = session.post(
                stack.url + "/api/v1/orders", json=body, headers=headers, timeout=30
            )
            if response.status_code == 201:
                sent[response.json()["id"]] = started
            return response

        return send

    cpu = stack.cpu_seconds()
    with Backlog(stack.amqp_uri) as backlog:
        figures = paced([placement(index) for index in range(int(rate * seconds))], rate)
    outcomes.wait(sent, FOLLOW_WITHIN)
    cpu = {name: seconds - cpu[name] for name, seconds in stack.cpu_seconds().items()}
    outcomes.close()
    notified = outcomes.notified_orders()
    to_confirmed = sorted(
        outcomes.decided[order_id] - started
        for order_id, started in sent.items()
        if order_id in outcomes.decided and order_id not in outcomes.rejected
    )
    done = [order_id for order_id in sent if order_id in notified]
    return Flow(
        rate=rate,
        sent=figures.requests,
        placed=len(sent),
        notified=len(done),
        rejected=len(outcomes.rejected & set(sent)),
        confirmed_p50_ms=percentile(to_confirmed, 50) * 1000,
        confirmed_p99_ms=percentile(to_confirmed, 99) * 1000,
        cpu_per_order={name: seconds / len(done) for name, seconds in cpu.items() if done},
        growing=backlog.growing(),
        deepest=backlog.deepest(),
        load_cpu=figures.load_cpu,
    )
