"""Who is calling, as the gateway hands it to a handler: resolved once per request,
and only on a route that declared ``auth=True``."""

import pytest
from werkzeug.test import EnvironBuilder

from services.common.actor import make_actor
from services.common.errors import Unauthenticated
from services.gateway.rpc import Backend, RouteWithoutAuth


class CountingProvider:
    """Stands in for ``BackendProvider``: every token is member m1, and each
    resolution is counted."""

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
