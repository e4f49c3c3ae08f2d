"""The API document says what the services check (found by fuzzing, issue 7), and
names what client generators name.

Each rule here was a request the document allowed and a service refused, or the
other way round: the document now states it, and the service and the document's
pattern agree on every example. Frontends generate their clients from the document,
so its operation names, tags, pages and error envelope are held here too, and the
whole stays valid OpenAPI 3.0.
"""

import json
import re

import jsonschema_rs
import pytest
from apispec import APISpec
from marshmallow import fields, validate
from schemathesis.specs.openapi.definitions import OPENAPI_30

from services.common.errors import ValidationError
from services.common.schemas import Schema
from services.community.schemas import ApplySchema, CreateHubSchema, RegisterSchema
from services.gateway.openapi import _Plugin, build_spec
from services.gateway.service import GatewayService
from services.orders.schemas import FulfilmentSchema
from tests.support.community import hub_payload


@pytest.fixture(scope="module")
def document():
    return build_spec(GatewayService)


def schema(document, name):
    return document["components"]["schemas"][name]


def resolve(document, reference):
    return schema(document, reference["$ref"].removeprefix("#/components/schemas/"))


def accepts(schema_cls, body):
    try:
        schema_cls().load_or_raise(body)
    except ValidationError:
        return False
    return True


TEXTS = [
    ("Siti Aminah", True),
    ("  Bu Siti  ", True),
    ("Warung\tBu Siti\n", True),
    ("Café Ñusa", True),
    ("", False),
    ("   ", False),
    ("\t\n\r ", False),
    ("\u3000\u00a0\u2003", False),  # wide, no-break and em spaces only
    ("\x1c\x1d", False),  # separators str.strip() would remove, leaving nothing
    ("Siti\x00", False),
    ("Siti\x1b[31m", False),
    ("\x85Siti", False),
]


@pytest.mark.parametrize(("name", "valid"), TEXTS)
def test_text_must_have_something_to_read_and_no_control_characters(document, name, valid):
    body = {"name": name, "phone": "0812-3456-7890", "password": "rahasia-desa-1"}
    assert accepts(RegisterSchema, body) is valid
    pattern = schema(document, "Register")["properties"]["name"]["pattern"]
    assert bool(re.search(pattern, name)) is valid


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("Simpul Pujon Kidul", True),
        ("Simpul 7", True),
        ("Éa", True),
        ("))", False),
        ("日本", False),
    ],
)
def test_a_hub_name_needs_a_letter_or_digit_for_its_slug(document, name, valid):
    assert accepts(CreateHubSchema, hub_payload(name=name)) is valid
    pattern = schema(document, "CreateHub")["properties"]["name"]["pattern"]
    assert bool(re.search(pattern, name)) is valid


def test_phone_numbers_are_documented_with_their_format_and_an_example(document):
    for component, field in (("Register", "phone"), ("TokenRequest", "phone")):
        phone = schema(document, component)["properties"][field]
        assert phone["format"] == "phone" and phone["example"] == "0812-3456-7890"
    contact = schema(document, "AddContact")["properties"]["phone"]
    assert contact["format"] == "phone" and "mobile" in contact["description"]


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        ({"role": "buyer"}, True),
        ({"role": "seller", "business_name": "Keripik Bu Siti"}, True),
        ({"role": "seller"}, False),
        ({"role": "seller", "business_name": None}, False),
    ],
)
def test_sellers_must_name_their_business_and_the_document_says_so(document, body, valid):
    assert accepts(ApplySchema, body) is valid
    branches = schema(document, "Apply")["anyOf"]
    documented = any(_satisfies(body, branch) for branch in branches)
    assert documented is valid


def _satisfies(body, branch):
    """Enough of JSON Schema for the two branches of Apply's ``anyOf``."""
    if any(name not in body for name in branch.get("required", ())):
        return False
    for name, rule in branch.get("properties", {}).items():
        if name not in body:
            continue
        if "enum" in rule and body[name] not in rule["enum"]:
            return False
        if rule.get("type") == "string" and not isinstance(body[name], str):
            return False
    return True


