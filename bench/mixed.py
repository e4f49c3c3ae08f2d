"""The mixed load: of the requests 80 % browse the showroom (the queries of
``bench.showroom``), 15 % place an order (a new ``Idempotency-Key`` each) and 5 % are a
coordinator's reading (the hub's orders, its sales report, pending memberships).

Moving orders on (ready for pickup, completed) is left out: each order takes each
step once, and a list of requests that the load goes round would repeat them.
"""

import urllib.parse

from bench import orders, showroom
from bench.load import Request

MIX = (("browse", 80), ("order", 15), ("coordinate", 5))
SIZE = 400  # requests in the list the load goes round


def coordinating(market):
    """The coordinator's reading of the market's hub."""
    hub, signed = market.hub_id, orders.signed_in(market.coordinator)
    query = urllib.parse.urlencode({"as": "coordinator", "hub_id": hub})
    return [
        Request("GET", f"/api/v1/orders?{query}", signed),
        Request("GET", f"/api/v1/hubs/{hub}/reports/sales", signed),
        Request("GET", f"/api/v1/hubs/{hub}/memberships?status=pending", signed),
    ]


def requests(market, hub_ids, product_ids, rng):
    """``SIZE`` requests in ``MIX``'s shares, shuffled."""
    browsing = showroom.queries([*hub_ids, market.hub_id], product_ids, rng)
    pools = {
        "browse": [request for variants in browsing.values() for request in variants],
        "order": orders.placements(market),
        "coordinate": coordinating(market),
    }
    mixed = [rng.choice(pools[kind]) for kind, share in MIX for _ in range(SIZE * share // 100)]
    rng.shuffle(mixed)
    return mixed
