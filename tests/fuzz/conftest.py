"""``make test-fuzz`` runs this folder with ``KOMPOR_FUZZ_EXAMPLES`` set for a few
thousand cases; the default suite runs the same tests as a quick smoke."""

import os

import pytest

SMOKE_EXAMPLES = 1
_reports = []


@pytest.fixture
def fuzz_examples():
    """Examples per operation, caller and kind of data (valid, invalid)."""
    return int(os.environ.get("KOMPOR_FUZZ_EXAMPLES", SMOKE_EXAMPLES))


@pytest.fixture
def fuzz_reports():
    """Reports appended here are summed up at the end of the run."""
    return _reports


def pytest_terminal_summary(terminalreporter):
    for name, report in _reports:
        terminalreporter.write_line(f"fuzz {name}: {report.summary()}")
