"""Every test under tests/integration/ is marked ``integration`` (run them, or skip them, with -m)."""

from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    # Hooks of a conftest see the items of the whole session: mark only those collected here.
    for item in items:
        if _HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.integration)
