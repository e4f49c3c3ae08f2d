"""A broadcast to a group of 5,000 contacts: how long until every message is at the
SMS provider, how many messages a second that is, and the notifications process's
peak memory.

    python -m bench.broadcast [--contacts 5000] [--rate 1000] [--via events|api]

The stack runs as ``make run`` starts it (``bench.common``), with
``KOMPOR_BROADCAST_RATE=--rate`` and SMS to a local provider stand-in that notes when
each message arrives. ``--via events`` (the default) measures notifications alone:
``broadcast_requested`` with ``--contacts`` recipients is published on community's
exchange as community's relay would. ``--via api`` goes through the gateway as a
coordinator would: a hub, a coordinator, a seller with three approved products, a
group of ``--contacts`` contacts (each welcomed by SMS first, not timed), then
``POST /api/v1/groups/{id}/broadcasts``, timed from that request.

Printed, never asserted: the time until every message was stored (``broadcast_counts``
``total``), until every one was at the provider, the messages a second from the first
to the last, messages the provider got twice, and the peak RSS of notifications. At the
default ``KOMPOR_BROADCAST_RATE`` (20) 5,000 messages take 250 s by design; a high
``--rate`` shows what one notifications process can do.
"""

import argparse
import os
import sys
import time
import uuid

from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ClusterRpcProxy

from bench.common import ADMIN_PASSWORD, ADMIN_PHONE, peak_rss_mb, running_stack, stop_on_sigterm
from services.common.phone import normalise_phone
from tests.support.api import Api, e164, make_member
from tests.support.catalogue import key_header, make_product
from tests.support.events import envelope

SENT_WITHIN = 900
PRODUCTS = [
    ("Keripik Tempe Pedas Manis Khas Malang", 12_500),
    ("Kopi Robusta Dampit Bubuk 250 gram", 40_000),
    ("Sambal Bawang Bu Siti Botol Besar", 25_000),
]


def phone_number(index):
    return f"0813{index:08d}"


def recipients(count):
    return [{"phone": e164(phone_number(i)), "name": f"Kontak {i}"} for i in range(count)]


def by_events(stack, args):
    """``broadcast_requested`` published directly; returns (broadcast id, when sent)."""
    data = {
        "broadcast_id": uuid.uuid4().hex,
        "hub_id": uuid.uuid4().hex,
        "hub_name": "Simpul Dau",
        "group_id": uuid.uuid4().hex,
        "group_name": "Jamaah Al-Ikhlas",
        "products": [
            {"id": uuid.uuid4().hex, "code": f"K{n}MA", "name": name, "price": price}
            for n, (name, price) in enumerate(PRODUCTS, 2)
        ],
        "recipients": recipients(args.contacts),
    }
    dispatch = event_dispatcher({"AMQP_URI": stack.amqp_uri, "serializer": "json"})
    started = time.perf_counter()
    dispatch("community", "broadcast_requested", envelope(data))
    return data["broadcast_id"], started


def by_api(stack, args):
    """The whole way through the gateway; returns (broadcast id, when it was asked)."""
    api = Api(stack.url)
    admin = api.login(ADMIN_PHONE, ADMIN_PASSWORD)
    hub = created(admin, "/api/v1/hubs", hub_body())
    coordinator, member = registered(api)
    created(admin, f"/api/v1/hubs/{hub['id']}/coordinators", {"member_id": member["id"]}, 200)
    seller, _ = registered(api)
    applied = created(seller, f"/api/v1/hubs/{hub['id']}/memberships", seller_application())
    created(coordinator, f"/api/v1/memberships/{applied['id']}/approve", {}, 200)
    product_ids = []
    for name, price in PRODUCTS:
        body = make_product(hub["id"], name=name, price=price)
        product = created(seller, "/api/v1/products", body, headers=key_header())
        created(coordinator, f"/api/v1/products/{product['id']}/approve", {}, 200)
        product_ids.append(product["id"])
    group = created(
        coordinator, f"/api/v1/hubs/{hub['id']}/groups", {"name": "Jamaah", "kind": "jamaah"}
    )
    for index in range(args.contacts):
        body = {"phone": phone_number(index), "name": f"Kontak {index}"}
        created(coordinator, f"/api/v1/groups/{group['id']}/contacts", body)
    welcomed = {e164(phone_number(i)) for i in range(args.contacts)}
    wait_for(lambda: welcomed <= {m["to"] for m in list(stack.provider.messages)}, "welcomes")
    time.sleep(10)  # the showroom copy in the gateway learns the products
    started = time.perf_counter()
    broadcast = created(
        coordinator,
        f"/api/v1/groups/{group['id']}/broadcasts",
        {"product_ids": product_ids},
        202,
        headers=key_header(),
    )
    return broadcast["id"], started


