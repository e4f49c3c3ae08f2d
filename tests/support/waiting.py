import time


def wait_until(probe, timeout=10.0, interval=0.05, message="condition"):
    """Poll ``probe`` until it returns something truthy; return that, or fail."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def holds(probe, duration, interval=0.05, message="condition"):
    """Check that ``probe`` stays truthy for ``duration`` seconds (nothing more arrives)."""
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        assert probe(), f"{message} stopped holding"
        time.sleep(interval)
