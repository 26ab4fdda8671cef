"""Files and images shared in rooms and private conversations (docs/files.md): uploads
over HTTP, types from the bytes, images re-encoded, bytes on local disk or S3, reads
checked against who can read the room.

May import: accounts (who a Bearer token is, who is in a private conversation), storage,
telemetry, protocol, settings.
"""
