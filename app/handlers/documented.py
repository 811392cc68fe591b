"""The OpenAPI description of a handler: one decorator per tag instead of a stack of four."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from aiohttp_apigami import docs, json_schema, querystring_schema, response_schema
from marshmallow import Schema

from app.openapi import BEARER_AUTH, ERRORS

H = TypeVar("H", bound=Callable[[web.Request], Awaitable[web.StreamResponse]])
SchemaClass = type[Schema]


def image_service(response: SchemaClass | None = None, **options: Any) -> Callable[[H], H]:
    """Document an ImageService operation (see `documented`)."""
    return documented("ImageService", response, **options)


def documented(
    tag: str,
    response: SchemaClass | None = None,
    *,
    query: SchemaClass | None = None,
    body: SchemaClass | None = None,
    responses: dict[Any, Any] | None = None,
    **extra: Any,
) -> Callable[[H], H]:
    """Document an operation of the service `tag` that needs a bearer token.

    The handler's docstring gives the summary (first line) and the description (the rest);
    `response` is the 200 schema, `query` or `body` the request's; any error has the error body.
    """

    def describe(handler: H) -> H:
        summary, _, rest = (handler.__doc__ or "").strip().partition("\n")
        if response is not None:
            handler = response_schema(response, 200)(handler)
        if query is not None:
            handler = querystring_schema(query)(handler)
        if body is not None:
            handler = json_schema(body)(handler)
        answers: dict[Any, Any] = {**ERRORS, **(responses or {})}  # "default" is no status
        documented = docs(
            responses=answers,
            tags=[tag],
            security=[{BEARER_AUTH: []}],
            summary=summary.strip(),
            description=" ".join(rest.split()) or None,
            **extra,
        )
        return documented(handler)

    return describe


def health(summary: str, *, unavailable: str = "") -> Callable[[H], H]:
    """A health endpoint answering `{"status": "ok"}`, or 503 for the `unavailable` reason."""
    answers: dict[int, dict[str, str]] = {200: {"description": '`{"status": "ok"}`'}}
    if unavailable:
        answers[503] = {"description": unavailable}
    return docs(tags=["Health"], summary=summary, responses=answers)
