"""The stack as real processes, started with the commands operators use."""

import os
import signal
import subprocess
import uuid

import requests
from nameko.testing.utils import find_free_port

from services.run import SERVICES, service_command
from tests.support.api import Api
from tests.support.broker import MACHINE
from tests.support.inbound import INBOUND_WEBHOOK_SECRET
from tests.support.waiting import wait_until


class Vhost:
    """A fresh RabbitMQ vhost (deleted afterwards) so runs never see each other."""

    def __init__(self, broker=MACHINE):
        self.name = f"kompor-test-{uuid.uuid4().hex[:10]}"
        self.broker = broker
        # a cluster lists every node (kombu fail-over): the vhost on each
        self.amqp_uri = ";".join(f"{uri}/{self.name}" for uri in broker.amqp_uri.split(";"))

    def __enter__(self):
        api = self.broker.management_api
        requests.put(f"{api}/vhosts/{self.name}", timeout=10).raise_for_status()
        requests.put(
            f"{api}/permissions/{self.name}/guest",
            timeout=10,
            json={"configure": ".*", "write": ".*", "read": ".*"},
        ).raise_for_status()
        return self

    def __exit__(self, *exc):
        requests.delete(f"{self.broker.management_api}/vhosts/{self.name}", timeout=10)


class ProcessStack:
    """``commands``: {name: argv}; each runs with ``env`` (and its ``service_env``),
    output kept in ``logs_dir/<name>.log``, as ``make run`` keeps it."""

    def __init__(self, env, logs_dir, commands=None, cwd=None, service_env=None):
        self.env = {**os.environ, **{k: str(v) for k, v in env.items()}}
        self.service_env = service_env or {}
        self.logs_dir = logs_dir
        self.commands = commands or {name: service_command(name) for name in SERVICES}
        self.cwd = cwd
        self.processes = {}
        address = self.env.get("GATEWAY_ADDRESS", "127.0.0.1:8000")
        self.api = Api(f"http://{address}")

    def start(self, *names):
        for name in names or self.commands:
            log = open(self.logs_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop
            self.processes[name] = (
                subprocess.Popen(
                    self.commands[name],
                    env={**self.env, **self.service_env.get(name, {})},
                    cwd=self.cwd,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                ),
                log,
            )
        return self

    def stop(self, *names, sig=signal.SIGTERM):
        for name in names or list(self.processes):
            process, log = self.processes.pop(name)
            if process.poll() is None:
                process.send_signal(sig)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            log.close()

    def wait_ready(self, timeout=60):
        def ready():
            for name, (process, _) in self.processes.items():
                assert process.poll() is None, f"{name} exited:\n{self.log_tail(name)}"
            try:
                return self.api.get("/readyz", timeout=5).status_code == 200
            except requests.RequestException:
                return False

        wait_until(ready, timeout=timeout, interval=0.3, message="/readyz 200")
        return self

    def log_tail(self, name, lines=40):
        text = (self.logs_dir / f"{name}.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def e2e_env(vhost, data_dir, sms_url, **extra):
    """The environment docs/architecture.md §14 describes, with fast retry timings for tests."""
    return {
        "AMQP_URI": vhost.amqp_uri,
        "KOMPOR_DATA_DIR": str(data_dir),
        "GATEWAY_ADDRESS": f"127.0.0.1:{find_free_port()}",
        "SMS_GATEWAY_URL": sms_url,
        "INBOUND_WEBHOOK_SECRET": INBOUND_WEBHOOK_SECRET,
        "KOMPOR_RETRY_DELAYS": "0.5,1,2",
        "KOMPOR_OUTBOX_SWEEP_SECONDS": "0.5",
        "KOMPOR_DELIVERY_BASE_DELAY": "0.5",
        "KOMPOR_DELIVERY_MAX_DELAY": "2",
        "KOMPOR_DELIVERY_MAX_ATTEMPTS": "100",
        "KOMPOR_RATE_LIMIT": "10000",  # one address, far faster than a person
        "KOMPOR_RATE_BURST": "10000",
        **extra,
    }
