"""A fake Telegram Bot API on 127.0.0.1, for the tests and `newswatch dev telegram`.
Strict where the real one is: HTML with an unknown tag or an unescaped <, > or & is a 400
"can't parse entities". On demand it answers 429 with retry_after, 403 for chosen chats,
or 400 with migrate_to_chat_id for a group that became a supergroup. Every sendMessage
attempt is recorded."""

from __future__ import annotations

import html
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from newswatch.loopback import LoopbackServer, Reply, Request

TOKEN = "4242:fake-token-for-tests"
BOT = {
    "id": 4242,
    "is_bot": True,
    "first_name": "newswatch",
    "username": "newswatch_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "span"}
TAG = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+\s*=\s*(?:\"[^\"<>]*\"|'[^'<>]*'))*)\s*>"
)
ATTR = re.compile(r"([a-zA-Z-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")


class EntityError(ValueError):
    pass


@dataclass
class Parsed:
    """A message as the user sees it: plain text, bold parts, and links."""

    text: str
    bold: list[str] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)


def parse_html(source: str) -> Parsed:
    """Telegram's HTML parse mode, strictly; EntityError where Telegram answers 400."""
    out: list[str] = []
    stack: list[tuple[str, int, dict[str, str]]] = []
    parsed = Parsed("")
    i = 0
    while i < len(source):
        c = source[i]
        if c == "<":
            m = TAG.match(source, i)
            if not m or m.group(2).lower() not in TAGS:
                raise EntityError(f"Unsupported start tag at byte offset {i}")
            closing, name = m.group(1) == "/", m.group(2).lower()
            if closing:
                if not stack or stack[-1][0] != name:
                    raise EntityError(f"Unmatched end tag at byte offset {i}")
                _, start, attrs = stack.pop()
                inner = "".join(out)[start:]
                if name in ("b", "strong"):
                    parsed.bold.append(inner)
                if name == "a":
                    parsed.links.append((attrs.get("href", ""), inner))
            else:
                attrs = {a: html.unescape(v1 or v2) for a, v1, v2 in ATTR.findall(m.group(3))}
                if name == "a" and "href" not in attrs:
                    raise EntityError("Can't find href of a link")
                stack.append((name, len("".join(out)), attrs))
            i = m.end()
        elif c == "&":
            m = ENTITY.match(source, i)
            if not m:
                raise EntityError(f"Can't find end of the entity starting at byte offset {i}")
            out.append(html.unescape(m.group(0)))
            i = m.end()
        elif c == ">":
            raise EntityError(f"Unexpected end tag at byte offset {i}")
        else:
            out.append(c)
            i += 1
    if stack:
        raise EntityError(f"Can't find end tag corresponding to start tag {stack[-1][0]}")
    parsed.text = "".join(out)
    return parsed


@dataclass
class Sent:
    """One sendMessage call, accepted or not, with its arrival time (monotonic)."""

    chat_id: int
    text: str
    at: float
    status: int
    parse_mode: str = ""
    reply_markup: dict[str, Any] | None = None
    parsed: Parsed | None = None


