"""The gateway's HTTP entrypoint: JSON in and out, one table from failures to the
error envelope (docs/architecture.md §11), a body-size limit, and the metadata
OpenAPI is built from.

Whatever a client sends is text that may be wrong: bytes that are not UTF-8 in the
path, query or body, bytes that are not printable ASCII in a header the operation
reads, JSON nested deeper than any request needs, a body over the limit. Each gets a
4xx in the envelope, never a 500 and never a reset connection.
"""

import functools
import gzip
import hashlib
import json
import logging
import re
import time
import urllib.parse
from functools import partial

import eventlet
from nameko.exceptions import BadRequest as NamekoBadRequest
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import HttpOnlyProtocol, WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from services.common import metrics, tracing
from services.common.errors import (
    EXPECTED,
    KomporError,
    NotFound,
    PayloadTooLarge,
    ValidationError,
)
from services.gateway.ratelimit import RateLimiter

logger = logging.getLogger(__name__)
access_log = logging.getLogger("kompor.access")

MAX_BODY_BYTES = 64 * 1024
GZIP_MIN_BYTES = 1024
GZIP_LEVEL = 6
ETAG_BYTES = 12
PUBLIC_MAX_AGE = 30
PUBLIC = f"public, max-age={PUBLIC_MAX_AGE}"
PRIVATE = "private, no-cache"
CONDITIONAL = {
    "If-None-Match": {
        "required": False,
        "description": "The ETag of the answer you kept: while it is still current, the "
        "answer is a 304 with no body.",
        "schema": {"type": "string"},
    }
}
"""For ``headers=`` of a route whose answers are ``cacheable``."""
MAX_JSON_DEPTH = 32  # the deepest request (an order's items) is 3
JSON_TYPE = "application/json"
BODY_METHODS = ("POST", "PUT", "PATCH")

# After answering, what the client is still sending is read and thrown away, up to
# these bounds, before the connection closes (a lingering close, as nginx does): a
# client that sends its whole body before reading, as urllib and requests do, then
# reads the answer instead of a connection reset.
DRAIN_BYTES = 8 * 1024 * 1024
DRAIN_SECONDS = 10
DRAIN_CHUNK = 64 * 1024

# a JSON string, whose brackets do not nest; one left open runs to the end, so the
# scan is one pass whatever the quotes
JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*+"?', re.DOTALL)
NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
# a \u escape of half a surrogate pair: json.loads lets one stand alone, UTF-8 cannot
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
# what a header value may hold (RFC 9110 field-vchar and spaces, less obs-text)
HEADER_TEXT = re.compile(r"[\t\x20-\x7e]*")


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


def with_request_id(payload):
    """An error envelope with the request's id in it (``error.request_id``)."""
    request_id = tracing.current_request_id()
    if request_id and isinstance(payload.get("error"), dict):
        payload = {**payload, "error": {**payload["error"], "request_id": request_id}}
    return payload


def json_text(payload):
    """The API's JSON: compact, UTF-8 as is."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def json_response(status, payload, headers=None):
    return Response(json_text(payload), status=status, headers=headers, mimetype=JSON_TYPE)


def cacheable(request, body, private):
    """A 200 of JSON ``body`` that a phone or a proxy may keep and ask about again.

    Its ``ETag`` is a hash of the body, the same from every gateway process and whether
    the answer came from the showroom's copy or from catalogue; an ``If-None-Match``
    naming it is answered 304 with no body. An anonymous answer may be kept by anyone
    for ``PUBLIC_MAX_AGE`` seconds; one to a signed-in caller only by that caller, and
    asked about again before each use."""
    etag = hashlib.blake2b(body.encode(), digest_size=ETAG_BYTES).hexdigest()
    headers = {
        "ETag": f'W/"{etag}"',  # weak: the gzipped answer is the same resource
        "Cache-Control": PRIVATE if private else PUBLIC,
        "Vary": "Accept-Encoding, Authorization",
    }
    if request.if_none_match.contains_weak(etag):
        return Response(status=304, headers=headers)
    return Response(body, status=200, headers=headers, mimetype=JSON_TYPE)


def compressed(request, response):
    """``response`` gzipped when it is JSON of at least ``GZIP_MIN_BYTES`` and the
    client accepts gzip (a 2G phone pays for every byte; a small answer would not
    shrink enough to matter)."""
    if response.mimetype != JSON_TYPE or response.status_code == 304:
        return response
    body = response.get_data()
    if len(body) < GZIP_MIN_BYTES or "Content-Encoding" in response.headers:
        return response
    response.vary.add("Accept-Encoding")
    if request.accept_encodings["gzip"] <= 0:
        return response
    response.set_data(gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    return response


def error_response(error):
    retry_after = error.details.get("retry_after") if error.status == 429 else None
    headers = {"Retry-After": retry_after[0]} if retry_after else None
    return json_response(error.status, with_request_id(error.to_dict()), headers)


def json_body(request):
    """The request body as a JSON object, or a 4xx that says what to send."""
    return json_of(raw_body(request))


def raw_body(request):
    """The request body's bytes, as sent (what a signature is made over); 413 over
    ``MAX_BODY_BYTES``. Read once: the stream is consumed."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The body is larger than {MAX_BODY_BYTES} bytes; send less.")
    raw = request.stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The body is larger than {MAX_BODY_BYTES} bytes; send less.")
    return raw


