"""What the fault suite needs: a market to order from, phones that keep placing orders
while things break, the faults themselves, and an audit of what came out.

Phones behave like the weak phones of the members (docs/architecture.md §1): each
order gets its own ``Idempotency-Key``; on a timeout, a dropped connection or a 5xx the
phone sends the same request with the same key again, until it hears 201 (or gives up,
which counts against the system).
"""

import collections
import datetime
import itertools
import random
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field

import requests

from services.common.envelope import DEAD_LETTER_QUEUE
from tests.support.api import Api, e164, make_member, make_phone
from tests.support.catalogue import key_header, make_product
from tests.support.community import apply, approve, assign_coordinator, make_hub
from tests.support.inbound import Phone
from tests.support.notifications import received_once
from tests.support.waiting import wait_until

PLENTY = 1_000_000
FINAL = ("confirmed", "rejected")
RETRY_PAUSE = 0.5


# --- the market ------------------------------------------------------------------


@dataclass
class Member:
    client: Api
    id: str
    phone: str
    name: str


@dataclass
class Market:
    hub_id: str
    coordinator: Member
    sellers: list
    buyers: list
    products: dict  # product_id -> {"seller_id", "initial"}
    scarce: str  # a product that runs out, so some orders are rejected

    @property
    def members(self):
        return [self.coordinator, *self.sellers, *self.buyers]

    def member(self, member_id):
        return next(member for member in self.members if member.id == member_id)


def register(api, name):
    payload = make_member(name=name)
    response = api.post("/api/v1/auth/register", json=payload)
    assert response.status_code == 201, response.text
    member = response.json()
    return Member(api.login(payload["phone"]), member["id"], member["phone"], name)


def open_market(api, admin, sellers=3, products_each=2, buyers=6, scarce_stock=30):
    """A hub with its coordinator, approved sellers with approved products (one of
    them scarce, the rest plenty) and registered buyers; every product known to the
    orders service before it returns."""
    hub_id = make_hub(admin)["id"]
    coordinator = register(api, "Koordinator Simpul")
    assign_coordinator(admin, hub_id, coordinator.id)
    approved = []
    for index in range(sellers):
        seller = register(api, f"Penjual {index}")
        approve(coordinator.client, apply(seller.client, hub_id)["id"])
        approved.append(seller)
    products = {}
    for seller in approved:
        for _ in range(products_each):
            stock = scarce_stock if not products else PLENTY
            body = make_product(hub_id, stock=stock, price=random.randrange(5_000, 50_000, 500))
            response = seller.client.post("/api/v1/products", json=body, headers=key_header())
            assert response.status_code == 201, response.text
            product_id = response.json()["id"]
            response = coordinator.client.post(f"/api/v1/products/{product_id}/approve", json={})
            assert response.status_code == 200, response.text
            products[product_id] = {"seller_id": seller.id, "initial": stock}
    buyers = [register(api, f"Pembeli {index}") for index in range(buyers)]
    market = Market(hub_id, coordinator, approved, buyers, products, next(iter(products)))
    wait_until(lambda: orderable(market), timeout=60, interval=0.5, message="products in orders")
    return market


def orderable(market):
    """Whether an order of every product is accepted (placed with a throwaway buyer's
    key that is never reused, and counted like any other order)."""
    body = order_body(market, list(market.products), quantity=1)
    buyer = market.buyers[0]
    response = buyer.client.post(
        "/api/v1/orders", json=body, headers={"Idempotency-Key": f"warm-up-{uuid.uuid4()}"}
    )
    if response.status_code == 201:
        market.warm_up = response.json()
        return True
    return False


def order_body(market, product_ids, quantity=None, rng=random):
    return {
        "hub_id": market.hub_id,
        "items": [
            {"product_id": product_id, "quantity": quantity or rng.randint(1, 3)}
            for product_id in product_ids
        ],
        "fulfilment": {"method": "pickup"},
        "payment_method": "cod",
    }


# --- phones placing orders -------------------------------------------------------


@dataclass
class Placement:
    key: str
    buyer: Member
    phase: str
    sent_at: float
    attempts: int = 0
    order_ids: set = field(default_factory=set)
    order: dict = None
    accepted_at: float = None
    refused: str = None


