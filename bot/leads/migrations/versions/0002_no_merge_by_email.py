"""A lead per conversation: the e-mail is no longer unique (an unverified address must never
rename or merge someone else's lead), a possible duplicate is pointed at instead, and what
consultants do to a lead is kept in an audit trail. The callback moment is also kept
normalised (« mardi · 9 h – 12 h ») next to the visitor's words.

Revision ID: 0002_no_merge_by_email
Revises: 0001_initial
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa

revision = "0002_no_merge_by_email"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite rebuilds the table (batch mode): keep AUTOINCREMENT, ids are never reused.
    with op.batch_alter_table("leads", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_constraint(op.f("uq_leads_email"), type_="unique")
        batch.add_column(sa.Column("duplicate_of", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("callback_window", sa.String(length=200), nullable=True))
        batch.create_foreign_key(
            op.f("fk_leads_duplicate_of_leads"), "leads", ["duplicate_of"], ["id"], ondelete="SET NULL",
        )
        batch.create_index(op.f("ix_leads_email"), ["email"])
    op.create_table(
        "lead_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_lead_audit_lead_id_leads"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_audit")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_lead_audit_lead_id"), "lead_audit", ["lead_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_lead_audit_lead_id"), table_name="lead_audit")
    op.drop_table("lead_audit")
    with op.batch_alter_table("leads", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_index(op.f("ix_leads_email"))
        batch.drop_constraint(op.f("fk_leads_duplicate_of_leads"), type_="foreignkey")
        batch.drop_column("duplicate_of")
        batch.drop_column("callback_window")
        batch.create_unique_constraint(op.f("uq_leads_email"), ["email"])
