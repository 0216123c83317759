"""Alerts out: formatting, the outbox dispatcher, webhooks and the Telegram bot."""

from notifiers.dispatcher import Dispatcher, DispatcherConfig, Sender
from notifiers.outcome import SendOutcome
from notifiers.retry import RetryPolicy
from notifiers.webhook import WebhookLimits

__all__ = [
    "Dispatcher",
    "DispatcherConfig",
    "RetryPolicy",
    "SendOutcome",
    "Sender",
    "WebhookLimits",
]
