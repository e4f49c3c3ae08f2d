"""What a broker outage may not do: kill a service, or give a caller a 500.

The fault suite (``make test-reliability``) stops the real broker under load; these
are the fast checks of the two fixes it led to.
"""

import inspect

import pytest
from kombu.exceptions import OperationalError
from nameko import rpc as nameko_rpc
from nameko.amqp.publish import Publisher
from nameko.exceptions import RpcTimeout
from nameko.standalone.rpc import ServiceRpcProxy

from services.common.errors import ServiceUnavailable
from services.common.rpc import Rpc, rpc
from services.gateway.rpc import _TimedMethod
from services.run import SERVICES


class Answering:
    name = "answering"

    @rpc
    def echo(self, text):
        return text


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


def test_a_broker_the_gateway_cannot_reach_is_a_503_not_a_500():
    class Unreachable:
        def call_async(self, *args, **kwargs):
            raise OperationalError("[Errno 111] ECONNREFUSED")

    with pytest.raises(ServiceUnavailable, match="orders"):
        _TimedMethod(Unreachable(), "orders", timeout=1)()


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
