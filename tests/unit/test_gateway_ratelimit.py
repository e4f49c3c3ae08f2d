"""The gateway's token buckets and how it tells who the client is."""

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from services.gateway.ratelimit import Buckets, resolve_address, trusted_networks


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_client_spends_its_burst_then_waits_for_the_refill():
    clock = Clock()
    buckets = Buckets(rate=2, burst=3, clock=clock)
    assert [buckets.take("a") for _ in range(4)] == [0, 0, 0, 1]
    assert buckets.take("b") == 0  # everyone has a bucket of their own
    clock.now += 0.5
    assert buckets.take("a") == 0


def test_idle_buckets_are_forgotten_and_memory_stays_bounded():
    clock = Clock()
    buckets = Buckets(rate=1, burst=5, capacity=100, clock=clock)
    for n in range(1000):
        buckets.take(f"client-{n}")
    assert len(buckets) == 100
    clock.now += 5  # all refilled: the same as new
    buckets.take("late")
    assert len(buckets) == 1


def request(remote, forwarded=None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    environ = EnvironBuilder(headers=headers, environ_base={"REMOTE_ADDR": remote}).get_environ()
    return Request(environ)


def test_forwarded_for_counts_only_from_a_trusted_proxy():
    trusted = trusted_networks("10.0.0.5, 172.16.0.0/12")
    assert resolve_address(request("198.51.100.1", "203.0.113.9")) == "198.51.100.1"
    assert resolve_address(request("198.51.100.1", "203.0.113.9"), trusted) == "198.51.100.1"
    assert resolve_address(request("10.0.0.5", "203.0.113.9"), trusted) == "203.0.113.9"
    # what the client wrote itself, left of the proxies' hops, is not believed
    chain = "1.2.3.4, 203.0.113.9, 172.16.3.4"
    assert resolve_address(request("10.0.0.5", chain), trusted) == "203.0.113.9"
    assert resolve_address(request("10.0.0.5", "garbage, 172.16.3.4"), trusted) == "172.16.3.4"
    assert resolve_address(request("10.0.0.5"), trusted) == "10.0.0.5"