def test_readiness_documents_its_own_body_for_503(document):
    answers = document["paths"]["/readyz"]["get"]["responses"]
    for status in ("200", "503"):
        body = answers[status]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/Readiness"}


def test_lists_document_their_page_fields_as_always_present(document):
    hubs = document["paths"]["/api/v1/hubs"]["get"]["responses"]["200"]
    page = resolve(document, hubs["content"]["application/json"]["schema"])
    assert page["required"] == ["items", "page", "page_size", "total"]
    assert page["additionalProperties"] is False


def test_a_body_without_fields_may_be_left_out(document):
    approve = document["paths"]["/api/v1/memberships/{membership_id}/approve"]["post"]
    assert approve["requestBody"]["required"] is False
    register = document["paths"]["/api/v1/auth/register"]["post"]
    assert register["requestBody"]["required"] is True


def test_error_details_may_be_nested_as_services_send_them(document):
    details = schema(document, "ErrorBody")["properties"]["details"]
    assert details["additionalProperties"] == {}


class ProbeSchema(Schema):
    images = fields.List(fields.Url(schemes={"http", "https"}))
    delta = fields.Integer(validate=validate.NoneOf([0]))

    OPENAPI_EXTRA = {"minProperties": 1}


def component(schema):
    spec = APISpec("probe", "1", "3.0.3", plugins=[_Plugin()])
    spec.components.schema("Probe", schema=schema)
    return spec.to_dict()["components"]["schemas"]["Probe"]


def test_web_addresses_refused_values_and_schema_rules_reach_the_document():
    probe = component(ProbeSchema)
    assert probe["properties"]["images"]["items"]["pattern"] == "^(http|https)://"
    assert probe["properties"]["delta"]["not"] == {"enum": [0]}
    assert probe["minProperties"] == 1


def test_a_broadcast_documents_that_its_counts_may_be_missing(document):
    report = schema(document, "BroadcastReport")
    assert {"total", "queued", "sent", "failed", "opted_out"} <= set(report["properties"])
    assert all(report["properties"][name]["nullable"] for name in ("sent", "opted_out"))
    assert "null" in report["description"]


def test_placing_an_order_documents_its_required_idempotency_key(document):
    parameters = document["paths"]["/api/v1/orders"]["post"]["parameters"]
    (key,) = [p for p in parameters if p["in"] == "header"]
    assert key["name"] == "Idempotency-Key" and key["required"] is True
    assert key["schema"]["maxLength"] == 100


KEY_REQUIRED = {
    "placeOrder",
    "createProduct",
    "changeStock",
    "recordCounterSale",
    "recordIntake",
    "recordPayout",
    "recordAdjustment",
}
"""The writes a repeat would make twice (an order, a product, a stock change, a counter
sale, goods received, a payout, an adjustment)."""
WITHOUT_A_MEMBER = {
    "registerMember",
    "issueToken",
    "resetPassword",
    "receiveSms",
    "receiveWhatsapp",
}
"""Anonymous: keys are per member. Registering again is a 409 that says to log in;
logging in again makes nothing but another token; a code is spent by its first use, so
a reset again is a 400 that says to ask for a new code. (Asking for a code takes a
key, per phone: a retry under it sends no second code.) A provider's inbound message
has its natural key instead: the provider's message id on that channel."""


