"""The chat domain: Socket.IO event handlers (thin), the message path (the hot loop:
validate, group-commit to Redis, fan out, ack), rooms and presence, announcements.

May import: realtime, storage, telemetry, protocol, settings. Never web, ops or jobs.
"""
