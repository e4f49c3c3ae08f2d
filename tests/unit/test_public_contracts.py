"""Each service shows the outside only its ``contract.py`` and ``schemas.py``, and the
gateway reads services through them alone: it never loads a service's rules, storage
or entrypoints, so it cannot come to depend on them."""

import ast
import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SERVICES = ("community", "catalogue", "orders", "notifications")
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
def test_schemas_import_only_their_own_contract(service):
    imported = internal_imports(ROOT / "services" / service / "schemas.py")
    own_contract = f"services.{service}.contract"
    assert [name for name in imported if not name.startswith(own_contract)] == []


def test_the_gateway_loads_no_service_internals():
    probe = (
        "import json, sys\n"
        "import services.gateway.service\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout))
    assert "services.gateway.service" in loaded
    internals = {f"services.{service}.{room}" for service in SERVICES for room in INTERNALS}
    assert sorted(loaded & internals) == []
