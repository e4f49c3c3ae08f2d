"""What benchmarks share: a broker vhost of their own, the stack as processes started
the way operators start it, a bounded concurrent HTTP load, and the figures."""

import contextlib
import os
import pathlib
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

from services.common import config as cfg
from services.run import ROOT, SERVICES, api_url, service_command, stop, wait_ready

MANAGEMENT_PORT = 15672


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


@contextlib.contextmanager
def data_dir():
    with tempfile.TemporaryDirectory(prefix="kompor-bench-") as path:
        yield pathlib.Path(path)


class Stack:
    """The running services: ``url`` of the API, ``check()`` that all still run."""

    def __init__(self, url, processes, logs_dir):
        self.url = url
        self.processes = processes
        self.logs_dir = logs_dir

    def check(self):
        stopped = [name for name, process in self.processes.items() if process.poll() is not None]
        if stopped:
            raise RuntimeError(f"{', '.join(stopped)} stopped; see the logs in {self.logs_dir}")


def stop_on_sigterm():
    """Turn SIGTERM into ``SystemExit`` so that the services and the vhost are cleaned up."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


@contextlib.contextmanager
def running_stack(env, logs_dir, within=90, commands=None):
    """Every service as its own process (``services.run.service_command``, or the
    ``commands`` given as ``{name: argv}``); yields a ``Stack`` once ``/readyz``
    answers 200."""
    env = {**os.environ, **{key: str(value) for key, value in env.items()}}
    commands = commands or {name: service_command(name) for name in SERVICES}
    processes, logs = {}, []
    try:
        for name, command in commands.items():
            log = open(logs_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed below
            logs.append(log)
            processes[name] = subprocess.Popen(
                command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
            )
        url = api_url(env["GATEWAY_ADDRESS"])
        running = lambda: all(process.poll() is None for process in processes.values())  # noqa: E731
        if not wait_ready(url, within=within, meanwhile=running):
            raise RuntimeError(f"the stack did not become ready; see the logs in {logs_dir}")
        yield Stack(url, processes, logs_dir)
    finally:
        stop(processes)
        for log in logs:
            log.close()


class Load:
    """``requests`` of one kind (callables taking a ``requests.Session``), run by
    ``concurrency`` threads; the figures of what came back."""

    def __init__(self, concurrency):
        self.concurrency = concurrency
        self._local = threading.local()

    def _session(self):
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def _timed(self, request):
        started = time.perf_counter()
        try:
            ok = 200 <= request(self._session()).status_code < 300
        except requests.RequestException:
            ok = False
        return time.perf_counter() - started, ok

    def run(self, requests_):
        with ThreadPoolExecutor(self.concurrency) as pool:
            started = time.perf_counter()
            results = list(pool.map(self._timed, requests_))
            elapsed = time.perf_counter() - started
        latencies = sorted(latency for latency, _ in results)
        errors = sum(1 for _, ok in results if not ok)
        return {
            "requests": len(results),
            "errors": errors,
            "rps": len(results) / elapsed,
            "ok_rps": (len(results) - errors) / elapsed,
            "p50_ms": percentile(latencies, 50) * 1000,
            "p99_ms": percentile(latencies, 99) * 1000,
            "mean_ms": statistics.fmean(latencies) * 1000,
        }


def percentile(sorted_values, pct):
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def print_table(title, rows):
    print(title)
    header = f"{'query':<28}{'requests':>9}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
    print(header)
    print("-" * len(header))
    for name, figures in rows:
        print(
            f"{name:<28}{figures['requests']:>9}{figures['errors']:>8}{figures['rps']:>9.1f}"
            f"{figures['p50_ms']:>9.1f}{figures['p99_ms']:>9.1f}"
        )
