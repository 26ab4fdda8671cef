"""Accounts: registration, login, passwords (argon2id), access and refresh tokens, and
their HTTP routes under /api/v1/auth; the data lives in the database (storage/database.py).

May import: realtime, storage, telemetry, protocol, settings. Never chat, web, ops or jobs.
"""
