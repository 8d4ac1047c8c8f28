"""The consultants' back office (issue 15): accounts, sessions, login attempts, and the
visitor messages a consultant assigned to a topic for the next training.

Revision ID: 0004_backoffice
Revises: 0003_bookings
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa

revision = "0004_backoffice"
down_revision = "0003_bookings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "backoffice_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(), nullable=False),
        sa.Column("disabled_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backoffice_users")),
        sa.UniqueConstraint("username", name=op.f("uq_backoffice_users_username")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "backoffice_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["backoffice_users.id"],
            name=op.f("fk_backoffice_sessions_user_id_backoffice_users"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backoffice_sessions")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_backoffice_sessions_token_sha256")),
    )
    op.create_index(op.f("ix_backoffice_sessions_user_id"), "backoffice_sessions", ["user_id"])
    op.create_table(
        "backoffice_login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backoffice_login_attempts")),
    )
    for column in ("at", "username", "client"):
        op.create_index(
            op.f(f"ix_backoffice_login_attempts_{column}"), "backoffice_login_attempts", [column]
        )
    op.create_table(
        "nlu_reviewed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=2000), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=False),
        sa.Column("assigned_by", sa.String(length=64), nullable=False),
        sa.Column("assigned_at", sa.DateTime(), nullable=False),
        sa.Column("exported_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nlu_reviewed")),
        sa.UniqueConstraint("text_sha256", name=op.f("uq_nlu_reviewed_text_sha256")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("nlu_reviewed")
    for column in ("client", "username", "at"):
        op.drop_index(op.f(f"ix_backoffice_login_attempts_{column}"), table_name="backoffice_login_attempts")
    op.drop_table("backoffice_login_attempts")
    op.drop_index(op.f("ix_backoffice_sessions_user_id"), table_name="backoffice_sessions")
    op.drop_table("backoffice_sessions")
    op.drop_table("backoffice_users")
