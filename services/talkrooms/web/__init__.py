"""The HTTP side: the pages (login, chat) with their templates/ and static/ files (the
web UI), the JSON API (/api/*, /metrics) and the security headers every response carries.

May import: ops, chat, realtime, storage, telemetry, protocol, settings. Never jobs.
"""
