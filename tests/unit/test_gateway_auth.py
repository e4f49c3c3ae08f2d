"""Who is calling, as the gateway hands it to a handler: resolved once per request,
only on a route that declared ``auth=True``, and signed for each call it goes with."""

import pytest
from werkzeug.test import EnvironBuilder

from services.common.actor import ActorNotBelieved, make_actor, verify_actor
from services.common.errors import Unauthenticated
from services.common.remote import TimedService
from services.gateway.rpc import Backend, RouteWithoutAuth


class CountingProvider:
    """Stands in for ``BackendProvider``: every token is member m1, and each
    resolution is counted."""

    secret = b"gateway-secret"
    actor_ttl = 60

    def __init__(self):
        self.resolved = []

    def cached_actor(self, token, backend):
        self.resolved.append(token)
        return make_actor("m1")


def request(token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return EnvironBuilder(path="/api/v1/me", headers=headers).get_request()


@pytest.fixture
def provider():
    return CountingProvider()


def test_an_authenticated_request_resolves_its_caller_once(provider):
    backend, made = Backend(provider, None), request("t1")
    actor = backend.authenticate(made)
    assert backend.caller(made) is actor and backend.caller(made, required=False) is actor
    assert provider.resolved == ["t1"]


def test_authenticating_without_a_token_is_a_401(provider):
    with pytest.raises(Unauthenticated):
        Backend(provider, None).authenticate(request())
    assert provider.resolved == []


@pytest.mark.parametrize("token", [None, "t1"])
def test_a_required_caller_on_a_request_not_authenticated_is_a_programming_error(provider, token):
    with pytest.raises(RouteWithoutAuth, match="auth=True"):
        Backend(provider, None).caller(request(token))


def test_an_optional_caller_is_none_when_anonymous_and_resolved_otherwise(provider):
    backend = Backend(provider, None)
    assert backend.caller(request(), required=False) is None
    assert backend.caller(request("t1"), required=False)["member_id"] == "m1"


class RecordingProxy:
    """Stands in for a nameko service proxy: every call answers with the arguments
    it put on the wire."""

    service_name = "orders"

    def __getattr__(self, method_name):
        return Echo()


class Echo:
    def call_async(self, *args, **kwargs):
        self.args = args
        return self

    def result(self):
        return self.args


def sent(backend, method_name, *args):
    """The arguments ``backend.orders.<method_name>(*args)`` puts on the wire."""
    return getattr(TimedService(RecordingProxy(), 1, backend._signed), method_name)(*args)


def test_the_caller_handed_to_a_handler_goes_out_signed_for_that_method(provider):
    backend, made = Backend(provider, None), request("t1")
    actor = backend.authenticate(made)
    signed, order_id = sent(backend, "cancel_order", backend.caller(made), "o1")
    assert order_id == "o1"
    assert verify_actor(signed, "orders", "cancel_order", provider.secret) == actor
    with pytest.raises(ActorNotBelieved):
        verify_actor(signed, "orders", "record_payment", provider.secret)


def test_an_anonymous_caller_goes_out_signed_as_none(provider):
    backend = Backend(provider, None)
    nobody = backend.caller(request(), required=False)
    (signed,) = sent(backend, "list_products", nobody)
    assert verify_actor(signed, "orders", "list_products", provider.secret) is None


def test_other_arguments_and_actors_a_handler_made_itself_go_out_as_they_are(provider):
    backend = Backend(provider, None)
    backend.authenticate(request("t1"))
    payload, homemade = {"phone": "0812"}, make_actor("m1", is_admin=True)
    assert sent(backend, "register", payload) == (payload,)
    assert sent(backend, "cancel_order", homemade, "o1") == (homemade, "o1")
