"""The review queue over HTTP: ``GET /api/moderation/queue`` and ``POST /api/moderation/{id}``
with ``{"decision": "approve" | "deny"}``. Registered on the dashboard app, so the app's
middlewares (``dashboards.guard``: Host, Origin and Content-Type; the bearer token; the security
headers) apply to these routes too."""
from __future__ import annotations

import json
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

ENGINE_KEY: web.AppKey[Any] = web.AppKey("moderation_engine", object)


class ReviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "deny"]


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda o: json.dumps(o, default=str))


def _service(request: web.Request) -> Any:
    return getattr(request.app[ENGINE_KEY], "moderation", None)


async def get_queue(request: web.Request) -> web.Response:
    """Every held message with its category, score, threshold, level and reason."""
    service = _service(request)
    if service is None:  # an answer, not an error: the page shows the panel as off
        return _json({"enabled": False, "items": [], "pending": 0, "moderate": False})
    view = {"enabled": True, **service.queue_view()}
    view["stats"] = service.stats.to_dict()
    return _json(view)


async def post_decision(request: web.Request) -> web.Response:
    """Approve (leave it) or deny (execute the policy's ``deny_action``) one held message."""
    service = _service(request)
    if service is None:
        return _json({"error": "moderation is not enabled (the character engine is off)"}, 503)
    try:
        body = ReviewBody.model_validate(await request.json())
    except (ValueError, UnicodeDecodeError, ValidationError):
        return _json({"error": "body must be {\"decision\": \"approve\" | \"deny\"}"}, 400)
    outcome = await service.review(request.match_info["item_id"], body.decision)
    if outcome is None:
        return _json({"error": "no such held message (already decided?)"}, 404)
    return _json(outcome)


def register_routes(app: web.Application, engine: Any) -> None:
    """Add the moderation routes for ``engine`` (its ``moderation`` service) to ``app``."""
    app[ENGINE_KEY] = engine
    app.router.add_get("/api/moderation/queue", get_queue)
    app.router.add_post("/api/moderation/{item_id}", post_decision)
