"""No endpoint takes a ``$``-operator anywhere (issue 7, bad input).

Walks every operation of the OpenAPI document. Each gets a request that works for a
caller allowed to make it (``tests.support.endpoints``), then variants of it that
smuggle MongoDB operators in:

- body: a ``$where`` key at the top, ``{"$gt": ""}`` as the value of every field, and
  a ``$set`` / ``$inc`` key inside every nested object or list of objects;
- query: a ``$where`` parameter, ``{"$gt": ""}`` as the text of every parameter, and
  ``name[$gt]`` keys (how query-string parsers elsewhere spell an operator);
- path: ``$gt`` as every id;
- operations that take no body or no query get the ``$where`` key there too.

Each variant must be refused with 400 ``VALIDATION_ERROR`` naming the field, with
two exceptions: a query parameter the document lets hold ``{"$gt": ""}`` as text (free
text, an opaque id: ``_literal``) is read as the literal text it is and finds nothing;
and a ``$gt`` id is not found (404), or refused (403) where ``FORBIDDEN_BEFORE_FOUND``
says why. The caller is one allowed to act, so authorization never comes first
otherwise. The request itself finally succeeds, so each refusal was about the
operator and nothing else.
"""

import json
import re

from tests.support.endpoints import ENDPOINTS, build_world, document_operations

OPERATOR = {"$gt": ""}
PATH_OPERATOR = "$gt"

FORBIDDEN_BEFORE_FOUND = {
    "GET /api/v1/hubs/{hub_id}/reports/sales": "orders keeps no list of hubs: the report "
    "is for the hub's coordinators, and a coordinator of another hub is refused whatever "
    "the id (nothing leaks: an unknown hub and someone else's hub answer alike)",
    "POST /api/v1/hubs/{hub_id}/counter-sales": "the same: orders knows the hubs it "
    "coordinates through the caller's roles only",
    "POST /api/v1/hubs/{hub_id}/intakes": "the same, for catalogue, which keeps no list "
    "of hubs either",
    "GET /api/v1/hubs/{hub_id}/intakes": "as for recording an intake",
    "POST /api/v1/hubs/{hub_id}/payouts": "the ledger keeps no list of hubs: money is "
    "moved by the hub's coordinators, and a coordinator of another hub is refused "
    "whatever the id",
    "POST /api/v1/hubs/{hub_id}/adjustments": "as for payouts",
}
"""Operations where a ``$gt`` id is 403 rather than 404, and why."""


def test_no_operation_takes_a_dollar_operator_in_its_body_query_or_path(
    api, admin, sms_sink, events
):
    document = api.get("/api/v1/openapi.json").json()
    assert {endpoint.label for endpoint in ENDPOINTS} == document_operations(document)
    world = build_world(api, admin, sms_sink, events)
    problems = []
    probed = 0
    for endpoint in (endpoint for endpoint in ENDPOINTS if not endpoint.variant):
        method, path = endpoint.label.split(" ", 1)
        operation = document["paths"][path][method.lower()]
        request = endpoint.build(world)
        client = world.clients[endpoint.caller]
        for what, variant, expect in _probes(document, endpoint.label, operation, request):
            probed += 1
            response = variant.send(client)
            problem = expect(response)
            if problem:
                problems.append(f"{endpoint.label}, {what}: {problem}")
        if endpoint.changes_state:
            request = endpoint.build(world)
        response = request.send(client)
        if not 200 <= response.status_code < 300:
            problems.append(f"{endpoint.label}: the plain request got {response.status_code}")
    assert probed > 2 * len(ENDPOINTS)
    assert not problems, "\n".join(problems)


def _probes(document, label, operation, request):
    method = label.split(" ", 1)[0]
    body = _schema(document, operation.get("requestBody", {}))
    if body:
        yield from _body_probes(document, body, request)
    elif method in ("POST", "PUT", "PATCH"):
        yield "a body where none is taken", request.but(json={"$where": "1"}), refused("$where")
    parameters = [p for p in operation.get("parameters", ()) if p["in"] == "query"]
    if parameters:
        yield from _query_probes(parameters, request)
    else:
        yield (
            "a query where none is taken",
            request.but(params={"$where": "1"}),
            refused("$where"),
        )
    for parameter in operation.get("parameters", ()):
        if parameter["in"] == "path":
            yield from _path_probes(label, parameter["name"], request)


