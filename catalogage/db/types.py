"""Column helpers shared by the models."""

from datetime import datetime
from typing import Annotated

from sqlalchemy import DateTime, func
from sqlalchemy.orm import mapped_column

#: A timestamp with time zone set by the database when the row is inserted.
CreatedAt = Annotated[
    datetime, mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
]
Timestamp = Annotated[datetime, mapped_column(DateTime(timezone=True))]
