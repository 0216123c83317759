"""Rules: the list (enable, disable, mute) and the editor (live syntax check, a test box, and a
backtest over stored articles before saving)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from api.backtest import backtest
from api.deps import ConfigDep, SessionDep, utcnow
from api.routes.mutes import mute as mute_route
from api.routes.mutes import unmute as unmute_route
from api.routes.rules import create as create_rule_route
from api.routes.rules import test_text
from api.schemas import RuleCreate
from rules import RuleSyntaxError, parse
from rules.parser import MAX_LENGTH
from store.channels import rule_mutes
from store.rules import delete_rule, get_rule, list_rules, update_rule
from store.tables import Rule
from web.pages.common import act, back, muted_notice, not_found, problem, web_router
from web.pages.modes import MuteForm, Next
from web.render import day_chart, page
from web.sessions import Viewer, ViewerDep, WriterDep, safe_next

router = web_router()

BACKTEST_SHOWN = 20
PAGE_SIZE = 100  # rules a page: each row has its forms, and the page stays under 200 KB

QueryField = Annotated[str, Form(max_length=MAX_LENGTH)]
NameField = Annotated[str, Form(max_length=200)]
TextField = Annotated[str, Form(max_length=200_000)]


@router.get("/rules")
def rules_page(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    notice: str = "",
    after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
) -> HTMLResponse:
    rows = list_rules(session=session, user_id=viewer.user_id, limit=PAGE_SIZE + 1, after_id=after)
    more = len(rows) > PAGE_SIZE
    shown = rows[:PAGE_SIZE]
    return page(
        request,
        "rules.html",
        viewer=viewer,
        rules=shown,
        mutes=rule_mutes(session=session, rule_ids=[r.id or 0 for r in shown], now=utcnow()),
        notice=notice[:200],
        next_after=rows[PAGE_SIZE - 1].id if more else None,
        first=after == 0,
        here=f"/rules?after={after}" if after else "/rules",
    )


@router.post("/rules/{rule_id:int}/enabled")
def set_enabled(
    request: Request,
    rule_id: int,
    session: SessionDep,
    viewer: WriterDep,
    enabled: Annotated[bool, Form()],
    to: Next = "/rules",
) -> Response:
    changed = update_rule(
        session=session,
        rule_id=rule_id,
        user_id=viewer.user_id,
        changes={"enabled": enabled},
        now=utcnow(),
    )
    if changed is None:
        return not_found(request, viewer, "rule")
    return back(safe_next(to), f"{changed.name}: {'enabled' if enabled else 'disabled'}")


@router.post("/rules/{rule_id:int}/mute")
def mute(
    request: Request,
    rule_id: int,
    session: SessionDep,
    viewer: WriterDep,
    body: MuteForm,
    to: Next = "/rules",
) -> Response:
    """As POST /v1/rules/{id}/mute: hits are still recorded, and alert no one until then."""
    args = (rule_id, body, session, viewer.user)
    return act(request, viewer, "rule", safe_next(to), muted_notice, mute_route, *args)


@router.post("/rules/{rule_id:int}/unmute")
def unmute(
    request: Request, rule_id: int, session: SessionDep, viewer: WriterDep, to: Next = "/rules"
) -> Response:
    args = (rule_id, session, viewer.user)
    return act(request, viewer, "rule", safe_next(to), "unmuted", unmute_route, *args)


@router.post("/rules/{rule_id:int}/delete")
def delete(request: Request, rule_id: int, session: SessionDep, viewer: WriterDep) -> Response:
    if not delete_rule(session=session, rule_id=rule_id, user_id=viewer.user_id, now=utcnow()):
        return not_found(request, viewer, "rule")
    return back("/rules", "rule deleted")


@router.get("/rules/new")
def new_rule(request: Request, viewer: ViewerDep) -> HTMLResponse:
    return _editor(request, viewer, rule=None, form={"name": "", "query": ""})


@router.get("/rules/{rule_id:int}")
def edit_rule(
    request: Request, rule_id: int, session: SessionDep, viewer: ViewerDep
) -> HTMLResponse:
    rule = get_rule(session=session, rule_id=rule_id, user_id=viewer.user_id)
    if rule is None:
        return not_found(request, viewer, "rule")
    muted = rule_mutes(session=session, rule_ids=[rule_id], now=utcnow()).get(rule_id)
    return _editor(
        request, viewer, rule=rule, form={"name": rule.name, "query": rule.query}, muted=muted
    )


@dataclass(frozen=True, slots=True)
class RuleForm:
    """What the editor posts: the rule, the test text, and which button was pressed."""

    name: str
    query: str
    title: str
    text: str
    action: str


def rule_form(
    name: NameField = "",
    query: QueryField = "",
    title: TextField = "",
    text: TextField = "",
    action: Annotated[str, Form(max_length=20)] = "save",
) -> RuleForm:
    return RuleForm(name, query, title, text, action)


FormDep = Annotated[RuleForm, Depends(rule_form)]


@router.post("/rules/new")
def submit_new(
    request: Request, session: SessionDep, viewer: WriterDep, config: ConfigDep, posted: FormDep
) -> Response:
    return _submit(request, session, viewer, config, None, posted)


@router.post("/rules/{rule_id:int}")
def submit_edit(
    request: Request,
    rule_id: int,
    session: SessionDep,
    viewer: WriterDep,
    config: ConfigDep,
    posted: FormDep,
) -> Response:
    rule = get_rule(session=session, rule_id=rule_id, user_id=viewer.user_id)
    if rule is None:
        return not_found(request, viewer, "rule")
    return _submit(request, session, viewer, config, rule, posted)


def _submit(
    request: Request,
    session: SessionDep,
    viewer: Viewer,
    config: ConfigDep,
    rule: Rule | None,
    posted: RuleForm,
) -> Response:
    name, query, title, text, action = (
        posted.name, posted.query, posted.title, posted.text, posted.action
    )  # fmt: skip
    form = {"name": name, "query": query, "title": title, "text": text}
    try:
        parsed = parse(query)
    except RuleSyntaxError as exc:
        return _editor(request, viewer, rule=rule, form=form, error=exc, status_code=422)
    context: dict[str, Any] = {}
    if action == "test":
        context["tested"] = test_text(parsed, title=title, text=text)
    elif action == "backtest":
        result = backtest(
            session=session,
            query=parsed,
            limit=BACKTEST_SHOWN,
            feed_ids=rule.feed_ids if rule else None,
            count_all=True,
        )
        context["backtest"] = result
        context["chart"] = day_chart(result.per_day, today=datetime.now(UTC).date())
    else:
        if not name.strip():
            return _editor(
                request, viewer, rule=rule, form=form, name_error="Give the rule a name."
            )
        if rule is None:
            try:
                body = RuleCreate(name=name.strip(), query=query)
                saved = create_rule_route(body, session, viewer.user, config)
            except HTTPException as exc:
                return _editor(request, viewer, rule=rule, form=form, notice=problem(exc))
            return back(f"/rules/{saved.id}", "rule saved")
        update_rule(
            session=session,
            rule_id=rule.id or 0,
            user_id=viewer.user_id,
            changes={"name": name.strip(), "query": query},
            now=utcnow(),
        )
        return back(f"/rules/{rule.id}", "rule saved")
    return _editor(request, viewer, rule=rule, form=form, **context)


def _editor(
    request: Request,
    viewer: Viewer,
    *,
    rule: Rule | None,
    form: dict[str, str],
    error: RuleSyntaxError | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    context.setdefault("notice", str(request.query_params.get("notice", ""))[:200])
    return page(
        request,
        "rule_edit.html",
        status_code,
        viewer=viewer,
        rule=rule,
        form=form,
        error=error,
        max_length=MAX_LENGTH,
        **context,
    )


class CheckBody(BaseModel):
    query: str = Field(max_length=MAX_LENGTH)


@router.post("/rules/check")
def check(body: CheckBody, viewer: WriterDep) -> JSONResponse:
    """The live syntax check of the editor: where the query breaks, if it does."""
    try:
        parse(body.query)
    except RuleSyntaxError as exc:
        return JSONResponse(
            {"ok": False, "message": exc.message, "position": exc.position, "caret": exc.caret()}
        )
    return JSONResponse({"ok": True})
