"""The gateway's copy of the showroom, seen from outside: whether an answer came from
the copy or from catalogue (the gateway counts every call it makes to catalogue in its
metrics), and raw HTTP, to weigh an answer byte by byte."""

import socket
import urllib.parse

from prometheus_client.parser import text_string_to_metric_families

from tests.support.waiting import wait_until

SHOWROOM_READS = ("list_products", "get_product")
COPY_DEADLINE = 5.0
"""How long a change may take to reach the copy in these tests (events take
milliseconds here)."""


def soon(probe, message):
    """``probe()`` once a change reached the gateway's copy (``wait_until``)."""
    return wait_until(probe, timeout=COPY_DEADLINE, message=message)


def catalogue_reads(api):
    """How many showroom reads the gateway has asked catalogue for so far."""
    families = text_string_to_metric_families(api.get("/metrics").text)
    return sum(
        sample.value
        for family in families
        if family.name == "kompor_rpc_client_calls"
        for sample in family.samples
        if sample.name.endswith("_total")
        and sample.labels.get("service") == "catalogue"
        and sample.labels.get("method") in SHOWROOM_READS
    )


def from_the_copy(api, path, **kwargs):
    """``api.get(path, **kwargs)``, checked to have been answered without asking catalogue."""
    before = catalogue_reads(api)
    response = api.get(path, **kwargs)
    assert catalogue_reads(api) == before, f"GET {path} asked catalogue"
    return response


def copy_ready(api):
    """Wait until the gateway answers the showroom from its copy."""

    def answered_alone():
        before = catalogue_reads(api)
        api.get("/api/v1/products")
        return catalogue_reads(api) == before

    wait_until(answered_alone, timeout=15, message="the gateway's copy of the showroom")


def shown(api, product_id, **params):
    """The product's item in the showroom (of its hub, say), or ``None``."""
    response = from_the_copy(api, "/api/v1/products", params=params)
    assert response.status_code == 200, response.text
    return next((item for item in response.json()["items"] if item["id"] == product_id), None)


def raw_get(base_url, path, headers=()):
    """The whole HTTP answer to a GET, as bytes: status line, headers and body."""
    url = urllib.parse.urlsplit(base_url)
    lines = [f"GET {path} HTTP/1.1", f"Host: {url.netloc}", "Connection: close", *headers]
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer
