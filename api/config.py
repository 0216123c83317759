"""The API's own configuration, built by the shell from the settings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ApiConfig:
    allow_private_networks: bool = False
    # Private services the SSRF guard lets feed URLs reach ("10.0.0.5:8080", "10.1.0.0/16").
    fetch_allowlist: tuple[str, ...] = ()
    discovery_timeout_seconds: float = 10.0
    max_import_bytes: int = 5 * 1024 * 1024
    max_page_size: int = 500
    default_page_size: int = 50
    max_rules_per_user: int = 10_000
    telegram_bot_username: str = ""
    telegram_link_ttl_seconds: int = 3600
