"""The stack as processes, started with the commands `make run` uses, once per module."""

import pytest

from tests.support.processes import ProcessStack, Vhost, e2e_env


@pytest.fixture(scope="module")
def process_stack(tmp_path_factory, sink):
    """One stack for the module (starting every service takes seconds); each test looks
    only at its own members' messages. Modules that need other settings build their own."""
    tmp_path = tmp_path_factory.mktemp("e2e")
    with Vhost() as vhost:
        env = e2e_env(vhost, tmp_path / "var", sink.url)
        logs = tmp_path / "logs"
        logs.mkdir()
        stack = ProcessStack(env, logs).start().wait_ready()
        try:
            yield stack
        finally:
            stack.stop()
