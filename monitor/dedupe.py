"""Identity of articles: a per-feed item key and a cross-feed canonical URL. Pure."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING = {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "yclid", "igshid"}


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no fragment, no `utm_*`/`fbclid`/`gclid`; '' if not http(s)."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        return ""
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    if ":" in host.split("]")[0] and not host.startswith("["):
        host = f"[{host}]"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in _TRACKING
    ]
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), ""))


def item_key(*, guid: str, link: str, title: str, summary: str) -> str:
    """The per-feed identity: guid, then link, then a hash of title and summary."""
    if guid:
        basis = "g:" + guid
    elif link:
        basis = "l:" + link
    else:
        basis = "h:" + title + "\x00" + summary
    return hashlib.sha256(basis.encode()).hexdigest()
