import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from catalogage.db import Base


class HistoryEntry(Base):
    """One create, update or delete of a dataset, or one change of a catalog's fields.

    `changes` maps each changed field to `[old, new]` (JSON values); a create has
    `old` = null everywhere, a delete `new` = null.
    """

    __tablename__ = "history_entry"
    __table_args__ = (Index("ix_history_entry_entity", "entity_type", "entity_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    entity_type: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB)
