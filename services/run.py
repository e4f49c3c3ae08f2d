"""``make run``: every service as its own process, the way operators run them.

Checks RabbitMQ first (a clear message and exit 1 when it is unreachable), starts
every service of ``services/common/topology.py`` with ``nameko run --config
deploy/config.yaml``, waits until the gateway reports ready, prints where the API is,
and stops everything on Ctrl-C.
Meanwhile it supervises like compose's ``restart: unless-stopped``: a service that
exits is started again after a backoff, with a line saying so; the others go on.

Each service's output goes to the terminal and also to ``<KOMPOR_DATA_DIR>/log/<service>.log``
(``./var/log`` by default), where ``python -m services.common.cli trace <request id>``
reads it. Each service but the gateway (``/metrics`` on the API) serves its metrics on
``KOMPOR_METRICS_PORT`` + its place in ``services/common/topology.py`` (9100 by
default: community 9101, catalogue 9102 …; ``KOMPOR_METRICS_PORT=0`` turns them off).
"""

import os
import pathlib
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from services.common import config as cfg
from services.common.topology import SERVICES

ROOT = pathlib.Path(__file__).resolve().parent.parent
CONFIG = ROOT / "deploy" / "config.yaml"
DEFAULT_GATEWAY = "0.0.0.0:8000"
READY_WITHIN = 60
DEFAULT_METRICS_BASE = 9100
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 30.0
STEADY_AFTER = 60.0  # a process that ran this long starts again without delay


def service_command(name):
    """The command that runs one service (the same one the image runs)."""
    return [sys.executable, "-m", "nameko", "run", "--config", str(CONFIG), SERVICES[name]]


def log_dir(environ=os.environ):
    """Where each service's output is kept: ``<KOMPOR_DATA_DIR>/log``."""
    return (ROOT / environ.get(cfg.DATA_DIR_KEY, cfg.DEFAULT_DATA_DIR) / "log").resolve()


def metrics_ports(environ=os.environ):
    """``{service: port}`` of the services that serve metrics on a port of their own
    (not the gateway); empty when ``KOMPOR_METRICS_PORT`` is ``0``."""
    base = int(environ.get("KOMPOR_METRICS_PORT") or DEFAULT_METRICS_BASE)
    if not base:
        return {}
    return {name: base + place for place, name in enumerate(SERVICES, 1) if name != "gateway"}


def _copy(stream, path):
    """Each line of ``stream`` to the terminal and to the file at ``path``."""
    with open(path, "ab") as kept:
        for line in iter(stream.readline, b""):
            sys.stdout.buffer.write(line)
            sys.stdout.flush()
            kept.write(line)
            kept.flush()


def broker_reachable(amqp_uri, timeout=3.0):
    """Whether one of the brokers ``amqp_uri`` lists (``amqp://a;amqp://b``: a cluster,
    tried in turn) takes connections."""
    for uri in amqp_uri.split(";"):
        parts = urllib.parse.urlparse(uri.strip())
        try:
            with socket.create_connection(
                (parts.hostname or "localhost", parts.port or 5672), timeout=timeout
            ):
                return True
        except OSError:
            continue
    return False


def api_url(gateway_address):
    host, _, port = gateway_address.rpartition(":")
    host = "localhost" if host in ("", "0.0.0.0", "::") else host
    return f"http://{host}:{port}"


def next_backoff(previous, ran_for):
    """Seconds to wait before starting again a process that ran ``ran_for`` seconds
    and was last held back ``previous`` seconds (``None``: never)."""
    if previous is None or ran_for >= STEADY_AFTER:
        return FIRST_BACKOFF
    return min(previous * 2, MAX_BACKOFF)


def log(message):
    print(f"[run] {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


class Supervisor:
    """The services' processes, each started again whenever it exits."""

    def __init__(self, names):
        self.names = names
        self.processes = {}
        self.started = {}
        self.backoff = dict.fromkeys(names)
        self.due = {}

    def start(self, name):
        logs = log_dir()
        logs.mkdir(parents=True, exist_ok=True)
        port = metrics_ports().get(name, 0)
        process = subprocess.Popen(
            service_command(name),
            cwd=ROOT,
            env={**os.environ, "KOMPOR_METRICS_PORT": str(port)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        threading.Thread(
            target=_copy, args=(process.stdout, logs / f"{name}.log"), daemon=True
        ).start()
        self.processes[name] = process
        self.started[name] = time.monotonic()
        self.due.pop(name, None)

    def start_all(self):
        for name in self.names:
            self.start(name)

    def tend(self):
        """Notice processes that exited and start those whose backoff is over; true,
        as the supervisor never gives up."""
        now = time.monotonic()
        for name, process in self.processes.items():
            if name in self.due or process.poll() is None:
                continue
            delay = next_backoff(self.backoff[name], now - self.started[name])
            self.backoff[name] = delay
            self.due[name] = now + delay
            log(f"{name} exited with {process.returncode}; starting it again in {delay:g} s")
        for name, at in list(self.due.items()):
            if at <= now:
                self.start(name)
                log(f"{name} started again (pid {self.processes[name].pid})")
        return True

    def stop(self, grace=15):
        self.due.clear()
        stop(self.processes, grace)


def wait_ready(url, within=READY_WITHIN, meanwhile=lambda: True):
    """Whether ``url``'s ``/readyz`` answers 200 within ``within`` seconds;
    ``meanwhile()`` runs between tries, and returning false gives up."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not meanwhile():
            return False
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=3) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    return False


def stop(processes, grace=15):
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes.values():
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            process.kill()


def main():
    amqp_uri = cfg.amqp_uri()
    if not broker_reachable(amqp_uri):
        print(
            f"RabbitMQ is not reachable at {amqp_uri}.\n"
            "Start it (for example `rabbitmq-server -detached`) or set AMQP_URI.",
            file=sys.stderr,
        )
        return 1
    url = api_url(os.environ.get("GATEWAY_ADDRESS", DEFAULT_GATEWAY))
    supervisor = Supervisor(list(SERVICES))
    supervisor.start_all()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        if not wait_ready(url, meanwhile=supervisor.tend):
            restarted = [name for name, delay in supervisor.backoff.items() if delay]
            print(
                f"KOMPOR DESA did not become ready within {READY_WITHIN} s "
                f"(exited at least once: {', '.join(restarted) or 'none'}).",
                file=sys.stderr,
            )
            return 1
        print(
            f"KOMPOR DESA is ready: API on {url}/api/v1 (document: {url}/api/v1/openapi.json). "
            "Ctrl-C stops it.",
            flush=True,
        )
        while True:
            supervisor.tend()
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0
    finally:
        supervisor.stop()


if __name__ == "__main__":
    sys.exit(main())