def hub_body():
    return {
        "name": f"Simpul Bench {uuid.uuid4().hex[:6]}",
        "village": "Mulyoagung",
        "district": "Dau",
        "regency": "Malang",
        "province": "Jawa Timur",
        "address": "Jl. Raya Mulyoagung 12",
    }


def seller_application():
    return {"role": "seller", "business_name": "Keripik Bu Siti"}


def registered(api):
    payload = make_member()
    member = created(api, "/api/v1/auth/register", payload)
    return api.login(payload["phone"], payload["password"]), member


def created(client, path, body, status=201, headers=None):
    response = client.post(path, json=body, headers=headers)
    if response.status_code != status:
        raise RuntimeError(f"POST {path}: {response.status_code} {response.text[:300]}")
    return response.json()


def wait_for(probe, what, within=SENT_WITHIN):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if probe():
            return True
        time.sleep(0.1)
    print(f"  gave up waiting for {what} after {within} s", file=sys.stderr)
    return False


def bench(args):
    os.environ["KOMPOR_BROADCAST_RATE"] = str(args.rate)
    with running_stack() as stack:
        provider = stack.provider
        broadcast_id, started = (by_api if args.via == "api" else by_events)(stack, args)
        before = len(provider.messages) if args.via == "api" else 0
        config = {"AMQP_URI": stack.amqp_uri, "serializer": "json"}
        stored_at = None
        with ClusterRpcProxy(config, timeout=30) as proxy:
            while stored_at is None and time.perf_counter() - started < SENT_WITHIN:
                if proxy.notifications.broadcast_counts(broadcast_id)["total"] >= args.contacts:
                    stored_at = time.perf_counter()
                time.sleep(0.05)
        wait_for(lambda: len(provider.messages) - before >= args.contacts, "every message")
        with ClusterRpcProxy(config, timeout=30) as proxy:
            counts = proxy.notifications.broadcast_counts(broadcast_id)
        stack.check()
        rss = peak_rss_mb(stack.processes["notifications"].pid)

    arrived = [m for m in list(provider.messages)[before:] if "PESAN" in m["message"]]
    phones = {normalise_phone(r["phone"]) for r in recipients(args.contacts)}
    got = {m["to"] for m in arrived} & phones
    times = sorted(m["at"] for m in arrived)
    last = times[-1] if times else float("nan")
    span = last - times[0] if len(times) > 1 else float("nan")
    print(
        f"broadcast benchmark: {args.contacts} contacts, via {args.via}, "
        f"KOMPOR_BROADCAST_RATE={args.rate:g}, the stack as processes"
    )
    print(f"  all stored (total {counts['total']})    {seconds(stored_at, started)}")
    print(f"  all at the SMS provider      {seconds(last, started)}")
    rate = (len(times) - 1) / span if span == span and span > 0 else float("nan")
    print(f"  first to last message        {rate:8.1f} messages/s")
    print(
        f"  reached                      {len(got)} of {len(phones)} phones, "
        f"{len(arrived) - len(got)} twice; counts {counts}"
    )
    print(f"  notifications peak RSS       {rss:8.1f} MB" if rss else "  peak RSS n/a")
    return 0


def seconds(at, started):
    return "n/a" if at is None or at != at else f"{at - started:8.1f} s"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.broadcast", description=__doc__)
    parser.add_argument("--contacts", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=1000.0, help="KOMPOR_BROADCAST_RATE")
    parser.add_argument("--via", choices=("events", "api"), default="events")
    args = parser.parse_args(argv)
    stop_on_sigterm()
    return bench(args)


if __name__ == "__main__":
    sys.exit(main())
