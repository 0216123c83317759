"""Snippets: about 240 characters around the first match, with every match marked."""

from __future__ import annotations

SNIPPET_CHARS = 240
MARK_OPEN, MARK_CLOSE = "**", "**"


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(set(spans)):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(e, out[-1][1]))
        else:
            out.append((s, e))
    return out


def make_snippet(display: str, spans: list[tuple[int, int]], width: int = SNIPPET_CHARS) -> str:
    """Cut `display` around the first span and wrap each span in `**`.

    Existing `**` in the text is thinned to `*`, so that marks stay unambiguous."""
    if "\n" in display:
        display = display.replace("\n", " ")
    merged = _merged(spans)
    first = merged[0] if merged else (0, 0)
    start = max(0, first[0] - width // 3)
    if start:
        space = display.find(" ", start, first[0])
        start = space + 1 if space != -1 else start
    end = min(len(display), max(start + width, first[1]))
    if end < len(display):
        space = display.rfind(" ", first[1], end)
        end = space if space != -1 else end
    out = []
    cursor = start
    for s, e in merged:
        if s > end:
            break
        if s < cursor or e > end:
            continue
        out.append(display[cursor:s].replace("**", "*"))
        out.append(MARK_OPEN + display[s:e].replace("**", "*") + MARK_CLOSE)
        cursor = e
    out.append(display[cursor:end].replace("**", "*"))
    text = "".join(out).strip()
    return ("…" if start else "") + text + ("…" if end < len(display) else "")