class FakeTelegram(LoopbackServer):
    """The Bot API at `api_url`; push updates with `message()` and `callback()`."""

    def __init__(self) -> None:
        self.attempts: list[Sent] = []
        self.blocked: set[int] = set()
        # Per chat, what the next messages meet; 0 lets one through.
        self.floods: dict[int, list[float]] = {}
        self.failures: dict[int, list[int]] = {}
        self.migrated: dict[int, int] = {}
        self.commands: list[dict[str, Any]] = []
        self.webhooks: list[dict[str, Any]] = []
        self.conflicts = 0
        self._updates: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self._poll_generation = 0
        self._closed = False
        super().__init__(self._answer)

    @property
    def api_url(self) -> str:
        return self.url("").rstrip("/")

    # -- what tests do --------------------------------------------------------------

    def message(self, chat_id: int, text: str, *, chat_type: str = "private") -> None:
        """A user (or group member) writes to the bot."""
        entities = []
        if text.startswith("/"):
            entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        self._push(
            {
                "message": {
                    **self._message_base(chat_id, chat_type),
                    "text": text,
                    "entities": entities,
                }
            }
        )

    def callback(self, chat_id: int, data: str, *, chat_type: str = "private") -> None:
        """A user presses an inline button carrying `data`."""
        self._push(
            {
                "callback_query": {
                    "id": str(next(self._ids)),
                    "from": self._user(chat_id),
                    "message": {**self._message_base(chat_id, chat_type), "text": "…"},
                    "chat_instance": str(chat_id),
                    "data": data,
                }
            }
        )

    def fail(self, chat_id: int, status: int = 502, times: int = 1, after: int = 0) -> None:
        """After `after` messages, the next `times` to this chat get a server error."""
        self.failures[chat_id] = [0] * after + [status] * times

    def migrate(self, chat_id: int, new_chat_id: int) -> None:
        """The group became a supergroup: messages to the old id are refused, with the new
        id in `parameters.migrate_to_chat_id`, as Telegram does."""
        self.migrated[chat_id] = new_chat_id

    def flood(self, chat_id: int, retry_after: float, times: int = 1, after: int = 0) -> None:
        """After `after` messages, the next `times` to this chat get 429 with `retry_after`."""
        self.floods[chat_id] = [0] * after + [retry_after] * times

    def sent(self, chat_id: int | None = None) -> list[Sent]:
        """Accepted messages, optionally to one chat."""
        return [s for s in list(self.attempts) if s.status == 200 and chat_id in (None, s.chat_id)]

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def __exit__(self, *exc: object) -> None:
        self.close()
        super().__exit__(*exc)

    # -- the API ----------------------------------------------------------------------

    def _answer(self, request: Request) -> Reply:
        method = request.path.rsplit("/", 1)[-1]
        if not request.path.startswith(f"/bot{TOKEN}/"):
            return _error(401, "Unauthorized")
        params = _params(request)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found")
        return handler(params)

    def _m_getMe(self, params: dict[str, Any]) -> Reply:
        return _ok(BOT)

    def _m_setMyCommands(self, params: dict[str, Any]) -> Reply:
        self.commands = json.loads(params["commands"])
        return _ok(True)

    def _m_deleteWebhook(self, params: dict[str, Any]) -> Reply:
        return _ok(True)

    def _m_setWebhook(self, params: dict[str, Any]) -> Reply:
        self.webhooks.append(params)
        return _ok(True)

    def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Reply:
        return _ok(True)

    def _m_getUpdates(self, params: dict[str, Any]) -> Reply:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 30)
        with self._cond:
            # As on Telegram, a newer getUpdates ends an older one that is still waiting.
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()
            while True:
                if generation != self._poll_generation:
                    self.conflicts += 1
                    return _error(409, "Conflict: terminated by other getUpdates request")
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                left = deadline - time.monotonic()
                if self._updates or left <= 0 or self._closed:
                    return _ok(list(self._updates))
                self._cond.wait(left)

    def _m_sendMessage(self, params: dict[str, Any]) -> Reply:
        chat_id = int(params["chat_id"])
        text = str(params.get("text", ""))
        markup = params.get("reply_markup")
        record = Sent(
            chat_id,
            text,
            time.monotonic(),
            200,
            str(params.get("parse_mode") or ""),
            json.loads(markup) if isinstance(markup, str) else markup,
        )
        self.attempts.append(record)
        if chat_id in self.blocked:
            record.status = 403
            return _error(403, "Forbidden: bot was blocked by the user")
        if chat_id in self.migrated:
            record.status = 400
            return _error(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self.migrated[chat_id]},
            )
        failure = self.failures[chat_id].pop(0) if self.failures.get(chat_id) else 0
        if failure:
            record.status = failure
            return _error(record.status, "Internal Server Error: try again")
        retry_after = self.floods[chat_id].pop(0) if self.floods.get(chat_id) else 0
        if retry_after:
            record.status = 429
            return _error(
                429,
                f"Too Many Requests: retry after {retry_after:g}",
                {"retry_after": retry_after},
            )
        try:
            record.parsed = parse_html(text) if record.parse_mode == "HTML" else Parsed(text)
        except EntityError as exc:
            record.status = 400
            return _error(400, f"Bad Request: can't parse entities: {exc}")
        if len(record.parsed.text.encode("utf-16-le")) // 2 > 4096:
            record.status = 400
            return _error(400, "Bad Request: message is too long")
        message = {
            **self._message_base(chat_id, "private" if chat_id > 0 else "group"),
            "from": BOT,
            "text": record.parsed.text,
        }
        return _ok(message)

    # -- helpers ----------------------------------------------------------------------

    def _push(self, update: dict[str, Any]) -> None:
        with self._cond:
            self._updates.append({"update_id": next(self._ids), **update})
            self._cond.notify_all()

    def _user(self, chat_id: int) -> dict[str, Any]:
        return {"id": abs(chat_id), "is_bot": False, "first_name": f"user{abs(chat_id)}"}

    def _message_base(self, chat_id: int, chat_type: str) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = f"user{chat_id}"
        else:
            chat["title"] = f"group {chat_id}"
        return {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": chat,
            "from": self._user(chat_id),
        }


def _params(request: Request) -> dict[str, Any]:
    if not request.body:
        return {}
    if request.headers.get("content-type", "").startswith("application/json"):
        return json.loads(request.body)
    return dict(parse_qsl(request.body.decode(), keep_blank_values=True))


def _ok(result: object) -> Reply:
    body = json.dumps({"ok": True, "result": result}).encode()
    return Reply(200, body, {"content-type": "application/json"})


def _error(code: int, description: str, parameters: dict[str, Any] | None = None) -> Reply:
    payload: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        payload["parameters"] = parameters
    return Reply(code, json.dumps(payload).encode(), {"content-type": "application/json"})