class Phones:
    """``phones`` concurrent buyers, each placing an order every ``interval`` seconds
    and retrying it with the same key until answered."""

    def __init__(self, api, market, phones=4, interval=1.0, give_up_after=120, seed=7):
        self.base_url = api.base_url
        self.market = market
        self.phones = phones
        self.interval = interval
        self.give_up_after = give_up_after
        self.rng = random.Random(seed)
        self.phase = "setup"
        self.placements = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = []

    def __enter__(self):
        for index in range(self.phones):
            thread = threading.Thread(target=self._phone, args=(index,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc):
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=self.give_up_after + 30)

    def _phone(self, index):
        buyers = self.market.buyers[index :: self.phones] or self.market.buyers
        for number in itertools.count():
            if self._stopping.is_set():
                return
            started = time.monotonic()
            self.place(buyers[number % len(buyers)])
            time.sleep(max(self.interval - (time.monotonic() - started), 0))

    def place(self, buyer, items=None, key=None):
        """Place one order (under ``key``, else a new one) until it is answered;
        returns the ``Placement``."""
        market = self.market
        if items is None:
            chosen = self.rng.sample(list(market.products), self.rng.choice((1, 1, 2)))
            items = order_body(market, chosen, rng=self.rng)["items"]
        body = {**order_body(market, []), "items": items}
        key = key or f"phone-{uuid.uuid4()}"
        placement = Placement(key, buyer, self.phase, time.monotonic())
        with self._lock:
            self.placements.append(placement)
        token = buyer.client.session.headers["Authorization"]
        session = requests.Session()
        deadline = placement.sent_at + self.give_up_after
        while time.monotonic() < deadline:
            placement.attempts += 1
            try:
                response = session.post(
                    f"{self.base_url}/api/v1/orders",
                    json=body,
                    headers={"Idempotency-Key": placement.key, "Authorization": token},
                    timeout=10,
                )
            except requests.RequestException:
                time.sleep(RETRY_PAUSE)
                continue
            if response.status_code == 201:
                placement.order = response.json()
                placement.order_ids.add(placement.order["id"])
                placement.accepted_at = time.monotonic()
                # a phone that lost the answer would send again: check that the same
                # key still names the same order
                return placement
            if response.status_code >= 500 or response.status_code == 429:
                time.sleep(RETRY_PAUSE)
                continue
            placement.refused = f"{response.status_code} {response.text[:300]}"
            return placement
        placement.refused = f"no answer within {self.give_up_after}s"
        return placement

    def in_phase(self, phase):
        with self._lock:
            return [placement for placement in self.placements if placement.phase == phase]