def _body_probes(document, schema, request):
    valid = request.json or {}
    yield "a $where key in the body", request.but(json={**valid, "$where": "1"}), refused("$where")
    for name, field in schema.get("properties", {}).items():
        yield (
            f"{OPERATOR} as {name}",
            request.but(json={**valid, name: OPERATOR}),
            refused(name),
        )
        field = _resolve(document, field)
        items = _resolve(document, field.get("items", {}))
        if field.get("properties"):
            nested = {**(valid.get(name) or {}), "$set": 1}
            yield (
                f"a $set key inside {name}",
                request.but(json={**valid, name: nested}),
                refused(name, "$set"),
            )
        elif items.get("properties"):
            first = (valid.get(name) or [{}])[0]
            nested = [{**first, "$inc": 1}]
            yield (
                f"a $inc key inside {name}[0]",
                request.but(json={**valid, name: nested}),
                refused(name, "$inc"),
            )


def _query_probes(parameters, request):
    valid = request.params or {}
    yield "a $where parameter", request.but(params={**valid, "$where": "1"}), refused("$where")
    for parameter in parameters:
        name = parameter["name"]
        text = json.dumps(OPERATOR)
        expect = finds_nothing if _literal(parameter["schema"], text) else refused(name)
        yield f"{text} as ?{name}", request.but(params={**valid, name: text}), expect
        key = f"{name}[$gt]"
        yield f"?{key}=", request.but(params={**valid, key: ""}), refused(key)


def _path_probes(label, name, request):
    path = request.path
    # the probe replaces the id where the request has it (its position in the path)
    template = label.split(" ", 1)[1]
    position = template.split("/").index("{" + name + "}")
    parts = path.split("/")
    parts[position] = PATH_OPERATOR
    expected = 403 if label in FORBIDDEN_BEFORE_FOUND else 404
    yield f"{PATH_OPERATOR} as {{{name}}}", request.but(path="/".join(parts)), status(expected)


def _literal(schema, text):
    """Whether the document allows ``text`` here: free text or an opaque id, which the
    service must then read as the literal text it is."""
    if schema.get("type") != "string" or schema.keys() & {"enum", "format", "anyOf", "oneOf"}:
        return False  # a choice, or text of a given form (a date …)
    if not schema.get("minLength", 0) <= len(text) <= schema.get("maxLength", len(text)):
        return False
    return re.search(schema.get("pattern", ""), text) is not None


def _schema(document, request_body):
    content = request_body.get("content", {}).get("application/json")
    return _resolve(document, content["schema"]) if content else None


def _resolve(document, schema):
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = document["components"]["schemas"][name]
    return schema


# --- expectations: each returns what is wrong with the response, or None ----------


def refused(field, inner=None):
    def check(response):
        if response.status_code != 400:
            return f"expected 400 naming {field}, got {response.status_code} {response.text}"
        error = response.json()["error"]
        # nested errors come as {"items": {"0": {...}}} or flattened as "items.0.quantity"
        named = {
            key: messages
            for key, messages in error.get("details", {}).items()
            if key == field or key.startswith(f"{field}.")
        }
        if error["code"] != "VALIDATION_ERROR" or not named:
            return f"expected details naming {field}, got {response.text}"
        if inner and inner not in json.dumps(named):
            return f"expected {field}'s details to name {inner}, got {response.text}"
        return None

    return check


def finds_nothing(response):
    if response.status_code != 200:
        return f"expected 200 reading it as text, got {response.status_code} {response.text}"
    if response.json().get("items"):
        return f"expected no items for the literal text, got {response.text}"
    return None


def status(expected):
    def check(response):
        if response.status_code != expected:
            return f"expected {expected}, got {response.status_code} {response.text}"
        return None

    return check
