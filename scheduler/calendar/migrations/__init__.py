"""Alembic migrations of the calendar database, shipped inside the package."""
