"""The login throttling rules, without a store."""

import datetime

import pytest

from services.common.envelope import utcnow
from services.community import domain, throttling
from services.community.exceptions import TooManyAttempts

PAIR = throttling.Throttle("pair:+6281234567890|192.0.2.1", domain.FREE_LOGIN_FAILURES)
ADDRESS = throttling.Throttle(
    "address:192.0.2.1", throttling.ADDRESS_FREE_FAILURES, throttling.ADDRESS_WINDOW
)


def reserve_many(throttle, count, now):
    attempts = None
    for _ in range(count):
        attempts = throttling.reserve(attempts, throttle, now)
    return attempts


def test_the_attempt_that_reaches_the_free_failures_locks_before_its_password_is_checked():
    now = utcnow().replace(microsecond=0)
    attempts = reserve_many(PAIR, domain.FREE_LOGIN_FAILURES - 1, now)
    assert attempts["locked_until"] is None
    attempts = throttling.reserve(attempts, PAIR, now)
    assert attempts["locked_until"] - now == domain.FIRST_LOCKOUT
    with pytest.raises(TooManyAttempts) as refused:
        throttling.reserve(attempts, PAIR, now)
    assert refused.value.details["retry_after"] == ["31"]


def test_an_address_starts_counting_again_after_its_window():
    now = utcnow().replace(microsecond=0)
    attempts = reserve_many(ADDRESS, throttling.ADDRESS_FREE_FAILURES - 1, now)
    later = now + throttling.ADDRESS_WINDOW
    assert throttling.reserve(attempts, ADDRESS, later)["failures"] == 1
    assert throttling.reserve(attempts, PAIR, later)["failures"] == attempts["failures"] + 1


def test_a_phone_under_attack_gives_each_pair_one_free_try_and_never_refuses_a_new_pair():
    calm, slowed = (
        throttling.throttles("+6281234567890", "192.0.2.1", failures)
        for failures in (throttling.PHONE_SLOW_AFTER - 1, throttling.PHONE_SLOW_AFTER)
    )
    assert calm[-1].free == domain.FREE_LOGIN_FAILURES
    assert slowed[-1].free == 1
    first = throttling.reserve(None, slowed[-1])  # a pair that has not failed gets its try
    assert first["failures"] == 1 and first["locked_until"] is not None


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        (None, "unknown"),
        ("not an address", "unknown"),
    ],
)
def test_clients_are_counted_by_address_and_ipv6_by_its_prefix(address, key):
    assert throttling.client_key(address) == key


def test_lockouts_stay_at_the_longest_however_many_failures():
    assert domain.lockout_after(10_000) == domain.LONGEST_LOCKOUT
    assert domain.lockout_after(1, free=1) == domain.FIRST_LOCKOUT
    assert domain.lockout_after(0, free=1) == datetime.timedelta(0)
