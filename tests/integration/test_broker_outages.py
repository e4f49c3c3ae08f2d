"""What a broker outage may not do: kill a service, or give a caller a 500.

The fault suite (``make test-reliability``) stops the real broker under load; these
are the fast checks of the two fixes it led to.
"""

import inspect
import uuid

import pytest
from kombu.exceptions import OperationalError
from kombu.message import Message
from nameko import rpc as nameko_rpc
from nameko.amqp.publish import Publisher
from nameko.exceptions import RpcTimeout
from nameko.messaging import QueueConsumer as NamekoQueueConsumer
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ServiceRpcProxy

from services.common.consumer import QueueConsumer
from services.common.errors import ServiceUnavailable
from services.common.events import subscribe
from services.common.remote import TimedMethod
from services.common.rpc import Rpc, rpc
from services.run import SERVICES
from tests.support.waiting import wait_until


class Answering:
    name = "answering"

    @rpc
    def echo(self, text):
        return text


class Listening:
    name = "listening"
    heard = []

    @subscribe("shouting", "shout")
    def handle_shout(self, event):
        self.heard.append(event["data"]["text"])


def reset_while_settling(routing_key):
    """``Message.ack`` and ``requeue`` on a socket the broker has just reset, for the
    messages of one routing key (the test's own client settles its messages too)."""
    originals = {"ack": Message.ack, "requeue": Message.requeue}

    def settle(verb):
        def broken(message, *args, **kwargs):
            if message.delivery_info.get("routing_key") == routing_key:
                raise BrokenPipeError(32, "Broken pipe")
            return originals[verb](message, *args, **kwargs)

        return broken

    patch = pytest.MonkeyPatch()
    for verb in originals:
        patch.setattr(Message, verb, settle(verb))
    return patch


class BrokerGoneWhileAnswering(Publisher):
    """The reply publisher of a call that ran while the broker went away."""

    def publish(self, payload, **kwargs):
        raise OperationalError("[Errno 111] ECONNREFUSED")


def test_a_service_outlives_an_answer_it_could_not_send(container_factory, rabbit_config):
    container = container_factory(Answering, rabbit_config)
    container.start()
    with ServiceRpcProxy("answering", rabbit_config, timeout=2) as answering:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(nameko_rpc.Responder, "publisher_cls", BrokerGoneWhileAnswering)
            with pytest.raises(RpcTimeout):
                answering.echo("lost")
        assert answering.echo("again") == "again"
    assert not container._died.ready()


def test_a_service_outlives_acknowledging_a_call_on_a_reset_socket(
    container_factory, rabbit_config
):
    container = container_factory(Answering, rabbit_config)
    container.start()
    patch = reset_while_settling("answering.echo")
    try:
        with ServiceRpcProxy("answering", rabbit_config, timeout=5) as answering:
            assert answering.echo("first") == "first"
            assert answering.echo("again") == "again"
    finally:
        patch.undo()
    assert not container._died.ready()


def test_a_service_outlives_acknowledging_an_event_on_a_reset_socket(container_factory, config):
    Listening.heard = []
    container = container_factory(Listening, config)
    container.start()
    patch = reset_while_settling("shout")
    try:
        dispatch = event_dispatcher(config)
        for text in ("one", "two"):
            dispatch("shouting", "shout", {"event_id": uuid.uuid4().hex, "data": {"text": text}})
        wait_until(lambda: Listening.heard == ["one", "two"], timeout=10, message="both heard")
    finally:
        patch.undo()
    assert not container._died.ready()


def test_a_broker_the_gateway_cannot_reach_is_a_503_not_a_500():
    class Unreachable:
        def call_async(self, *args, **kwargs):
            raise OperationalError("[Errno 111] ECONNREFUSED")

    with pytest.raises(ServiceUnavailable, match="orders"):
        TimedMethod(Unreachable(), "orders", timeout=1)()


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_rpc_entrypoint_of_a_service_outlives_a_broker_outage(name):
    module_name, class_name = SERVICES[name].split(":")
    service = getattr(__import__(module_name, fromlist=[class_name]), class_name)
    kinds = {
        type(entrypoint)
        for _, method in inspect.getmembers(service, callable)
        for entrypoint in getattr(method, "nameko_entrypoints", ())
        if isinstance(entrypoint, nameko_rpc.Rpc)
    }
    assert kinds <= {Rpc}, f"{name} uses nameko's own @rpc; use services.common.rpc"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_consumer_of_a_service_outlives_a_reset_socket(name):
    module_name, class_name = SERVICES[name].split(":")
    service = getattr(__import__(module_name, fromlist=[class_name]), class_name)
    consumers = {
        type(dependency)
        for _, method in inspect.getmembers(service, callable)
        for entrypoint in getattr(method, "nameko_entrypoints", ())
        for dependency in vars(type(entrypoint)).values()
        if isinstance(dependency, NamekoQueueConsumer)
    } | {
        type(entrypoint.rpc_consumer.queue_consumer)
        for _, method in inspect.getmembers(service, callable)
        for entrypoint in getattr(method, "nameko_entrypoints", ())
        if isinstance(entrypoint, nameko_rpc.Rpc)
    }
    assert consumers == {QueueConsumer}, f"{name} consumes through nameko's own QueueConsumer"
