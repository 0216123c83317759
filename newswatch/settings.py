"""The one settings class: the only reader of the environment (prefix `NEWSWATCH_`)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    # An empty variable counts as unset (compose passes `${VAR:-}` through as "").
    model_config = SettingsConfigDict(
        env_prefix="NEWSWATCH_", extra="ignore", env_ignore_empty=True
    )

    database_url: str = "sqlite:///./newswatch.db"
    # `newswatch run` defaults; the container image sets HOST to 0.0.0.0.
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    roles: str = "api,poller,dispatcher,bot"
    admin_token: SecretStr | None = None
    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    # Set: receive updates by webhook at this public URL (else long polling).
    telegram_webhook_url: str = ""
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_listen: str = "0.0.0.0"
    telegram_webhook_port: int = Field(8443, ge=1, le=65535)
    telegram_link_ttl_minutes: int = Field(60, ge=1)
    telegram_messages_per_second: float = Field(27, ge=1, le=30)
    telegram_lock_retry_seconds: float = Field(5, gt=0)
    allow_private_networks: bool = False

    poll_interval_seconds: int = Field(600, ge=1)
    min_poll_interval_seconds: int = Field(60, ge=1)
    alert_max_age_hours: float = Field(24, gt=0)
    # Copies of a story ingested within this long of each other are one story.
    story_window_hours: float = Field(72, gt=0, le=24 * 90)
    retry_scale: float = Field(1.0, ge=0)
    max_feed_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    fetch_timeout_seconds: float = Field(20, gt=0)
    # Private services the guard lets fetches reach while it stays on: "10.0.0.5:8080,10.1.0.0/16".
    fetch_allowlist: str = ""
    fetch_max_per_host: int = Field(4, ge=1)
    # Processes that parse feeds (0: parse in a thread of the service process).
    parse_workers: int = Field(2, ge=0)
    # Full text: an item whose feed text is shorter (or cut off) gets its page fetched.
    full_text_enabled: bool = True
    full_text_min_words: int = Field(120, ge=0)
    max_page_bytes: int = Field(5 * 1024 * 1024, ge=1024)
    page_timeout_seconds: float = Field(20, gt=0)
    page_concurrency: int = Field(20, ge=1)
    page_per_host: int = Field(2, ge=1)
    page_host_gap_seconds: float = Field(1.0, ge=0)
    page_max_attempts: int = Field(3, ge=1)
    page_retry_seconds: float = Field(60, gt=0)
    page_lease_seconds: float = Field(300, gt=0)
    # Retention (days); pruning runs on one replica at a time, in batches.
    article_retention_days: float = Field(90, gt=0)
    full_text_retention_days: float = Field(30, gt=0)
    hit_retention_days: float = Field(365, gt=0)
    prune_interval_seconds: float = Field(3600, gt=0)
    prune_batch_size: int = Field(1000, ge=1)
    webhook_timeout_seconds: float = Field(15, gt=0)
    webhook_concurrency: int = Field(default=4, ge=1)  # sends in flight per endpoint

    scheduler_tick_seconds: float = Field(5, gt=0)
    rules_sync_seconds: float = Field(2, gt=0)
    poll_concurrency: int = Field(20, ge=1)
    poll_lease_seconds: float = Field(300, gt=0)
    dispatch_poll_seconds: float = Field(1, gt=0)
    dispatch_lease_seconds: float = Field(120, gt=0)
    # How often the dispatcher looks for digests that fall due, and the hits one holds.
    digest_poll_seconds: float = Field(1, gt=0)
    digest_max_hits: int = Field(500, ge=1, le=5000)
    shutdown_grace_seconds: float = Field(20, gt=0)

    db_pool_size: int = Field(10, ge=1)
    db_max_overflow: int = Field(10, ge=0)
    db_pool_timeout_seconds: float = Field(30, gt=0)
    db_pool_recycle_seconds: int = Field(1800, ge=-1)
    db_connect_timeout_seconds: int = Field(10, ge=2)

    # E-mail channels (off while SMTP_HOST is empty). PUBLIC_URL starts the links in
    # messages; by default the API's own http://HOST:PORT.
    smtp_host: str = ""
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_from: str = "newswatch@localhost"
    public_url: str = ""
    email_per_hour: int = Field(20, ge=1)
    email_max_bytes: int = Field(256 * 1024, ge=16 * 1024)

    max_rules_per_user: int = Field(10_000, ge=1)
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_import_feeds: int = Field(default=1000, ge=1)
    max_page_size: int = Field(default=500, ge=1)
    log_format: str = Field("auto", pattern="^(auto|json|console)$")
    log_level: str = "info"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the environment once, on first use (never at import time)."""
    return Settings()
