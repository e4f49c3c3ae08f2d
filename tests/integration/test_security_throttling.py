"""Login throttling holds across the gateway (issue 7, security).

test_members shows wrong passwords being slowed down through one gateway with one
spelling of the phone. Here an attacker spreads the guesses over two gateway
replicas and over every local form of the number: the count is one, kept by
community for the number itself.
"""

from nameko.testing.utils import find_free_port

from services.community.domain import FREE_LOGIN_FAILURES as FREE_FAILURES
from services.gateway.service import GatewayService
from tests.support.api import DEFAULT_PASSWORD, Api, make_member


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
