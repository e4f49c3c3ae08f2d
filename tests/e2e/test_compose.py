"""docker-compose.yml checked for real: each app service's own command, with its own
environment (hosts pointed at this machine), must bring the stack to ready.

There is no MongoDB server here, so ``MONGO_URI`` is dropped and the services use
the embedded store; everything else is taken from the compose file as written.
"""

import pathlib
import sys
import urllib.parse

import pytest
import yaml
from nameko.testing.utils import find_free_port

from tests.support.processes import ProcessStack, Vhost

pytestmark = pytest.mark.e2e

ROOT = pathlib.Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
APP_SERVICES = {name: spec for name, spec in COMPOSE["services"].items() if "build" in spec}


def test_compose_runs_rabbitmq_mongodb_and_the_five_services_from_one_image():
    assert set(APP_SERVICES) == {"community", "catalogue", "orders", "notifications", "gateway"}
    assert {spec["build"]["dockerfile"] for spec in APP_SERVICES.values()} == {"deploy/Dockerfile"}
    for spec in APP_SERVICES.values():
        assert isinstance(spec["command"], list), "exec form, so SIGTERM reaches nameko"
        assert spec["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
        assert spec["depends_on"]["mongodb"]["condition"] == "service_healthy"
    assert "healthcheck" in COMPOSE["services"]["rabbitmq"]
    assert "healthcheck" in COMPOSE["services"]["mongodb"]
    assert COMPOSE["services"]["gateway"]["ports"] == ["8000:8000"]


def local_environment(environment, vhost, data_dir, gateway_port):
    env = {}
    for key, value in environment.items():
        value = str(value)
        if value.startswith("${"):  # compose interpolation of the operator's shell: unset here
            continue
        if key == "AMQP_URI":
            value = vhost.amqp_uri  # rabbitmq:5672 → this machine's broker, own vhost
        elif key == "MONGO_URI":
            continue
        elif key == "GATEWAY_ADDRESS":
            value = f"127.0.0.1:{gateway_port}"
        env[key] = value
    env["KOMPOR_DATA_DIR"] = str(data_dir)
    return env


def test_each_compose_service_command_starts_and_the_stack_becomes_ready(tmp_path):
    gateway_port = find_free_port()
    commands, env = {}, {}
    with Vhost() as vhost:
        for name, spec in APP_SERVICES.items():
            command = spec["command"]
            assert command[0] == "nameko"
            commands[name] = [sys.executable, "-m", *command]
            service_env = local_environment(
                spec["environment"], vhost, tmp_path / name, gateway_port
            )
            assert urllib.parse.urlparse(spec["environment"]["AMQP_URI"]).hostname == "rabbitmq"
            env[name] = service_env
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
        finally:
            for stack in stacks:
                stack.stop()


def test_every_service_gets_the_one_secret_key_and_compose_refuses_to_start_without_it():
    """The gateway signs the actor of each call with it and every service checks that
    signature, so a key per service (one generated in each volume) would refuse every
    call; and it has no default to forget to change."""
    keys = {
        name: spec["environment"].get("KOMPOR_SECRET_KEY") for name, spec in APP_SERVICES.items()
    }
    assert len(set(keys.values())) == 1, keys
    assert str(keys["gateway"]).startswith("${KOMPOR_SECRET_KEY:?"), keys["gateway"]
