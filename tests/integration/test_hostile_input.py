"""No input reaches a 500 (issue 10, section 1): whatever bytes a client sends in the
path, the query, a header or the body, the gateway answers a 4xx in the error envelope.

The focused tests name each class of input that once got through (a header of
non-ASCII bytes, JSON nested thousands deep, a 21-digit page, a large body sent by a
client that reads only when done, bytes that are not UTF-8). The raw-HTTP fuzz at the
end sends a few hundred seeded random requests of the same kinds over plain sockets,
to every operation the served document lists, and holds every answer to the envelope.
"""

import http.client
import json
import os
import random
import socket
import time
import urllib.error
import urllib.request
import uuid

import pytest
import requests

SEED = int(os.environ.get("KOMPOR_HOSTILE_SEED", "1010"))
FUZZ_REQUESTS = 500
FUZZ_SECONDS = 30


# --- raw HTTP ------------------------------------------------------------------------


def address(stack):
    host, port = stack.config["WEB_SERVER_ADDRESS"].split(":")
    return host, int(port)


def raw_request(method, target, headers=(), body=b""):
    """The bytes of one HTTP/1.1 request; ``target`` and header values are bytes as
    sent, so they may hold anything but CR and LF."""
    lines = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: gateway"]
    lines += [name.encode() + b": " + value for name, value in headers]
    lines += [b"Content-Length: " + str(len(body)).encode(), b"Connection: close"]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def exchange(where, data, timeout=10):
    """Send ``data`` and read the answer: ``(status, body bytes)``."""
    with socket.create_connection(where, timeout=timeout) as sock:
        sock.sendall(data)
        answer = http.client.HTTPResponse(sock)
        answer.begin()
        return answer.status, answer.read()


def is_envelope(body):
    try:
        error = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        return False
    return isinstance(error.get("code"), str) and isinstance(error.get("message"), str)


def assert_refused(status, body, expected=400):
    assert status == expected, body
    assert is_envelope(body), body


def token_of(client):
    return client.session.headers["Authorization"].encode()


# --- headers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        b"Bearer \xff\xfe.\x80",
        b"Bearer \xe9t\xe9.sign\xe9",
        b"Bearer eyJzdWIiOiJ4In0.\xc3\xa9",
        b"Bearer \x01\x02.\x7f",
        b"\xff\xff\xff",
    ],
)
def test_an_authorization_header_of_any_bytes_is_a_401(stack, authorization):
    request = raw_request("GET", b"/api/v1/me", [("Authorization", authorization)])
    status, body = exchange(address(stack), request)
    assert_refused(status, body, 401)
    assert json.loads(body)["error"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("key", [b"\xffkey", "kunci-\u00e9".encode("latin-1"), b"a\x00b", b"\x7f"])
def test_an_idempotency_key_that_is_not_printable_ascii_is_refused_by_name(api, stack, key):
    client, _ = api.as_member()
    headers = [("Authorization", token_of(client)), ("Idempotency-Key", key)]
    status, body = exchange(address(stack), raw_request("POST", b"/api/v1/orders", headers, b"{}"))
    assert_refused(status, body)
    assert "Idempotency-Key" in json.loads(body)["error"]["details"]


# --- JSON nesting --------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 50_000,
        b"{" + b'"a":{' * 10_000,
        b'{"name": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
    ],
)
def test_json_nested_thousands_deep_is_a_400_that_says_so(api, raw):
    response = api.post("/api/v1/auth/register", data=raw)
    assert response.status_code == 400, response.text
    assert "nests deeper" in response.json()["error"]["message"]


def test_brackets_inside_strings_do_not_count_as_nesting(api):
    response = api.post("/api/v1/auth/register", json={"name": "[" * 1000, "phone": "x"})
    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) >= {"phone", "password"}


# --- numbers -------------------------------------------------------------------------

HUGE = "9" * 21


@pytest.mark.parametrize(
    ("path", "parameter", "value"),
    [
        ("/api/v1/hubs", "page", HUGE),
        ("/api/v1/hubs", "page", "10001"),
        ("/api/v1/hubs", "page", "-" + HUGE),
        ("/api/v1/hubs", "page_size", HUGE),
        ("/api/v1/hubs", "page", "9" * 5000),
        ("/api/v1/products", "page", HUGE),
        ("/api/v1/products", "min_price", HUGE),
        ("/api/v1/orders", "page", HUGE),
        ("/api/v1/notifications", "page", HUGE),
    ],
)
def test_a_number_outside_its_documented_range_is_a_400_naming_it(api, path, parameter, value):
    client, _ = api.as_member()
    response = client.get(path, params={parameter: value})
    assert response.status_code == 400, response.text
    assert parameter in response.json()["error"]["details"]


