"""Where the time goes under load: each service's CPU use, and py-spy's samples of it.

``python -m bench.mixed --profile`` runs one step at ``--profile-rate`` with py-spy
(``pip install py-spy``; not a dependency of the project) recording the services
named by ``--profile-services``, then prints every process's CPU use and the
functions the busiest sampled ones spend it in.
"""

import collections
import os
import pathlib
import shutil
import subprocess
import sys

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SHOWN = 15
SAMPLES_PER_SECOND = 50  # py-spy's own default is 100; fewer disturb a small machine less


def cpu_seconds(pid):
    """User + system CPU time a process has used so far."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class Recording:
    """py-spy recording every process of ``processes`` ({name: Popen}) for
    ``seconds``, in raw (collapsed stack) form under ``out_dir``."""

    def __init__(self, processes, seconds, out_dir, names=None, rate=SAMPLES_PER_SECOND):
        beside_python = pathlib.Path(sys.executable).with_name("py-spy")
        self.py_spy = shutil.which("py-spy") or (beside_python.exists() and str(beside_python))
        if not self.py_spy:
            raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
        self.processes = processes
        self.sampled = [name for name in processes if names is None or name in names]
        self.seconds = seconds
        self.rate = rate
        self.out_dir = out_dir
        self.recorders = {}
        self.cpu_before = {}

    def __enter__(self):
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for name, process in self.processes.items():
            self.cpu_before[name] = cpu_seconds(process.pid)
        for name in self.sampled:
            command = [
                self.py_spy,
                "record",
                "--pid",
                str(self.processes[name].pid),
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
        self.cpu = {
            name: cpu_seconds(process.pid) - self.cpu_before[name]
            for name, process in self.processes.items()
        }
        for recorder in self.recorders.values():
            try:
                recorder.wait(timeout=self.seconds + 30)
            except subprocess.TimeoutExpired:
                recorder.kill()

    def raw(self, name):
        return self.out_dir / f"{name}.txt"

    def report(self, wall_seconds, busiest=2):
        print(f"\nCPU use per process during the profiled step ({wall_seconds:.0f} s):")
        ranked = sorted(self.cpu.items(), key=lambda item: -item[1])
        for name, seconds in ranked:
            print(f"  {name:<14}{100 * seconds / wall_seconds:6.0f} % of a core")
        for name in [name for name, _ in ranked if name in self.sampled][:busiest]:
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
