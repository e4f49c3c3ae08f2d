"""The gateway's HTTP entrypoint: JSON in and out, one table from failures to the
error envelope (docs/architecture.md §11), a body-size limit, and the metadata
OpenAPI is built from.
"""

import functools
import json
import logging

from nameko.exceptions import BadRequest as NamekoBadRequest
from nameko.web.handlers import HttpRequestHandler
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from services.common.errors import (
    EXPECTED,
    KomporError,
    NotFound,
    PayloadTooLarge,
    ValidationError,
)

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
JSON_TYPE = "application/json"
BODY_METHODS = ("POST", "PUT", "PATCH")


def to_api_error(exc):
    """The one table (``MAPPED_ERRORS``) from what a request raised to an API error;
    RPC transport failures were already turned into ``ServiceUnavailable``."""
    for kind, make in MAPPED_ERRORS:
        if isinstance(exc, kind):
            return make(exc)
    return None


MAPPED_ERRORS = (
    (KomporError, lambda exc: exc),
    (NamekoBadRequest, lambda exc: ValidationError(f"Bad request: {exc}.")),
    (HTTPException, lambda exc: _http_error(exc)),
)


def _http_error(exc):
    if exc.code == 413:
        return PayloadTooLarge(f"The body is larger than {MAX_BODY_BYTES} bytes; send less.")
    if exc.code == 404:
        return NotFound("No such endpoint; see GET /api/v1/openapi.json.")
    return ValidationError(exc.description or "Bad request.")


def json_response(status, payload, headers=None):
    return Response(
        json.dumps(payload, separators=(",", ":"), ensure_ascii=False),
        status=status,
        headers=headers,
        mimetype=JSON_TYPE,
    )


def error_response(error):
    return json_response(error.status, error.to_dict())


def json_body(request):
    """The request body as a JSON object, or a 4xx that says what to send."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The body is larger than {MAX_BODY_BYTES} bytes; send less.")
    raw = request.stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The body is larger than {MAX_BODY_BYTES} bytes; send less.")
    if not raw.strip():
        return {}
    # the body is read as JSON whatever Content-Type a simple client declared
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(
            "The body is not valid JSON; send a JSON object.", {"_body": [str(exc)]}
        ) from None
    if not isinstance(body, dict):
        raise ValidationError(
            "Send a JSON object, not a list or a value.", {"_body": ["Send a JSON object."]}
        )
    return body


def query(request):
    """Query parameters as a dict of strings (a repeated parameter keeps its first)."""
    return {key: request.args.get(key) for key in request.args}


class JsonRoute(HttpRequestHandler):
    """``@route("POST", "/api/v1/orders", body=PlaceOrderSchema, response=OrderSchema,
    status=201, auth=True, summary="Place an order")``.

    The handler returns a payload (status 200) or ``(status, payload)``. With ``auth``
    the caller is authenticated before the handler runs (401 without a valid token) and
    ``self.backend.caller(request)`` is who it is. For the API document: ``params`` is
    the query's schema, ``headers`` maps request header names to OpenAPI parameter
    fields, ``responses`` maps other statuses to their body's schema, ``operation_id``
    names the operation where the handler's own name reads badly in a generated client
    (it is the handler's name in camelCase otherwise).
    """

    def __init__(
        self,
        method,
        url,
        body=None,
        response=None,
        status=200,
        auth=False,
        params=None,
        summary="",
        many=False,
        hidden=False,
        headers=None,
        responses=None,
        operation_id=None,
        **kwargs,
    ):
        kwargs.setdefault("expected_exceptions", EXPECTED)
        super().__init__(method, url, **kwargs)
        self.spec = {
            "body": body,
            "response": response,
            "status": status,
            "auth": auth,
            "params": params,
            "summary": summary,
            "many": many,
            "hidden": hidden,
            "headers": headers,
            "responses": responses,
            "operation_id": operation_id,
        }

    def handle_request(self, request):
        request.max_content_length = MAX_BODY_BYTES
        return super().handle_request(request)

    def get_entrypoint_parameters(self, request):
        if not self.spec["hidden"]:
            self._refuse_undocumented_input(request)
        return super().get_entrypoint_parameters(request)

    def _refuse_undocumented_input(self, request):
        """What the API document does not list for this operation is refused, not
        ignored: no query parameters where it lists none, no body where it takes none
        (``{}`` or nothing is fine)."""
        if self.spec["params"] is None and request.args:
            raise ValidationError(
                "This endpoint takes no query parameters; remove them.",
                {key: ["Unknown parameter; remove it."] for key in request.args},
            )
        if self.spec["body"] is None and request.method in BODY_METHODS:
            body = json_body(request)  # the handler reads the rest: nothing, i.e. {}
            if body:
                raise ValidationError(
                    "This endpoint takes no body; send none or {}.",
                    {key: ["Unknown field; remove it."] for key in body},
                )

    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        status, payload = result if isinstance(result, tuple) else (200, result)
        return json_response(status, payload)

    def response_from_exception(self, exc):
        error = to_api_error(exc)
        if error is None:
            logger.error("unexpected error in %s %s: %r", self.method, self.url, exc)
            return json_response(
                500,
                {
                    "error": {
                        "code": "INTERNAL_ERROR",
                        "message": "Something went wrong on our side; try again later.",
                    }
                },
            )
        return error_response(error)


def route(method, url, **options):
    """Declare a ``JsonRoute`` (see its options); a route declared ``auth=True`` has its
    handler run only for an authenticated caller."""

    def register(handler):
        if options.get("auth"):
            handler = _authenticated(handler)
        return JsonRoute.decorator(method, url, **options)(handler)

    return register


def _authenticated(handler):
    # in the worker (authenticating is an RPC), so after the request's shape was
    # checked: a stray query parameter is reported before a missing token
    @functools.wraps(handler)
    def authenticated(self, request, *args, **kwargs):
        self.backend.authenticate(request)
        return handler(self, request, *args, **kwargs)

    return authenticated
