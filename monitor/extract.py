"""A page's main text, language and publication date (trafilatura). Pure: bytes in,
values out, so that it runs in the parse process pool."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

_LANG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True, slots=True)
class Extracted:
    text: str
    language: str = ""
    published_at: datetime | None = None


def extract_page(body: bytes, *, url: str, max_chars: int = 100_000) -> Extracted:
    """The article text of an HTML page (empty when it has none), its declared language
    and its publication date when the page gives them."""
    import trafilatura  # here, not at the top: a service with full text off never loads it

    tree = trafilatura.load_html(body)
    if tree is None:
        return Extracted("")
    language = _declared_language(tree)
    doc = trafilatura.bare_extraction(
        tree, url=url or None, with_metadata=True, include_comments=False, favor_recall=True
    )
    if doc is None:
        return Extracted("", language)
    fields = doc if isinstance(doc, dict) else doc.as_dict()  # a dict with as_dict=True only
    text = str(fields.get("text") or "")
    return Extracted(text[:max_chars], language, _date(fields.get("date")))


def _declared_language(tree: object) -> str:
    """`<html lang>`, else `<meta http-equiv=content-language>`, normalised like `zh-CN`."""
    get = getattr(tree, "get", None)
    candidates = [get("lang") if get else None]
    xpath = getattr(tree, "xpath", None)
    if xpath is not None:
        candidates += xpath("//meta[@http-equiv='content-language' or @http-equiv='Content-Language']/@content")  # fmt: skip
    for value in candidates:
        value = str(value or "").strip().split(",")[0].strip()
        if _LANG.match(value):
            return value.replace("_", "-")[:35]
    return ""


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
