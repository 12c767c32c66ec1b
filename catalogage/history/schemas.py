import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel


class HistoryActor(BaseModel):
    id: uuid.UUID
    name: str


class HistoryEntryRead(BaseModel):
    at: datetime
    action: str
    #: Shown to members of the organization and admins only; null for everyone else.
    actor: HistoryActor | None
    #: `{field: [old, new]}`.
    changes: dict[str, Any]
