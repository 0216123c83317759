"""Channels: the list of every kind; webhooks (secret shown once, ping, deliveries, retry,
turn back on, delivery mode, mute) and the Telegram link code with its deep link and QR
code. E-mail and Apprise channels have their own forms in `web.pages.targets`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import ConfigDep, SessionDep, utcnow
from api.modes import mode_public
from api.routes.channels import list_ as list_channels
from api.routes.deliveries import retry_delivery
from api.routes.telegram import new_link
from api.routes.webhook_modes import get_mode, mute_webhook, unmute_webhook
from api.routes.webhook_modes import patch as patch_webhook_mode
from api.routes.webhooks import add_webhook, ping
from store.channels import settings_for
from store.deliveries import list_deliveries
from store.hits import WEBHOOK
from store.webhooks import delete_webhook, get_webhook, list_webhooks, update_webhook
from web.pages.common import act, back, muted_notice, not_found, problem, web_router
from web.pages.modes import ModeForm, MuteForm
from web.render import page, qr_svg
from web.sessions import Viewer, ViewerDep, WriterDep

router = web_router()

DELIVERIES_SHOWN = 50


@router.get("/channels")
def channels_page(
    request: Request, session: SessionDep, viewer: ViewerDep, notice: str = ""
) -> HTMLResponse:
    return channels_view(request, session, viewer, notice=notice[:300])


def channels_view(
    request: Request, session: SessionDep, viewer: Viewer, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """The channels page, with what a form's answer adds to it."""
    webhooks = list_webhooks(session=session, user_id=viewer.user_id)
    settings = settings_for(session=session, channels=[(WEBHOOK, w.id or 0) for w in webhooks])
    now = utcnow()
    return page(
        request,
        "channels.html",
        status_code,
        viewer=viewer,
        webhooks=[(w, mode_public(settings.get((WEBHOOK, w.id or 0)), now)) for w in webhooks],
        channels=list_channels(session, viewer.user),
        **context,
    )


@router.post("/channels/webhooks")
async def add(
    request: Request,
    session: SessionDep,
    viewer: WriterDep,
    config: ConfigDep,
    url: Annotated[str, Form(min_length=1, max_length=2048)],
) -> Response:
    try:
        webhook, secret = await add_webhook(
            session=session, config=config, user_id=viewer.user_id, url=url.strip()
        )
    except HTTPException as exc:
        return channels_view(request, session, viewer, 422, add_error=problem(exc), form_url=url)
    # The secret is in this answer only: not in a redirect, a log or a later page.
    return channels_view(request, session, viewer, created=webhook, secret=secret)


@router.get("/channels/webhooks/{webhook_id:int}")
def webhook_page(
    request: Request, webhook_id: int, session: SessionDep, viewer: ViewerDep, notice: str = ""
) -> HTMLResponse:
    webhook = get_webhook(session=session, webhook_id=webhook_id, user_id=viewer.user_id)
    if webhook is None:
        return not_found(request, viewer, "webhook")
    deliveries = list_deliveries(
        session=session, kind=WEBHOOK, channel_id=webhook_id, limit=DELIVERIES_SHOWN
    )
    return page(
        request,
        "webhook.html",
        viewer=viewer,
        webhook=webhook,
        deliveries=deliveries,
        mode=get_mode(webhook_id, session, viewer.user),
        notice=notice[:300],
    )


@router.post("/channels/webhooks/{webhook_id:int}/test")
def test(request: Request, webhook_id: int, session: SessionDep, viewer: WriterDep) -> Response:
    try:
        ping(session=session, user_id=viewer.user_id, webhook_id=webhook_id)
    except HTTPException:
        return not_found(request, viewer, "webhook")
    return back(f"/channels/webhooks/{webhook_id}", "ping queued")


@router.post("/channels/webhooks/{webhook_id:int}/enable")
def enable(request: Request, webhook_id: int, session: SessionDep, viewer: WriterDep) -> Response:
    # As PATCH /v1/webhooks/{id} {"active": true} does.
    if not update_webhook(
        session=session,
        webhook_id=webhook_id,
        user_id=viewer.user_id,
        changes={"active": True},
        now=utcnow(),
    ):
        return not_found(request, viewer, "webhook")
    return back(f"/channels/webhooks/{webhook_id}", "webhook turned back on")


@router.post("/channels/webhooks/{webhook_id:int}/mode")
def set_mode(
    request: Request, webhook_id: int, session: SessionDep, viewer: WriterDep, mode: ModeForm
) -> Response:
    args = (webhook_id, mode, session, viewer.user)
    to = f"/channels/webhooks/{webhook_id}"
    return act(request, viewer, "webhook", to, "delivery mode saved", patch_webhook_mode, *args)


@router.post("/channels/webhooks/{webhook_id:int}/mute")
def mute(
    request: Request, webhook_id: int, session: SessionDep, viewer: WriterDep, body: MuteForm
) -> Response:
    args = (webhook_id, body, session, viewer.user)
    to = f"/channels/webhooks/{webhook_id}"
    return act(request, viewer, "webhook", to, muted_notice, mute_webhook, *args)


@router.post("/channels/webhooks/{webhook_id:int}/unmute")
def unmute(request: Request, webhook_id: int, session: SessionDep, viewer: WriterDep) -> Response:
    args = (webhook_id, session, viewer.user)
    to = f"/channels/webhooks/{webhook_id}"
    return act(request, viewer, "webhook", to, "unmuted", unmute_webhook, *args)


@router.post("/channels/webhooks/{webhook_id:int}/delete")
def delete(request: Request, webhook_id: int, session: SessionDep, viewer: WriterDep) -> Response:
    if not delete_webhook(
        session=session, webhook_id=webhook_id, user_id=viewer.user_id, now=utcnow()
    ):
        return not_found(request, viewer, "webhook")
    return back("/channels", "webhook deleted")


@router.post("/channels/deliveries/{delivery_id:int}/retry")
def retry(request: Request, delivery_id: int, session: SessionDep, viewer: WriterDep) -> Response:
    try:
        delivery = retry_delivery(session=session, user_id=viewer.user_id, delivery_id=delivery_id)
    except HTTPException as exc:
        if exc.status_code == 404:
            return not_found(request, viewer, "delivery")
        return page(
            request,
            "error.html",
            exc.status_code,
            viewer=viewer,
            title="Not retried",
            message=problem(exc),
        )
    return back(f"/channels/webhooks/{delivery.channel_id}", f"delivery {delivery_id} queued again")


@router.post("/channels/telegram")
def telegram_link(
    request: Request, session: SessionDep, viewer: WriterDep, config: ConfigDep
) -> Response:
    try:
        link = new_link(session=session, config=config, user_id=viewer.user_id)
    except HTTPException as exc:  # 409: no bot runs, so no code could be redeemed
        return channels_view(request, session, viewer, exc.status_code, link_error=problem(exc))
    target = link.deep_link or f"/start {link.code}"
    return channels_view(request, session, viewer, link=link, qr=qr_svg(target))
