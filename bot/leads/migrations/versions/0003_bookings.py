"""Meetings booked in the chat (issue 14): one row per booking, at most one booked meeting per
consultant and start (a partial unique index, the same on SQLite and PostgreSQL).

Revision ID: 0003_bookings
Revises: 0002_no_merge_by_email
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa

revision = "0003_bookings"
down_revision = "0002_no_merge_by_email"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=128), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("consultant_id", sa.String(length=64), nullable=False),
        sa.Column("start_at", sa.DateTime(), nullable=False),
        sa.Column("end_at", sa.DateTime(), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('booked', 'cancelled')", name=op.f("ck_bookings_status")),
        sa.CheckConstraint("mode IN ('phone', 'video')", name=op.f("ck_bookings_mode")),
        sa.CheckConstraint("end_at > start_at", name=op.f("ck_bookings_times")),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_bookings_lead_id_leads"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
        sa.UniqueConstraint("uid", name=op.f("uq_bookings_uid")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_bookings_lead_id"), "bookings", ["lead_id"])
    op.create_index(op.f("ix_bookings_sender_id"), "bookings", ["sender_id"])
    op.create_index(
        "uq_bookings_consultant_start", "bookings", ["consultant_id", "start_at"], unique=True,
        sqlite_where=sa.text("status = 'booked'"), postgresql_where=sa.text("status = 'booked'"),
    )


def downgrade() -> None:
    op.drop_index("uq_bookings_consultant_start", table_name="bookings")
    op.drop_index(op.f("ix_bookings_sender_id"), table_name="bookings")
    op.drop_index(op.f("ix_bookings_lead_id"), table_name="bookings")
    op.drop_table("bookings")
