"""Documents to match, analysed once: each field tokenised and folded."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from rules.text import Token, tokenize


@dataclass(frozen=True, slots=True)
class Document:
    """An article as the matcher sees it. `text` is the body; title is searched too."""

    title: str = ""
    text: str = ""
    url: str = ""
    feed: str = ""
    lang: str = ""


@dataclass(slots=True)
class Analysed:
    """A document's fields as folded tokens; `display` is the text snippets are cut from."""

    display: str
    fields: dict[str, list[Token]] = field(default_factory=dict)
    lang: str = ""


def analyse(doc: Document) -> Analysed:
    title = unicodedata.normalize("NFC", doc.title)
    body = unicodedata.normalize("NFC", doc.text)
    display = f"{title}\n{body}" if title and body else title or body
    text_tokens = tokenize(display)
    title_tokens = text_tokens[: len(tokenize(title))] if title else []
    return Analysed(
        display=display,
        fields={
            "text": text_tokens,
            "title": title_tokens,
            "url": tokenize(doc.url),
            "feed": tokenize(doc.feed),
        },
        lang=doc.lang.lower(),
    )
