"""Provider metadata: registers the ``ckan`` connection type with Airflow (UI form, test button)."""

from typing import Any


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "satudata-kaltim",
        "name": "Satu Data Kaltim",
        "description": "CKAN connection type and hooks for the Satu Data Kaltim pipeline.",
        "connection-types": [
            # Airflow puts plugins/ on sys.path, which is where the hook lives.
            {"hook-class-name": "ckan_hook.CkanHook", "connection-type": "ckan"},
        ],
    }
