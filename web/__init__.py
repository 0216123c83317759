"""The dashboard: server-rendered pages over the same query functions as the API.

`install_dashboard(app)` mounts the pages, the sign-in, and the static assets (served by
the app itself: no CDN, no build step).
"""

from web.app import install_dashboard
from web.pages.hits import close_streams

__all__ = ["close_streams", "install_dashboard"]
