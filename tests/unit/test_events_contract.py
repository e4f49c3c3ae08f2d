"""docs/events.md is the events' contract for people; the ``contract.py`` modules and
the subscriptions are the same contract for the code. These tests keep them equal: an
event published or consumed but not documented, a field missing or extra on either
side, or a documented event or consumer that no longer exists fails the build."""

import ast
import importlib
import inspect
import pathlib
import re
import types
import typing

import pytest
from nameko.events import EventHandler
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from services.catalogue import contract as catalogue
from services.catalogue.service import CatalogueService
from services.community import contract as community
from services.community.service import CommunityService
from services.gateway.service import GatewayService
from services.ledger import contract as ledger
from services.ledger.service import LedgerService
from services.messaging import contract as messaging
from services.messaging.service import MessagingService
from services.notifications import contract as notifications
from services.notifications.service import NotificationsService
from services.orders import contract as orders
from services.orders.service import OrdersService

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "events.md"
CONTRACTS = {
    "community": community,
    "catalogue": catalogue,
    "orders": orders,
    "notifications": notifications,
    "messaging": messaging,
    "ledger": ledger,
}
SERVICE_CLASSES = (
    CommunityService,
    CatalogueService,
    OrdersService,
    NotificationsService,
    MessagingService,
    LedgerService,
    GatewayService,
)

SECTION = re.compile(r"## (\w+) \(`(\w+)\.events`\)")
CODE = re.compile(r"`([^`]+)`")
ITALIC = re.compile(r"(?<![*\w])\*([^*]+)\*(?![*\w])")
FIELD = re.compile(r"(\w+)(\?)?(?::\s*(.*))?")
NESTED = re.compile(r"\{([^}]*)\}")


class Field(typing.NamedTuple):
    optional: bool
    nested: frozenset | None  # the fields of an object, or of a list's entries


def parse_fields(cell, shapes):
    fields = {}
    for shape in ITALIC.findall(cell):
        assert shape in shapes, f"*{shape}* is not in the section's shape table"
        fields.update(shapes[shape])
    for span in CODE.findall(cell):
        name, optional, rest = FIELD.fullmatch(span).groups()
        nested = NESTED.search(rest or "")
        members = frozenset(m.strip() for m in nested.group(1).split(",")) if nested else None
        fields[name] = Field(bool(optional), members)
    return fields


def documented():
    """``{service: {event: (fields, consumers)}}`` from the tables of docs/events.md."""
    events, service, shapes = {}, None, {}
    for line in DOC.read_text().splitlines():
        if line.startswith("## "):
            section = SECTION.fullmatch(line)
            service = section.group(1) if section else None
            assert section is None or section.group(2) == service, line
            shapes = {}
            if service:
                assert service not in events, f"two sections for {service}"
                events[service] = {}
            continue
        if service is None or not line.startswith("|") or line.startswith("|---"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] in ("event", "shape"):
            continue
        shape = ITALIC.fullmatch(cells[0])
        if shape:
            shapes[shape.group(1)] = parse_fields(cells[1], shapes)
            continue
        event = CODE.fullmatch(cells[0])
        assert event and len(cells) == 3, f"not an event row: {line}"
        assert event.group(1) not in events[service], f"{event.group(1)} listed twice"
        consumers = set() if cells[2] == "—" else {name.strip() for name in cells[2].split(",")}
        events[service][event.group(1)] = (parse_fields(cells[1], shapes), consumers)
    return events


def nested_fields(hint):
    if typing.get_origin(hint) in (typing.Union, types.UnionType):  # a shape, or None
        (hint,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    if typing.get_origin(hint) is list:
        (hint,) = typing.get_args(hint)
    return frozenset(typing.get_type_hints(hint)) if typing.is_typeddict(hint) else None


def contract_fields(payload):
    return {
        name: Field(name in payload.__optional_keys__, nested_fields(hint))
        for name, hint in typing.get_type_hints(payload).items()
    }


def differences(in_doc, in_contract):
    """What docs/events.md says otherwise than the contract, one line per field."""
    found = [f"{event}: not in docs/events.md" for event in in_contract.keys() - in_doc.keys()]
    found += [f"{event}: in docs/events.md only" for event in in_doc.keys() - in_contract.keys()]
    for event in in_doc.keys() & in_contract.keys():
        documented_fields, fields = in_doc[event], in_contract[event]
        for name in fields.keys() | documented_fields.keys():
            if documented_fields.get(name) != fields.get(name):
                found.append(
                    f"{event}.{name}: docs/events.md {documented_fields.get(name)}, "
                    f"contract {fields.get(name)}"
                )
    return sorted(found)


def consumers():
    """``{(source, event): {consuming service}}`` from the services' event entrypoints."""
    found = {}
    for cls in SERVICE_CLASSES:
        for _, method in inspect.getmembers(cls, inspect.isfunction):
            for entrypoint in getattr(method, ENTRYPOINT_EXTENSIONS_ATTR, ()):
                if isinstance(entrypoint, EventHandler):
                    key = (entrypoint.source_service, entrypoint.event_type)
                    found.setdefault(key, set()).add(cls.name)
    return found


def test_the_document_has_a_section_for_each_publishing_service():
    assert set(documented()) == set(CONTRACTS)


@pytest.mark.parametrize("service", CONTRACTS)
def test_each_published_event_is_documented_with_its_fields(service):
    in_contract = {
        event: contract_fields(payload) for event, payload in CONTRACTS[service].EVENTS.items()
    }
    in_doc = {event: fields for event, (fields, _) in documented()[service].items()}
    assert differences(in_doc, in_contract) == []


def test_each_consumed_event_is_documented_with_its_consumers():
    in_doc = {
        (service, event): listed
        for service, events in documented().items()
        for event, (_, listed) in events.items()
        if listed
    }
    assert in_doc == consumers()


def _event_arguments(tree):
    """The expressions that name an event: in ``record(aggregate, type, data)``,
    ``make_event(type, data)``, ``@subscribe(source, type)``, ``@listen`` and ``@event_handler``."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        position = {"record": 1, "make_event": 0, "subscribe": 1, "event_handler": 1, "listen": 1}
        index = position.get(node.func.id)
        if index is not None and len(node.args) > index:
            yield node.func.id, node.args[index]


def _value(module, expression):
    if isinstance(expression, ast.Name):
        return getattr(module, expression.id)
    return getattr(_value(module, expression.value), expression.attr)


@pytest.mark.parametrize("service", [*CONTRACTS, "gateway"])
def test_events_are_named_by_their_contract_constants(service):
    published = {event for contract in CONTRACTS.values() for event in contract.EVENTS}
    own = CONTRACTS[service].EVENTS if service in CONTRACTS else {}
    for path in sorted((ROOT / "services" / service).glob("*.py")):
        module = importlib.import_module(f"services.{service}.{path.stem}")
        for call, expression in _event_arguments(ast.parse(path.read_text())):
            where = f"{path.relative_to(ROOT)}:{expression.lineno}"
            assert isinstance(expression, ast.Name | ast.Attribute), (
                f"{where}: name the event by its contract's constant, not a literal"
            )
            value = _value(module, expression)
            assert value in (own if call in ("record", "make_event") else published), where
