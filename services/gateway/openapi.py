"""The OpenAPI 3 document, built from the routes' metadata and marshmallow schemas.

What a schema cannot say in its fields (a rule across fields, say) it declares in a
class attribute ``OPENAPI_EXTRA``, merged into its component here (a custom field
declares its type the same way); phone numbers are
``format: phone``, web addresses ``format: url`` with their schemes as a pattern. The
fuzz suite (``make test-fuzz``) holds the API to this document.

Frontends generate their clients from it, so it names what a generator names: each
operation's ``operationId`` is its handler's name in camelCase (``list_products`` →
``listProducts``) unless the route gives one, its one tag is the resource its path
names (one client module per tag), and lists and errors are named components
(``HubPage``, ``Error``) rather than shapes written out in each operation.
"""

import inspect
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls, resolve_schema_instance
from marshmallow import validate
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from services.common.schemas import MobilePhone, Phone
from services.gateway.http import JsonRoute
from services.gateway.schemas import ErrorSchema, page_schema

PATH_PARAM = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")
STATUS_TEXT = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    304: "Not modified: the answer whose ETag you sent in If-None-Match is still current",
    503: "Not ready",
}
ERRORS = {
    400: "Invalid input",
    401: "Not logged in",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Body too large",
    429: "Too many attempts",
    503: "A service is not answering",
}
TAGS = {
    "auth": "Register, log in, and set a new password with a code sent by SMS.",
    "members": "The caller's own profile.",
    "hubs": "Village hubs and their coordinators.",
    "memberships": "Applying to a hub as seller or buyer, and the coordinators' decisions.",
    "trainings": "A hub's trainings: scheduling, enrolment, completion.",
    "agents": "A hub's agents: members who sell for it to customers, for a share of its "
    "commission.",
    "groups": "Congregation groups (jamaah, majelis taklim, ranting) and their contacts.",
    "broadcasts": "A hub's products sent by SMS to a group's contacts, and what became of "
    "the messages.",
    "products": "The showroom: sellers' products, their review and stock.",
    "orders": "Placing orders and moving them on to completion.",
    "reports": "What a hub sold, and the whole network across hubs and districts.",
    "ledger": "What each hub owes its sellers and agents: statements, earnings, payouts, "
    "adjustments.",
    "notifications": "What the caller was told.",
    "messages": "Text messages: the providers' signed inbound webhooks, the conversation log.",
    "health": "Whether the gateway and the services behind it answer.",
    "openapi": "This document, to generate clients from.",
}
# path segments that are not a resource's name, and the resource they belong to
TAG_OF_SEGMENT = {
    "me": "members",
    "inbound": "messages",
    "healthz": "health",
    "readyz": "health",
    "openapi.json": "openapi",
    "counter-sales": "orders",
    "intakes": "products",
    "statement": "ledger",
    "earnings": "ledger",
    "payouts": "ledger",
    "adjustments": "ledger",
    "contacts": "groups",
}
CSV_TABLE = {
    "type": "string",
    "description": "The same report as CSV (send Accept: text/csv): a header row, then one "
    "row per line; money as whole rupiah, times ISO 8601 UTC.",
}
PHONE = {
    "format": "phone",
    "example": "0812-3456-7890",
    "description": "A phone number in a local form (0812-3456-7890, 62812…, +62 812 …); "
    "answered as E.164.",
}
MOBILE = {
    **PHONE,
    "description": "An Indonesian mobile number, one that receives SMS, in a local form "
    "(0812-3456-7890, 62812…, +62 812 …); answered as E.164. A landline or another "
    "country's number is refused.",
}
PHONES = {Phone: PHONE, MobilePhone: MOBILE}


def _schema_name(schema):
    name = schema.__name__ if isinstance(schema, type) else type(schema).__name__
    return name.removesuffix("Schema") or name


class _Plugin(MarshmallowPlugin):
    """Marshmallow → OpenAPI, plus each schema's ``OPENAPI_EXTRA``."""

    def schema_helper(self, name, _, schema=None, **kwargs):
        result = super().schema_helper(name, _, schema=schema, **kwargs)
        extra = getattr(resolve_schema_cls(schema), "OPENAPI_EXTRA", None) if schema else None
        return {**result, **extra} if extra and result is not None else result

    def init_spec(self, spec):
        super().init_spec(spec)
        self.converter.add_attribute_function(_checked_attributes)


