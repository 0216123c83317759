"""The fake Bot API is as strict as Telegram, so that tests passing against it mean
something: checked through the real python-telegram-bot client."""

from __future__ import annotations

import asyncio

import pytest
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter

from newswatch.fake_telegram import TOKEN, EntityError, FakeTelegram, parse_html
from notifiers.telegram_send import make_bot, retry_seconds


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "a < b",
        "a > b",
        "AT&T",
        "&nbsp;",
        "<b>unclosed",
        "<b><i>crossed</b></i>",
        "<a>no href</a>",
        "</b>",
    ],
)
def test_fake_refuses_what_telegram_refuses(text: str) -> None:
    """Unknown tags, unescaped <, > or &, and broken nesting are refused."""
    with pytest.raises(EntityError):
        parse_html(text)


@pytest.mark.parametrize(
    ("text", "plain", "bold"),
    [
        ("<b>a</b> &lt;b&gt; &amp; &quot;", 'a <b> & "', ["a"]),
        ('<a href="https://x.y/?a=1&amp;b=2">t</a>', "t", []),
        ("<strong>s</strong>&#127881;&#x1F600;", "s🎉😀", ["s"]),
    ],
)
def test_fake_accepts_valid_html(text: str, plain: str, bold: list[str]) -> None:
    """Escaped text, entities and supported tags pass, as the user would see them."""
    parsed = parse_html(text)
    assert (parsed.text, parsed.bold) == (plain, bold)


def test_real_client_sees_telegram_errors() -> None:
    """Through HTTP, PTB raises BadRequest for bad HTML, RetryAfter on a flood and
    Forbidden for a blocked chat, just as with the real Bot API."""

    async def run(fake: FakeTelegram) -> None:
        bot = make_bot(TOKEN, fake.api_url)
        async with bot:
            assert bot.username == "newswatch_test_bot"
            with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
                await bot.send_message(1, "<script>", parse_mode=ParseMode.HTML)
            fake.flood(2, retry_after=7)
            with pytest.raises(RetryAfter) as flood:
                await bot.send_message(2, "hi")
            assert retry_seconds(flood.value) == 7
            fake.blocked.add(3)
            with pytest.raises(Forbidden):
                await bot.send_message(3, "hi")
            await bot.send_message(2, "<b>ok</b>", parse_mode=ParseMode.HTML)

    with FakeTelegram() as fake:
        asyncio.run(run(fake))
        assert [a.status for a in fake.attempts] == [400, 429, 403, 200]
        assert fake.sent(2)[0].parsed.bold == ["ok"]  # type: ignore[union-attr]
