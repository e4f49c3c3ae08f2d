"""Access tokens expire, and forged ones are refused, on every operation that needs a
login (issue 7, security). The token format itself is unit-tested in test_common;
here the whole path is: gateway, its cache of callers, community's verification.
"""

import base64
import json

import pytest

from services.common.auth import TokenSigner
from tests.support.endpoints import document_operations
from tests.support.waiting import wait_until

TOKEN_TTL = 3


@pytest.fixture
def config(config, request):
    """Tokens live ``TOKEN_TTL`` seconds in this module's stacks, unless a test asks
    for longer with ``@pytest.mark.token_ttl(seconds)``."""
    marker = request.node.get_closest_marker("token_ttl")
    return {**config, "KOMPOR_TOKEN_TTL": marker.args[0] if marker else TOKEN_TTL}


def secured_requests(api):
    """``(operation, method, path)`` of every operation whose document asks for a
    bearer token, with ``some-id`` for each id: the gateway checks the token before
    anything else, so no id needs to exist."""
    document = api.get("/api/v1/openapi.json").json()
    found = []
    for label in sorted(document_operations(document)):
        method, path = label.split(" ", 1)
        if document["paths"][path][method.lower()].get("security"):
            concrete = "/".join(
                "some-id" if part.startswith("{") else part for part in path.split("/")
            )
            found.append((label, method, concrete))
    assert len(found) > 10
    return found


def refusals(api, token, expected_message):
    """Operations that did not answer 401 ``UNAUTHENTICATED`` with that message."""
    wrong = {}
    for label, method, path in secured_requests(api):
        response = api.request(method, path, json={}, headers={"Authorization": f"Bearer {token}"})
        error = response.json().get("error", {})
        if response.status_code != 401 or expected_message not in error.get("message", ""):
            wrong[label] = (response.status_code, response.text)
    return wrong


def test_a_token_works_until_it_expires_then_every_secured_operation_refuses_it(api):
    client, member = api.as_member()
    token = client.session.headers["Authorization"].split()[1]
    assert client.get("/api/v1/me").status_code == 200  # the gateway now caches the caller

    wait_until(
        lambda: client.get("/api/v1/me").status_code == 401,
        timeout=TOKEN_TTL + 5,
        message="the token to expire",
    )
    assert refusals(api, token, "expired") == {}
    assert api.login(member["phone"]).get("/api/v1/me").status_code == 200


def _claims(token):
    payload = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forgeries(token, other_member_id):
    """Tokens an attacker could make from their own token and another member's id."""
    payload, signature = token.split(".")
    claims = _claims(token)
    as_other = _b64(json.dumps({**claims, "sub": other_member_id}).encode())
    longer = _b64(json.dumps({**claims, "exp": claims["exp"] + 10**6}).encode())
    return {
        "another member's id under my signature": f"{as_other}.{signature}",
        "a later expiry under my signature": f"{longer}.{signature}",
        "no signature": f"{payload}.",
        "a flipped signature": f"{payload}.{signature[::-1]}",
        "signed with another key": TokenSigner(b"not-the-key", 3600).issue(other_member_id),
        "an unsigned JWT naming the admin": ".".join(
            [
                _b64(b'{"alg":"none","typ":"JWT"}'),
                _b64(json.dumps({"sub": other_member_id}).encode()),
                "",
            ]
        ),
    }


@pytest.mark.token_ttl(600)  # trying every forgery takes longer than TOKEN_TTL
def test_forged_tokens_are_refused_by_every_secured_operation(api, admin):
    client, _ = api.as_member()
    token = client.session.headers["Authorization"].split()[1]
    admin_id = admin.get("/api/v1/me").json()["id"]
    wrong = {
        forgery: refused
        for forgery, forged in forgeries(token, admin_id).items()
        if (refused := refusals(api, forged, ""))
    }
    assert wrong == {}
    me = client.get("/api/v1/me")
    assert me.status_code == 200, me.text  # the real one still works