class Completer:
    """The hub's coordinator completing ``orders`` (confirmed, pickup, cash on
    delivery) one after another in a thread: ready for pickup, then completed, each
    retried over a moment of unavailability. ``completed`` holds each order as it is
    afterwards; ``during_outage`` counts those completed while ``down`` was set."""

    def __init__(self, client, orders, pause=0.3):
        self.client = client
        self.orders = orders
        self.pause = pause
        self.down = False
        self.completed = []
        self.during_outage = 0
        self._thread = threading.Thread(target=self._complete_all, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._thread.join(timeout=RETRY_GIVE_UP * len(self.orders) + 30)

    def _complete_all(self):
        for order in self.orders:
            path = f"/api/v1/orders/{order['id']}/status"
            for status in ("ready_for_pickup", "completed"):
                post_until_answered(self.client, path, {"status": status})
            self.completed.append(get(self.client, f"/api/v1/orders/{order['id']}"))
            self.during_outage += self.down
            time.sleep(self.pause)


RETRY_GIVE_UP = 60


def post_until_answered(client, path, body, headers=None):
    """POST until anything but a timeout, a 429 or a 5xx comes back (a phone's retry,
    with the same ``headers``: the same Idempotency-Key)."""
    deadline = time.monotonic() + RETRY_GIVE_UP
    while time.monotonic() < deadline:
        try:
            response = client.post(path, json=body, headers=headers, timeout=10)
        except requests.RequestException:
            time.sleep(RETRY_PAUSE)
            continue
        if response.status_code < 500 and response.status_code != 429:
            return response
        time.sleep(RETRY_PAUSE)
    raise AssertionError(f"POST {path} kept failing")


def settled_shares(orders):
    """``{(order number, seller_id): sale}`` the ledger owes for settled ``orders``:
    each seller's lines less the hub's commission, rounded half up (DESIGN §8)."""
    due = {}
    for order in orders:
        if order["status"] != "completed" or order["payment_status"] != "paid":
            continue
        gross = collections.Counter()
        for line in order["items"]:
            gross[line["seller_id"]] += line["line_total"]
        for seller_id, amount in gross.items():
            commission = (amount * order["commission_percent"] + 50) // 100
            due[(order["number"], seller_id)] = amount - commission
    return due


def ledger_entries(client, market):
    """``{(order number, seller_id): [amount, …]}`` of every sale entry of the market's
    sellers, from their statements as the coordinator reads them."""
    found = collections.defaultdict(list)
    for seller in market.sellers:
        path = f"/api/v1/hubs/{market.hub_id}/sellers/{seller.id}/statement"
        for entry in get(client, path)["entries"]:
            if entry["kind"] == "sale":
                found[(entry["order_number"], seller.id)].append(entry["amount"])
    return found


# --- a broadcast -----------------------------------------------------------------


class GroupBroadcast:
    """A group of ``contacts`` phones in the market's hub, one in ``stop_every`` of
    which said ``BERHENTI`` by SMS, and a broadcast to it that meets a fault:
    ``prepare`` builds the group (each contact welcomed), ``fault`` is the fault
    suite's row (the coordinator broadcasts, notifications is killed with SIGKILL when
    a quarter of the messages are out, and started again; caught up when every
    opted-in phone has its message), ``audit`` what must hold afterwards."""

    NAME = "kill -9 notif. broadcast"
    BROADCAST_MARK = "Balas PESAN"  # in a broadcast's message, not in a welcome

    def __init__(self, api, market, sink, contacts=300, stop_every=10, down=3.0):
        self.api = api
        self.market = market
        self.sink = sink
        self.locals = [make_phone() for _ in range(contacts)]
        self.phones = [e164(local) for local in self.locals]
        self.stopped = set(self.phones[::stop_every])
        self.down = down
        self.broadcast_id = None

    @property
    def opted_in(self):
        return set(self.phones) - self.stopped

    def prepare(self):
        client = self.market.coordinator.client
        group = _created(
            client,
            f"/api/v1/hubs/{self.market.hub_id}/groups",
            {"name": "Jamaah Al-Ikhlas Dusun Krajan", "kind": "jamaah"},
        )
        self.group_id = group["id"]
        for index, local in enumerate(self.locals):
            body = {"phone": local, "name": f"Kontak {index}"}
            _created(client, f"/api/v1/groups/{self.group_id}/contacts", body)
        wait_until(
            lambda: all(self.sink.to(phone) for phone in self.phones),
            timeout=120,
            interval=0.5,
            message="every contact welcomed",
        )
        for phone in self.stopped:
            sender = Phone(self.api, self.sink, number=self.local_of(phone))
            sender.send("BERHENTI")
        # messaging answers each BERHENTI once it has published the consent
        wait_until(
            lambda: all(len(self.sink.to(phone)) >= 2 for phone in self.stopped),
            timeout=60,
            interval=0.5,
            message="every BERHENTI answered",
        )
        return self

    def local_of(self, phone):
        return self.locals[self.phones.index(phone)]

    def fault(self, stack, sink):
        products = list(self.market.products)[:3]
        broadcast = _created(
            self.market.coordinator.client,
            f"/api/v1/groups/{self.group_id}/broadcasts",
            {"product_ids": products},
            headers=key_header(),
        )
        self.broadcast_id = broadcast["id"]
        wait_until(
            lambda: len(self.arrived()) >= len(self.opted_in) // 4,
            timeout=120,
            interval=0.1,
            message="a quarter of the broadcast out",
        )
        stack.stop("notifications", sig=signal.SIGKILL)
        self.at_kill = len(self.arrived())
        time.sleep(self.down)
        stack.start("notifications")
        return lambda: self.arrived() >= self.opted_in

    def arrived(self):
        return {
            phone
            for phone, n in received_once(self.sink, self.phones, self.BROADCAST_MARK).items()
            if n
        }

    def audit(self):
        """Each opted-in contact got the broadcast once (counted per Idempotency-Key),
        those who said BERHENTI none; the broadcast's counts say the same. Returns
        ``(messages sent again under their first key, the counts)``."""
        assert self.at_kill < len(self.opted_in), "the broadcast was over before the kill"
        once = received_once(self.sink, self.phones, self.BROADCAST_MARK)
        twice = {phone: n for phone, n in once.items() if n > 1}
        missing = {phone for phone in self.opted_in if once[phone] == 0}
        told = {phone for phone in self.stopped if once[phone]}
        assert (twice, missing, told) == ({}, set(), set())
        marked = [m for m in self.sink.messages if self.BROADCAST_MARK in m["message"]]
        resent = sum(1 for m in marked if m["to"] in self.phones) - len(self.opted_in)
        counts = get(self.market.coordinator.client, f"/api/v1/broadcasts/{self.broadcast_id}")
        assert (counts["sent"], counts["opted_out"]) == (len(self.opted_in), len(self.stopped))
        return resent, counts


def _created(client, path, body, headers=None):
    response = post_until_answered(client, path, body, headers)
    assert response.status_code in (201, 202), f"{path}: {response.status_code} {response.text}"
    return response.json()


# --- faults ----------------------------------------------------------------------


def parked_events(vhost):
    """How many events wait in the dead-letter queue of ``vhost``."""
    response = requests.get(
        f"{vhost.broker.management_api}/queues/{vhost.name}/{DEAD_LETTER_QUEUE}", timeout=10
    )
    return response.json().get("messages", 0) if response.status_code == 200 else 0


# --- what came out ---------------------------------------------------------------


def get(client, path, **params):
    """GET with retries over a moment of unavailability; returns the JSON."""
    for _ in range(20):
        try:
            response = client.get(path, params=params, timeout=10)
        except requests.RequestException:
            time.sleep(RETRY_PAUSE)
            continue
        if response.status_code < 500:
            assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
            return response.json()
        time.sleep(RETRY_PAUSE)
    raise AssertionError(f"GET {path} kept failing")


def every(client, path, **params):
    """Every item of a paged list."""
    items = []
    for page in itertools.count(1):
        body = get(client, path, page=page, page_size=100, **params)
        items.extend(body["items"])
        if len(items) >= body["total"] or not body["items"]:
            return items


def orders_of(market):
    """Every order of every buyer, by id."""
    return {
        order["id"]: order
        for buyer in market.buyers
        for order in every(buyer.client, "/api/v1/orders", **{"as": "buyer"})
    }


def notifications_of(market):
    """``{member_id: [notification, …]}`` for every member of the market."""
    return {member.id: every(member.client, "/api/v1/notifications") for member in market.members}


def decided_at(order):
    """When the saga decided the order (its confirmed/rejected history entry)."""
    for entry in order["history"]:
        if entry["status"] in FINAL:
            return parse_time(entry["at"])
    return None


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def expected_notifications(orders, market):
    """``Counter((member_id, template, number))`` each accepted order is due."""
    due = collections.Counter()
    for order in orders:
        for seller_id in order["seller_ids"]:
            due[(seller_id, "order_placed_seller", order["number"])] += 1
        if order["status"] in FINAL:
            due[(order["buyer_id"], f"order_{order['status']}", order["number"])] += 1
        if order["status"] == "rejected":  # the sellers need not prepare it after all
            for seller_id in set(order["seller_ids"]) - {order["buyer_id"]}:
                due[(seller_id, "order_rejected_seller", order["number"])] += 1
    return due


def order_notifications(notifications):
    """``Counter((member_id, template, number))`` of the order messages stored."""
    told = collections.Counter()
    for member_id, items in notifications.items():
        for item in items:
            if item["template"].startswith("order_") and item.get("text"):
                words = (word.strip(":(),.") for word in item["text"].split())
                number = next((word for word in words if word.startswith("KD-")), None)
                told[(member_id, item["template"], number)] += 1
    return told


def probe(sink, phones, market, caught_up=None, within=150):
    """Place one order and wait until it is decided and its seller has the SMS (and
    ``caught_up()``, if given) for up to ``within`` seconds; returns when that happened
    (monotonic), or ``None``."""
    product_id = next(p for p in market.products if p != market.scarce)
    placement = phones.place(market.buyers[0], [{"product_id": product_id, "quantity": 1}])
    if placement.order is None:
        return None
    order, seller = placement.order, market.member(market.products[product_id]["seller_id"])

    def through():
        decided = get(market.buyers[0].client, f"/api/v1/orders/{order['id']}")
        told = any(order["number"] in message["message"] for message in sink.to(seller.phone))
        return decided["status"] in FINAL and told and (caught_up is None or caught_up())

    try:
        wait_until(through, timeout=within, interval=0.2, message="probe order")
    except AssertionError:
        return None
    return time.monotonic()


def settled(market, sink, accepted_ids):
    """Every order decided, every notification sent and at the sink."""
    orders = orders_of(market)
    if not accepted_ids <= set(orders):
        return False
    if any(order["status"] not in FINAL for order in orders.values()):
        return False
    notifications = notifications_of(market)
    if any(n["status"] != "sent" for items in notifications.values() for n in items):
        return False
    if expected_notifications(orders.values(), market) - order_notifications(notifications):
        return False
    return orders, notifications


def fill_rows(phases, placements, orders, warm_up):
    """Per fault: what was sent, accepted, refused, lost, duplicated, retried, and the
    slowest decision of the saga."""
    rows = {name: row for name, (_, row) in phases.items()}
    starts = sorted((start, name) for name, (start, _) in phases.items())
    claimed = set().union(*(placement.order_ids for placement in placements))
    for placement in placements:
        row = rows.get(placement.phase)
        if row is None:
            continue
        row.sent += 1
        row.retried += placement.attempts - 1
        if placement.refused:
            row.refused += 1
            continue
        row.accepted += 1
        if len(placement.order_ids) > 1:
            row.duplicated += len(placement.order_ids) - 1
        order = orders.get(placement.order["id"])
        if order is None:
            row.lost += 1
            continue
        decided = decided_at(order)
        if decided is not None:
            took = (decided - parse_time(order["created_at"])).total_seconds()
            row.slowest = max(row.slowest or 0.0, took)
    # an order nobody was told about (a retry that made a second order) counts as a
    # duplicate of the fault during which it was created
    for order_id, order in orders.items():
        if order_id in claimed or order_id == warm_up:
            continue
        created = parse_time(order["created_at"])
        during = [name for start, name in starts if start <= created]
        if during:
            rows[during[-1]].duplicated += 1
    return list(rows.values())


@dataclass
class Row:
    fault: str
    down: float = 0.0
    sent: int = 0
    accepted: int = 0
    refused: int = 0
    lost: int = 0
    duplicated: int = 0
    retried: int = 0
    recovery: float = None
    slowest: float = None


COLUMNS = """\
down s      how long the fault lasted (kill to restart; broker stopped; SMS refused)
sent        orders first sent during the fault's phase (each its own Idempotency-Key)
accepted    of those, answered 201 (after retries with the same key)
refused     of those, never accepted (a 4xx, or no answer within the phones' patience)
lost        accepted, yet missing afterwards
duplicated  a second order made by retrying a key
retried     extra attempts the phones made (timeouts, dropped connections, 5xx)
recovery s  from lifting the fault until a new order was accepted, decided by the stock
            saga and its seller had the SMS (SMS fault: and every refused SMS was resent)
slowest s   the longest an order of the phase waited for its confirmation or rejection"""


def table(rows):
    header = (
        f"{'fault':<24}{'down s':>7}{'sent':>6}{'accepted':>9}{'refused':>8}{'lost':>6}"
        f"{'duplicated':>11}{'retried':>8}{'recovery s':>11}{'slowest s':>10}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        recovery = "-" if row.recovery is None else f"{row.recovery:.1f}"
        slowest = "-" if row.slowest is None else f"{row.slowest:.1f}"
        lines.append(
            f"{row.fault:<24}{row.down:>7.1f}{row.sent:>6}{row.accepted:>9}{row.refused:>8}"
            f"{row.lost:>6}{row.duplicated:>11}{row.retried:>8}{recovery:>11}{slowest:>10}"
        )
    return "\n".join(lines)
