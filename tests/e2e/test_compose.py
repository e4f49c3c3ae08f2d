"""docker-compose.yml checked for real: each app service's own command, with its own
environment (hosts pointed at this machine) and its own RabbitMQ user from
``deploy/rabbitmq/definitions.json``, must bring the stack to ready and serve.

There is no MongoDB server here, so ``MONGO_URI`` is dropped and the services use
the embedded store; everything else is taken from the compose file as written,
interpolated as compose would from an operator's environment.
"""

import pathlib
import re
import secrets
import sys
import urllib.parse
import uuid

import pytest
import yaml
from nameko.testing.utils import find_free_port

from tests.support.broker_users import BrokerUsers
from tests.support.catalogue import key_header, make_product
from tests.support.community import approved_member, hub_with_coordinator
from tests.support.processes import ProcessStack, Vhost
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

ROOT = pathlib.Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
ADMIN_OVERRIDE = yaml.safe_load((ROOT / "docker-compose.admin.yml").read_text())
APP_SERVICES = {
    name: spec
    for name, spec in COMPOSE["services"].items()
    if spec.get("command", [""])[0] == "nameko"
}
VARIABLE = re.compile(r"\$\{(\w+)(?::([?-])([^}]*))?\}")
CREDENTIALS = {
    "MONGO_USER",
    "MONGO_PASSWORD",
    "RABBITMQ_ADMIN_PASSWORD",
    *(f"RABBITMQ_{name.upper()}_PASSWORD" for name in APP_SERVICES),
    "KOMPOR_SECRET_KEY",
}
ADMIN_PHONE, ADMIN_PASSWORD = "0811-0000-0009", "admin-rahasia-compose"
SECRET_KEY = secrets.token_hex(32)  # one for every service, as the operator's .env has


class Refused(Exception):
    """What ``docker compose`` says for ``${VAR:?message}`` when VAR is unset."""


