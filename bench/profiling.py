"""Where the time goes under load: each service's CPU use, and py-spy's samples of it.

``python -m bench --profile`` records every service with py-spy during the first
round of each load (py-spy is a development dependency; where it is missing the
benchmark says so and runs unprofiled), then prints, per
load, every service's CPU use and the functions the busiest ones spend it in.
"""

import collections
import pathlib
import shutil
import subprocess
import sys

from bench.common import cpu_seconds

SHOWN = 15
SAMPLES_PER_SECOND = 50  # py-spy's own default is 100; fewer disturb a small machine less


def py_spy():
    """py-spy's path, on the ``PATH`` or beside this Python; ``None`` without it."""
    beside_python = pathlib.Path(sys.executable).with_name("py-spy")
    return shutil.which("py-spy") or (str(beside_python) if beside_python.exists() else None)


class Recording:
    """py-spy recording every process of ``pids`` ({name: pid}) for ``seconds``, in
    raw (collapsed stack) form under ``out_dir``; each process's CPU seconds meanwhile."""

    def __init__(self, pids, seconds, out_dir, rate=SAMPLES_PER_SECOND):
        self.py_spy = py_spy()
        self.pids = pids
        self.seconds = seconds
        self.rate = rate
        self.out_dir = out_dir
        self.recorders = {}
        self.cpu = {}

    def __enter__(self):
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.cpu = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        for name, pid in self.pids.items():
            command = [
                self.py_spy,
                "record",
                "--pid",
                str(pid),
                "--rate",
                str(self.rate),
                "--duration",
                str(int(self.seconds)),
                "--format",
                "raw",
                "--nonblocking",
                "--output",
                str(self.raw(name)),
            ]
            self.recorders[name] = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        return self

    def __exit__(self, *exc):
        self.cpu = {name: cpu_seconds(pid) - self.cpu[name] for name, pid in self.pids.items()}
        for recorder in self.recorders.values():
            try:
                recorder.wait(timeout=self.seconds + 30)
            except subprocess.TimeoutExpired:
                recorder.kill()

    def raw(self, name):
        return self.out_dir / f"{name}.txt"

    def report(self, title, busiest=2):
        print(f"\n--- {title}: CPU per service during the profiled round ({self.seconds:g} s)")
        ranked = sorted(self.cpu.items(), key=lambda item: -item[1])
        for name, seconds in ranked:
            print(f"  {name:<14}{100 * seconds / self.seconds:6.0f} % of a core")
        for name, _ in ranked[:busiest]:
            print_top(name, self.raw(name))


def read_stacks(path):
    """``[(frames outermost first, samples)]`` from py-spy's raw output."""
    stacks = []
    if not path.exists():
        return stacks
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def short(frame):
    """``function (path/to/module.py:12)`` → ``function (module.py)``, site-packages
    paths cut down to the package."""
    function, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    if "site-packages/" in where:
        where = where.split("site-packages/", 1)[1]
    elif "/services/" in where:
        where = "services/" + where.split("/services/", 1)[1]
    elif "/lib/python" in where:
        where = "stdlib/" + where.split("/lib/python", 1)[1].split("/", 1)[-1]
    return f"{function} ({where})"


def print_top(name, path):
    stacks = read_stacks(path)
    total = sum(count for _, count in stacks)
    if not total:
        print(f"\n{name}: no samples")
        return
    own, inclusive = collections.Counter(), collections.Counter()
    for frames, count in stacks:
        own[short(frames[-1])] += count
        for frame in {short(frame) for frame in frames}:
            inclusive[frame] += count
    print(f"\n{name}: {total} samples; functions by own time")
    for frame, count in own.most_common(SHOWN):
        print(f"  {100 * count / total:5.1f} %  {frame}")
    print(f"{name}: our code and the libraries it calls, by time inside (inclusive)")
    ours = [
        (frame, count)
        for frame, count in inclusive.most_common()
        if "services/" in frame or "nameko/" in frame or "litemongo/" in frame
    ]
    for frame, count in ours[:SHOWN]:
        print(f"  {100 * count / total:5.1f} %  {frame}")
