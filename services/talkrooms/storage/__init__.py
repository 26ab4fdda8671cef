"""Everything in Redis: the clients (blocking pools, Sentinel), the store (every key is
built here and only here), the Lua scripts, and the cleanup job's record; and the
relational database (database.py: SQLAlchemy engine, units of work off the gevent loop,
Alembic migrations in migrations/).

May import: telemetry, protocol, settings. Never realtime, chat, web, ops or jobs.
"""
