"""Matching indexes: audio (positional inverted index) and image (multi-index hashing).

Stored in SQL through SQLAlchemy Core tables on ``registry.core.sql.metadata``;
every function takes its connection as an argument.
"""
