"""Accounts: registration, login, passwords (argon2id), access and refresh tokens,
profiles, and their HTTP routes under /api/v1/auth and /api/v1/profile(s); the data lives
in the database (storage/database.py).

May import: realtime, storage, telemetry, protocol, settings. Never chat, web, ops or jobs.
"""
