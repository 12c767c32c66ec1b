from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from catalogage.db import Base
from catalogage.db.types import CreatedAt


class Organization(Base):
    """A public body identified by its SIRET number (schema: nom_orga, siret_orga, id_alt_orga)."""

    __tablename__ = "organization"

    siret: Mapped[str] = mapped_column(String(14), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    #: Identifier for bodies without SIRET semantics (RNA number of an association...).
    alternative_id: Mapped[str | None] = mapped_column(Text)
    logo_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[CreatedAt]
