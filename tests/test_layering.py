"""The arrows between the parts: outbound HTTP safety comes from `net`, never through
`monitor`, and `notifiers` does not depend on feed monitoring at all."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NET_MOVED = ("monitor.guard", "monitor.transport", "monitor.decode", "monitor.retry_after")


def imported_modules(package: str) -> dict[str, set[str]]:
    """Every module each source file of `package` imports (absolute names)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        found[str(path.relative_to(ROOT))] = names
    return found


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


@pytest.mark.parametrize("package", ["notifiers", "api"])
def test_guard_transport_and_decoder_come_from_net(package: str) -> None:
    """No file of `notifiers` or `api` takes the guard, transport or decoder from monitor."""
    bad = {
        path: sorted(n for n in names if any(_under(n, m) for m in NET_MOVED))
        for path, names in imported_modules(package).items()
    }
    assert not {path: names for path, names in bad.items() if names}


def test_notifiers_do_not_import_monitor() -> None:
    """Delivery does not depend on feed monitoring: no `monitor` import in `notifiers`."""
    bad = {
        path: sorted(n for n in names if _under(n, "monitor"))
        for path, names in imported_modules("notifiers").items()
    }
    assert not {path: names for path, names in bad.items() if names}


def test_the_scan_sees_imports() -> None:
    """The scan finds what a file does import, so that the checks above can fail."""
    names = imported_modules("monitor")["monitor/fetch.py"]
    assert "net.guard" in names and "net.guard.Guard" in names
