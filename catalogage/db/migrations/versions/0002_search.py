"""Full-text search: French configuration, search columns, indexes, cache generation.

Expand-only: two nullable columns filled by a trigger, new indexes, a new table.
The previous release keeps working (it never reads or writes the new columns; the
trigger fills them on its writes too).

`unaccent` and `pg_trgm` are trusted extensions (PostgreSQL >= 13): a database
owner may create them without superuser rights.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 00:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Text search configurations. `unaccent` runs before the stemmer so that a word
#: typed with or without accents gets the same stem ("foret", "forêt" -> 'foret').
SEARCH_CONFIGURATIONS = [
    "CREATE TEXT SEARCH CONFIGURATION catalogage_fr (COPY = pg_catalog.french)",
    "ALTER TEXT SEARCH CONFIGURATION catalogage_fr ALTER MAPPING FOR hword, hword_part, word"
    " WITH public.unaccent, pg_catalog.french_stem",
    "CREATE TEXT SEARCH CONFIGURATION catalogage_simple (COPY = pg_catalog.simple)",
    "ALTER TEXT SEARCH CONFIGURATION catalogage_simple ALTER MAPPING FOR hword, hword_part, word"
    " WITH public.unaccent, pg_catalog.simple",
]

#: Case- and accent-folding usable in indexes (unaccent() itself is only STABLE,
#: because its dictionary could change; ours is fixed).
FOLD_FUNCTION = """
CREATE FUNCTION catalogage_fold(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN lower(public.unaccent('public.unaccent'::regdictionary, value))
"""

#: The weighted document of a dataset: title A, keywords B, description C;
#: organization name, service, technical source, coverage and the string values of
#: extra fields D. `search_text` (title and keywords, folded) feeds the trigram
#: index behind "did you mean". Both are computed in the writing transaction.
DATASET_TRIGGER = [
    """
CREATE FUNCTION dataset_search_fields() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    organization_name text;
    extra_text text;
BEGIN
    SELECT name INTO organization_name FROM organization WHERE siret = NEW.organization_siret;
    SELECT string_agg(value #>> '{}', ' ') INTO extra_text
        FROM jsonb_each(NEW.extra_fields) WHERE jsonb_typeof(value) = 'string';
    NEW.search_vector :=
        setweight(to_tsvector('public.catalogage_fr', NEW.title), 'A')
        || setweight(to_tsvector('public.catalogage_fr', array_to_string(NEW.keywords, ' ; ')), 'B')
        || setweight(to_tsvector('public.catalogage_fr', NEW.description), 'C')
        || setweight(to_tsvector('public.catalogage_fr', concat_ws(' ; ',
            organization_name, NEW.service, NEW.technical_source,
            NEW.geographical_coverage, extra_text)), 'D');
    NEW.search_text := public.catalogage_fold(
        NEW.title || ' ' || array_to_string(NEW.keywords, ' '));
    RETURN NEW;
END
$$""",
    """
CREATE TRIGGER dataset_search_fields
    BEFORE INSERT OR UPDATE OF title, description, keywords, service, technical_source,
        geographical_coverage, extra_fields, organization_siret
    ON dataset FOR EACH ROW EXECUTE FUNCTION dataset_search_fields()""",
    # An organization's name is part of its datasets' documents: re-index them on rename.
    """
CREATE FUNCTION organization_search_rename() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE dataset SET title = title WHERE organization_siret = NEW.siret;
    RETURN NULL;
END
$$""",
    """
CREATE TRIGGER organization_search_rename
    AFTER UPDATE OF name ON organization FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION organization_search_rename()""",
]

#: Any committed change to what search reads moves the generation on, which
#: invalidates cached search answers (see catalogage/search/cache.py). The counter
#: is a row, not a sequence: its new value becomes visible exactly when the change
#: commits, never before.
GENERATION_TRIGGERS = """
CREATE FUNCTION search_state_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE search_state SET generation = generation + 1 WHERE id = 1;
    RETURN NULL;
END
$$
"""
GENERATION_TABLES = ("dataset", "organization", "extra_field")


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
    for statement in SEARCH_CONFIGURATIONS:
        op.execute(statement)
    op.execute(FOLD_FUNCTION)

    op.create_table(
        "search_state",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("generation", sa.BigInteger(), server_default="0", nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_search_state_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_state")),
    )
    op.execute("INSERT INTO search_state (id, generation) VALUES (1, 0)")
    op.execute(GENERATION_TRIGGERS)
    for table in GENERATION_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_search_state AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION search_state_bump()"
        )

    op.add_column("dataset", sa.Column("search_vector", postgresql.TSVECTOR(), nullable=True))
    op.add_column("dataset", sa.Column("search_text", sa.Text(), nullable=True))
    for statement in DATASET_TRIGGER:
        op.execute(statement)
    op.execute("UPDATE dataset SET title = title")  # fills the new columns of existing rows
    op.create_index(
        "ix_dataset_search_vector",
        "dataset",
        ["search_vector"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_dataset_search_text_trgm",
        "dataset",
        ["search_text"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.create_index("ix_dataset_created_at_id", "dataset", ["created_at", "id"], unique=False)
    op.create_index("ix_dataset_title_id", "dataset", ["title", "id"], unique=False)
    op.create_index(
        "ix_dataset_visibility_organization",
        "dataset",
        ["visibility", "organization_siret"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_dataset_visibility_organization", table_name="dataset")
    op.drop_index("ix_dataset_title_id", table_name="dataset")
    op.drop_index("ix_dataset_created_at_id", table_name="dataset")
    op.drop_index("ix_dataset_search_text_trgm", table_name="dataset")
    op.drop_index("ix_dataset_search_vector", table_name="dataset")
    op.execute("DROP TRIGGER organization_search_rename ON organization")
    op.execute("DROP FUNCTION organization_search_rename()")
    op.execute("DROP TRIGGER dataset_search_fields ON dataset")
    op.execute("DROP FUNCTION dataset_search_fields()")
    op.drop_column("dataset", "search_text")
    op.drop_column("dataset", "search_vector")
    for table in GENERATION_TABLES:
        op.execute(f"DROP TRIGGER {table}_search_state ON {table}")
    op.execute("DROP FUNCTION search_state_bump()")
    op.drop_table("search_state")
    op.execute("DROP FUNCTION catalogage_fold(text)")
    op.execute("DROP TEXT SEARCH CONFIGURATION catalogage_simple")
    op.execute("DROP TEXT SEARCH CONFIGURATION catalogage_fr")
    # The extensions stay: other objects may use them, and they are harmless.
