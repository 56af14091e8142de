"""The window's local store: SQLite through SQLAlchemy 2.x, schema under Alembic."""
