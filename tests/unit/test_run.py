"""`make run` (services/run.py) fails fast and clearly without RabbitMQ."""

import subprocess
import sys

from nameko.testing.utils import find_free_port

from services.run import (
    FIRST_BACKOFF,
    MAX_BACKOFF,
    SERVICES,
    STEADY_AFTER,
    api_url,
    broker_reachable,
    next_backoff,
    service_command,
)


def test_make_run_says_rabbitmq_is_unreachable_and_exits_non_zero():
    closed_port = find_free_port()
    result = subprocess.run(
        [sys.executable, "-m", "services.run"],
        env={"AMQP_URI": f"amqp://guest:guest@127.0.0.1:{closed_port}/", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "RabbitMQ is not reachable" in result.stderr


def test_a_cluster_listing_a_dead_node_first_is_reachable_through_the_next():
    dead = f"amqp://guest:guest@127.0.0.1:{find_free_port()}/"
    assert broker_reachable(f"{dead};amqp://guest:guest@127.0.0.1:5672/", timeout=2)
    assert not broker_reachable(f"{dead};{dead}", timeout=2)


def test_each_service_runs_with_the_shared_config():
    for name in SERVICES:
        command = service_command(name)
        assert command[1:5] == ["-m", "nameko", "run", "--config"]
        assert command[-1].startswith(f"services.{name}.service:")


def test_the_api_address_printed_is_one_a_browser_can_open():
    assert api_url("0.0.0.0:8000") == "http://localhost:8000"
    assert api_url("127.0.0.1:9000") == "http://127.0.0.1:9000"


def test_a_service_that_keeps_dying_waits_longer_each_time_up_to_a_ceiling():
    delays = [next_backoff(None, 0.5)]
    for _ in range(8):
        delays.append(next_backoff(delays[-1], ran_for=0.5))
    assert delays[:4] == [FIRST_BACKOFF, FIRST_BACKOFF * 2, FIRST_BACKOFF * 4, FIRST_BACKOFF * 8]
    assert delays[-1] == MAX_BACKOFF


def test_a_service_that_ran_a_while_before_dying_starts_again_at_once_backoff():
    assert next_backoff(MAX_BACKOFF, ran_for=STEADY_AFTER) == FIRST_BACKOFF
