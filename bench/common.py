"""What benchmarks share: the stack as processes started the way ``make run`` starts
them (``services.run.service_command``), on a broker vhost and a data directory of its
own, with a stand-in SMS provider; the reference every figure is compared with (one
HTTP request → one trivial RPC → its reply); and what ``/proc`` says of each process.

The gateway is ``BenchGateway``: the real ``GatewayService`` plus ``GET /bench/echo``,
which makes one RPC to ``bench_echo`` (a process of its own) and returns its answer:
the same stack's ceiling for anything that needs an RPC.
"""

import contextlib
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid

import requests
from nameko.rpc import rpc

from services.common import config as cfg
from services.gateway.http import route
from services.gateway.service import GatewayService
from services.run import ROOT, SERVICES, api_url, service_command, stop, wait_ready
from tests.support.sink import HttpSink

MANAGEMENT_PORT = 15672
ADMIN_PHONE = "081100000001"
ADMIN_PASSWORD = "bench-admin-password"
WEBHOOK_SECRET = "bench-inbound-secret"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
IDLE = 0.1  # CPU seconds a second of all services together: timers, nothing queued


class EchoService:
    name = "bench_echo"

    @rpc
    def echo(self, text):
        return {"echo": text}


class BenchGateway(GatewayService):
    @route("GET", "/bench/echo", hidden=True)
    def bench_echo(self, request):
        return self.backend.bench_echo.echo(request.args.get("say", "ok"))


def own_command(service_path):
    """``service_command`` for a service class of the benchmark."""
    return [*service_command("gateway")[:-1], service_path]


COMMANDS = {
    **{name: service_command(name) for name in SERVICES if name != "gateway"},
    "gateway": own_command("bench.common:BenchGateway"),
    "bench_echo": own_command("bench.common:EchoService"),
}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def fresh_vhost(amqp_uri=None):
    """An ``AMQP_URI`` on a new vhost (removed afterwards) when the management API
    answers; otherwise ``amqp_uri`` as given."""
    amqp_uri = amqp_uri or cfg.amqp_uri()
    parts = urllib.parse.urlparse(amqp_uri)
    user, password = parts.username or "guest", parts.password or "guest"
    api = f"http://{parts.hostname or 'localhost'}:{MANAGEMENT_PORT}/api"
    name = f"kompor-bench-{uuid.uuid4().hex[:8]}"
    try:
        requests.put(f"{api}/vhosts/{name}", auth=(user, password), timeout=5).raise_for_status()
        requests.put(
            f"{api}/permissions/{name}/{user}",
            auth=(user, password),
            json={"configure": ".*", "write": ".*", "read": ".*"},
            timeout=5,
        ).raise_for_status()
    except requests.RequestException:
        yield amqp_uri
        return
    try:
        yield parts._replace(path=f"/{name}").geturl()
    finally:
        with contextlib.suppress(requests.RequestException):
            requests.delete(f"{api}/vhosts/{name}", auth=(user, password), timeout=5)


class Provider(HttpSink):
    """The SMS provider's stand-in (the tests' sink): each message it got, with
    ``at``, when it arrived."""

    def __init__(self):
        super().__init__()
        self.messages = _Stamped()

    def __exit__(self, *exc):
        # no shutdown(): with nameko imported its wait can outlast the serving thread's
        # select; the thread is a daemon and the socket closes here
        self.server.server_close()


class _Stamped(list):
    def append(self, message):
        super().append({**message, "at": time.perf_counter()})


class Stack:
    """The running services: ``url`` of the API, the ``amqp_uri`` they share, the SMS
    ``provider``, and what ``seed`` returned before they started."""

    def __init__(self, url, amqp_uri, provider, processes, logs_dir, seeded):
        self.url = url
        self.amqp_uri = amqp_uri
        self.provider = provider
        self.processes = processes
        self.logs_dir = logs_dir
        self.seeded = seeded

    def check(self):
        """Figures from a half-dead stack would mislead."""
        stopped = [name for name, process in self.processes.items() if process.poll() is not None]
        if stopped:
            raise RuntimeError(f"{', '.join(stopped)} stopped; see the logs in {self.logs_dir}")

    def services(self):
        """``{name: pid}`` of the services (not the echo's own process)."""
        return {name: self.processes[name].pid for name in SERVICES}

    def cpu_seconds(self):
        """``{service: user + system CPU seconds it has used so far}``."""
        return {name: cpu_seconds(pid) for name, pid in self.services().items()}

    def settle(self, within=120):
        """Until the services are idle (what a load left them is done), so one load's
        backlog does not slow the next; at most ``within`` seconds."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            before = sum(self.cpu_seconds().values())
            time.sleep(1)
            if sum(self.cpu_seconds().values()) - before < IDLE:
                return


def cpu_seconds(pid):
    """User + system CPU time a process has used so far."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def peak_rss_mb(pid):
    """Peak resident memory of a process (``VmHWM``), in MB; ``None`` once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@contextlib.contextmanager
def data_dir():
    with tempfile.TemporaryDirectory(prefix="kompor-bench-") as path:
        yield pathlib.Path(path)


def stop_on_sigterm():
    """Turn SIGTERM into ``SystemExit`` so that the services and the vhost are cleaned up."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


@contextlib.contextmanager
def running_stack(seed=None, within=90):
    """Every process of ``COMMANDS`` on a fresh vhost, the embedded store in a temporary
    ``KOMPOR_DATA_DIR`` (``MONGO_URI`` when set), SMS to a ``Provider``; ``seed(config)``
    fills the stores first. Yields a ``Stack`` once ``/readyz`` answers 200."""
    with fresh_vhost() as amqp_uri, data_dir() as path, Provider() as provider:
        env = {
            **os.environ,
            "AMQP_URI": amqp_uri,
            cfg.DATA_DIR_KEY: str(path / "var"),
            "GATEWAY_ADDRESS": f"127.0.0.1:{free_port()}",
            "KOMPOR_ADMIN_PHONE": ADMIN_PHONE,
            "KOMPOR_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "KOMPOR_LOG_LEVEL": "WARNING",
            "KOMPOR_RATE_LIMIT": "0",  # the bench is many clients behind one address
            "SMS_GATEWAY_URL": provider.url,
            "INBOUND_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
        config = {key: env[key] for key in (cfg.DATA_DIR_KEY, cfg.MONGO_URI_KEY) if key in env}
        seeded = seed(config) if seed else None
        processes, logs = {}, []
        try:
            for name, command in COMMANDS.items():
                log = open(path / f"{name}.log", "ab")  # noqa: SIM115 - closed below
                logs.append(log)
                processes[name] = subprocess.Popen(
                    command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
                )
            url = api_url(env["GATEWAY_ADDRESS"])
            running = lambda: all(process.poll() is None for process in processes.values())  # noqa: E731
            if not wait_ready(url, within=within, meanwhile=running):
                raise RuntimeError(f"the stack did not become ready; see the logs in {path}")
            yield Stack(url, amqp_uri, provider, processes, path, seeded)
        finally:
            stop(processes)
            for log in logs:
                log.close()


def percentile(sorted_values, pct):
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]
