"""An HTTP client for the gateway, and builders for request bodies."""

import random

import requests

DEFAULT_PASSWORD = "rahasia-desa-1"

# the operator account every stack bootstraps (the ``admin`` fixture logs in as it);
# 0811 never collides with the 0812 numbers of ``make_phone``
KOMPOR_ADMIN_PHONE = "0811-0000-0001"
KOMPOR_ADMIN_PASSWORD = "admin-rahasia-1"


def make_phone():
    return "0812" + "".join(random.choices("0123456789", k=8))


def e164(local_phone):
    return "+62" + local_phone[1:]


def make_member(**overrides):
    return {"name": "Siti Aminah", "phone": make_phone(), "password": DEFAULT_PASSWORD, **overrides}


class Api:
    """``api.post("/api/v1/auth/register", json=...)`` → ``requests.Response``."""

    def __init__(self, base_url, token=None, timeout=15):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.timeout = timeout
        self.token = token
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def request(self, method, path, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        return self.session.request(method, self.base_url + path, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.request("PATCH", path, **kwargs)

    def as_member(self, **overrides):
        """Register a new member and return ``(client logged in as them, member)``."""
        payload = make_member(**overrides)
        response = self.post("/api/v1/auth/register", json=payload)
        assert response.status_code == 201, response.text
        return self.login(payload["phone"], payload["password"]), response.json()

    def login(self, phone, password=DEFAULT_PASSWORD):
        response = self.post("/api/v1/auth/token", json={"phone": phone, "password": password})
        assert response.status_code == 200, response.text
        return Api(self.base_url, token=response.json()["access_token"], timeout=self.timeout)
