"""Each service shows the outside only its ``contract.py``, ``schemas.py`` and
``exceptions.py``, and the gateway reads services through them alone: it never loads a
service's rules, storage or entrypoints, so it cannot come to depend on them; and it
knows every error a service can send, so each reaches a client with its own status."""

import ast
import json
import pathlib
import subprocess
import sys

import pytest

from services.common.errors import KomporError

ROOT = pathlib.Path(__file__).resolve().parents[2]
SERVICES = ("community", "catalogue", "orders", "notifications", "messaging", "ledger")
INTERNALS = ("domain", "repository", "service")


def internal_imports(path):
    """The ``services.…`` modules a file imports, other than ``services.common``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names += [f"{module}.{alias.name}" for alias in node.names]
    return sorted(
        name
        for name in names
        if name.startswith("services.") and not name.startswith("services.common.")
    )


@pytest.mark.parametrize("service", SERVICES)
def test_a_contract_imports_nothing_of_any_service(service):
    assert internal_imports(ROOT / "services" / service / "contract.py") == []


@pytest.mark.parametrize("service", SERVICES)
def test_errors_import_nothing_of_any_service(service):
    assert internal_imports(ROOT / "services" / service / "exceptions.py") == []


@pytest.mark.parametrize("service", SERVICES)
def test_schemas_import_only_their_own_contract(service):
    imported = internal_imports(ROOT / "services" / service / "schemas.py")
    own_contract = f"services.{service}.contract"
    assert [name for name in imported if not name.startswith(own_contract)] == []


def in_a_gateway_process(expression):
    """``expression`` evaluated in a fresh process that imported only the gateway."""
    probe = f"import json, sys\nimport services.gateway.service\nprint(json.dumps({expression}))\n"
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_gateway_loads_no_service_internals():
    loaded = set(in_a_gateway_process("sorted(sys.modules)"))
    assert "services.gateway.service" in loaded
    internals = {f"services.{service}.{room}" for service in SERVICES for room in INTERNALS}
    assert sorted(loaded & internals) == []


def every_error(kind=KomporError):
    for error in kind.__subclasses__():
        yield error
        yield from every_error(error)


def test_the_gateway_knows_every_error_a_service_can_send():
    for service in SERVICES:
        __import__(f"services.{service}.exceptions")
    known = set(in_a_gateway_process("sorted(__import__('nameko.exceptions').exceptions.registry)"))
    sent = {
        f"{error.__module__}.{error.__name__}"
        for error in every_error()
        if error.__module__.startswith("services.")
    }
    assert sorted(sent - known) == []
