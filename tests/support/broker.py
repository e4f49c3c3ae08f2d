"""RabbitMQ for tests: the machine's broker, or a node of the test's own, and talking
to services the way anyone with access to the broker can.

Suites that stop, kill or empty the broker (``make test-reliability``) run on a node
they start themselves, on their own ports and data directory, so the machine's broker,
and every other suite using it, never notices; ``make test-cluster`` joins three such
nodes into a cluster. ``raw_call`` publishes one RPC request
by hand to the ``nameko-rpc`` exchange and reads its reply from a queue of its own,
with no nameko client in between to add or check anything.
"""

import concurrent.futures
import contextlib
import os
import pathlib
import pwd
import shutil
import signal
import subprocess
import tempfile
import urllib.parse
import uuid

import requests
from kombu import Connection, Producer, Queue
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.rpc import get_rpc_exchange
from nameko.testing.utils import find_free_port

from tests.support.waiting import wait_until


class Broker:
    """Where a broker answers: AMQP and the management API (guest/guest)."""

    def __init__(self, port=5672, management_port=15672):
        self.amqp_uri = f"amqp://guest:guest@localhost:{port}"
        self.management_api = f"http://guest:guest@localhost:{management_port}/api"


MACHINE = Broker()


class Node(Broker):
    """A RabbitMQ node of its own: ``with Node() as node:`` starts it (with the
    management plugin) and removes it afterwards; ``stopped()`` takes it away for a
    while, ``kill()`` ends it without warning."""

    def __init__(self):
        port, management_port, dist_port = (find_free_port() for _ in range(3))
        super().__init__(port, management_port)
        self.name = f"kompor-test-{port}@localhost"
        self.base = pathlib.Path(tempfile.mkdtemp(prefix="kompor-rabbit-"))
        (self.base / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = {port}\nmanagement.tcp.port = {management_port}\n"
        )
        (self.base / "enabled_plugins").write_text("[rabbitmq_management].\n")
        self.env = {
            **os.environ,
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_PORT": str(port),
            "RABBITMQ_DIST_PORT": str(dist_port),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_PID_FILE": str(self.base / "pid"),
        }
        if os.getuid() == 0:  # the server scripts run as the rabbitmq user under root
            account = pwd.getpwnam("rabbitmq")
            os.chown(self.base, account.pw_uid, account.pw_gid)
            for child in self.base.iterdir():
                os.chown(child, account.pw_uid, account.pw_gid)

    def ctl(self, *args, timeout=120):
        subprocess.run(
            ["rabbitmqctl", "-n", self.name, *args],
            env=self.env,
            check=True,
            capture_output=True,
            timeout=timeout,
        )

    def start(self):
        (self.base / "pid").unlink(missing_ok=True)  # a killed node's, naming a dead process
        subprocess.run(["rabbitmq-server", "-detached"], env=self.env, check=True, timeout=60)
        self.ctl("wait", str(self.base / "pid"), "--timeout", "90")
        wait_until(self._managed, timeout=60, message=f"management API of {self.name}")
        return self

    def _managed(self):
        try:
            return requests.get(f"{self.management_api}/overview", timeout=3).ok
        except requests.RequestException:
            return False

    @contextlib.contextmanager
    def stopped(self):
        """The broker away (``stop_app``: connections drop, durable queues stay)."""
        self.ctl("stop_app")
        try:
            yield
        finally:
            self.ctl("start_app")
            self.ctl("await_startup")

    def close_connections(self):
        """Every client connection reset at once, mid-whatever it was doing."""
        self.ctl("close_all_connections", "reset by the fault suite")

    def pid(self):
        return int((self.base / "pid").read_text().strip())

    def kill(self):
        os.kill(self.pid(), signal.SIGKILL)

    def alive(self):
        try:
            os.kill(self.pid(), 0)
        except (OSError, ValueError):
            return False
        return True

    def join(self, other):
        """Make this (started) node a member of ``other``'s cluster."""
        self.ctl("stop_app")
        self.ctl("join_cluster", other.name)
        self.ctl("start_app")
        self.ctl("await_startup")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self.ctl("stop", timeout=60)
        with contextlib.suppress(OSError, ValueError):
            os.kill(self.pid(), signal.SIGKILL)  # whatever did not stop in time
        shutil.rmtree(self.base, ignore_errors=True)


class Cluster:
    """``size`` nodes of their own (``Node``), joined into one RabbitMQ cluster:
    ``with Cluster(3) as cluster:``. ``amqp_uri`` lists every node, for kombu's
    fail-over; ``management_api`` is that of a node that is up."""

    def __init__(self, size=3):
        self.nodes = [Node() for _ in range(size)]

    def __enter__(self):
        try:
            together(node.start for node in self.nodes)
            for node in self.nodes[1:]:
                node.join(self.nodes[0])
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        together(node.__exit__ for node in self.nodes)

    def uris(self, vhost=""):
        return [f"{node.amqp_uri}/{vhost}" for node in self.nodes]

    @property
    def amqp_uri(self):
        return ";".join(node.amqp_uri for node in self.nodes)

    @property
    def management_api(self):
        for node in self.nodes:
            if node.alive() and node._managed():
                return node.management_api
        raise AssertionError("no node of the cluster answers")

    def node(self, name):
        return next(node for node in self.nodes if node.name == name)


def together(calls):
    """Run each of ``calls`` at the same time (nodes start in parallel); raises the
    first failure."""
    with concurrent.futures.ThreadPoolExecutor() as pool:
        for future in [pool.submit(call) for call in calls]:
            future.result()


def raw_call(config, service, method, *args, timeout=10, **kwargs):
    """The reply to ``service.method(*args, **kwargs)``: ``{"result": …, "error": None}``
    or ``{"result": None, "error": {"exc_type": "Unauthenticated", …}}``."""
    exchange = get_rpc_exchange(config)
    reply_to = f"rpc.reply-outsider-{uuid.uuid4().hex}"
    correlation_id = uuid.uuid4().hex
    with Connection(config[AMQP_URI_CONFIG_KEY]) as connection:
        channel = connection.channel()
        exchange(channel).declare()
        replies = Queue(
            reply_to, exchange=exchange, routing_key=reply_to, exclusive=True, auto_delete=True
        )(channel)
        replies.declare()
        Producer(channel).publish(
            {"args": list(args), "kwargs": kwargs},
            exchange=exchange,
            routing_key=f"{service}.{method}",
            reply_to=reply_to,
            correlation_id=correlation_id,
            serializer="json",
        )
        reply = wait_until(
            lambda: replies.get(no_ack=True), timeout=timeout, message=f"{service}.{method}"
        )
    assert reply.properties["correlation_id"] == correlation_id
    return reply.payload


def cut_connections(config, broker=MACHINE):
    """Reset every client connection to the vhost of ``config`` (the machine's broker
    and its other vhosts go on): each service reconnects, and whatever was published
    to a queue that lived and died with its connection meanwhile is lost."""
    vhost = urllib.parse.quote(urllib.parse.urlsplit(config[AMQP_URI_CONFIG_KEY]).path[1:], safe="")
    api = broker.management_api

    def listed():  # the management API lists a new connection a few seconds late
        answer = requests.get(f"{api}/vhosts/{vhost}/connections", timeout=10)
        answer.raise_for_status()
        return answer.json()

    connections = wait_until(listed, timeout=30, message="the vhost's connections listed")
    for connection in connections:
        name = urllib.parse.quote(connection["name"], safe="")
        requests.delete(f"{api}/connections/{name}", timeout=10)
    return len(connections)