def test_the_last_page_the_document_allows_is_answered(api):
    response = api.get("/api/v1/hubs", params={"page": "10000", "page_size": "100"})
    assert response.status_code == 200
    assert response.json()["items"] == []


# --- oversized bodies ----------------------------------------------------------------

BIG = 2_000_000


def test_a_client_still_sending_a_large_body_reads_the_413_envelope(stack):
    """The answer goes out as soon as the size is known; the client, still sending,
    must be able to finish and then read it, not hit a reset connection."""
    head = (
        b"POST /api/v1/auth/register HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n"
        b"Content-Length: " + str(BIG).encode() + b"\r\n\r\n"
    )
    with socket.create_connection(address(stack), timeout=10) as sock:
        sock.sendall(head + b"x" * 65_536)
        time.sleep(0.5)  # the gateway has answered by now
        sock.sendall(b"x" * (BIG - 65_536))
        answer = http.client.HTTPResponse(sock)
        answer.begin()
        assert_refused(answer.status, answer.read(), 413)


def test_requests_and_urllib_sending_two_megabytes_read_the_413_envelope(api):
    url = api.base_url + "/api/v1/auth/register"
    response = requests.post(url, data=b"x" * BIG, headers={"Connection": "close"}, timeout=15)
    assert_refused(response.status_code, response.content, 413)
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(urllib.request.Request(url, data=b"x" * BIG), timeout=15)
    assert_refused(raised.value.code, raised.value.read(), 413)


# --- text that is not UTF-8 ----------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        b"/api/v1/hubs/\xff\xfe",
        b"/api/v1/hubs/%ff%fe",
        b"/api/v1/hubs?\xff=1",
        b"/api/v1/hubs?page=%c0%af",
        b"/api/v1/products?q=caf%e9",
        b"/api/v1/nothing/\xed\xa0\x80",
    ],
)
def test_a_path_or_query_that_is_not_utf8_is_a_400(stack, target):
    status, body = exchange(address(stack), raw_request("GET", target))
    assert_refused(status, body)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": "\xff\xfe", "phone": "081234567890", "password": "rahasia-desa-1"}',
        b'{"name": "\\ud800", "phone": "081234567890", "password": "rahasia-desa-1"}',
        b'{"name\\udfff": "Siti"}',
    ],
)
def test_a_body_that_is_not_utf8_is_a_400(api, raw):
    response = api.post("/api/v1/auth/register", data=raw)
    assert response.status_code == 400, response.text
    assert "_body" in response.json()["error"]["details"]


def test_an_escaped_pair_that_is_one_character_is_fine(api):
    body = b'{"name": "Siti \\ud83d\\ude00", "phone": "081234567891", "password": "rahasia-desa-1"}'
    response = api.post("/api/v1/auth/register", data=body)
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "Siti \U0001f600"


@pytest.mark.parametrize("method", ["OPTIONS", "TRACE", "BREW"])
def test_a_method_no_route_takes_gets_the_envelope(stack, method):
    status, body = exchange(address(stack), raw_request(method, b"/api/v1/hubs"))
    assert 400 <= status < 500
    assert is_envelope(body), body


# --- the raw-HTTP fuzz ---------------------------------------------------------------


def hostile_bytes(rng, size, allowed=range(256)):
    allowed = [b for b in allowed if b not in b"\r\n"]
    return bytes(rng.choice(allowed) for _ in range(size))


HUGE_NUMBERS = [
    "9" * 21,
    "-" + "9" * 30,
    "1" + "0" * 400,
    "1e400",
    "-1e400",
    "NaN",
    "Infinity",
    "0.5",
    "0x10",
    "18446744073709551616",
    "-9223372036854775809",
]


def hostile_segment(rng):
    return rng.choice(
        [
            b"some-id",
            str(uuid.uuid4()).encode(),
            b"%ff%fe",
            b"\xff\xfe\xfd",
            b"%c0%80",
            b"%ed%a0%80",
            b"%00",
            b"a" * 300,
            hostile_bytes(rng, rng.randint(1, 20), range(0x21, 0x100)).replace(b"?", b"") or b"x",
        ]
    )