def _writes(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method in ("post", "patch", "put", "delete"):
                yield f"{method.upper()} {path}", operation


def test_every_write_documents_its_idempotency_key_and_whether_it_is_required(document):
    writes = dict(_writes(document))
    assert {op["operationId"] for op in writes.values()} >= KEY_REQUIRED | WITHOUT_A_MEMBER
    for name, operation in writes.items():
        if operation["operationId"] in WITHOUT_A_MEMBER:
            continue
        keys = [
            p
            for p in operation.get("parameters", [])
            if (p["in"], p["name"]) == ("header", "Idempotency-Key")
        ]
        assert len(keys) == 1, f"{name} does not document the Idempotency-Key header"
        required = operation["operationId"] in KEY_REQUIRED
        assert keys[0]["required"] is required, name
        assert keys[0]["schema"]["minLength"] == 1 and keys[0]["schema"]["maxLength"] == 100


@pytest.mark.parametrize(
    ("fulfilment", "valid"),
    [
        ({"method": "pickup"}, True),
        ({"method": "delivery", "address": "Jl. Raya Pujon 7"}, True),
        ({"method": "delivery"}, False),
        ({"method": "delivery", "address": None}, False),
    ],
)
def test_a_delivery_needs_an_address_and_the_document_says_so(document, fulfilment, valid):
    assert accepts(FulfilmentSchema, fulfilment) is valid
    branches = schema(document, "Fulfilment")["anyOf"]
    assert any(_satisfies(fulfilment, branch) for branch in branches) is valid


def test_the_showroom_price_range_rule_is_in_words(document):
    parameters = document["paths"]["/api/v1/products"]["get"]["parameters"]
    (high,) = [p for p in parameters if p["name"] == "max_price"]
    assert "min_price" in high["description"]


# --- what a client generator names: operations, their modules, lists and errors ------

OPERATIONS = {
    "POST /api/v1/auth/register": ("registerMember", "auth"),
    "POST /api/v1/auth/token": ("issueToken", "auth"),
    "POST /api/v1/auth/otp": ("requestCode", "auth"),
    "POST /api/v1/auth/password-reset": ("resetPassword", "auth"),
    "GET /api/v1/me": ("getMe", "members"),
    "PATCH /api/v1/me": ("updateMe", "members"),
    "POST /api/v1/hubs": ("createHub", "hubs"),
    "GET /api/v1/hubs": ("listHubs", "hubs"),
    "GET /api/v1/hubs/{hub_id}": ("getHub", "hubs"),
    "PATCH /api/v1/hubs/{hub_id}": ("updateHub", "hubs"),
    "POST /api/v1/hubs/{hub_id}/coordinators": ("assignCoordinator", "hubs"),
    "DELETE /api/v1/hubs/{hub_id}/coordinators/{member_id}": ("removeCoordinator", "hubs"),
    "POST /api/v1/hubs/{hub_id}/memberships": ("applyForMembership", "memberships"),
    "GET /api/v1/hubs/{hub_id}/memberships": ("listMemberships", "memberships"),
    "POST /api/v1/memberships/{membership_id}/approve": ("approveMembership", "memberships"),
    "POST /api/v1/memberships/{membership_id}/reject": ("rejectMembership", "memberships"),
    "POST /api/v1/memberships/{membership_id}/suspend": ("suspendMembership", "memberships"),
    "POST /api/v1/hubs/{hub_id}/trainings": ("scheduleTraining", "trainings"),
    "GET /api/v1/hubs/{hub_id}/trainings": ("listTrainings", "trainings"),
    "POST /api/v1/trainings/{training_id}/enrolments": ("enrolInTraining", "trainings"),
    "POST /api/v1/trainings/{training_id}/completions": ("completeTraining", "trainings"),
    "POST /api/v1/hubs/{hub_id}/agents": ("appointAgent", "agents"),
    "GET /api/v1/hubs/{hub_id}/agents": ("listAgents", "agents"),
    "POST /api/v1/hubs/{hub_id}/groups": ("createGroup", "groups"),
    "GET /api/v1/hubs/{hub_id}/groups": ("listGroups", "groups"),
    "GET /api/v1/groups/{group_id}": ("getGroup", "groups"),
    "POST /api/v1/groups/{group_id}/contacts": ("addContact", "groups"),
    "GET /api/v1/groups/{group_id}/contacts": ("listContacts", "groups"),
    "POST /api/v1/groups/{group_id}/broadcasts": ("startBroadcast", "broadcasts"),
    "GET /api/v1/broadcasts/{broadcast_id}": ("getBroadcast", "broadcasts"),
    "POST /api/v1/products": ("createProduct", "products"),
    "GET /api/v1/products": ("listProducts", "products"),
    "GET /api/v1/products/{product_id}": ("getProduct", "products"),
    "PATCH /api/v1/products/{product_id}": ("updateProduct", "products"),
    "POST /api/v1/products/{product_id}/stock": ("changeStock", "products"),
    "POST /api/v1/products/{product_id}/approve": ("approveProduct", "products"),
    "POST /api/v1/products/{product_id}/reject": ("rejectProduct", "products"),
    "POST /api/v1/hubs/{hub_id}/intakes": ("recordIntake", "products"),
    "GET /api/v1/hubs/{hub_id}/intakes": ("listIntakes", "products"),
    "POST /api/v1/orders": ("placeOrder", "orders"),
    "GET /api/v1/orders": ("listOrders", "orders"),
    "GET /api/v1/orders/{order_id}": ("getOrder", "orders"),
    "POST /api/v1/orders/{order_id}/cancel": ("cancelOrder", "orders"),
    "POST /api/v1/orders/{order_id}/status": ("changeOrderStatus", "orders"),
    "POST /api/v1/orders/{order_id}/payment": ("recordPayment", "orders"),
    "POST /api/v1/orders/{order_id}/payment-proof": ("sendPaymentProof", "orders"),
    "POST /api/v1/orders/{order_id}/refund": ("settleRefund", "orders"),
    "POST /api/v1/hubs/{hub_id}/counter-sales": ("recordCounterSale", "orders"),
    "GET /api/v1/hubs/{hub_id}/reports/sales": ("getSalesReport", "reports"),
    "GET /api/v1/notifications": ("listNotifications", "notifications"),
    "POST /api/v1/inbound/sms": ("receiveSms", "messages"),
    "POST /api/v1/inbound/whatsapp": ("receiveWhatsapp", "messages"),
    "GET /api/v1/me/messages": ("listMyMessages", "messages"),
    "GET /api/v1/hubs/{hub_id}/messages": ("listHubMessages", "messages"),
    "GET /api/v1/hubs/{hub_id}/sellers/{seller_id}/statement": ("getStatement", "ledger"),
    "GET /api/v1/hubs/{hub_id}/agents/{agent_id}/statement": ("getAgentStatement", "ledger"),
    "GET /api/v1/me/earnings": ("listMyEarnings", "ledger"),
    "POST /api/v1/hubs/{hub_id}/payouts": ("recordPayout", "ledger"),
    "POST /api/v1/hubs/{hub_id}/adjustments": ("recordAdjustment", "ledger"),
    "GET /api/v1/reports/network": ("getNetworkReport", "reports"),
    "GET /healthz": ("getHealth", "health"),
    "GET /readyz": ("getReadiness", "health"),
    "GET /api/v1/openapi.json": ("getApiDocument", "openapi"),
}
"""Every operation's ``operationId`` and tag: a generated client's method and module
names, which frontends call, so a renamed handler must not rename them unnoticed."""


def operations(document):
    for path, verbs in document["paths"].items():
        for verb, operation in verbs.items():
            yield f"{verb.upper()} {path}", operation


def test_operations_keep_the_names_and_modules_clients_call_them_by(document):
    named = {
        label: (operation.get("operationId"), *operation.get("tags", ()))
        for label, operation in operations(document)
    }
    assert named == OPERATIONS


def test_every_operation_id_is_unique_and_camel_case(document):
    names = [operation["operationId"] for _, operation in operations(document)]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)*", name) for name in names), names


