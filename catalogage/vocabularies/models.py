from sqlalchemy import Boolean, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from catalogage.db import Base
from catalogage.db.types import CreatedAt


class _Term:
    """A vocabulary term. `key` is the name folded (case, accents, spacing), and unique,
    so "Forêt" and "foret" are the same term; `name` keeps the first spelling."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text)
    key: Mapped[str] = mapped_column(Text, unique=True)
    created_at: Mapped[CreatedAt]


class Tag(_Term, Base):
    """A keyword. Created on first use by anyone who may write a dataset."""

    __tablename__ = "tag"


class Format(_Term, Base):
    """A file format. Admins extend the list; datasets may only use listed formats."""

    __tablename__ = "format"

    #: Code in the EU "file type" authority table (e.g. CSV, XLSX), for DCAT exports.
    eu_file_type: Mapped[str | None] = mapped_column(Text)


class License(_Term, Base):
    """A suggested license. Datasets may name another license in free text."""

    __tablename__ = "license"

    url: Mapped[str | None] = mapped_column(Text)
    #: Open licenses are suggested first; non-open ones ("Licence propriétaire") remain listed.
    is_open: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