def hostile_value(rng):
    return rng.choice(
        [
            rng.choice(HUGE_NUMBERS).encode(),
            b"%ff",
            b"caf%e9",
            hostile_bytes(rng, rng.randint(1, 30), range(0x21, 0x100)).replace(b"#", b""),
            b"",
            b"1",
        ]
    )


def hostile_query(rng, operation):
    names = [p["name"] for p in operation.get("parameters", ()) if p["in"] == "query"]
    names += ["page", "page_size", "x"]
    pairs = [
        rng.choice(names).encode() + b"=" + hostile_value(rng) for _ in range(rng.randint(1, 3))
    ]
    return b"?" + b"&".join(pairs)


def hostile_json_value(rng):
    return rng.choice(
        [
            rng.choice(HUGE_NUMBERS).encode(),
            b"[" * rng.randint(33, 5000),
            b'"\xff\xfe"',
            b'"\\ud800"',
            b'"' + b"x" * 5000 + b'"',
            b"{" + b'"$gt": 1' + b"}",
            b"true",
            b"null",
        ]
    )


def hostile_body(rng, document, operation):
    kind = rng.randrange(6)
    if kind == 0:
        return hostile_bytes(rng, rng.randint(0, 2000))
    if kind == 1:
        return rng.choice([b"[", b'{"a":', b'{"a":[']) * rng.randint(33, 60_000)
    if kind == 2:
        return b"x" * rng.randint(65_537, 300_000)
    if kind == 3:
        return b'{"name": "' + hostile_bytes(rng, 40, range(0x80, 0x100)) + b'"}'
    names = ["name", "page", "quantity", "price"]
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    reference = schema.get("schema", {}).get("$ref", "")
    component = document["components"]["schemas"].get(reference.rsplit("/", 1)[-1], {})
    names += list(component.get("properties", ()))
    fields = {rng.choice(names).encode() for _ in range(rng.randint(1, 4))}
    members = [b'"' + name + b'": ' + hostile_json_value(rng) for name in sorted(fields)]
    return b"{" + b", ".join(members) + b"}"


def hostile_headers(rng, token):
    headers = []
    if rng.random() < 0.5:
        headers.append(("Authorization", token))
    elif rng.random() < 0.7:
        headers.append(("Authorization", b"Bearer " + hostile_bytes(rng, rng.randint(1, 120))))
    for name in ("Idempotency-Key", "Content-Type", "Accept-Language", "X-Anything"):
        if rng.random() < 0.3:
            headers.append((name, hostile_bytes(rng, rng.randint(1, 80))))
    return headers


def hostile_request(rng, document, operations, token):
    method, path, operation = rng.choice(operations)
    segments = [hostile_segment(rng) if s.startswith("{") else s.encode() for s in path.split("/")]
    target = b"/".join(segments)
    if rng.random() < 0.5:
        target += hostile_query(rng, operation)
    body = b""
    if method in ("POST", "PUT", "PATCH") or rng.random() < 0.1:
        body = hostile_body(rng, document, operation)
    return raw_request(method, target, hostile_headers(rng, token), body)


def problem_with(status, body):
    """What is wrong with an answer, or ``None``: no 5xx, and every body either the
    error envelope or (on success) JSON."""
    if status >= 500:
        return f"{status}"
    if not body:
        return None
    if status >= 400:
        return None if is_envelope(body) else f"{status} without the envelope"
    try:
        json.loads(body)
    except ValueError:
        return f"{status} with a body that is not JSON"
    return None


def test_a_raw_http_fuzz_gets_no_5xx_and_the_envelope_on_every_answer(api, stack):
    rng = random.Random(SEED)
    client, _ = api.as_member()
    document = api.get("/api/v1/openapi.json").json()
    operations = [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    failures = []
    started = time.monotonic()
    for _ in range(FUZZ_REQUESTS):
        request = hostile_request(rng, document, operations, token_of(client))
        try:
            problem = problem_with(*exchange(address(stack), request))
        except (OSError, http.client.HTTPException) as exc:
            problem = f"no answer ({exc!r})"
        if problem:
            failures.append(f"{problem}: {request[:200]!r}")
    assert not failures, f"{len(failures)} of {FUZZ_REQUESTS} (seed {SEED}):\n" + "\n".join(
        failures[:20]
    )
    assert time.monotonic() - started < FUZZ_SECONDS
