"""The load: ``wrk`` where it is installed (``apt-get install wrk``), else threads of
this process; either way the load generator's own CPU share comes with the figures.

``hit`` keeps ``connections`` requests in flight for ``seconds`` (closed loop, as
``wrk -t2 -c20 -d10s`` does), going round a list of ``Request``s; a request marked
``keyed`` gets a fresh ``Idempotency-Key`` on every send. ``paced`` sends callables
at a fixed rate whatever the answers (open loop), for flows whose figures need each
answer (which order a response placed, when it was sent).
"""

import dataclasses
import itertools
import json
import pathlib
import resource
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests as http

from bench.common import percentile

WRK = shutil.which("wrk")
WRK_SCRIPT = pathlib.Path(__file__).with_name("wrk.lua")
WRK_TIMEOUT = "10s"  # wrk's default of 2 s would drop the slowest answers from the p99
FIGURES_MARK = "BENCH-FIGURES "
GENERATOR = "wrk" if WRK else "Python threads (wrk is not installed)"


@dataclasses.dataclass(frozen=True)
class Request:
    method: str
    path: str  # with its query string
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""
    keyed: bool = False

    def line(self):
        headers = (f"{name}: {value}" for name, value in self.headers)
        return "\t".join([self.method, self.path, "1" if self.keyed else "0", self.body, *headers])


@dataclasses.dataclass(frozen=True)
class Figures:
    requests: int
    failed: int  # answered, but not 2xx/3xx
    errors: int  # failed, plus timeouts and broken connections
    seconds: float
    p50_ms: float
    p99_ms: float
    load_cpu: float  # the load generator's CPU seconds per second (1.0: a whole core)

    @property
    def rate(self):
        """Successful answers a second."""
        return (self.requests - self.failed) / self.seconds if self.seconds else 0.0


def own_cpu(who=resource.RUSAGE_SELF):
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def hit(url, requests, seconds, connections=20, threads=2):
    """``requests`` (a list, gone round) against ``url`` for ``seconds``."""
    if WRK:
        return _wrk(url, requests, seconds, connections, threads)
    return _threads(url, requests, seconds, connections)


def _wrk(url, requests, seconds, connections, threads):
    with tempfile.TemporaryDirectory(prefix="kompor-wrk-") as directory:
        listing = pathlib.Path(directory) / "requests.tsv"
        listing.write_text("".join(request.line() + "\n" for request in requests))
        command = [
            WRK,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds:g}s",
            f"--timeout={WRK_TIMEOUT}",
            "-s",
            str(WRK_SCRIPT),
            url,
            "--",
            str(listing),
            uuid.uuid4().hex[:12],
            str(threads),
        ]
        cpu = own_cpu(resource.RUSAGE_CHILDREN)  # wrk's, once it has been waited for
        done = subprocess.run(command, capture_output=True, text=True)
        cpu = own_cpu(resource.RUSAGE_CHILDREN) - cpu
    if done.returncode:
        raise RuntimeError(f"wrk failed: {done.stderr.strip()}")
    line = next(line for line in done.stdout.splitlines() if line.startswith(FIGURES_MARK))
    figures = json.loads(line.removeprefix(FIGURES_MARK))
    return Figures(**figures, load_cpu=cpu / figures["seconds"])


class _Sessions(threading.local):
    def __init__(self):
        self.session = http.Session()


def _send(sessions, url, request):
    headers = dict(request.headers)
    if request.keyed:
        headers["Idempotency-Key"] = uuid.uuid4().hex
    data = request.body.encode() or None
    return sessions.session.request(
        request.method, url + request.path, headers=headers, data=data, timeout=10
    )


def _threads(url, requests, seconds, connections):
    pending, lock, results = itertools.cycle(requests), threading.Lock(), []
    sessions = _Sessions()
    deadline = time.perf_counter() + seconds

    def worker():
        while time.perf_counter() < deadline:
            with lock:
                request = next(pending)
            started = time.perf_counter()
            try:
                ok = _send(sessions, url, request).status_code < 400
            except http.RequestException:
                ok = None
            results.append((time.perf_counter() - started, ok))

    return _measured(results, connections, worker)


def paced(calls, rate):
    """Each of ``calls`` (``session → response``) at ``rate`` a second, its latency
    counted from when it was due, so a slow server cannot slow the sender down."""
    results, sessions = [], _Sessions()
    start = time.perf_counter() + 0.05

    def send(call, due):
        try:
            ok = call(sessions.session).status_code < 400
        except http.RequestException:
            ok = None
        results.append((time.perf_counter() - due, ok))

    def sender():
        with ThreadPoolExecutor(64) as pool:
            for index, call in enumerate(calls):
                due = start + index / rate
                time.sleep(max(due - time.perf_counter(), 0))
                pool.submit(send, call, due)

    return _measured(results, 1, sender)


def _measured(results, workers, work):
    """Runs ``work`` in ``workers`` threads; the figures of the ``(latency, ok)``
    results it leaves, ``ok`` ``None`` for a request that got no answer."""
    cpu, started = own_cpu(), time.perf_counter()
    running = [threading.Thread(target=work) for _ in range(workers)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    seconds, cpu = time.perf_counter() - started, own_cpu() - cpu
    latencies = sorted(latency for latency, ok in results if ok is not None)
    return Figures(
        requests=len(latencies),
        failed=sum(1 for _, ok in results if ok is False),
        errors=sum(1 for _, ok in results if not ok),
        seconds=seconds,
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        load_cpu=cpu / seconds,
    )


def median(rounds):
    """The round of the median rate (its own latencies with it)."""
    return sorted(rounds, key=lambda figures: figures.rate)[len(rounds) // 2]
