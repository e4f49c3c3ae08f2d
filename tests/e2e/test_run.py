"""``make run`` supervises: a service that dies is started again with a line saying so,
the others never stop, and Ctrl-C (or SIGTERM) ends them all."""

import io
import os
import signal
import subprocess
import sys
import uuid

import pytest
import requests
from nameko.testing.utils import find_free_port
from prometheus_client.parser import text_string_to_metric_families

from services.common import cli
from services.run import ROOT, SERVICES, metrics_ports
from tests.support.processes import Vhost, e2e_env
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e


def children(pid):
    """``{service name: pid}`` of the processes ``pid`` started."""
    listed = subprocess.run(
        ["ps", "-ww", "--ppid", str(pid), "-o", "pid=,args="], capture_output=True, text=True
    ).stdout
    found = {}
    for line in listed.splitlines():
        child, _, command = line.strip().partition(" ")
        if "services." in command:
            found[command.rsplit("services.", 1)[1].split(".")[0]] = int(child)
    return found


def ready(url):
    try:
        return requests.get(f"{url}/readyz", timeout=3).status_code == 200
    except requests.RequestException:
        return False


def test_a_killed_service_is_started_again_and_sigterm_stops_everything(tmp_path, sink):
    with Vhost() as vhost:
        metrics_base = find_free_port()
        env = {
            **os.environ,
            **e2e_env(vhost, tmp_path / "var", sink.url),
            "KOMPOR_METRICS_PORT": str(metrics_base),
        }
        url = f"http://{env['GATEWAY_ADDRESS']}"
        log = tmp_path / "run.log"
        with open(log, "wb") as output:
            runner = subprocess.Popen(
                [sys.executable, "-m", "services.run"],
                env=env,
                cwd=ROOT,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until(lambda: "is ready" in log.read_text(), timeout=90, message="ready")
            before = children(runner.pid)
            assert set(before) == {
                "community",
                "catalogue",
                "orders",
                "notifications",
                "messaging",
                "ledger",
                "gateway",
            }
            each_service_logs_to_its_file_and_serves_metrics(url, tmp_path / "var" / "log", env)

            os.kill(before["orders"], signal.SIGKILL)
            wait_until(
                lambda: "orders started again" in log.read_text(), timeout=30, message="restart"
            )
            assert "orders exited with -9" in log.read_text()
            wait_until(lambda: ready(url), timeout=60, message="/readyz after the restart")
            after = children(runner.pid)
            assert after["orders"] != before["orders"]
            assert {name: after[name] for name in after if name != "orders"} == {
                name: before[name] for name in before if name != "orders"
            }, "the other services were restarted too"
        finally:
            runner.send_signal(signal.SIGTERM)
            assert runner.wait(timeout=60) == 0
        assert children(runner.pid) == {}
        for pid in after.values():
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)


def each_service_logs_to_its_file_and_serves_metrics(url, logs, env):
    """What an operator reads: ``var/log/<service>.log`` (where ``cli trace`` finds a
    request), and each service's metrics on its port."""
    request_id = f"run-{uuid.uuid4().hex[:8]}"
    requests.get(f"{url}/api/v1/openapi.json", headers={"X-Request-ID": request_id}, timeout=5)
    assert {path.stem for path in logs.glob("*.log")} == set(SERVICES)
    out = io.StringIO()
    wait_until(
        lambda: cli.main(["trace", request_id, "--logs", str(logs)], out=out) == 0,
        timeout=10,
        message="the request in the gateway's log",
    )
    assert "gateway" in out.getvalue() and "/api/v1/openapi.json 200" in out.getvalue()
    for name, port in metrics_ports(env).items():
        answer = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert answer.status_code == 200, name
        assert list(text_string_to_metric_families(answer.text)), name
