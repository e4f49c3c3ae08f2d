"""``make run``: every service as its own process, the way operators run them.

Checks RabbitMQ first (a clear message and exit 1 when it is unreachable), starts
the five services with ``nameko run --config deploy/config.yaml``, waits until the
gateway reports ready, prints where the API is, and stops everything on Ctrl-C.
"""

import os
import pathlib
import signal
import socket
import subprocess
import sys
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


def service_command(name):
    """The command that runs one service (the same one the image runs)."""
    return [sys.executable, "-m", "nameko", "run", "--config", str(CONFIG), SERVICES[name]]


def broker_reachable(amqp_uri, timeout=3.0):
    parts = urllib.parse.urlparse(amqp_uri)
    try:
        with socket.create_connection(
            (parts.hostname or "localhost", parts.port or 5672), timeout=timeout
        ):
            return True
    except OSError:
        return False


def api_url(gateway_address):
    host, _, port = gateway_address.rpartition(":")
    host = "localhost" if host in ("", "0.0.0.0", "::") else host
    return f"http://{host}:{port}"


def wait_ready(url, processes, within=READY_WITHIN):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process in processes.values()):
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
    processes = {name: subprocess.Popen(service_command(name), cwd=ROOT) for name in SERVICES}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        if not wait_ready(url, processes):
            failed = [name for name, process in processes.items() if process.poll() is not None]
            print(
                f"KOMPOR DESA did not become ready (stopped: {', '.join(failed) or 'none'}).",
                file=sys.stderr,
            )
            return 1
        print(
            f"KOMPOR DESA is ready: API on {url}/api/v1 (document: {url}/api/v1/openapi.json). "
            "Ctrl-C stops it.",
            flush=True,
        )
        while all(process.poll() is None for process in processes.values()):
            time.sleep(0.5)
        failed = [name for name, process in processes.items() if process.poll() is not None]
        print(f"{', '.join(failed)} stopped; stopping the rest.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop(processes)


if __name__ == "__main__":
    sys.exit(main())
