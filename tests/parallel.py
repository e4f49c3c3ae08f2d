"""``make test``: the suite in a few pytest processes at once.

Most of the suite waits on RabbitMQ, HTTP and processes it starts, so one pytest keeps
a 2-core machine a third busy. pytest-xdist cannot help: its workers talk over threads
that nameko's eventlet monkey-patching turns into green threads, and they hang. So each
test file (the unit tests as one) is a job for a plain pytest process; ``workers``
processes run at once, the largest files first so that no worker is left with a long
file at the end. Every test already runs in its own vhost with its own ports and store,
so files do not meet.

    python -m tests.parallel                      # the whole suite
    python -m tests.parallel -m 'not e2e'         # pytest arguments go to every job
    python -m tests.parallel tests/unit/test_x.py # named paths: one plain pytest run

``KOMPOR_TEST_WORKERS`` sets how many run at once (default 3). Each job's output is
kept and printed in full when the job fails; the last line sums up all of them.
"""

import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

ROOT = pathlib.Path(__file__).resolve().parents[1]
WORKERS_KEY = "KOMPOR_TEST_WORKERS"
DEFAULT_WORKERS = 3
# the suites kept apart from `make test` (pyproject's addopts ignores them too)
APART = ("reliability", "cluster")
# "12 passed, 1 skipped in 3.2s": pytest's own words for its counts
COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected)")


def jobs():
    """The unit tests as one job (lint and types are among them), then every other
    test file on its own, the largest first: size is a fair guess at duration."""
    files = [
        path
        for path in (ROOT / "tests").glob("*/test_*.py")
        if path.parent.name not in APART and path.parent.name != "unit"
    ]
    files.sort(key=lambda path: path.stat().st_size, reverse=True)
    return [["tests/unit"]] + [[str(path.relative_to(ROOT))] for path in files]


def run(job, arguments, logs):
    started = time.monotonic()
    log = logs / (job[0].replace("/", "_") + ".log")
    with log.open("w") as out:
        code = subprocess.call(
            [sys.executable, "-m", "pytest", "-q", *arguments, *job],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return job, code, time.monotonic() - started, log.read_text()


def counts(output):
    lines = output.strip().splitlines()
    summary = lines[-1] if lines else ""
    found = {}
    for number, word in COUNT.findall(summary):
        word = "errors" if word.startswith("error") else word
        found[word] = found.get(word, 0) + int(number)
    return found


def main(arguments):
    if any(
        not argument.startswith("-") and (ROOT / argument.split("::")[0]).exists()
        for argument in arguments
    ):
        return subprocess.call([sys.executable, "-m", "pytest", *arguments], cwd=ROOT)
    workers = int(os.environ.get(WORKERS_KEY, DEFAULT_WORKERS))
    started = time.monotonic()
    totals = {}
    failed = []
    with (
        tempfile.TemporaryDirectory(prefix="kompor-tests-") as directory,
        ThreadPoolExecutor(workers) as pool,
    ):
        running = [pool.submit(run, job, arguments, pathlib.Path(directory)) for job in jobs()]
        for finished in as_completed(running):
            job, code, seconds, output = finished.result()
            found = counts(output)
            for word, number in found.items():
                totals[word] = totals.get(word, 0) + number
            # 5: every test deselected by the arguments, which is no failure
            ok = code in (0, 5)
            print(f"{'ok  ' if ok else 'FAIL'} {seconds:6.0f} s  {job[0]}  {found}", flush=True)
            if not ok:
                failed.append(job[0])
                print(output, flush=True)
    summary = ", ".join(f"{number} {word}" for word, number in sorted(totals.items()))
    print(f"\n{summary} in {time.monotonic() - started:.0f} s with {workers} at once")
    if failed:
        print("failed: " + " ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
