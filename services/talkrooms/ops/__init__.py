"""Operations: cluster snapshots and Prometheus collectors, the /metrics wiring of a
worker, the Prometheus config, and the `make run` stack launcher.

May import: chat, realtime, storage, telemetry, protocol, settings. Never web or jobs.
"""
