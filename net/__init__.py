"""Outbound HTTP safety shared by feeds, pages, webhooks and chat channels: the SSRF guard,
the pinned transport, the streaming decoder with its caps, and `Retry-After` parsing."""
