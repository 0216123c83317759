"""`newswatch dev telegram`: chat with the bot in a terminal, without Telegram.

The fake Bot API the tests use runs on 127.0.0.1, the whole service runs against it (the
real python-telegram-bot client, the dispatcher, the API), and the terminal is one
private chat: each line typed is a message to the bot, and every message the bot sends to
the chat (answers and alerts) is printed. `>N` presses the Nth button of the last answer.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from typing import Any

from pydantic import SecretStr
from rich.console import Console

from newswatch.fake_telegram import TOKEN, FakeTelegram, Sent
from newswatch.settings import Settings

CHAT_ID = 1001
console = Console(highlight=False)


def _buttons(sent: Sent) -> list[tuple[str, str]]:
    rows = (sent.reply_markup or {}).get("inline_keyboard", [])
    return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


def _show(sent: Sent) -> list[tuple[str, str]]:
    text = sent.parsed.text if sent.parsed is not None else sent.text
    console.print(f"[bold cyan]bot>[/bold cyan] {text}", markup=True, highlight=False)
    buttons = _buttons(sent)
    if buttons:
        labels = "  ".join(f"[>{i}] {label}" for i, (label, _) in enumerate(buttons, 1))
        console.print(labels, markup=False)
    return buttons


def _printer(fake: FakeTelegram, state: dict[str, Any], stop: threading.Event) -> None:
    """Print each message the bot sends to the chat, as it arrives."""
    shown = 0
    while not stop.is_set():
        sent = fake.sent(CHAT_ID)
        for message in sent[shown:]:
            state["buttons"] = _show(message)
        shown = len(sent)
        time.sleep(0.1)


def _reader(fake: FakeTelegram, state: dict[str, Any]) -> None:
    """Each line is a message (or `>N`, a button press); end of input stops the service."""
    for line in sys.stdin:
        text = line.strip()
        if not text:
            continue
        if text in ("/quit", "/exit"):
            break
        if text.startswith(">") and text[1:].isdigit():
            buttons = state.get("buttons") or []
            index = int(text[1:]) - 1
            if 0 <= index < len(buttons):
                fake.callback(CHAT_ID, buttons[index][1])
            else:
                console.print(f"no button {text[1:]} on the last answer", markup=False)
            continue
        fake.message(CHAT_ID, text)
    os.kill(os.getpid(), signal.SIGINT)  # the service's own graceful shutdown


def run(settings: Settings, *, roles: set[str], host: str, port: int) -> int:
    """Serve `roles` against a fake Bot API and chat with the bot on the terminal."""
    from newswatch.service import serve

    with FakeTelegram() as fake:
        settings = settings.model_copy(
            update={"telegram_bot_token": SecretStr(TOKEN), "telegram_api_url": fake.api_url}
        )
        console.print(
            f"Chatting with the bot as chat {CHAT_ID} (fake Bot API at {fake.api_url}). "
            "Type /help; >N presses a button; Ctrl-D or /quit stops.",
            markup=False,
        )
        state: dict[str, Any] = {}
        stop = threading.Event()
        printer = threading.Thread(target=_printer, args=(fake, state, stop), daemon=True)
        printer.start()
        threading.Thread(target=_reader, args=(fake, state), daemon=True).start()
        try:
            return asyncio.run(serve(settings, roles=roles, host=host, port=port))
        finally:
            time.sleep(0.2)  # let the printer show the last answers
            stop.set()
            printer.join(2)
