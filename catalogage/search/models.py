from sqlalchemy import BigInteger, CheckConstraint, SmallInteger, Text
from sqlalchemy.orm import Mapped, mapped_column

from catalogage.db import Base


class SearchState(Base):
    """One row whose `generation` moves on with every committed change search reads.

    Statement triggers on dataset, organization and extra_field bump it (migration
    0002); cached search answers are valid for the generation they were computed at.
    """

    __tablename__ = "search_state"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, server_default="0")


class DatasetCount(Base):
    """How many datasets have each facet value, per visibility and organization.

    Maintained by statement triggers on `dataset` in the writing transaction
    (migration 0004_perf), so always exact. Facet `all` (value '') counts every
    dataset per organization; the value facets count public datasets across
    organizations (organization_siret '') and the others per organization.
    """

    __tablename__ = "dataset_count"

    facet: Mapped[str] = mapped_column(Text, primary_key=True)
    visibility: Mapped[str] = mapped_column(Text, primary_key=True)
    organization_siret: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[str] = mapped_column(Text, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)
