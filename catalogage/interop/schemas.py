"""Bodies of the import and harvest reports."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class RowAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    REJECT = "reject"
    #: Harvest only: the source no longer lists the dataset (it is kept, and flagged).
    REMOVED_UPSTREAM = "removed_upstream"


class Problem(BaseModel):
    """A reason, tied to a column of the file (or `file` for the whole file)."""

    field: str
    message: str


class RowReport(BaseModel):
    #: Row number in the file (the header is row 1), or position in a harvested source.
    row: int
    action: RowAction
    title: str | None = None
    dataset_id: uuid.UUID | None = None
    #: Harvest: the dataset's identifier at the source.
    remote_id: str | None = None
    #: Changed columns: `{"column": [old, new]}`.
    changes: dict[str, list[Any]] = Field(default_factory=dict)
    errors: list[Problem] = Field(default_factory=list)
    warnings: list[Problem] = Field(default_factory=list)


class FileInfo(BaseModel):
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    columns: list[str] = Field(default_factory=list)
    rows: int = 0


class Summary(BaseModel):
    create: int = 0
    update: int = 0
    unchanged: int = 0
    reject: int = 0
    removed_upstream: int = 0


class ImportReport(BaseModel):
    organization_siret: str
    dry_run: bool
    #: True once the changes are committed (never for a dry run).
    applied: bool = False
    file: FileInfo | None = None
    #: Problems with the file as a whole (unknown columns...): nothing can be applied.
    errors: list[Problem] = Field(default_factory=list)
    warnings: list[Problem] = Field(default_factory=list)
    summary: Summary = Field(default_factory=Summary)
    rows: list[RowReport] = Field(default_factory=list)

    @property
    def acceptable(self) -> bool:
        return not self.errors and self.summary.reject == 0

    def count(self) -> None:
        self.summary = Summary()
        for row in self.rows:
            setattr(self.summary, row.action.value, getattr(self.summary, row.action.value) + 1)
