"""Snippets: about 240 characters around the first match, with every match marked."""

from __future__ import annotations

from rules.text import Token

SNIPPET_CHARS = 240
MARK_OPEN, MARK_CLOSE = "**", "**"


def make_snippet(display: str, marks: list[Token], width: int = SNIPPET_CHARS) -> str:
    """Cut `display` around the first mark and wrap each mark in `**`.

    Existing `**` in the text is thinned to `*`, so that marks stay unambiguous."""
    display = display.replace("\n", " ")
    spans = sorted({(t.start, t.end) for t in marks})
    first = spans[0][0] if spans else 0
    start = max(0, first - width // 3)
    if start:
        space = display.find(" ", start, first)
        start = space + 1 if space != -1 else start
    end = min(len(display), start + width)
    if end < len(display):
        space = display.rfind(" ", max(start, spans[0][1] if spans else start), end)
        end = space if space != -1 else end
    out = []
    cursor = start
    for s, e in spans:
        if s < cursor or e > end:
            continue
        out.append(display[cursor:s].replace("**", "*"))
        out.append(MARK_OPEN + display[s:e].replace("**", "*") + MARK_CLOSE)
        cursor = e
    out.append(display[cursor:end].replace("**", "*"))
    text = "".join(out).strip()
    return ("…" if start else "") + text + ("…" if end < len(display) else "")
