"""The gateway's RPC deadline and its failures (found by fuzzing, issue 7)."""

import pytest
from kombu.exceptions import OperationalError
from nameko.exceptions import RpcTimeout, UnknownService

from services.common.errors import ServiceUnavailable
from services.gateway.rpc import _TimedMethod


class _Refusing:
    """A proxy method whose call fails before any reply: ``call_async`` raises."""

    def __init__(self, error):
        self.error = error

    def call_async(self, *args, **kwargs):
        raise self.error


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("[Errno 111] ECONNREFUSED"),  # the broker is down: was a 500
        ConnectionRefusedError(111, "ECONNREFUSED"),
        UnknownService("orders"),
        RpcTimeout(),
    ],
)
def test_a_call_that_cannot_reach_its_service_is_a_503_naming_it(error):
    method = _TimedMethod(_Refusing(error), "orders", timeout=1)
    with pytest.raises(ServiceUnavailable) as raised:
        method("actor", "order-1")
    assert raised.value.details == {"service": ["orders"]}
