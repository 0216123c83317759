"""The signed links in e-mails, without a token (the signature is the credential):
confirm an address (double opt-in), and unsubscribe in one click (RFC 8058)."""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from api.deps import SessionDep, utcnow
from notifiers.email import verify
from store.targets import EMAIL, confirm_channel, deactivate_channel, get_channel

router = APIRouter(prefix="/email", include_in_schema=False)
Sig = Annotated[str, Query(min_length=64, max_length=64)]


def _page(text: str, status: int = 200, form: str = "") -> HTMLResponse:
    body = f"<!doctype html><title>newswatch</title><p>{html.escape(text)}</p>{form}"
    return HTMLResponse(body, status_code=status)


def _valid(session: SessionDep, channel_id: int, action: str, sig: str) -> bool:
    channel = get_channel(session=session, channel_id=channel_id)
    return (
        channel is not None
        and channel.kind == EMAIL
        and verify(channel.link_secret, action, channel_id, sig)
    )


@router.get("/confirm/{channel_id}")
def confirm(channel_id: int, sig: Sig, session: SessionDep) -> HTMLResponse:
    """The first message's link: the address starts receiving alerts."""
    if not _valid(session, channel_id, "confirm", sig):
        return _page("This confirmation link is not valid.", 404)
    confirm_channel(session=session, channel_id=channel_id, now=utcnow())
    return _page("Confirmed: this address now receives newswatch alerts.")


@router.get("/unsubscribe/{channel_id}")
def unsubscribe_page(channel_id: int, sig: Sig, session: SessionDep) -> HTMLResponse:
    """A page with one button: a GET never unsubscribes (link scanners follow GETs)."""
    if not _valid(session, channel_id, "unsubscribe", sig):
        return _page("This unsubscribe link is not valid.", 404)
    form = (
        f'<form method="post" action="/email/unsubscribe/{channel_id}?sig={html.escape(sig)}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit">Unsubscribe</button></form>'
    )
    return _page("Stop newswatch alerts to this address?", form=form)


@router.post("/unsubscribe/{channel_id}")
def unsubscribe(channel_id: int, sig: Sig, session: SessionDep) -> HTMLResponse:
    """RFC 8058 one-click: a POST to the List-Unsubscribe link turns the channel off."""
    if not _valid(session, channel_id, "unsubscribe", sig):
        return _page("This unsubscribe link is not valid.", 404)
    deactivate_channel(session=session, channel_id=channel_id, reason="unsubscribed", now=utcnow())
    return _page("Unsubscribed: this address gets no more newswatch alerts.")
