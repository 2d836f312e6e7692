"""Persistence for growth-bot: the only package that imports SQLAlchemy.

- `storage.db`: URLs, engines, session factories, migrations.
- `storage.models`: the tables, as typed SQLAlchemy models.
- `storage.repositories`: small repositories over a caller-owned `Session`.
"""