def interpolate(value, environ):
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?message}``."""

    def substitute(match):
        name, kind, argument = match.groups()
        if environ.get(name):
            return environ[name]
        if kind == "?":
            raise Refused(f"{name}: {argument}")
        return argument if kind == "-" else ""

    return VARIABLE.sub(substitute, str(value))


def variables_refused_when_unset():
    refused = set()
    for spec in COMPOSE["services"].values():
        for value in (spec.get("environment") or {}).values():
            refused |= {name for name, kind, _ in VARIABLE.findall(str(value)) if kind == "?"}
    return refused


def test_compose_runs_rabbitmq_mongodb_and_the_seven_services_from_one_image():
    assert set(APP_SERVICES) == {
        "community",
        "catalogue",
        "orders",
        "notifications",
        "messaging",
        "ledger",
        "gateway",
    }
    assert {spec["build"]["dockerfile"] for spec in APP_SERVICES.values()} == {"deploy/Dockerfile"}
    for spec in APP_SERVICES.values():
        assert isinstance(spec["command"], list), "exec form, so SIGTERM reaches nameko"
        assert spec["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
        assert spec["depends_on"]["mongodb"]["condition"] == "service_healthy"
    assert "healthcheck" in COMPOSE["services"]["rabbitmq"]
    assert "healthcheck" in COMPOSE["services"]["mongodb"]
    assert COMPOSE["services"]["gateway"]["ports"] == ["8000:8000"]


def test_compose_publishes_no_management_port_unless_the_admin_override_asks_on_localhost():
    published = {name: spec.get("ports", []) for name, spec in COMPOSE["services"].items()}
    assert published == {name: [] for name in published} | {"gateway": ["8000:8000"]}
    assert ADMIN_OVERRIDE["services"]["rabbitmq"]["ports"] == ["127.0.0.1:15672:15672"]


def test_compose_has_no_default_credentials_and_refuses_to_start_without_them():
    assert variables_refused_when_unset() == CREDENTIALS
    rabbitmq = COMPOSE["services"]["rabbitmq"]
    assert not any(key.startswith("RABBITMQ_DEFAULT") for key in rabbitmq.get("environment", {}))
    for spec in COMPOSE["services"].values():
        for value in (spec.get("environment") or {}).values():
            assert "guest" not in str(value) and "kompor:kompor" not in str(value)
    with pytest.raises(Refused, match="RABBITMQ_ORDERS_PASSWORD"):
        interpolate(APP_SERVICES["orders"]["environment"]["AMQP_URI"], {})


def test_rabbitmq_loads_the_definitions_rendered_before_it_starts():
    rabbitmq = COMPOSE["services"]["rabbitmq"]
    render = COMPOSE["services"]["rabbitmq-definitions"]
    assert rabbitmq["depends_on"]["rabbitmq-definitions"]["condition"] == (
        "service_completed_successfully"
    )
    conf = (ROOT / "deploy" / "rabbitmq" / "rabbitmq.conf").read_text()
    [loaded] = re.findall(r"^load_definitions = (\S+)$", conf, re.M)
    [written] = [arg for arg in render["command"] if arg.endswith("definitions.json")]
    volume = {v.split(":")[0]: v.split(":")[1] for v in rabbitmq["volumes"]}
    render_volume = {v.split(":")[0]: v.split(":")[1] for v in render["volumes"]}
    shared = "rabbitmq-definitions"
    assert loaded == f"{volume[shared]}/{pathlib.PurePath(written).name}"
    assert pathlib.PurePath(written).parent == pathlib.PurePath(render_volume[shared])
    assert volume["./deploy/rabbitmq/rabbitmq.conf"].startswith("/etc/rabbitmq/conf.d/")


def operator_environment(users):
    """What an operator puts in ``.env``."""
    return {
        **users.environment(),
        "KOMPOR_SECRET_KEY": SECRET_KEY,
        "MONGO_USER": "kompor",
        "MONGO_PASSWORD": uuid.uuid4().hex,
        "KOMPOR_ADMIN_PHONE": ADMIN_PHONE,
        "KOMPOR_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }


def local_environment(name, environment, users, data_dir, gateway_port):
    env = {}
    operator = operator_environment(users)
    for key, value in environment.items():
        value = interpolate(value, operator)
        if key == "AMQP_URI":
            uri = urllib.parse.urlsplit(value)
            assert uri.hostname == "rabbitmq" and uri.username == name, "its own user"
            assert uri.password == users.passwords[name]
            value = users.amqp_uri(name)  # rabbitmq:5672 → this machine's broker, own vhost
        elif key == "MONGO_URI":
            continue
        elif key == "GATEWAY_ADDRESS":
            value = f"127.0.0.1:{gateway_port}"
        elif key == "KOMPOR_METRICS_PORT":  # one port each on this one machine
            value = str(find_free_port())
        if value:
            env[key] = value
    env["KOMPOR_DATA_DIR"] = str(data_dir)
    return env


def test_each_compose_service_command_starts_with_its_own_broker_user_and_serves(tmp_path):
    gateway_port = find_free_port()
    commands, env = {}, {}
    with Vhost() as vhost, BrokerUsers(vhost) as users:
        for name, spec in APP_SERVICES.items():
            command = spec["command"]
            assert command[0] == "nameko"
            commands[name] = [sys.executable, "-m", *command]
            env[name] = local_environment(
                name, spec["environment"], users, tmp_path / name, gateway_port
            )
        stacks = [
            ProcessStack(env[name], tmp_path, commands={name: commands[name]}, cwd=ROOT)
            for name in APP_SERVICES
        ]
        try:
            for stack in stacks:
                stack.start()
            gateway = next(s for s in stacks if "gateway" in s.commands)
            gateway.api.base_url = f"http://127.0.0.1:{gateway_port}"
            gateway.wait_ready()
            services = gateway.api.get("/readyz").json()["services"]
            assert set(services) == set(APP_SERVICES)
            an_order_is_placed_and_confirmed(gateway.api)
        finally:
            for stack in stacks:
                stack.stop()


def an_order_is_placed_and_confirmed(api):
    """Registration, roles, a product through approval and an order through the saga:
    RPC to every service and events between all of them, each as its own user."""
    admin = api.login(ADMIN_PHONE, ADMIN_PASSWORD)
    hub = hub_with_coordinator(api, admin)
    seller = approved_member(api, hub.coordinator, hub.hub_id, role="seller")
    buyer = approved_member(api, hub.coordinator, hub.hub_id, role="buyer")
    product = seller.client.post(
        "/api/v1/products", json=make_product(hub.hub_id), headers=key_header()
    )
    assert product.status_code == 201, product.text
    approved = hub.coordinator.post(f"/api/v1/products/{product.json()['id']}/approve")
    assert approved.status_code == 200, approved.text
    body = {
        "hub_id": hub.hub_id,
        "items": [{"product_id": product.json()["id"], "quantity": 2}],
        "fulfilment": {"method": "pickup"},
        "payment_method": "cod",
    }
    key = {"Idempotency-Key": str(uuid.uuid4())}
    placed = wait_until(
        lambda: (
            (r := buyer.client.post("/api/v1/orders", json=body, headers=key)).status_code == 201
            and r
        ),
        timeout=30,
        message="the product to reach orders",
    )
    order_id = placed.json()["id"]
    wait_until(
        lambda: buyer.client.get(f"/api/v1/orders/{order_id}").json()["status"] == "confirmed",
        timeout=30,
        message="the order confirmed",
    )
    wait_until(
        lambda: buyer.client.get("/api/v1/notifications").json().get("total", 0) >= 1,
        timeout=30,
        message="a notification for the buyer",
    )


def test_every_service_gets_the_one_secret_key_and_compose_refuses_to_start_without_it():
    """The gateway signs the actor of each call with it and every service checks that
    signature, so a key per service (one generated in each volume) would refuse every
    call; and it has no default to forget to change."""
    keys = {
        name: spec["environment"].get("KOMPOR_SECRET_KEY") for name, spec in APP_SERVICES.items()
    }
    assert len(set(keys.values())) == 1, keys
    assert str(keys["gateway"]).startswith("${KOMPOR_SECRET_KEY:?"), keys["gateway"]
