"""Login throttling holds across the gateway, and cannot be turned against the owner.

test_members shows wrong passwords being slowed down through one gateway with one
spelling of the phone. Here an attacker spreads the guesses over two gateway
replicas and over every local form of the number: the count is one, kept by
community for the number itself. Guesses from other addresses, many at once, or on
every phone meet their own limits without locking the owner out; the gateway's rate
limit answers 429 with ``Retry-After``; what is counted expires.

The gateway here trusts 127.0.0.1 as a proxy, so ``X-Forwarded-For`` plays the
client's address.
"""

import datetime

import eventlet
import pytest
from nameko.testing.utils import find_free_port

from services.common.envelope import utcnow
from services.common.events import INBOX_KEPT
from services.common.mongo import database_name, mongo_client
from services.community import service as community_service
from services.community.domain import FREE_LOGIN_FAILURES as FREE_FAILURES
from services.community.throttling import (
    ADDRESS_FREE_FAILURES,
    ATTEMPTS_KEPT,
    PHONE_SLOW_AFTER,
)
from services.gateway.service import GatewayService
from tests.conftest import KOMPOR_ADMIN_PASSWORD, KOMPOR_ADMIN_PHONE
from tests.support.api import DEFAULT_PASSWORD, Api, make_member, make_phone

OWNER_ADDRESS = "198.51.100.20"
ATTACKER_ADDRESS = "203.0.113.7"


@pytest.fixture
def config(config):
    return {**config, "KOMPOR_TRUSTED_PROXIES": "127.0.0.1"}


def log_in(api, phone, password, address):
    return api.post(
        "/api/v1/auth/token",
        json={"phone": phone, "password": password},
        headers={"X-Forwarded-For": address},
    )


def assert_told_to_wait(response):
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "RATE_LIMITED"
    assert int(response.headers["Retry-After"]) > 0


def local_forms(phone):
    """``0812…`` → the same number as people write it."""
    number = phone[1:]
    return [
        phone,
        f"0{number[:3]}-{number[3:7]}-{number[7:]}",
        f"62{number}",
        f"+62 {number[:3]} {number[3:7]} {number[7:]}",
        f"(+62) {number}",
    ]


def test_guesses_spread_over_two_gateways_and_every_phone_form_are_counted_as_one(
    stack, container_factory, config
):
    address = f"127.0.0.1:{find_free_port()}"
    container_factory(GatewayService, {**config, "WEB_SERVER_ADDRESS": address}).start()
    gateways = [stack.api, Api(f"http://{address}")]
    member = make_member()
    assert gateways[1].post("/api/v1/auth/register", json=member).status_code == 201
    forms = local_forms(member["phone"])

    def guess(attempt, password="bukan-sandinya"):
        gateway = gateways[attempt % 2]
        phone = forms[attempt % len(forms)]
        return gateway.post("/api/v1/auth/token", json={"phone": phone, "password": password})

    assert [guess(n).status_code for n in range(FREE_FAILURES)] == [401] * FREE_FAILURES
    locked = [guess(n) for n in range(FREE_FAILURES, FREE_FAILURES + 4)]
    assert [response.status_code for response in locked] == [429] * 4
    error = locked[0].json()["error"]
    assert error["code"] == "RATE_LIMITED" and int(error["details"]["retry_after"][0]) > 0
    # the right password waits too, whichever gateway and spelling it comes through
    for attempt in range(2):
        assert guess(attempt, DEFAULT_PASSWORD).status_code == 429


def test_an_attacker_elsewhere_cannot_lock_the_owner_out(api):
    wrong = "bukan-sandinya"
    statuses = [
        log_in(api, KOMPOR_ADMIN_PHONE, wrong, ATTACKER_ADDRESS).status_code
        for _ in range(FREE_FAILURES + 3)
    ]
    assert statuses == [401] * FREE_FAILURES + [429] * 3
    assert_told_to_wait(log_in(api, KOMPOR_ADMIN_PHONE, wrong, ATTACKER_ADDRESS))
    # the attacker's own address waits even with the right password
    assert_told_to_wait(log_in(api, KOMPOR_ADMIN_PHONE, KOMPOR_ADMIN_PASSWORD, ATTACKER_ADDRESS))
    owner = log_in(api, KOMPOR_ADMIN_PHONE, KOMPOR_ADMIN_PASSWORD, OWNER_ADDRESS)
    assert owner.status_code == 200, owner.text


