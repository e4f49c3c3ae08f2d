"""``make bench``: every benchmark, one after the other."""

import sys

from bench import orders, showroom

if __name__ == "__main__":
    sys.exit(showroom.main(sys.argv[1:]) or orders.main([]))
