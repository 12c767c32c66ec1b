"""Database access: declarative base, engine and per-request sessions."""

from catalogage.db.base import Base
from catalogage.db.session import Database

__all__ = ["Base", "Database"]
