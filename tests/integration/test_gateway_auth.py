"""The gateway enforces a route's ``auth`` flag: the caller is authenticated before the
handler runs, and a handler asking who calls on a route without the flag fails."""

import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from services.community.service import CommunityService
from services.gateway.http import route
from services.gateway.rpc import BackendProvider
from tests.conftest import KOMPOR_ADMIN_PASSWORD, KOMPOR_ADMIN_PHONE
from tests.support.api import Api

handled = []


class ProbeService:
    name = "probe"

    backend = BackendProvider()

    @route("GET", "/guarded", auth=True)
    def guarded(self, request):
        handled.append(request.path)  # never asks who is calling
        return {"handled": True}

    @route("GET", "/whoami", auth=True)
    def whoami(self, request):
        actor = self.backend.caller(request)
        return {"member_id": actor["member_id"], "once": actor is self.backend.caller(request)}

    @route("GET", "/careless")
    def careless(self, request):
        return self.backend.caller(request)

    @route("GET", "/maybe")
    def maybe(self, request):
        actor = self.backend.caller(request, required=False)
        return {"member_id": actor and actor["member_id"]}


@pytest.fixture
def probe(container_factory, config):
    handled.clear()
    for service in (CommunityService, ProbeService):
        container_factory(service, config).start()
    with ServiceRpcProxy("community", config) as community:
        token = community.issue_token(
            {"phone": KOMPOR_ADMIN_PHONE, "password": KOMPOR_ADMIN_PASSWORD}
        )["access_token"]
    base_url = f"http://{config['WEB_SERVER_ADDRESS']}"
    return Api(base_url), Api(base_url, token=token)


@pytest.mark.parametrize("header", [None, "Bearer", "Basic abc", "Bearer not-a-token"])
def test_an_auth_route_refuses_a_request_without_a_valid_token_before_its_handler(probe, header):
    anonymous, _ = probe
    headers = {"Authorization": header} if header else {}
    response = anonymous.get("/guarded", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    assert handled == []


def test_an_auth_route_runs_its_handler_for_an_authenticated_caller(probe):
    _, admin = probe
    assert admin.get("/guarded").json() == {"handled": True}
    assert handled == ["/guarded"]


def test_the_caller_is_the_actor_authenticated_once_for_the_request(probe):
    _, admin = probe
    body = admin.get("/whoami").json()
    assert body["once"] is True and body["member_id"]


@pytest.mark.parametrize("logged_in", [False, True])
def test_asking_for_the_caller_on_a_route_without_auth_is_a_server_error(probe, logged_in):
    client = probe[logged_in]
    response = client.get("/careless")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "INTERNAL_ERROR"


def test_a_route_without_auth_may_ask_for_an_optional_caller(probe):
    anonymous, admin = probe
    assert anonymous.get("/maybe").json() == {"member_id": None}
    assert admin.get("/maybe").json()["member_id"] == admin.get("/whoami").json()["member_id"]
