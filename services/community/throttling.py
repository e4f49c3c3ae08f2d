"""Login throttling: wrong passwords are slowed down without letting anyone lock a
member out of their own account.

A guesser is counted where they cannot escape the count and where the count cannot
hurt anyone else:

- per phone and client address (the *pair*): 5 wrong passwords are free, then the
  pair waits 30 s, doubling up to 15 min, until a right password clears it. Someone
  guessing a member's password from elsewhere never locks the member's own pair.
- per client address, across phones: 30 wrong passwords an hour are free, then the
  address waits (30 s doubling up to 15 min): one address cannot try one password on
  every phone.
- per phone, from every address: past 20 wrong passwords (forgotten after a day
  without one) the phone is *slowed*, never locked: each pair gets one free wrong
  password instead of five. A pair that has not failed is never refused because of
  the phone, so its owner, from their own address, always gets in.

Every attempt is counted *before* the password is checked, as if it were wrong: a
counter is reserved in one conditional write (compare-and-set on its count), so many
guesses sent at once meet the lock that the first of them set instead of all passing
while the slow hash runs. A right password gives its reservation back. Counters expire
a day after their last attempt (a TTL index on ``updated_at``).

No nameko, no pymongo: the repository applies these rules to the
``login_attempts`` documents ``{_id, failures, started_at, locked_until,
updated_at}``.
"""

import dataclasses
import datetime
import ipaddress

from services.common.envelope import utcnow
from services.community.domain import FREE_LOGIN_FAILURES, check_not_locked, lockout_after

ADDRESS_FREE_FAILURES = 30
ADDRESS_WINDOW = datetime.timedelta(hours=1)
PHONE_SLOW_AFTER = 20
SLOWED_PAIR_FREE_FAILURES = 1
ATTEMPTS_KEPT = datetime.timedelta(days=1)
UNKNOWN_ADDRESS = "unknown"


@dataclasses.dataclass(frozen=True)
class Throttle:
    """One counter: ``key`` of its document, ``free`` wrong passwords before the
    lockouts start, and ``window`` after which its count starts again (``None``: only
    a right password or the TTL clears it)."""

    key: str
    free: int
    window: datetime.timedelta | None = None


def client_key(address):
    """The address a client is counted under: IPv6 clients by their /64 (one
    subscriber's whole prefix), an IPv4-mapped address as IPv4, anything unreadable
    as one shared ``unknown``."""
    try:
        ip = ipaddress.ip_address(str(address or "").strip())
    except ValueError:
        return UNKNOWN_ADDRESS
    if ip.version == 6 and ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def phone_key(phone):
    return f"phone:{phone}"


def pair_key(phone, client):
    return f"pair:{phone}|{client}"


def throttles(phone, address, phone_failures):
    """The counters one attempt on ``phone`` from ``address`` reserves, in order (the
    address first: an address that is locked out never touches the pair)."""
    client = client_key(address)
    slowed = phone_failures >= PHONE_SLOW_AFTER
    pair_free = SLOWED_PAIR_FREE_FAILURES if slowed else FREE_LOGIN_FAILURES
    return [
        Throttle(f"address:{client}", ADDRESS_FREE_FAILURES, ADDRESS_WINDOW),
        Throttle(pair_key(phone, client), pair_free),
    ]


def reserve(attempts, throttle, now=None):
    """The counter after one more attempt, counted as wrong until the password proves
    right; ``TooManyAttempts`` (with ``retry_after``) while it is locked."""
    now = _to_store_precision(now or utcnow())
    attempts = attempts or {}
    check_not_locked(attempts, now)
    failures = attempts.get("failures", 0)
    started = attempts.get("started_at") or now
    if throttle.window is not None and now - started >= throttle.window:
        failures, started = 0, now
    failures += 1
    lockout = lockout_after(failures, throttle.free)
    return {
        "failures": failures,
        "started_at": started,
        "locked_until": now + lockout if lockout else None,
        "updated_at": now,
    }


def _to_store_precision(moment):
    # the store keeps milliseconds: what is written is what a later comparison reads
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
