"""Which datasets a caller may see, as a SQL condition."""

from sqlalchemy import ColumnElement, or_, true

from catalogage.datasets.models import Dataset, Visibility


def visible_to(organizations: set[str] | None) -> ColumnElement[bool]:
    """Public datasets, plus every dataset of `organizations` (None: all, for admins).

    Takes the result of `catalogage.accounts.auth.visible_organizations`.
    """
    if organizations is None:
        return true()
    public = Dataset.visibility == Visibility.PUBLIC.value
    if not organizations:
        return public
    return or_(public, Dataset.organization_siret.in_(sorted(organizations)))
