"""``KOMPOR_QUEUE_TYPE`` (services/common/queues.py): which arguments each kind of queue
gets, and the line that names a queue of the other type."""

import pytest
from amqp.exceptions import PreconditionFailed
from kombu import Exchange, Queue

from services.common.envelope import DEAD_LETTER_QUEUE
from services.common.events import retry_queue
from services.common.queues import (
    dead_letter_queue,
    durable_arguments,
    queue_type,
    type_mismatch_hint,
    typed,
)

QUORUM = {"KOMPOR_QUEUE_TYPE": "quorum", "KOMPOR_DELIVERY_LIMIT": "4"}


def event_queue():
    return Queue(
        "evt-orders-order_placed--catalogue.handle", Exchange("orders.events"), durable=True
    )


def test_classic_queues_get_no_arguments_so_existing_ones_stay_as_they_are():
    assert typed(event_queue(), {}).queue_arguments in (None, {})
    assert durable_arguments({"KOMPOR_QUEUE_TYPE": "classic"}) == {}


def test_a_quorum_event_queue_has_a_delivery_limit_and_parks_what_goes_over_it():
    assert typed(event_queue(), QUORUM).queue_arguments == {
        "x-queue-type": "quorum",
        "x-delivery-limit": 4,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": DEAD_LETTER_QUEUE,
    }


def test_a_quorum_rpc_queue_drops_what_goes_over_the_limit():
    queue = typed(Queue("rpc-orders", durable=True), QUORUM, parks=False)
    assert queue.queue_arguments == {"x-queue-type": "quorum", "x-delivery-limit": 4}


def test_a_retry_queue_keeps_its_way_back_to_the_queue_it_came_from():
    arguments = retry_queue("evt-a-b--c.d", 0.5, QUORUM).queue_arguments
    assert arguments["x-queue-type"] == "quorum"
    assert arguments["x-dead-letter-routing-key"] == "evt-a-b--c.d"
    assert arguments["x-message-ttl"] == 500


def test_the_dead_letter_queue_is_quorum_without_a_limit():
    assert dead_letter_queue(QUORUM).queue_arguments == {"x-queue-type": "quorum"}


def test_queues_of_one_connection_stay_classic():
    exclusive = Queue("rpc.reply-x", durable=True, exclusive=True)
    passing = Queue("evt-a-b--gateway.c-1", durable=True, auto_delete=True)
    assert not typed(exclusive, QUORUM).queue_arguments
    assert not typed(passing, QUORUM).queue_arguments


def test_an_unknown_queue_type_is_refused_naming_the_setting():
    with pytest.raises(ValueError, match="KOMPOR_QUEUE_TYPE 'stream'.*classic or quorum"):
        queue_type({"KOMPOR_QUEUE_TYPE": "stream"})


def test_a_queue_of_the_other_type_is_named_with_what_to_do():
    refused = PreconditionFailed(
        "PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue 'rpc-orders'"
    )
    hint = type_mismatch_hint(refused, QUORUM)
    assert "rpc-orders" in hint and "delete_queue" in hint and "'quorum'" in hint
    assert type_mismatch_hint(ConnectionResetError("reset"), QUORUM) is None
