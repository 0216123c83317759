"""E-mail and Apprise channels: add, delivery mode, mute, turn back on, delete. Each form
calls the /v1/channels route function itself, so that the page checks what the API
checks, and shows an Apprise URL only in Apprise's redacted form, as the API does."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.deps import ConfigDep, SessionDep
from api.modes import ChannelCreate, ChannelPublic, ChannelUpdate, ModeUpdate
from api.routes import channels as api
from store.targets import EMAIL
from web.pages.channels import channels_view
from web.pages.common import act, back, muted_notice, not_found, problem, web_router
from web.pages.modes import FormProblem, ModeForm, MuteForm, words
from web.render import page
from web.sessions import ViewerDep, WriterDep

router = web_router()


@router.post("/channels/new")
async def add(
    request: Request,
    session: SessionDep,
    viewer: WriterDep,
    config: ConfigDep,
    kind: Annotated[str, Form(max_length=10)],
    target: Annotated[str, Form(max_length=2048)],
) -> Response:
    try:
        created = await api.create(
            ChannelCreate(kind=kind, target=target.strip()), session, viewer.user, config
        )
    except (HTTPException, ValidationError) as exc:
        message = problem(exc) if isinstance(exc, HTTPException) else words(exc)
        # An Apprise URL may hold a secret: it is not put back into the page.
        typed = target if kind == EMAIL else ""
        return channels_view(
            request, session, viewer, 422, channel_error=message, form_kind=kind, form_target=typed
        )
    if created.kind == EMAIL:
        notice = f"Confirmation sent to {created.target}: alerts start once its link is opened."
    else:
        notice = f"Apprise channel added: {created.target}"
    return back(f"/channels/{created.id}", notice)


@router.get("/channels/{channel_id:int}")
def channel_page(
    request: Request, channel_id: int, session: SessionDep, viewer: ViewerDep, notice: str = ""
) -> HTMLResponse:
    try:
        channel: ChannelPublic = api.get(channel_id, session, viewer.user)
    except HTTPException:
        return not_found(request, viewer, "channel")
    return page(request, "channel.html", viewer=viewer, channel=channel, notice=notice[:300])


def _update(mode: ModeUpdate | FormProblem) -> ChannelUpdate | FormProblem:
    if isinstance(mode, FormProblem):
        return mode
    return ChannelUpdate(**mode.model_dump(exclude_unset=True))


@router.post("/channels/{channel_id:int}/mode")
def set_mode(
    request: Request, channel_id: int, session: SessionDep, viewer: WriterDep, mode: ModeForm
) -> Response:
    args = (channel_id, _update(mode), session, viewer.user)
    to = f"/channels/{channel_id}"
    return act(request, viewer, "channel", to, "delivery mode saved", api.patch, *args)


@router.post("/channels/{channel_id:int}/enable")
def enable(request: Request, channel_id: int, session: SessionDep, viewer: WriterDep) -> Response:
    args = (channel_id, ChannelUpdate(active=True), session, viewer.user)
    to = f"/channels/{channel_id}"
    return act(request, viewer, "channel", to, "channel turned back on", api.patch, *args)


@router.post("/channels/{channel_id:int}/mute")
def mute(
    request: Request, channel_id: int, session: SessionDep, viewer: WriterDep, body: MuteForm
) -> Response:
    args = (channel_id, body, session, viewer.user)
    to = f"/channels/{channel_id}"
    return act(request, viewer, "channel", to, muted_notice, api.mute_channel, *args)


@router.post("/channels/{channel_id:int}/unmute")
def unmute(request: Request, channel_id: int, session: SessionDep, viewer: WriterDep) -> Response:
    args = (channel_id, session, viewer.user)
    to = f"/channels/{channel_id}"
    return act(request, viewer, "channel", to, "unmuted", api.unmute_channel, *args)


@router.post("/channels/{channel_id:int}/delete")
def delete(request: Request, channel_id: int, session: SessionDep, viewer: WriterDep) -> Response:
    args = (channel_id, session, viewer.user)
    return act(request, viewer, "channel", "/channels", "channel deleted", api.delete, *args)
