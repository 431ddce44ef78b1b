"""search: the terms of each call's transcript (original and redacted), indexed by each database

Revision ID: 3b8e0c5d71a2
Revises: df093667286e
Create Date: 2026-12-04 07:20:00

Both databases index the same terms, made by search/terms.py; neither's own parser or stemmer runs.
PostgreSQL: `search_vector`, a tsvector generated from `terms` with each term at its position (so phrases
match), and a GIN index on it. SQLite: an FTS5 table over `terms`, its rows named by the integer key, kept
by triggers (FTS5's external-content pattern); its tokenizer keeps every letter, digit and mark as they
come, so a term stays one token.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "3b8e0c5d71a2"
down_revision = "df093667286e"
branch_labels = None
depends_on = None

# What search matches exactly, each within an organisation.
_EXACT = ("from_number", "to_number", "provider_call_id", "conversation_id")

_POSTGRESQL = [
    # Each space-separated term, quoted, at its position (`'cancel':4 'my':5`), so the phrase operator
    # `<->` works; and at the same position each pair of neighbours joined by U+E002 (`'cancel\ue002my':4`),
    # so a phrase of common words is narrowed by the GIN index to the documents holding its pairs instead
    # of every document holding its words (search/query.py asks for both). Neither the utterance boundary
    # (U+E000) nor the scope (first) makes a pair. Immutable, as a generated column needs.
    """
    CREATE FUNCTION tether_search_vector(terms text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
      SELECT coalesce(string_agg(quote_literal(x.lexeme) || ':' || x.position, ' ')::tsvector, ''::tsvector)
      FROM (
        SELECT term, position, lead(term) OVER (ORDER BY position) AS next
        FROM unnest(string_to_array(terms, ' ')) WITH ORDINALITY AS t(term, position)
      ) AS w
      CROSS JOIN LATERAL (
        VALUES
          (w.term, w.position),
          (CASE WHEN w.position > 1 AND w.term <> chr(57344) AND w.next <> chr(57344)
                THEN w.term || chr(57346) || w.next END, w.position)
      ) AS x(lexeme, position)
      WHERE x.lexeme IS NOT NULL AND x.lexeme <> ''
    $$
    """,
    """
    ALTER TABLE search_documents
      ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (tether_search_vector(terms)) STORED
    """,
    "CREATE INDEX ix_search_documents_vector ON search_documents USING gin (search_vector)",
    # The terms and the vector out of line (TOAST): a row in the heap is its keys alone, so finding the
    # newest matches reads a few pages, not the documents; their vectors are read only to rank them.
    "ALTER TABLE search_documents SET (toast_tuple_target = 128)",
]

_SQLITE = [
    """
    CREATE VIRTUAL TABLE search_documents_fts USING fts5(
      terms, content='search_documents', content_rowid='id',
      tokenize="unicode61 remove_diacritics 0 categories 'L* N* M* Co'"
    )
    """,
    """
    CREATE TRIGGER search_documents_fts_insert AFTER INSERT ON search_documents BEGIN
      INSERT INTO search_documents_fts(rowid, terms) VALUES (new.id, new.terms);
    END
    """,
    """
    CREATE TRIGGER search_documents_fts_delete AFTER DELETE ON search_documents BEGIN
      INSERT INTO search_documents_fts(search_documents_fts, rowid, terms)
        VALUES ('delete', old.id, old.terms);
    END
    """,
    """
    CREATE TRIGGER search_documents_fts_update AFTER UPDATE ON search_documents BEGIN
      INSERT INTO search_documents_fts(search_documents_fts, rowid, terms)
        VALUES ('delete', old.id, old.terms);
      INSERT INTO search_documents_fts(rowid, terms) VALUES (new.id, new.terms);
    END
    """,
]


def upgrade() -> None:
    op.create_table(
        "search_documents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("redacted", sa.Boolean(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.call_id"], name=op.f("fk_search_documents_call_id_calls"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_documents")),
        sa.UniqueConstraint("call_id", "redacted", name=op.f("uq_search_documents_call_id_redacted")),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        for name in _EXACT:
            batch_op.create_index(f"ix_calls_organization_id_{name}", ["organization_id", name], unique=False)
    for statement in _POSTGRESQL if op.get_bind().dialect.name == "postgresql" else _SQLITE:
        op.execute(statement)
    _index_what_is_there()


def _index_what_is_there() -> None:
    """Calls that had transcripts (and ready redacted copies) before this revision are found too: their
    terms are written here, in batches, as the repository writes them for new ones."""
    from tether_relay.search.terms import indexed  # the service's own tokenizer, as of this revision

    bind = op.get_bind()
    documents = sa.table(
        "search_documents",
        sa.column("call_id"),
        sa.column("organization_id"),
        sa.column("redacted"),
        sa.column("terms"),
    )
    sources = {
        False: sa.table(
            "calls",
            sa.column("call_id"),
            sa.column("organization_id"),
            sa.column("transcription_text"),
            sa.column("transcription_data", sa.JSON()),
            sa.column("recording_deleted_at"),
        ),
        True: sa.table(
            "call_redactions",
            sa.column("call_id"),
            sa.column("organization_id"),
            sa.column("transcription_text"),
            sa.column("transcription_data", sa.JSON()),
            sa.column("status"),
        ),
    }
    for redacted, source in sources.items():
        wanted = source.c.status == "ready" if redacted else source.c.recording_deleted_at.is_(None)
        after = ""
        while True:
            rows = bind.execute(
                sa.select(
                    source.c.call_id,
                    source.c.organization_id,
                    source.c.transcription_text,
                    source.c.transcription_data,
                )
                .where(wanted, source.c.call_id > after)
                .order_by(source.c.call_id)
                .limit(1000)
            ).all()
            if not rows:
                break
            after = rows[-1].call_id
            made = [
                {"call_id": r.call_id, "organization_id": r.organization_id, "redacted": redacted, "terms": t}
                for r in rows
                if (t := indexed(r.organization_id, redacted, r.transcription_text, r.transcription_data))
                is not None
            ]
            if made:
                bind.execute(sa.insert(documents), made)


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        for name in _EXACT:
            batch_op.drop_index(f"ix_calls_organization_id_{name}")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_table("search_documents")
        op.execute("DROP FUNCTION tether_search_vector(text)")
    else:
        op.execute("DROP TABLE search_documents_fts")
        op.drop_table("search_documents")
