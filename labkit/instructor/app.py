"""The instructor server's HTTP surface (Starlette): learners' API, the page, its live updates.

=================================  =======================  ==================================
route                              who                      what
=================================  =======================  ==================================
``POST /api/join``                 anyone with the code     a participant token
``POST /api/sync``                 a participant (Bearer)   store events (once each), get news
``GET  /room?key=K``               instructor or helper     the page (helpers: read-only)
``GET  /room/events?key=K``        instructor or helper     server-sent events, resumable
``GET  /room/code/N?key=K``        instructor               code a participant shared
``POST /api/admin/…``              instructor (X-Labkit-Key) broadcast, settings, revoke
``GET  /export/grid.csv?key=K``    instructor or helper     the grid; ``events.csv``: all events
``GET  /api/health``               anyone                   ``{"ok": true}``
=================================  =======================  ==================================
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import quote

from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from . import page
from .live import Publisher
from .protocol import BadRequest, parse_join
from .service import Access, RoomService

__all__ = ["create_app"]

Handler = Callable[[Request], Awaitable[Response]]
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
}


def _error(message: str, status: int) -> JSONResponse:
    headers = {"Retry-After": "1"} if status == 429 else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _guarded(handler: Handler) -> Handler:
    async def run(request: Request) -> Response:
        started = time.perf_counter()
        try:
            response = await handler(request)
        except BadRequest as problem:
            response = _error(str(problem), problem.status)
        elapsed = (time.perf_counter() - started) * 1000
        response.headers["Server-Timing"] = f"app;dur={elapsed:.1f}"
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return run


async def _json(request: Request, limit: int) -> Any:
    """The request's JSON body, refusing anything over ``limit`` bytes or not JSON."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BadRequest(f"The request is larger than {limit} bytes.", 413)
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise BadRequest(f"The request is larger than {limit} bytes.", 413)
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadRequest("The request body is not valid JSON.") from None


def create_app(service: RoomService, *, push_interval: float = 0.25) -> Starlette:
    """The ASGI app for one room. ``push_interval`` gathers changes into one update per page."""
    live = Publisher(service, interval=push_interval)

    def role_of(request: Request, *, instructor: bool = False) -> str:
        key = request.query_params.get("key") or request.headers.get("x-labkit-key")
        role = service.access(key)
        if role is None:
            raise BadRequest("This page needs the instructor's or a helper's key (?key=…).", 401)
        if instructor and role != Access.INSTRUCTOR:
            raise BadRequest("Only the instructor may do this (helpers are read-only).", 403)
        return role

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "participants": len(service.state.rows)})

    async def join(request: Request) -> Response:
        code, name = parse_join(await _json(request, 2048))
        address = request.client.host if request.client else "?"
        row, token = await service.join(code, name, address)
        return JSONResponse(
            {
                "participant": row.id,
                "name": row.name,
                "token": token,
                "title": service.session.title,
                "steps": list(service.state.step_ids),
                "session_ends": service.session.expires,
            }
        )

    async def sync(request: Request) -> Response:
        row = service.participant(request.headers.get("authorization"))
        body = await _json(request, service.limits.max_body)
        return JSONResponse(await service.sync(row, body))

    async def room(request: Request) -> Response:
        role = role_of(request)
        key = request.query_params.get("key") or request.headers.get("x-labkit-key", "")
        state = service.state
        stream = f"/room/events?since={service.boot}:{state.version}&key={quote(key)}"
        nonce = secrets.token_urlsafe(16)
        html = page.page(
            state, role, key, service.session.code, service.clock(), stream=stream, nonce=nonce
        )
        policy = (
            f"default-src 'self'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; "
            "img-src 'none'; frame-ancestors 'none'"
        )
        return HTMLResponse(html, headers={"Content-Security-Policy": policy})

    async def events(request: Request) -> Response:
        role = role_of(request)
        resume = request.headers.get("last-event-id") or request.query_params.get("since", "")
        return EventSourceResponse(live.stream(role, resume), ping=10)

    async def code(request: Request) -> Response:
        role_of(request, instructor=True)
        row = service.state.rows.get(int(request.path_params["participant"]))
        if row is None:
            raise BadRequest("There is no such participant.", 404)
        return PlainTextResponse(page.code_text(row))

    async def admin(request: Request) -> Response:
        role_of(request, instructor=True)
        action = request.path_params["action"]
        body = await _json(request, 4096)
        if not isinstance(body, dict):
            raise BadRequest("Send a JSON object.")
        if action == "broadcast":
            text, step = body.get("text", ""), body.get("step", "")
            if not isinstance(text, str) or not isinstance(step, str):
                raise BadRequest("'text' and 'step' must be strings.")
            await service.broadcast(text, step)
        elif action == "settings":
            await service.update_settings(body)
        elif action == "revoke":
            participant = body.get("participant")
            if isinstance(participant, bool) or not isinstance(participant, int):
                raise BadRequest("'participant' must be a participant number.")
            await service.revoke(participant)
        else:
            raise BadRequest(f"There is no action {action!r}.", 404)
        return JSONResponse({"ok": True, "settings": service.state.settings.to_dict()})

    async def export(request: Request) -> Response:
        role_of(request)
        what = request.path_params["what"]
        if what == "grid.csv":
            text = page.grid_csv(service.state, service.clock())
        elif what == "events.csv":
            text = page.events_csv(service.state, await service.all_events())
        else:
            raise BadRequest("Export grid.csv or events.csv.", 404)
        disposition = f'attachment; filename="{service.session.code}-{what}"'
        return Response(text, media_type="text/csv", headers={"Content-Disposition": disposition})

    async def home(request: Request) -> Response:
        return PlainTextResponse(
            "labkit instructor server. Learners join from a notebook with "
            'lab.join("ROOM-CODE", name="...", server="http://this-host:port").'
        )

    routes = [
        Route("/", _guarded(home)),
        Route("/api/health", _guarded(health)),
        Route("/api/join", _guarded(join), methods=["POST"]),
        Route("/api/sync", _guarded(sync), methods=["POST"]),
        Route("/api/admin/{action}", _guarded(admin), methods=["POST"]),
        Route("/room", _guarded(room)),
        Route("/room/events", _guarded(events)),
        Route("/room/code/{participant:int}", _guarded(code)),
        Route("/export/{what}", _guarded(export)),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await live.stop()

    return Starlette(routes=routes, lifespan=lifespan)
