"""The RabbitMQ users of ``deploy/rabbitmq/definitions.json``, rendered by the same
script compose runs, loaded into the local broker for one test vhost.

Users are global to a broker, so each gets a unique suffix (``orders-1a2b3c4d``);
their permissions are exactly the file's, moved from ``/`` to the test's vhost.
"""

import json
import pathlib
import secrets
import subprocess
import sys
import tempfile
import uuid

import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
RENDER = ROOT / "deploy" / "rabbitmq" / "render_definitions.py"
TEMPLATE = ROOT / "deploy" / "rabbitmq" / "definitions.json"


def template_users():
    return [user["name"] for user in json.loads(TEMPLATE.read_text())["users"]]


class BrokerUsers:
    """``users.amqp_uri("orders")``: the orders service's own login on ``vhost``."""

    def __init__(self, vhost):
        self.vhost = vhost
        self.suffix = uuid.uuid4().hex[:8]
        self.passwords = {user: secrets.token_hex(16) for user in template_users()}

    def environment(self):
        """The variables an operator sets: ``RABBITMQ_<USER>_PASSWORD``."""
        return {f"RABBITMQ_{user.upper()}_PASSWORD": pw for user, pw in self.passwords.items()}

    def name(self, user):
        return f"{user}-{self.suffix}"

    def amqp_uri(self, user):
        host = self.vhost.broker.amqp_uri.rsplit("@", 1)[1]
        return f"amqp://{self.name(user)}:{self.passwords[user]}@{host}/{self.vhost.name}"

    def render(self):
        with tempfile.TemporaryDirectory() as directory:
            out = pathlib.Path(directory) / "definitions.json"
            subprocess.run(
                [sys.executable, str(RENDER), str(out)],
                env=self.environment(),
                check=True,
                capture_output=True,
            )
            return json.loads(out.read_text())

    def __enter__(self):
        definitions = self.render()
        for user in definitions["users"]:
            user["name"] = self.name(user["name"])
        for grant in definitions["permissions"] + definitions["topic_permissions"]:
            grant["user"] = self.name(grant["user"])
            grant["vhost"] = self.vhost.name
        loaded = {key: definitions[key] for key in ("users", "permissions", "topic_permissions")}
        requests.post(
            f"{self.vhost.broker.management_api}/definitions", json=loaded, timeout=30
        ).raise_for_status()
        return self

    def __exit__(self, *exc):
        for user in self.passwords:
            requests.delete(
                f"{self.vhost.broker.management_api}/users/{self.name(user)}", timeout=10
            )
