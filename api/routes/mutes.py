"""Mute (snooze) a rule: its hits are still recorded, and alert no channel until then."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.deps import SessionDep, UserDep, not_found, utcnow
from api.modes import MutePublic, MuteRequest
from store.channels import mute_rule
from store.rules import get_rule

router = APIRouter(prefix="/v1/rules", tags=["rules"])


@router.post(
    "/{rule_id}/mute",
    response_model=MutePublic,
    summary="Mute a rule until a time or for a while: hits are recorded, none alerts",
)
def mute(rule_id: int, body: MuteRequest, session: SessionDep, user: UserDep) -> MutePublic:
    if get_rule(session=session, rule_id=rule_id, user_id=user.id) is None:
        raise not_found("rule", rule_id)
    until = body.resolve(utcnow())
    mute_rule(session=session, rule_id=rule_id, until=until)
    return MutePublic(muted_until=until)


@router.delete("/{rule_id}/mute", status_code=status.HTTP_204_NO_CONTENT, summary="Unmute a rule")
def unmute(rule_id: int, session: SessionDep, user: UserDep) -> Response:
    if get_rule(session=session, rule_id=rule_id, user_id=user.id) is None:
        raise not_found("rule", rule_id)
    mute_rule(session=session, rule_id=rule_id, until=None)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
