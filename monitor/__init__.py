"""Feed monitoring: fetch (with the SSRF guard), parse, normalise, dedupe, schedule, ingest."""

from monitor.fetch import FetchLimits, FetchResult, fetch, make_client
from monitor.matching import RuleMatcher
from monitor.normalise import Article, normalise
from monitor.parse import ParseLimits, parse_feed
from monitor.refresh import Ingest, refresh_feed
from monitor.schedule import PollPolicy
from monitor.scheduler import Poller, SchedulerConfig

__all__ = [
    "Article",
    "FetchLimits",
    "FetchResult",
    "Ingest",
    "ParseLimits",
    "PollPolicy",
    "Poller",
    "RuleMatcher",
    "SchedulerConfig",
    "fetch",
    "make_client",
    "normalise",
    "parse_feed",
    "refresh_feed",
]
