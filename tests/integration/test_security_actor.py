"""Publishing to the broker does not make anyone an admin (issue 10, the broker is
not an open door): every service believes an ``actor`` only when it is signed under
the secret key, for the method it is sent to, and recent. The signature itself is
unit-tested in test_actor; here requests are published straight to the broker, as
anyone with access to it could, and the gateway's own calls still work.
"""

import inspect
import logging
import time

from nameko import rpc as nameko_rpc
from nameko.standalone.rpc import ClusterRpcProxy

from services.common import config as cfg
from services.common.actor import make_actor, sign_actor
from services.common.signing import SigningProxy
from tests.conftest import ALL_SERVICES
from tests.support.broker import raw_call
from tests.support.community import hub_payload

ADMIN = make_actor("someone-with-broker-access", is_admin=True)


def actor_methods():
    """``(service, method)`` of every RPC method that acts for someone."""
    found = []
    for name, service in sorted(ALL_SERVICES.items()):
        for method_name, method in inspect.getmembers(service, inspect.isfunction):
            entrypoints = getattr(method, "nameko_entrypoints", ())
            takes_actor = list(inspect.signature(method).parameters)[1:2] == ["actor"]
            if takes_actor and any(isinstance(e, nameko_rpc.Rpc) for e in entrypoints):
                found.append((name, method_name))
    assert len(found) > 20
    return found


def refused(reply):
    return reply["result"] is None and (reply["error"] or {}).get("exc_type") == "Unauthenticated"


def hub_names(api):
    return {hub["name"] for hub in api.get("/api/v1/hubs?page_size=100").json()["items"]}


def test_an_unsigned_admin_actor_published_to_the_broker_is_refused(stack, api, caplog):
    payload = hub_payload(name="Hub Palsu")
    with caplog.at_level(logging.WARNING, logger="services.common.rpc"):
        reply = raw_call(stack.config, "community", "create_hub", ADMIN, payload)
    assert refused(reply), reply
    assert "Hub Palsu" not in hub_names(api)
    assert "refused community.create_hub" in caplog.text and "not signed" in caplog.text


def test_an_admin_actor_signed_with_the_secret_key_is_believed(stack, api):
    """The same request, signed: what makes the refusals above mean something."""
    payload = hub_payload(name="Hub Resmi")
    secret = cfg.secret_key(stack.config)
    signed = sign_actor(ADMIN, "community", "create_hub", secret)
    reply = raw_call(stack.config, "community", "create_hub", signed, payload)
    assert reply["error"] is None and reply["result"]["name"] == "Hub Resmi"
    assert "Hub Resmi" in hub_names(api)


def test_every_service_refuses_an_unsigned_actor_on_every_method_that_takes_one(stack):
    believed = {}
    for service, method in actor_methods():
        reply = raw_call(stack.config, service, method, ADMIN, "some-id", {})
        if not refused(reply):
            believed[f"{service}.{method}"] = reply
    assert believed == {}


def test_an_actor_signed_for_another_method_is_refused(stack, api):
    secret = cfg.secret_key(stack.config)
    captured = sign_actor(ADMIN, "community", "get_profile", secret)
    payload = hub_payload(name="Hub Lain")
    reply = raw_call(stack.config, "community", "create_hub", captured, payload)
    assert refused(reply), reply
    assert "Hub Lain" not in hub_names(api)


def test_an_expired_signed_actor_is_refused(stack, api):
    secret = cfg.secret_key(stack.config)
    stale = sign_actor(ADMIN, "community", "create_hub", secret, now=time.time() - 120)
    reply = raw_call(stack.config, "community", "create_hub", stale, hub_payload(name="Hub Basi"))
    assert refused(reply), reply
    assert "Hub Basi" not in hub_names(api)


def test_a_signed_actor_with_the_admin_flag_set_afterwards_is_refused(stack, api):
    secret = cfg.secret_key(stack.config)
    signed = sign_actor(make_actor("a-buyer"), "community", "create_hub", secret)
    promoted = {**signed, "actor": {**signed["actor"], "is_admin": True}}
    payload = hub_payload(name="Hub Naik")
    reply = raw_call(stack.config, "community", "create_hub", promoted, payload)
    assert refused(reply), reply
    assert "Hub Naik" not in hub_names(api)


def test_an_actor_signed_under_another_key_is_refused(stack):
    forged = sign_actor(ADMIN, "community", "create_hub", b"a guessed key")
    reply = raw_call(stack.config, "community", "create_hub", forged, hub_payload(name="Hub Tebak"))
    assert refused(reply), reply


def test_an_actor_passed_by_keyword_is_checked_too(stack):
    reply = raw_call(stack.config, "community", "create_hub", actor=ADMIN, payload=hub_payload())
    assert refused(reply), reply


def test_methods_without_an_actor_answer_anyone(stack):
    assert raw_call(stack.config, "community", "list_hubs", {})["error"] is None
    assert raw_call(stack.config, "orders", "health")["result"]["status"] == "ok"


def test_an_operator_calls_with_the_signing_proxy(stack, api):
    """What docs/rpc.md shows for ``nameko shell``, with the key of the stack."""
    with ClusterRpcProxy(stack.config) as proxy:
        rpc = SigningProxy(proxy, cfg.secret_key(stack.config))
        hub = rpc.community.create_hub(ADMIN, hub_payload(name="Hub Operator"))
    assert hub["name"] in hub_names(api)
