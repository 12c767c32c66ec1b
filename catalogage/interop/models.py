"""Where harvested datasets come from, so that a re-harvest updates instead of duplicating."""

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from catalogage.db import Base
from catalogage.db.types import CreatedAt


class HarvestRecord(Base):
    """One harvested dataset: its remote identifier within a harvest source.

    Kept beside `dataset` (not in it) so that the core table stays as it is; the
    row goes with its dataset (ON DELETE CASCADE).
    """

    __tablename__ = "harvest_record"
    __table_args__ = (
        Index(
            "uq_harvest_record_source_remote",
            "organization_siret",
            "source_url",
            "remote_id",
            unique=True,
        ),
    )

    dataset_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True
    )
    #: The catalog harvested into (a source may feed several catalogs).
    organization_siret: Mapped[str] = mapped_column(
        ForeignKey("organization.siret", ondelete="CASCADE")
    )
    #: The URL given to `catalogage harvest`.
    source_url: Mapped[str] = mapped_column(Text)
    #: The dataset's identifier at the source (its IRI, or its CKAN id).
    remote_id: Mapped[str] = mapped_column(Text)
    first_harvested_at: Mapped[CreatedAt]
    last_harvested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: Set when the source no longer lists the dataset; cleared if it comes back.
    removed_upstream_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
