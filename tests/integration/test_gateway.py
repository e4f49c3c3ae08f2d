"""Gateway behaviour shared by every route: health, readiness, errors, API document."""

import time

from tests.support.api import make_member


def test_readyz_lists_every_service(api):
    response = api.get("/readyz")
    assert response.status_code == 200
    names = ("gateway", "community", "catalogue", "orders", "notifications", "messaging", "ledger")
    assert response.json()["services"] == dict.fromkeys(names, "ok")


def test_a_stopped_service_gives_503_quickly_and_the_others_keep_working(stack):
    client, _ = stack.api.as_member()
    stack.stop("community")
    started = time.monotonic()
    response = stack.api.post("/api/v1/auth/register", json=make_member())
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert time.monotonic() - started < stack.config["KOMPOR_RPC_TIMEOUT"] + 2

    ready = stack.api.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["services"]["community"] == "unavailable"
    assert ready.json()["services"]["orders"] == "ok"
    assert stack.api.get("/healthz").status_code == 200


def test_unknown_paths_get_a_json_404(api):
    response = api.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_the_openapi_document_describes_the_api(api):
    document = api.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    register = document["paths"]["/api/v1/auth/register"]["post"]
    assert "201" in register["responses"] and "400" in register["responses"]
    schema = document["components"]["schemas"]["Register"]
    assert {"name", "phone", "password"} <= set(schema["properties"])
    assert document["paths"]["/api/v1/me"]["get"]["security"] == [{"bearer": []}]