def _checked_attributes(self, field, **kwargs):
    """What a field checks that apispec leaves out: phone numbers, the schemes of a
    URL, values refused by ``NoneOf``, and a custom field's own ``OPENAPI_EXTRA``."""
    attributes = dict(PHONES.get(type(field), {}))
    attributes.update(getattr(field, "OPENAPI_EXTRA", {}))
    schemes = {s for v in field.validators if isinstance(v, validate.URL) for s in v.schemes or ()}
    if schemes:
        attributes["pattern"] = f"^({'|'.join(sorted(schemes))})://"
    refused = [v for v in field.validators if isinstance(v, validate.NoneOf)]
    if refused:
        attributes["not"] = {"enum": [value for v in refused for value in v.iterable]}
    return attributes


def build_spec(service_cls):
    spec = APISpec(
        title="KOMPOR DESA API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[_Plugin(schema_name_resolver=_schema_name)],
        info={"description": "Village online markets: hubs, showroom, orders, notifications."},
        servers=[{"url": "/"}],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", schema=ErrorSchema)
    spec.components.schema("CsvTable", CSV_TABLE)
    for name, description in TAGS.items():
        spec.tag({"name": name, "description": description})
    paths = {}
    for handler, route in routes_of(service_cls):
        path = PATH_PARAM.sub(r"{\1}", route.url)
        for verb in route.method.split(","):
            paths.setdefault(path, {})[verb.lower()] = {
                "operationId": route.spec["operation_id"] or camel_case(handler),
                "tags": [tag_of(path)],
                **_operation(route.spec, path),
            }
    for path, operations in sorted(paths.items()):
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def routes_of(service_cls):
    """``(handler name, JsonRoute)`` of every route declared on the service class and
    its route mixins."""
    for name, member in inspect.getmembers(service_cls, inspect.isfunction):
        for entrypoint in getattr(member, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(entrypoint, JsonRoute) and not entrypoint.spec["hidden"]:
                yield name, entrypoint


def camel_case(name):
    first, *rest = name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def tag_of(path):
    """The resource a path acts on: its last segment that names one
    (``/api/v1/hubs/{hub_id}/trainings`` → ``trainings``, ``/api/v1/orders/{order_id}/cancel``
    → ``orders``)."""
    for segment in reversed(path.split("/")):
        tag = TAG_OF_SEGMENT.get(segment, segment)
        if tag in TAGS:
            return tag
    raise ValueError(f"{path} names no resource of {sorted(TAGS)}: add its tag to TAGS.")


def _operation(meta, path):
    operation = {"summary": meta.get("summary", ""), "responses": {}}
    parameters = [
        {"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{([a-z_]+)}", path)
    ]
    for name, header in (meta.get("headers") or {}).items():
        parameters.append({"in": "header", "name": name, **header})
    if meta.get("params"):
        parameters.append({"in": "query", "schema": meta["params"]})
    if parameters:
        operation["parameters"] = parameters
    if meta.get("body"):
        operation["requestBody"] = {
            # a body without fields ({}) may be left out
            "required": bool(resolve_schema_instance(meta["body"]).fields),
            "content": {"application/json": {"schema": meta["body"]}},
        }
    if meta.get("auth"):
        operation["security"] = [{"bearer": []}]
    status = meta.get("status", 200)
    operation["responses"][str(status)] = _response(
        STATUS_TEXT.get(status, "OK"), meta.get("response"), meta.get("many")
    )
    if meta.get("csv"):
        operation["responses"][str(status)]["content"]["text/csv"] = {"schema": "CsvTable"}
    for code, text in ERRORS.items():
        operation["responses"][str(code)] = _response(text, "Error")
    for code, schema in (meta.get("responses") or {}).items():
        operation["responses"][str(code)] = _response(STATUS_TEXT.get(code, "OK"), schema)
    return operation


def _response(description, schema, many=False):
    response = {"description": description}
    if schema is None:
        return response
    if many:
        schema = page_schema(resolve_schema_cls(schema))
    response["content"] = {"application/json": {"schema": schema}}
    return response
