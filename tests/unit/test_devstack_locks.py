"""The devstack's CKAN locks: every package pinned once, so a --no-deps install is exactly the lock."""

from __future__ import annotations

import re
from pathlib import Path

DEVSTACK = Path(__file__).resolve().parents[2] / "devstack"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==\S+$")


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        found = PIN.match(line.strip())
        assert found, f"{path.name}, line {number}: not a name==version pin"
        name = re.sub(r"[-_.]+", "-", found.group(1).lower())
        assert name not in pins, f"{path.name}, line {number}: {name} pinned twice"
        pins[name] = line.strip()
    return pins


def test_the_xloader_lock_only_adds_packages_to_ckans():
    ckan = _pins(DEVSTACK / "ckan-requirements.lock")
    xloader = _pins(DEVSTACK / "ckan-xloader.lock")
    assert "ckanext-xloader" in xloader and "ckan" in ckan
    # Installed together with --no-deps: a package in both would be pinned twice, CKAN's pin lost.
    assert set(ckan) & set(xloader) == set()


def test_the_shared_ckan_virtualenv_never_gets_xloader():
    import devstack.ckanstack as stack

    assert "xloader" not in stack.DEFAULT_PLUGINS
    assert stack.VENV_DIR != stack.XLOADER_VENV_DIR