def test_every_operation_has_one_declared_tag_and_every_declared_tag_is_used(document):
    declared = [tag["name"] for tag in document["tags"]]
    assert all(tag["description"] for tag in document["tags"])
    used = [operation["tags"] for _, operation in operations(document)]
    assert all(len(tags) == 1 and tags[0] in declared for tags in used), used
    assert {tags[0] for tags in used} == set(declared)


def test_every_body_an_operation_answers_is_a_named_component(document):
    for label, operation in operations(document):
        for status, response in operation["responses"].items():
            for content in response.get("content", {}).values():
                assert set(content["schema"]) == {"$ref"}, (label, status)
                resolve(document, content["schema"])


def test_lists_come_in_a_named_page_of_named_items(document):
    lists = [(label, o) for label, o in operations(document) if o["operationId"].startswith("list")]
    assert len(lists) == 13
    for label, operation in lists:
        answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert answer["$ref"].endswith("Page"), label
        page = resolve(document, answer)
        assert set(page["properties"]) == {"items", "page", "page_size", "total"}
        resolve(document, page["properties"]["items"]["items"])


def test_every_failure_is_documented_as_the_error_envelope(document):
    error = {"$ref": "#/components/schemas/Error"}
    for label, operation in operations(document):
        failures = {s: r for s, r in operation["responses"].items() if s[0] in "45"}
        assert set(failures) >= {"400", "401", "403", "404", "409", "413", "429", "503"}
        for status, response in failures.items():
            if (label, status) != ("GET /readyz", "503"):  # readiness answers its own body
                assert response["content"]["application/json"]["schema"] == error, label
    assert schema(document, "Error")["properties"]["error"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }
    body = schema(document, "ErrorBody")
    assert set(body["properties"]) == {"code", "message", "details", "request_id"}
    assert set(body["required"]) == {"code", "message"}


