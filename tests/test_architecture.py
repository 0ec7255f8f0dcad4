"""The layering of docs/architecture.md, checked: who may import whom.

Plain reading of the import statements (no import side effects): the floors never reach up, the
domain floors know nothing of Flask, and each room of `portal/services/` imports only the rooms
below it. A new dependency is a decision: change the table here and the picture in the doc together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PORTAL = Path(__file__).resolve().parent.parent / "portal"
SERVICES = PORTAL / "services"

# room → the other rooms it may import (docs/architecture.md, "The rooms").
ROOMS = {
    "platform": set(),
    "org": {"platform"},
    "notices": {"platform", "org"},
    "criteria": {"platform", "org", "notices"},
    "pledges": {"platform", "org", "notices", "criteria"},
    "scoring": {"platform", "org", "notices", "criteria", "pledges"},
    "results": {"platform", "org", "notices", "criteria", "pledges", "scoring"},
    "meetings": {"platform", "org", "notices", "criteria", "pledges", "scoring", "results"},
    "documents": {"platform", "org", "notices", "criteria", "pledges", "scoring", "results", "meetings"},
    "publication": {"platform", "org", "notices", "criteria", "pledges", "scoring", "results", "meetings"},
    "monitoring": {"platform", "org", "notices", "criteria", "pledges", "scoring", "results", "meetings"},
    "demo": {
        "platform",
        "org",
        "notices",
        "criteria",
        "pledges",
        "scoring",
        "results",
        "meetings",
        "documents",
        "publication",
    },
}
# Modules of the domain floors: plain Python, no web framework, no blueprint.
DOMAIN_FLOORS = ["models", "services", "policy.py", "formatting.py", "vntext.py", "charts.py"]
WEB_MODULES = {"access", "htmx", "fragments", "forms", "errors", "routing", "navigation", "redirects", "live", "cli"}
BLUEPRINTS = {p.name for p in PORTAL.iterdir() if (p / "views.py").exists()} | {"api"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _files(*parts: str) -> list[Path]:
    found: list[Path] = []
    for part in parts:
        target = PORTAL / part
        found += [target] if target.is_file() else sorted(target.rglob("*.py"))
    return found


def test_every_service_module_lives_in_a_room():
    loose = [p.name for p in SERVICES.glob("*.py") if p.name != "__init__.py"]
    rooms = {p.name for p in SERVICES.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert loose == [], "a service module belongs in one of the rooms of portal/services/"
    assert rooms == set(ROOMS), "a new room goes into ROOMS and into docs/architecture.md"


@pytest.mark.parametrize("room", sorted(ROOMS))
def test_a_room_imports_only_the_rooms_below_it(room):
    used = set()
    for path in _files(f"services/{room}"):
        for name in _imports(path):
            parts = name.split(".")
            if parts[:2] == ["portal", "services"] and len(parts) > 2 and parts[2] in ROOMS:
                used.add(parts[2])
    assert used - {room} <= ROOMS[room], f"{room} imports {sorted(used - {room} - ROOMS[room])}"


@pytest.mark.parametrize("path", _files(*DOMAIN_FLOORS), ids=lambda p: str(p.relative_to(PORTAL)))
def test_the_domain_floors_know_nothing_of_the_web(path):
    for name in _imports(path):
        top = name.split(".")
        # The user model mixes in flask_login.UserMixin (four attributes, no request): the one exception.
        assert top[0] != "flask" and not (top[0] == "flask_login" and path.name != "users.py"), name
        if top[0] == "portal" and len(top) > 1:
            assert top[1] not in WEB_MODULES | BLUEPRINTS, f"{name}: a domain module never imports the web floor"


@pytest.mark.parametrize("path", _files("models"), ids=lambda p: str(p.relative_to(PORTAL)))
def test_models_import_no_service(path):
    assert not any(name.startswith("portal.services") for name in _imports(path))
