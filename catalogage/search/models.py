from sqlalchemy import BigInteger, CheckConstraint, SmallInteger
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
