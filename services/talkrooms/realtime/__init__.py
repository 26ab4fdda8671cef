"""The real-time transport: the gunicorn worker class, Engine.IO hardening (frame and
polling guards, batched socket writes, routed session ids), the Redis pub/sub broadcast
and its subscriber, and the registry of this worker's connections.

May import: storage, telemetry, settings. Never chat, web, ops or jobs.
"""
