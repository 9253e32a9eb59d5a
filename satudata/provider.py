"""Provider metadata: registers the ``ckan`` connection type with Airflow (UI form, test button).

Airflow 3 builds the connection form from this metadata alone (``hook-name``,
``ui-field-behaviour``, ``conn-fields``), without importing the hook: a hook's own
``get_ui_field_behaviour`` is not what the UI's form reads.
"""

from typing import Any

CKAN_CONNECTION_TYPE: dict[str, Any] = {
    # Airflow puts plugins/ on sys.path, which is where the hook lives.
    "hook-class-name": "ckan_hook.CkanHook",
    "connection-type": "ckan",
    "hook-name": "CKAN",
    "ui-field-behaviour": {
        # The portal URL carries scheme and port; CKAN identifies the caller by the token alone.
        "hidden-fields": ["schema", "login", "port"],
        "relabeling": {"host": "Portal URL", "password": "API token"},
        "placeholders": {
            "host": "https://data.kaltimprov.go.id",
            "password": "a token from the portal: User > API Tokens",
        },
    },
    "conn-fields": {
        # Read by the hook from the connection's extra, under the same name.
        "max_resource_size_mb": {
            "label": "Largest upload (MB)",
            "description": "The portal's ckan.max_resource_size; CKAN's default is 10.",
            "schema": {"type": ["number", "null"], "minimum": 1},
        },
    },
}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "satudata-kaltim",
        "name": "Satu Data Kaltim",
        "description": "CKAN connection type and hooks for the Satu Data Kaltim pipeline.",
        "connection-types": [CKAN_CONNECTION_TYPE],
    }
