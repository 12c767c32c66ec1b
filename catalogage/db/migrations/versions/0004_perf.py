"""Counted catalog: trigger-maintained counts per organization, visibility and
facet value; folded-title index for autocomplete; search vectors kept in the row.

Expand-only: a new table filled by statement triggers on `dataset` (so the previous
release's writes keep it exact too) and a new index. Nothing existing changes.

`dataset_count` holds, for each (facet, visibility, organization, value), how many
datasets have that value:

- facet `all` (value ''): every dataset, per organization and visibility: the
  totals and the organization and visibility facets;
- facets `keyword`, `format`, `coverage`, `frequency`, `license`: per value; public
  datasets are counted across organizations (organization_siret ''), so that what
  everybody sees is a few hundred rows; drafts and restricted datasets per
  organization, so that a caller only adds their own organizations' rows.

Statement triggers with transition tables apply one grouped upsert per statement
(a COPY of 10,000 rows costs one upsert of a few hundred keys), in the writing
transaction: counts are exact the moment the write commits. Rows are upserted in
key order so that concurrent writers lock them in the same order (no deadlock).
Updates that change no counted column net to zero and write nothing.

Revision ID: 0004_perf
Revises: 0003_interop
Create Date: 2026-11-25 01:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_perf"
down_revision: str | None = "0003_interop"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The counted values of the rows of `{rows}`, each with weight `{sign}`.
COUNTED_VALUES = """
    SELECT 'all' AS facet, r.visibility, r.organization_siret, '' AS value, {sign} AS n
        FROM {rows} r
    UNION ALL
    SELECT f.facet, r.visibility,
        CASE WHEN r.visibility = 'public' THEN '' ELSE r.organization_siret END,
        f.value, {sign}
    FROM {rows} r
    CROSS JOIN LATERAL (
        SELECT 'keyword', k FROM unnest(r.keywords) k
        UNION ALL SELECT 'format', x FROM unnest(r.formats) x
        UNION ALL SELECT 'coverage', r.geographical_coverage
        UNION ALL SELECT 'frequency', r.update_frequency
        UNION ALL SELECT 'license', r.license
    ) AS f(facet, value)
    WHERE f.value IS NOT NULL
"""

UPSERT = """
    INSERT INTO dataset_count (facet, visibility, organization_siret, value, n)
    SELECT facet, visibility, organization_siret, value, sum(n) FROM ({changes}) changes
    GROUP BY 1, 2, 3, 4
    HAVING sum(n) <> 0
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (facet, visibility, organization_siret, value)
    DO UPDATE SET n = dataset_count.n + EXCLUDED.n
"""


def _function(name: str, changes: str) -> str:
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {UPSERT.format(changes=changes)};
    RETURN NULL;
END
$$"""


FUNCTIONS = {
    "dataset_count_insert": COUNTED_VALUES.format(rows="new_rows", sign=1),
    "dataset_count_delete": COUNTED_VALUES.format(rows="old_rows", sign=-1),
    "dataset_count_update": COUNTED_VALUES.format(rows="new_rows", sign=1)
    + " UNION ALL "
    + COUNTED_VALUES.format(rows="old_rows", sign=-1),
}

TRIGGERS = [
    "CREATE TRIGGER dataset_count_insert AFTER INSERT ON dataset"
    " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT"
    " EXECUTE FUNCTION dataset_count_insert()",
    "CREATE TRIGGER dataset_count_update AFTER UPDATE ON dataset"
    " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT"
    " EXECUTE FUNCTION dataset_count_update()",
    "CREATE TRIGGER dataset_count_delete AFTER DELETE ON dataset"
    " REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT"
    " EXECUTE FUNCTION dataset_count_delete()",
    "CREATE TRIGGER dataset_count_truncate AFTER TRUNCATE ON dataset"
    " FOR EACH STATEMENT EXECUTE FUNCTION dataset_count_truncate()",
]

TRUNCATE_FUNCTION = """
CREATE FUNCTION dataset_count_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM dataset_count;
    RETURN NULL;
END
$$"""


def upgrade() -> None:
    op.create_table(
        "dataset_count",
        sa.Column("facet", sa.Text(), nullable=False),
        sa.Column("visibility", sa.Text(), nullable=False),
        sa.Column("organization_siret", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "facet", "visibility", "organization_siret", "value", name=op.f("pk_dataset_count")
        ),
    )
    for name, changes in FUNCTIONS.items():
        op.execute(_function(name, changes))
    op.execute(TRUNCATE_FUNCTION)
    # Lock out writers between the backfill and the triggers' first run.
    op.execute("LOCK TABLE dataset IN SHARE ROW EXCLUSIVE MODE")
    for statement in TRIGGERS:
        op.execute(statement)
    op.execute(UPSERT.format(changes=COUNTED_VALUES.format(rows="dataset", sign=1)))
    op.execute(
        "CREATE INDEX ix_dataset_title_fold ON dataset"
        " (catalogage_fold(title) text_pattern_ops, id)"
    )
    # Keep search vectors (~1 KB) in the row rather than in the TOAST table: every
    # text match and rank reads them, and fetching 40,000 out-of-line values for a
    # common word was most of its cost. Catalog-only change (no rewrite): rows take
    # the new layout when next written.
    op.execute("ALTER TABLE dataset ALTER COLUMN search_vector SET STORAGE MAIN")


def downgrade() -> None:
    op.execute("ALTER TABLE dataset ALTER COLUMN search_vector SET STORAGE EXTENDED")
    op.execute("DROP INDEX ix_dataset_title_fold")
    for trigger in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER dataset_count_{trigger} ON dataset")
        op.execute(f"DROP FUNCTION dataset_count_{trigger}()")
    op.drop_table("dataset_count")
