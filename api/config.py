"""The API's own configuration, built by the shell from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from net.guard import Guard


@dataclass(frozen=True)
class ApiConfig:
    """Limits answer a clear 4xx: 413 for a body over `max_request_bytes`, 409 past
    `max_rules_per_user`, 422 past `max_page_size` or `max_import_feeds`."""

    allow_private_networks: bool = False
    # Private services the SSRF guard lets feed and webhook URLs reach ("10.0.0.5:8080",
    # "10.1.0.0/16").
    fetch_allowlist: tuple[str, ...] = ()
    discovery_timeout_seconds: float = 10.0
    max_import_bytes: int = 5 * 1024 * 1024
    max_page_size: int = 500
    default_page_size: int = 50
    max_rules_per_user: int = 10_000
    max_request_bytes: int = 1024 * 1024
    max_import_feeds: int = 1000
    poll_interval_seconds: int = 600  # a feed's interval when it asks for none
    alert_max_age_hours: float = 24.0  # the alert window, which also bounds a backfill
    # Stored articles one preview page reads at most; its cursor goes on from there.
    preview_scan_articles: int = 5_000
    telegram_bot_username: str = ""
    telegram_link_ttl_seconds: int = 3600
    # E-mail channels are offered when SMTP is configured (NEWSWATCH_SMTP_HOST).
    email_enabled: bool = False
    max_channels_per_user: int = 100

    def guard(self) -> Guard:
        """The SSRF guard for every URL a user hands in: feeds, pages and webhooks."""
        return Guard(allow_private=self.allow_private_networks, allowlist=self.fetch_allowlist)
