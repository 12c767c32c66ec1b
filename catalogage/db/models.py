"""Imports every model, so that `Base.metadata` knows all tables (Alembic, tests)."""

from catalogage.accounts.models import ApiToken, LoginThrottle, Membership, User
from catalogage.catalogs.models import Catalog, ExtraField
from catalogage.datasets.models import Dataset
from catalogage.history.models import HistoryEntry
from catalogage.interop.models import HarvestRecord
from catalogage.organizations.models import Organization
from catalogage.search.models import DatasetCount, SearchState
from catalogage.vocabularies.models import Format, License, Tag

__all__ = [
    "ApiToken",
    "Catalog",
    "Dataset",
    "DatasetCount",
    "ExtraField",
    "Format",
    "HarvestRecord",
    "HistoryEntry",
    "License",
    "LoginThrottle",
    "Membership",
    "Organization",
    "SearchState",
    "Tag",
    "User",
]
