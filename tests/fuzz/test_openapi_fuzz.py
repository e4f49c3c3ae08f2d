"""The whole HTTP API, fuzzed from its own OpenAPI document (issue 7, bad input).

No request may get a 5xx, every answer must match the document (status, media type,
body), what the document forbids must be refused and what it allows must not be
refused as invalid. ``make test-fuzz`` runs a few thousand cases; ``make test`` one per
operation, caller and kind of data. The seed is ``tests.support.fuzz.SEED``.
"""

from tests.support.community import (
    approved_member,
    hub_with_coordinator,
    pending_member,
    schedule_training,
)
from tests.support.fuzz import Fuzzer


def test_no_request_built_from_the_document_breaks_the_api_or_its_document(
    api, admin, fuzz_examples, fuzz_reports
):
    hub = hub_with_coordinator(api, admin)
    seller = approved_member(api, hub.coordinator, hub.hub_id, role="seller")
    known_ids = {
        "hub_id": hub.hub_id,
        "membership_id": pending_member(api, hub.hub_id).membership_id,
        "training_id": schedule_training(hub.coordinator, hub.hub_id)["id"],
    }
    callers = {"anonymous": None, "seller": seller.client}
    if fuzz_examples > 1:
        callers.update(coordinator=hub.coordinator, admin=admin)

    report = Fuzzer(api, callers, known_ids, fuzz_examples).run()
    fuzz_reports.append(("openapi", report))

    assert report.operations, "the document lists no operation"
    assert not report.failures, report.describe_failures()