def json_of(raw):
    """``raw`` bytes as a JSON object, or a 4xx that says what to send."""
    if not raw.strip():
        return {}
    _refuse_deep_nesting(raw)
    # the body is read as JSON whatever Content-Type a simple client declared
    try:
        body = json.loads(raw)
        if SURROGATE_ESCAPE.search(raw):
            json.dumps(body, ensure_ascii=False).encode()  # a lone half raises here
    except (ValueError, UnicodeError) as exc:
        raise ValidationError(
            "The body is not valid JSON in UTF-8; send a JSON object.", {"_body": [str(exc)]}
        ) from None
    if not isinstance(body, dict):
        raise ValidationError(
            "Send a JSON object, not a list or a value.", {"_body": ["Send a JSON object."]}
        )
    return body


def _refuse_deep_nesting(raw):
    """JSON nested deeper than ``MAX_JSON_DEPTH`` is refused before it is parsed: the
    parser recurses once per level, and thousands of ``[`` would exhaust its stack."""
    brackets = JSON_STRING.sub(b"", raw).translate(None, NOT_BRACKETS)
    depth = 0
    for bracket in brackets:
        depth += 1 if bracket in b"[{" else -1
        if depth < 0:  # closes what it never opened: the parser stops there
            return
        if depth > MAX_JSON_DEPTH:
            raise ValidationError(
                f"The body nests deeper than {MAX_JSON_DEPTH} levels; send a flat JSON object.",
                {"_body": [f"Nest at most {MAX_JSON_DEPTH} levels of arrays and objects."]},
            )


def _refuse_undecodable_url(request):
    """The path and query must be UTF-8 once percent-decoded (WSGI hands them over as
    latin-1): werkzeug would replace bad bytes in the path and fail on them in the query."""
    path = request.environ.get("PATH_INFO", "").encode("latin-1", "replace")
    query_string = request.environ.get("QUERY_STRING", "").encode("latin-1", "replace")
    for name, raw in (("path", path), ("query", urllib.parse.unquote_to_bytes(query_string))):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError(
                f"The {name} is not valid UTF-8; percent-encode UTF-8 text.",
                {f"_{name}": ["Send UTF-8, percent-encoded."]},
            ) from None


def _refuse_unreadable_headers(request, names):
    """A header the operation reads must be printable ASCII, or it is refused by name."""
    for name in names:
        value = request.headers.get(name)
        if value is not None and not HEADER_TEXT.fullmatch(value):
            raise ValidationError(
                f"The {name} header holds characters that are not printable ASCII; "
                "send letters, digits and punctuation only.",
                {name: ["Send printable ASCII only (a UUID is good)."]},
            )


