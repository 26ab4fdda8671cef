"""Background work: the RQ jobs (room cleanup), their scheduling, the RQ worker process
and the `talkrooms cleanup | rq-worker | scheduler` commands.

May import: ops, chat, realtime, storage, telemetry, protocol, settings. Never web.
"""

from talkrooms.jobs.tasks import cleanup_rooms

# RQ stores a job's function by its dotted path: jobs scheduled before the move into this
# package name `talkrooms.jobs.cleanup_rooms`, which still resolves.
__all__ = ["cleanup_rooms"]
