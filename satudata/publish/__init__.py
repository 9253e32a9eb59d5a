"""Publishing: the validated period's files to a CKAN portal, its table to the DataStore, its metadata.

``resources`` writes the files beside the data and names every resource; ``ckan`` finds or
creates the organization, the dataset and each resource by name (never duplicated);
``release`` brings the dataset to the written files and commits the version; ``datastore``
loads the table; ``metadata``, ``chart_choice`` and ``chart`` derive the dataset's metadata and its chart from
the catalog. Every function takes the CKAN client it uses; none imports Airflow.
"""

from typing import Any, Protocol


class CkanClient(Protocol):
    """What the publishing functions need of a CKAN client: ckanapi's ``call_action``."""

    def call_action(self, action: str, data_dict: dict[str, Any] | None = None, /, *,
                    files: dict[str, Any] | None = None) -> Any: ...


class PublishError(RuntimeError):
    """The portal refused what the pipeline sent; retrying the same request will not help."""


class ResourceTooLarge(PublishError):
    """A file is larger than the portal's ``ckan.max_resource_size``."""


class DataStoreLoadError(PublishError):
    """The portal refused rows of a DataStore load; retrying the same request will not help."""
