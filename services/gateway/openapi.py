"""The OpenAPI 3 document, built from the routes' metadata and marshmallow schemas."""

import inspect
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from services.gateway.http import JsonRoute

PATH_PARAM = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")
STATUS_TEXT = {200: "OK", 201: "Created"}
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


class ErrorBodySchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


def _schema_name(schema):
    name = schema.__name__ if isinstance(schema, type) else type(schema).__name__
    return name.removesuffix("Schema") or name


def build_spec(service_cls):
    spec = APISpec(
        title="KOMPOR DESA API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin(schema_name_resolver=_schema_name)],
        info={"description": "Village online markets: hubs, showroom, orders, notifications."},
        servers=[{"url": "/"}],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", schema=ErrorSchema)
    paths = {}
    for route in routes_of(service_cls):
        path = PATH_PARAM.sub(r"{\1}", route.url)
        for verb in route.method.split(","):
            paths.setdefault(path, {})[verb.lower()] = _operation(route.spec, path)
    for path, operations in sorted(paths.items()):
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def routes_of(service_cls):
    """Every ``JsonRoute`` declared on the service class and its route mixins."""
    for _, member in inspect.getmembers(service_cls, inspect.isfunction):
        for entrypoint in getattr(member, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(entrypoint, JsonRoute) and not entrypoint.spec["hidden"]:
                yield entrypoint


def _operation(meta, path):
    operation = {"summary": meta.get("summary", ""), "responses": {}}
    parameters = [
        {"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{([a-z_]+)}", path)
    ]
    if meta.get("params"):
        parameters.append({"in": "query", "schema": meta["params"]})
    if parameters:
        operation["parameters"] = parameters
    if meta.get("body"):
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": meta["body"]}},
        }
    if meta.get("auth"):
        operation["security"] = [{"bearer": []}]
    status = meta.get("status", 200)
    response = {"description": STATUS_TEXT.get(status, "OK")}
    if meta.get("response"):
        schema = meta["response"]
        if meta.get("many"):
            schema = {
                "type": "object",
                "properties": {
                    "items": {"type": "array", "items": schema},
                    "page": {"type": "integer"},
                    "page_size": {"type": "integer"},
                    "total": {"type": "integer"},
                },
            }
        response["content"] = {"application/json": {"schema": schema}}
    operation["responses"][str(status)] = response
    for code, text in ERRORS.items():
        operation["responses"][str(code)] = {
            "description": text,
            "content": {"application/json": {"schema": "Error"}},
        }
    return operation
