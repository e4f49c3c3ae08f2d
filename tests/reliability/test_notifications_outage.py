"""The issue's long outage: the SMS provider fails for 20 s (the fast suite uses 4 s)."""

import pytest

from tests.support.notifications import Events, Log, messages_survive_an_sms_outage


@pytest.mark.timeout(120)
def test_an_sms_provider_failing_for_20_seconds_delays_every_message_and_loses_none(
    stack, sms_sink
):
    events, log = Events(stack.config), Log(stack.config)
    messages_survive_an_sms_outage(events, log, sms_sink, seconds=20)
