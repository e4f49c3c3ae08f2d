"""``make bench``: every benchmark, one after the other, each with its defaults; the
first that fails stops the rest."""

import sys

from bench import inbound, ledger, mixed, orders, showroom

BENCHMARKS = (showroom, orders, mixed, inbound, ledger)


def main():
    for benchmark in BENCHMARKS:
        print(f"\n=== {benchmark.__name__} ===", flush=True)
        failed = benchmark.main([])
        if failed:
            return failed
    return 0


if __name__ == "__main__":
    sys.exit(main())
