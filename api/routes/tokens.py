"""The calling user's own API tokens: create (shown once), list, revoke.

Auth reads the token table on every request (no cache), so a revoked token answers 401
from the very next request on.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.deps import ConfigDep, SessionDep, UserDep, keyset_page, not_found, page_end, utcnow
from api.params import Id, TokenCursor
from api.schemas import TokenCreate, TokenCreated, TokenPage, TokenPublic
from api.tokens import issue_token
from store.tables import ApiToken
from store.users import list_tokens, revoke_token

router = APIRouter(prefix="/v1/tokens", tags=["tokens"])
TOKEN_CURSOR = "t"


def to_public(token: ApiToken) -> TokenPublic:
    assert token.id is not None
    return TokenPublic(
        id=token.id, name=token.name, prefix=token.prefix, created_at=token.created_at
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TokenCreated,
    summary="Create a token for yourself; it is shown only in this answer",
)
def create(body: TokenCreate, session: SessionDep, user: UserDep) -> TokenCreated:
    token, secret = issue_token(session=session, user_id=user.id or 0, now=utcnow(), name=body.name)
    return TokenCreated(**to_public(token).model_dump(), token=secret)


@router.get("", response_model=TokenPage, summary="List your live tokens (no secrets)")
def list_(
    session: SessionDep,
    user: UserDep,
    config: ConfigDep,
    limit: Annotated[int | None, Query(ge=1)] = None,
    cursor: TokenCursor = None,
) -> TokenPage:
    limit, after_id = keyset_page(config, limit, cursor, TOKEN_CURSOR)
    rows = list_tokens(
        session=session, user_id=user.id or 0, limit=limit + 1, after_id=after_id or 0
    )
    return TokenPage(
        items=[to_public(t) for t in rows[:limit]],
        next_cursor=page_end([t.id or 0 for t in rows], limit, TOKEN_CURSOR),
    )


@router.delete(
    "/{token_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke one of your tokens; it stops working at once",
)
def delete(token_id: Id, session: SessionDep, user: UserDep) -> Response:
    if not revoke_token(session=session, user_id=user.id or 0, token_id=token_id, now=utcnow()):
        raise not_found("token", token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
