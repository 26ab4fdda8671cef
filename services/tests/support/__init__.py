"""Real processes and real clients for the tests (no fakes: redis-server, gunicorn, nginx)."""
