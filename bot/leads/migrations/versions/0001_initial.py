"""Initial leads schema: leads, linked conversations, consent proofs, diagnostic
snapshots, consultant notes, notification outbox.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("last_contact_at", sa.DateTime(), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("callback_time", sa.String(length=200), nullable=True),
        sa.Column("need", sa.Text(), nullable=True),
        sa.Column("qualification", sa.String(length=8), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "status IN ('new', 'contacted', 'won', 'lost')", name=op.f("ck_leads_status")
        ),
        sa.CheckConstraint(
            "qualification IN ('hot', 'warm', 'cold')", name=op.f("ck_leads_qualification")
        ),
        sa.CheckConstraint("score >= 0 AND score <= 100", name=op.f("ck_leads_score")),
        sa.CheckConstraint(
            "email IS NOT NULL OR phone IS NOT NULL", name=op.f("ck_leads_reachable")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
        sa.UniqueConstraint("email", name=op.f("uq_leads_email")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_leads_last_contact_at"), "leads", ["last_contact_at"])
    op.create_index(op.f("ix_leads_status"), "leads", ["status"])

    op.create_table(
        "lead_senders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("linked_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], ondelete="CASCADE",
            name=op.f("fk_lead_senders_lead_id_leads"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_senders")),
        sa.UniqueConstraint("sender_id", name=op.f("uq_lead_senders_sender_id")),
    )
    op.create_index(op.f("ix_lead_senders_lead_id"), "lead_senders", ["lead_id"])

    op.create_table(
        "lead_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("given_at", sa.DateTime(), nullable=False),
        sa.Column("wording_version", sa.String(length=64), nullable=False),
        sa.Column("notice_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], ondelete="CASCADE",
            name=op.f("fk_lead_consents_lead_id_leads"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_consents")),
    )
    op.create_index(op.f("ix_lead_consents_lead_id"), "lead_consents", ["lead_id"])

    op.create_table(
        "lead_diagnostics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.Column("relationship", sa.String(length=32), nullable=True),
        sa.Column("verdict", sa.Text(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], ondelete="CASCADE",
            name=op.f("fk_lead_diagnostics_lead_id_leads"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_diagnostics")),
    )
    op.create_index(op.f("ix_lead_diagnostics_lead_id"), "lead_diagnostics", ["lead_id"])

    op.create_table(
        "lead_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], ondelete="CASCADE",
            name=op.f("fk_lead_notes_lead_id_leads"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_notes")),
    )
    op.create_index(op.f("ix_lead_notes_lead_id"), "lead_notes", ["lead_id"])

    op.create_table(
        "lead_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("claim_token", sa.String(length=64), nullable=True),
        sa.Column("delivery_key", sa.String(length=64), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed')",
            name=op.f("ck_lead_outbox_status"),
        ),
        sa.CheckConstraint(
            "channel IN ('email', 'webhook')", name=op.f("ck_lead_outbox_channel")
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], ondelete="CASCADE",
            name=op.f("fk_lead_outbox_lead_id_leads"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_outbox")),
        sa.UniqueConstraint("delivery_key", name=op.f("uq_lead_outbox_delivery_key")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_lead_outbox_lead_id"), "lead_outbox", ["lead_id"])
    op.create_index(
        "ix_lead_outbox_status_next", "lead_outbox", ["status", "next_attempt_at"]
    )


def downgrade() -> None:
    op.drop_table("lead_outbox")
    op.drop_table("lead_notes")
    op.drop_table("lead_diagnostics")
    op.drop_table("lead_consents")
    op.drop_table("lead_senders")
    op.drop_index(op.f("ix_leads_status"), table_name="leads")
    op.drop_index(op.f("ix_leads_last_contact_at"), table_name="leads")
    op.drop_table("leads")
