"""Data versions: a token per table that changes with every committed write to that table."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from matcher.extensions import db


class DataVersion(db.Model):
    """The version of one table: a random token replaced in the transaction that writes it."""

    __tablename__ = "data_versions"

    # The table's name; a table that was never written since this table existed has no row.
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Random, not a counter: a database rebuilt from scratch never repeats an old version.
    version: Mapped[int] = mapped_column(BigInteger)