def test_the_document_is_valid_openapi_3_0(document):
    served = json.loads(json.dumps(document))
    validator = jsonschema_rs.Draft4Validator(OPENAPI_30)
    errors = [
        f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in validator.iter_errors(served)
    ]
    assert errors == []
    broken = {**served, "paths": {"/x": {"get": {"operationId": 7}}}}
    assert not validator.is_valid(broken)  # the meta-schema does check operations


def test_every_reference_names_a_component(document):
    references = re.findall(r'"\$ref": "([^"]+)"', json.dumps(document))
    assert references
    for reference in references:
        assert reference.startswith("#/components/schemas/")
        resolve(document, {"$ref": reference})


def _numbers_in(document, node, where):
    """``(where, schema)`` of every number a request may carry under ``node``."""
    if "$ref" in node:
        node = resolve(document, node)
    if node.get("type") in ("integer", "number"):
        yield where, node
    for name, child in node.get("properties", {}).items():
        yield from _numbers_in(document, child, f"{where}.{name}")
    if "items" in node:
        yield from _numbers_in(document, node["items"], f"{where}[]")


def test_every_number_a_request_carries_has_a_documented_range(document):
    """A number without bounds reaches the store: a 21-digit page overflowed MongoDB."""
    found = []
    for label, operation in operations(document):
        for parameter in operation.get("parameters", ()):
            found += _numbers_in(document, parameter["schema"], f"{label} {parameter['name']}")
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body:
            found += _numbers_in(document, body["schema"], f"{label} body")
    assert len(found) >= 8  # pages, page sizes, prices, stock, quantities, capacity
    unbounded = [where for where, number in found if not {"minimum", "maximum"} <= set(number)]
    assert unbounded == []


CSV_REPORTS = {"getStatement", "getAgentStatement", "getSalesReport", "getNetworkReport"}
"""Every report and statement also answers ``text/csv`` (DESIGN §8)."""


def test_reports_and_statements_document_their_csv_form(document):
    with_csv = {
        operation["operationId"]
        for _, operation in operations(document)
        if "text/csv" in operation["responses"].get("200", {}).get("content", {})
    }
    assert with_csv == CSV_REPORTS
    assert schema(document, "CsvTable")["type"] == "string"
