"""Fuzz the HTTP API from its own OpenAPI document with schemathesis.

Every operation of ``GET /api/v1/openapi.json`` gets schema-valid and schema-invalid
requests generated from the document, sent by each caller (anonymous, a member, a
coordinator, an admin), half of them with the ids of things that exist. Each response
must pass the checks in ``CHECKS``::

    report = Fuzzer(api, callers, known_ids, examples=2).run()
    assert not report.failures, report.describe_failures()

The seed is fixed, so a run is the same run everywhere; a failure names the caller
and gives a ``curl`` line that reproduces it.
"""

import collections
import re
import time
from dataclasses import dataclass, field

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

SEED = 20261127
"""The fixed seed of every fuzz run (hypothesis ``@seed``)."""

CHECKS = (
    not_a_server_error,  # no 5xx (a 503 only while a service is down, which it is not here)
    status_code_conformance,  # every status is one the document lists for the operation
    content_type_conformance,  # bodies are the documented media type
    response_schema_conformance,  # bodies match the documented schema, success or error
    negative_data_rejection,  # what breaks the document is refused with a 4xx
    positive_data_acceptance,  # what the document allows is not refused as invalid
)
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
PATH_PARAMETER = re.compile(r"{([a-z_]+)}")


def phone_numbers():
    """Indonesian mobile numbers in the local forms the API accepts (``format: phone``)."""
    digits = st.text("0123456789", min_size=8, max_size=8)
    prefixes = st.sampled_from(["0812", "0813", "0821", "0852", "0857", "0878", "0896"])
    numbers = st.builds(lambda prefix, rest: prefix[1:] + rest, prefixes, digits)
    return st.builds(
        lambda number, form: form.format(n=number, a=number[:3], b=number[3:7], c=number[7:]),
        numbers,
        st.sampled_from(["0{n}", "0{a}-{b}-{c}", "62{n}", "+62{n}", "+62 {a} {b} {c}"]),
    )


def web_addresses():
    """``https://…`` addresses such as the API accepts for images (``format: url``)."""
    label = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
    return st.builds(
        lambda scheme, host, path: f"{scheme}://{host}.example.id/{path}.jpg",
        st.sampled_from(["http", "https"]),
        label,
        label,
    )


schemathesis.openapi.format("phone", phone_numbers())
schemathesis.openapi.format("url", web_addresses())


@dataclass
class Failure:
    operation: str
    caller: str
    mode: str
    message: str
    count: int = 1


@dataclass
class Report:
    seed: int = SEED
    cases: int = 0
    seconds: float = 0.0
    operations: set = field(default_factory=set)
    statuses: collections.Counter = field(default_factory=collections.Counter)
    failures: dict = field(default_factory=dict)

    def add_failure(self, operation, caller, mode, message):
        # one entry per distinct problem, however often it recurs
        title = message.split("Reproduce with")[0].strip()
        key = (operation, caller, mode, title)
        if key in self.failures:
            self.failures[key].count += 1
        else:
            self.failures[key] = Failure(operation, caller, mode, message)

    def summary(self):
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        return (
            f"seed {self.seed}: {self.cases} cases over {len(self.operations)} operations "
            f"in {self.seconds:.0f} s; statuses {statuses}; {len(self.failures)} failures"
        )

    def describe_failures(self):
        return "\n\n".join(
            f"== {f.operation} as {f.caller}, {f.mode} data ({f.count}×)\n{f.message}"
            for f in self.failures.values()
        )


class Fuzzer:
    """``callers`` maps a name to a logged-in ``Api`` (``None``: anonymous);
    ``known_ids`` maps path parameter names (``hub_id`` …) to ids that exist;
    ``rules`` maps an operation to what valid data must also satisfy, for rules the
    document can state only in words (``case → bool``); ``secrets`` maps an operation
    to the fields whose only valid values are secrets no generator can know (a
    one-time code): valid data may be refused with a 400 naming those fields, and only
    those."""

    def __init__(self, api, callers, known_ids, examples, rules=None, secrets=None):
        self.api = api
        self.callers = callers
        self.known_ids = known_ids
        self.examples = examples
        self.rules = rules or {}
        self.secrets = secrets or {}
        self.schema = schemathesis.openapi.from_url(f"{api.base_url}/api/v1/openapi.json")
        self.report = Report()

    def operations(self):
        return [result.ok() for result in self.schema.get_all_operations()]

    def run(self):
        started = time.monotonic()
        for operation in self.operations():
            self.report.operations.add(operation.label)
            for mode in MODES:
                for caller, client in self.callers.items():
                    self._fuzz(operation, mode, caller, client)
        self.report.seconds = time.monotonic() - started
        return self.report

    def _strategy(self, operation, mode):
        generated = operation.as_strategy(generation_mode=mode)
        names = PATH_PARAMETER.findall(operation.path)
        if names and all(name in self.known_ids for name in names):
            existing = operation.as_strategy(
                generation_mode=mode,
                path_parameters={name: self.known_ids[name] for name in names},
            )
            generated = st.one_of(generated, existing)
        rule = self.rules.get(operation.label)
        if rule and mode is GenerationMode.POSITIVE:
            generated = generated.filter(rule)
        return generated

    def _fuzz(self, operation, mode, caller, client):
        headers = {}
        if client is not None:
            headers["Authorization"] = client.session.headers["Authorization"]
        report = self.report

        secret = self.secrets.get(operation.label) if mode is GenerationMode.POSITIVE else None
        checks = [check for check in CHECKS if not secret or check is not positive_data_acceptance]

        @hypothesis.seed(SEED)
        @settings(
            max_examples=self.examples,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis.given(case=self._strategy(operation, mode))
        def send(case):
            report.cases += 1
            try:
                response = case.call_and_validate(
                    base_url=self.api.base_url, headers=headers, checks=checks, timeout=15
                )
            except BaseExceptionGroup as failures:  # schemathesis' FailureGroup
                report.statuses[_status_of(failures)] += 1
                report.add_failure(operation.label, caller, mode.name.lower(), str(failures))
            else:
                report.statuses[response.status_code] += 1
                refused = _refused_beyond(response, secret) if secret else None
                if refused:
                    report.add_failure(operation.label, caller, mode.name.lower(), refused)

        try:
            send()
        except hypothesis.errors.Unsatisfiable:
            # nothing to break: an operation without parameters or body has no invalid form
            if mode is GenerationMode.POSITIVE:
                raise


def _refused_beyond(response, secret_fields):
    """Why valid data was refused for more than its secrets, or ``None``."""
    if response.status_code != 400:
        return None
    named = set(response.json()["error"].get("details", {}))
    if named and named <= secret_fields:
        return None
    return f"Valid data refused naming {sorted(named)}, not only {sorted(secret_fields)}"


def _status_of(failures):
    match = re.search(r"\[(\d{3})\]", str(failures))
    return int(match.group(1)) if match else 0
