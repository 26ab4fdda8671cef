"""Notifications (docs/notifications.md): who hears about a message they are not looking
at (private messages, @mentions, rooms set to "all"), their devices (Web Push with VAPID,
Expo push tokens), their per-room settings, and the RQ jobs that send, off the chat's
message path.

May import: chat, accounts, realtime, storage, telemetry, protocol, settings.
"""
