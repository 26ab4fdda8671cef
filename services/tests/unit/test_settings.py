"""The settings object: defaults from the seed, validation, production safety."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from talkrooms.settings import DEFAULT_JWT_SECRET, DEFAULT_SECRET_KEY, RateLimit, Settings


def make(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_seed_defaults():
    settings = make()
    assert settings.message_ttl_seconds == 7 * 86400
    assert settings.user_ttl_seconds == 2 * 3600
    assert settings.room_ttl_seconds == 86400
    assert settings.history_limit == 100
    assert settings.message_rate.count == 10 and settings.message_rate.window == 5
    assert settings.effective_redis_url == "redis://localhost:6379/0"
    assert settings.cors_origins is None


def test_environment_is_read(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:7000/2")
    monkeypatch.setenv("MESSAGE_RETENTION_DAYS", "1")
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://a.example, https://b.example")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.effective_redis_url == "redis://127.0.0.1:7000/2"
    assert settings.message_ttl_seconds == 86400
    assert settings.cors_origins == ["https://a.example", "https://b.example"]


def test_redis_url_from_host_and_port():
    assert make(redis_host="10.0.0.5", redis_port=6380).effective_redis_url == (
        "redis://10.0.0.5:6380/0"
    )


def test_production_refuses_the_default_secret():
    with pytest.raises(ValidationError, match="FLASK_SECRET_KEY"):
        make(app_env="production")
    secrets = {"flask_secret_key": "s3cret-value", "jwt_secret": "an0ther-s3cret"}
    assert make(app_env="production", **secrets).app_env == "production"


def test_production_refuses_the_default_jwt_secret():
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        make(app_env="production", flask_secret_key="s3cret-value")
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        make(app_env="production", flask_secret_key="s3cret-value", jwt_secret=DEFAULT_JWT_SECRET)


def test_the_default_database_is_sqlite_in_run_and_auth_limits_parse():
    settings = make()
    assert settings.database_url == "sqlite:///run/talkrooms.db"
    assert settings.access_token_seconds == 900
    assert settings.auth_address_rate.count == 20 and settings.auth_account_rate.window == 60
    with pytest.raises(ValidationError):
        make(auth_account_rate_limit="often")
    assert make(app_env="development").flask_secret_key == DEFAULT_SECRET_KEY


def test_rate_limits_parse_and_refuse_garbage():
    assert RateLimit.parse("0").enabled is False
    limit = RateLimit.parse("20/2.5")
    assert (limit.count, limit.window) == (20, 2.5)
    assert limit.describe() == "at most 20 per 2.5 s"
    with pytest.raises(ValidationError):
        make(message_rate_limit="ten per second")
    with pytest.raises(ValidationError):
        make(message_rate_limit="5/0")


def test_star_allows_every_origin():
    assert make(allowed_origins="*").cors_origins == "*"


def test_instance_ids_are_unique_per_process_start():
    assert make().instance_id != make().instance_id
    assert make(worker_id="w1").instance_id == "w1"


def test_trusted_proxies_accept_addresses_and_networks():
    settings = make(trusted_proxies="127.0.0.1, 172.16.0.0/12")
    assert settings.is_trusted_proxy("127.0.0.1")
    assert settings.is_trusted_proxy("172.20.3.4")
    assert not settings.is_trusted_proxy("10.0.0.1")
    assert not settings.is_trusted_proxy("not-an-ip")
    with pytest.raises(ValidationError):
        make(trusted_proxies="nonsense")
