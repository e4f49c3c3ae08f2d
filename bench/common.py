"""What the benchmarks share: the stack as processes started the way operators start
them (``services.run.service_command``), in a fresh RabbitMQ vhost and a temporary
data directory, and a bounded load driver that reports rate and latency percentiles.

Benchmarks only talk to addresses on this machine and stop by themselves.
"""

import concurrent.futures
import contextlib
import os
import pathlib
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid

import requests

from services.run import ROOT, service_command

BROKER = os.environ.get("BENCH_BROKER", "amqp://guest:guest@localhost:5672")
MANAGEMENT_API = os.environ.get("BENCH_MANAGEMENT_API", "http://guest:guest@localhost:15672/api")
ADMIN_PHONE = "081100000001"
ADMIN_PASSWORD = "bench-admin-password"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def nameko_command(service_path):
    """``service_command`` for a service class of the benchmark's own."""
    return [*service_command("gateway")[:-1], service_path]


@contextlib.contextmanager
def vhost():
    """A fresh RabbitMQ vhost, deleted afterwards; yields its AMQP URI."""
    name = f"kompor-bench-{uuid.uuid4().hex[:8]}"
    requests.put(f"{MANAGEMENT_API}/vhosts/{name}", timeout=10).raise_for_status()
    requests.put(
        f"{MANAGEMENT_API}/permissions/{name}/guest",
        json={"configure": ".*", "write": ".*", "read": ".*"},
        timeout=10,
    ).raise_for_status()
    try:
        yield f"{BROKER}/{name}"
    finally:
        requests.delete(f"{MANAGEMENT_API}/vhosts/{name}", timeout=10)


class ProcessStack:
    """``commands``: {name: argv}. Each process logs to ``<data dir>/logs/<name>.log``."""

    def __init__(self, amqp_uri, commands, data_dir, **extra_env):
        self.commands = commands
        self.data_dir = pathlib.Path(data_dir)
        self.logs = self.data_dir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.address = f"127.0.0.1:{free_port()}"
        self.url = f"http://{self.address}"
        self.env = {
            **os.environ,
            "AMQP_URI": amqp_uri,
            "KOMPOR_DATA_DIR": str(self.data_dir / "var"),
            "GATEWAY_ADDRESS": self.address,
            "KOMPOR_ADMIN_PHONE": ADMIN_PHONE,
            "KOMPOR_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "KOMPOR_LOG_LEVEL": "WARNING",
            **extra_env,
        }
        self.env.pop("MONGO_URI", None)  # the embedded store, as a local run uses
        self.processes = {}

    def start(self):
        for name, command in self.commands.items():
            log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop
            process = subprocess.Popen(
                command, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
            )
            self.processes[name] = (process, log)
        return self

    def wait_ready(self, within=90):
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for name, (process, _) in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited:\n{self.log_tail(name)}")
            try:
                if requests.get(f"{self.url}/readyz", timeout=3).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError("the stack did not become ready")

    def stop(self):
        for process, _ in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, log in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()
        self.processes = {}

    def log_tail(self, name, lines=30):
        text = (self.logs / f"{name}.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def running_stack(commands, **extra_env):
    with vhost() as amqp_uri, tempfile.TemporaryDirectory(prefix="kompor-bench-") as data_dir:
        stack = ProcessStack(amqp_uri, commands, data_dir, **extra_env).start()
        try:
            yield stack.wait_ready()
        finally:
            stack.stop()


def percentile(values, fraction):
    """Nearest-rank percentile of ``values`` (seconds), or ``None`` when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(int(round(fraction * len(ordered) + 0.5)) - 1, 0)
    return ordered[min(rank, len(ordered) - 1)]


class Refused(Exception):
    """A request the service did not accept (its status and body)."""


class Load:
    """``Load(concurrency).run(call, count)``: ``call(i)`` returns when the request
    was accepted and raises (e.g. ``Refused``) when not; latencies of accepted calls
    are kept, failures counted."""

    def __init__(self, concurrency, deadline_seconds=300):
        self.concurrency = concurrency
        self.deadline_seconds = deadline_seconds

    def run(self, call, count):
        latencies, failures = [], []
        lock = threading.Lock()
        stop_at = time.monotonic() + self.deadline_seconds

        def one(index):
            if time.monotonic() > stop_at:
                return
            started = time.perf_counter()
            try:
                call(index)
            except (Refused, requests.RequestException) as exc:
                with lock:
                    failures.append(repr(exc))
                return
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)

        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(self.concurrency) as pool:
            list(pool.map(one, range(count)))
        wall = time.perf_counter() - started
        return Result(latencies, failures, wall)


class Result:
    def __init__(self, latencies, failures, wall):
        self.latencies = latencies
        self.failures = failures
        self.wall = wall

    @property
    def rate(self):
        return len(self.latencies) / self.wall if self.wall else 0.0

    def line(self, label, unit="requests"):
        return (
            f"{label:<34} {self.rate:8.1f} {unit}/s  "
            f"p50 {ms(percentile(self.latencies, 0.50))}  "
            f"p99 {ms(percentile(self.latencies, 0.99))}  "
            f"({len(self.latencies)} ok, {len(self.failures)} failed, {self.wall:.1f} s)"
        )


def ms(seconds):
    return "   n/a  " if seconds is None else f"{seconds * 1000:7.1f} ms"