def test_guesses_from_many_addresses_slow_the_phone_but_never_lock_its_owner(api):
    wrong = "bukan-sandinya"
    for n in range(PHONE_SLOW_AFTER):
        assert log_in(api, KOMPOR_ADMIN_PHONE, wrong, f"203.0.113.{n + 1}").status_code == 401
    # the phone is slowed: an address that failed once on it now waits at once
    assert log_in(api, KOMPOR_ADMIN_PHONE, wrong, "192.0.2.1").status_code == 401
    assert_told_to_wait(log_in(api, KOMPOR_ADMIN_PHONE, wrong, "192.0.2.1"))
    # an address that has not failed on it still gets in, every time
    for _ in range(2):
        owner = log_in(api, KOMPOR_ADMIN_PHONE, KOMPOR_ADMIN_PASSWORD, OWNER_ADDRESS)
        assert owner.status_code == 200, owner.text


def test_guesses_sent_at_once_get_no_more_through_than_one_at_a_time(api, monkeypatch):
    member = make_member()
    assert api.post("/api/v1/auth/register", json=member).status_code == 201
    real_verify = community_service.verify_password

    def slow_verify(password_hash, password):
        eventlet.sleep(0.3)  # the production hash takes about this long
        return real_verify(password_hash, password)

    monkeypatch.setattr(community_service, "verify_password", slow_verify)
    pool = eventlet.GreenPool(20)
    responses = list(
        pool.imap(
            lambda _: log_in(api, member["phone"], "bukan-sandinya", ATTACKER_ADDRESS), range(20)
        )
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [401] * FREE_FAILURES + [429] * (20 - FREE_FAILURES)


def test_one_address_cannot_try_a_password_on_every_phone(api):
    for _ in range(ADDRESS_FREE_FAILURES):
        assert log_in(api, make_phone(), "sandi-umum-123", ATTACKER_ADDRESS).status_code == 401
    assert_told_to_wait(log_in(api, make_phone(), "sandi-umum-123", ATTACKER_ADDRESS))
    assert_told_to_wait(log_in(api, KOMPOR_ADMIN_PHONE, KOMPOR_ADMIN_PASSWORD, ATTACKER_ADDRESS))
    owner = log_in(api, KOMPOR_ADMIN_PHONE, KOMPOR_ADMIN_PASSWORD, OWNER_ADDRESS)
    assert owner.status_code == 200, owner.text


def test_the_gateway_answers_a_client_over_its_rate_429_with_retry_after(
    stack, container_factory, config
):
    address = f"127.0.0.1:{find_free_port()}"
    small = {"KOMPOR_RATE_LIMIT": 0.5, "KOMPOR_RATE_BURST": 3, "WEB_SERVER_ADDRESS": address}
    container_factory(GatewayService, {**config, **small}).start()
    limited = Api(f"http://{address}")
    body = {"phone": KOMPOR_ADMIN_PHONE, "password": KOMPOR_ADMIN_PASSWORD}
    token = stack.api.post("/api/v1/auth/token", json=body).json()["access_token"]
    as_member = Api(f"http://{address}", token=token)

    assert [limited.get("/healthz").status_code for _ in range(3)] == [200] * 3
    refused = limited.get("/healthz")
    assert_told_to_wait(refused)
    assert int(refused.headers["Retry-After"]) <= 2
    # another address, and a member, each have a bucket of their own
    other = limited.get("/healthz", headers={"X-Forwarded-For": OWNER_ADDRESS})
    assert other.status_code == 200
    assert [as_member.get("/api/v1/me").status_code for _ in range(3)] == [200] * 3
    assert_told_to_wait(as_member.get("/api/v1/me"))


def test_login_attempts_and_handled_events_expire(stack, config):
    client = mongo_client(config)
    attempts = client[database_name("community")].login_attempts
    inbox = client[database_name("notifications")].inbox

    def ttl_of(collection, field):
        return {
            tuple(index["key"]): index.get("expireAfterSeconds")
            for index in collection.index_information().values()
        }[((field, 1),)]

    assert ttl_of(attempts, "updated_at") == ATTEMPTS_KEPT.total_seconds() == 86400
    assert ttl_of(inbox, "handled_at") == INBOX_KEPT.total_seconds() == 7 * 86400
    # the in-process store expires what its TTL indexes say, as MongoDB does
    old = utcnow() - datetime.timedelta(days=8)
    attempts.insert_one({"_id": "pair:+6281200000000|192.0.2.1", "updated_at": old})
    inbox.insert_one({"_id": "handler:old-event", "handled_at": old})
    assert attempts.find_one({"_id": "pair:+6281200000000|192.0.2.1"}) is None
    assert inbox.find_one({"_id": "handler:old-event"}) is None
