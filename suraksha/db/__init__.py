"""Storage: SQLAlchemy 2 models on portable types, SQLite (embedded default) or PostgreSQL."""

from suraksha.db.base import Base, utcnow
from suraksha.db.engine import Database, open_database

__all__ = ["Base", "Database", "open_database", "utcnow"]
