"""English title and description of a dataset, on the portal's English pages (``/en/...``).

The catalog may give ``title_en`` and ``notes_en`` beside the Indonesian title and notes: fields
of the Satu Data schema, or free extras on a portal without it. ``before_dataset_view`` runs for
the HTML dataset page only, never for the API's ``package_show``: the API keeps the Indonesian
title and notes, which the pipeline compares with its catalog on every run.
"""

from __future__ import annotations

from typing import Any

import ckan.plugins as plugins
import ckan.plugins.toolkit as toolkit

# The page's field -> the field (or extra) holding its English text.
ENGLISH = {"title": "title_en", "notes": "notes_en"}


def english_text(pkg_dict: dict[str, Any], key: str) -> str:
    """The dataset's English text under ``key``: a schema field, else a free extra; "" when none."""
    value = pkg_dict.get(key)
    if not value:
        value = next((e.get("value") for e in pkg_dict.get("extras") or [] if e.get("key") == key), None)
    return value.strip() if isinstance(value, str) else ""


class SatudataI18nPlugin(plugins.SingletonPlugin):
    plugins.implements(plugins.IPackageController, inherit=True)

    def before_dataset_view(self, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        if toolkit.h.lang() != "en":
            return pkg_dict
        english = {field: text for field, key in ENGLISH.items() if (text := english_text(pkg_dict, key))}
        return {**pkg_dict, **english} if english else pkg_dict
