"""The OpenAPI document, with every error a route can answer documented.

Error responses follow from what a route depends on, so that routes added later are
covered without repeating `responses=` on each: a bearer token means 401, the admin
dependency 403, a path id 404, a write 409, a body 400 (not UTF-8) and 413,
and any parameter 422.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from api.deps import admin_user, current_user

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {
            "title": "Detail",
            "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "object"}}],
        }
    },
}
_ERROR_REF = {"$ref": "#/components/schemas/Error"}

ERRORS: dict[int, tuple[str, str]] = {
    401: ("Missing, invalid or revoked bearer token", "invalid or revoked token"),
    403: ("The route is for the admin only", "this route is for the admin only"),
    404: ("No such object, or it belongs to another user", "rule 7 not found"),
    409: (
        "Conflicts with existing data, or a per-user limit was reached",
        "rule limit reached: 10000 per user",
    ),
    413: ("The request body is over the size limit", "request body is over the limit"),
    400: ("The body is not valid UTF-8 text", "There was an error parsing the body"),
    422: ("A field or the document is invalid", "not an OPML document"),
}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dep in dependant.dependencies:
        if dep.call is not None:
            yield dep.call
        yield from _calls(dep)


def api_routes(routes: list[BaseRoute]) -> Iterator[tuple[str, APIRoute]]:
    """(full path, route) for each API route, through included routers."""
    contexts = getattr(routing, "iter_route_contexts", None)
    if contexts is None:  # FastAPI before routers were included lazily
        yield from ((r.path_format, r) for r in routes if isinstance(r, APIRoute))
        return
    for context in contexts(routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path_format:
            yield context.path_format, route


def error_codes(route: APIRoute, method: str, operation: dict[str, Any]) -> list[int]:
    """The error statuses a route can answer."""
    calls = set(_calls(route.dependant))
    codes = []
    if current_user in calls:
        codes.append(401)
    if admin_user in calls:
        codes.append(403)
    if route.dependant.path_params:
        codes.append(404)
    if method in ("POST", "PUT", "PATCH"):
        codes.append(409)
    if route.body_field is not None or "requestBody" in operation:
        codes += [400, 413]
    if codes[-1:] == [413] or operation.get("parameters"):
        codes.append(422)
    return codes


def _error_response(code: int) -> dict[str, Any]:
    description, example = ERRORS[code]
    return {
        "description": description,
        "content": {"application/json": {"schema": _ERROR_REF, "example": {"detail": example}}},
    }


def document_errors(app: FastAPI, doc: dict[str, Any]) -> dict[str, Any]:
    """Add the error responses of every route to an OpenAPI document, in place."""
    doc.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, route in api_routes(app.routes):
        for method in route.methods or ():
            operation = doc["paths"].get(path, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for code in error_codes(route, method, operation):
                responses.setdefault(str(code), _error_response(code))
            if "422" in responses:
                # Checks that need I/O (a blocked URL, a bad cursor) answer 422 with a
                # plain-string detail, besides FastAPI's list of field errors.
                content = (
                    responses["422"].setdefault("content", {}).setdefault("application/json", {})
                )
                schema = content.get("schema", _ERROR_REF)
                if schema != _ERROR_REF:
                    content["schema"] = {"anyOf": [schema, _ERROR_REF]}
    return doc


def declare_page_limits(doc: dict[str, Any], max_page_size: int) -> dict[str, Any]:
    """Give every unbounded `?limit=` the configured MAX_PAGE_SIZE as its maximum, in
    place: the bound is a setting, so the route cannot declare it itself."""
    for item in doc["paths"].values():
        for operation in item.values():
            for param in operation.get("parameters", []):
                if param.get("name") != "limit" or param.get("in") != "query":
                    continue
                schema = param.get("schema", {})
                for option in [schema, *schema.get("anyOf", [])]:
                    if option.get("type") == "integer" and "maximum" not in option:
                        option["maximum"] = max_page_size
    return doc


def install_openapi(app: FastAPI) -> None:
    """Serve the document with errors documented; built once, on first request."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            doc = document_errors(app, doc)
            app.openapi_schema = declare_page_limits(doc, app.state.config.max_page_size)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