def _drain(environ):
    """The lingering close: read and discard the rest of the body, within bounds."""
    stream = environ.get("wsgi.input")
    # a client waiting for "100 Continue" was never told to send, so sends nothing
    if stream is None or getattr(stream, "should_send_hundred_continue", False):
        return
    left = DRAIN_BYTES
    with eventlet.Timeout(DRAIN_SECONDS, False):
        try:
            while left > 0:
                chunk = stream.read(min(DRAIN_CHUNK, left))
                if not chunk:
                    return
                left -= len(chunk)
        except (OSError, ValueError):  # the client went away, or broke its chunking
            return


class JsonWsgiApp(WsgiApp):
    """nameko's WSGI app, answering in the envelope even where no route is reached
    (a method no route takes) and draining the body after every answer. Every answer
    carries the request's id (``X-Request-ID``: the client's when safe, else a new
    one), and is counted by route template and status."""

    def __call__(self, environ, start_response):
        request = Request(environ, shallow=True)
        request_id = tracing.request_id_from(environ.get("HTTP_X_REQUEST_ID"))
        token = tracing.enter(request_id=request_id)
        started = time.monotonic()
        route = "unmatched"
        try:
            try:
                adapter = self.url_map.bind_to_environ(environ)
                provider, values = adapter.match()
                route = provider.url
                request.path_values = values  # type: ignore[attr-defined]  # as nameko does
                response = provider.handle_request(request)
            except HTTPException as exc:
                response = error_response(to_api_error(exc))
            response = compressed(request, response)
            response.headers[tracing.REQUEST_ID_HEADER] = request_id
            took = time.monotonic() - started
            method = request.method if request.method in KNOWN_METHODS else "other"
            if route not in QUIET_ROUTES:
                access_log.info(
                    "%s %s %s in %.0f ms", method, route, response.status_code, took * 1000
                )
        finally:
            tracing.leave(token)
        metrics.HTTP_REQUESTS.labels(route, method, str(response.status_code)).inc()
        metrics.HTTP_LATENCY.labels(route, method).observe(took)
        response.call_on_close(partial(_drain, environ))
        return response(environ, start_response)


KNOWN_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
QUIET_ROUTES = ("/healthz", "/readyz", "/metrics")  # asked every few seconds by probes


class JsonHttpProtocol(HttpOnlyProtocol):
    """A request line or headers the HTTP server cannot read, refused in the envelope
    too (the standard library answers those in HTML)."""

    def send_error(self, code, message=None, explain=None):
        self.log_error("code %d, message %s", code, message)
        reason = self.responses.get(code, ("Bad request",))[0]
        error = ValidationError(f"{reason}: send a well-formed HTTP/1.1 request.")
        request_id = tracing.new_request_id()
        envelope = error.to_dict()
        envelope["error"]["request_id"] = request_id
        body = json.dumps(envelope, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header(tracing.REQUEST_ID_HEADER, request_id)
        self.send_header("Connection", "close")
        self.send_header("Content-Type", JSON_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class JsonWebServer(WebServer):
    def context_data_from_headers(self, request):
        """The request id, for the worker and every RPC it makes."""
        return {tracing.REQUEST_ID: tracing.current_request_id()}

    def get_wsgi_app(self):
        return JsonWsgiApp(self)

    def get_wsgi_server(self, sock, wsgi_app, protocol=JsonHttpProtocol, debug=False):
        return super().get_wsgi_server(sock, wsgi_app, protocol=protocol, debug=debug)


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
    (it is the handler's name in camelCase otherwise), ``csv`` says the handler also
    answers ``text/csv`` when asked (``services/gateway/tables.py``).
    """

    server = JsonWebServer()

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
        csv=False,
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
            "csv": csv,
        }

    rate_limiter = RateLimiter()

    def handle_request(self, request):
        request.max_content_length = MAX_BODY_BYTES
        limited = self.rate_limiter.refuse(request)  # before a worker is spent on it
        if limited is not None:
            metrics.RATE_LIMITED.labels("gateway").inc()
            return error_response(limited)
        return super().handle_request(request)

    def get_entrypoint_parameters(self, request):
        _refuse_undecodable_url(request)
        _refuse_unreadable_headers(request, self.spec["headers"] or ())
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
                with_request_id(
                    {
                        "error": {
                            "code": "INTERNAL_ERROR",
                            "message": "Something went wrong on our side; try again later.",
                        }
                    }
                ),
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
