"""The app in a browser: textual-serve behind a token, an Origin check and a limit of open apps.

textual-serve gives no hook for authentication, so this builds the aiohttp application itself from
textual-serve's public handlers and puts one middleware in front of them: every request needs the
token (in the URL once, then in a cookie), and a WebSocket must come from the served page's origin.
Imported only by ``testwatch serve``, once it knows textual-serve is installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import shlex
import signal

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.server import Server

from testwatch.config.serve_access import is_wildcard, public_url

SLOT_WAIT_S = 5.0  # a new session waits this long for an app to end (a reloaded tab) before refusal
SHUTDOWN_WAIT_S = 15.0  # serve stopping: how long the open apps get to quit before serve leaves
TOKEN_PARAMETER = "token"


class GuardedServer(Server):
    """textual-serve's ``Server``, whose every request passes ``refusal`` first."""

    def __init__(self, command: list[str], host: str, port: int, token: str, max_apps: int) -> None:
        # textual-serve takes one command string for a shell; shlex.join quotes every argument.
        super().__init__(shlex.join(command), host=host, port=port, title="testwatch",
                         public_url=public_url(host, port))
        self.token = token
        self.max_apps = max_apps
        self.cookie_name = f"testwatch-token-{port}"  # cookies ignore ports: one name per server
        self.app_slots = asyncio.Semaphore(max_apps)
        self.sessions: set[asyncio.Task] = set()

    @property
    def address(self) -> str:
        """The address to open, token included."""
        return f"{self.public_url}/?{TOKEN_PARAMETER}={self.token}"

    def serve(self, on_listening=lambda: None, debug: bool = False) -> None:
        """Listen until SIGINT or SIGTERM; then end every open app before leaving.

        ``on_listening`` is called once the port is bound (a taken port raises OSError before it).
        """
        self.debug = debug
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        for stop in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(stop, self.request_exit)
        web.run_app(self.web_app(), host=self.host, port=self.port, handle_signals=False, loop=loop,
                    shutdown_timeout=SHUTDOWN_WAIT_S, print=lambda *_: on_listening())

    def web_app(self) -> web.Application:
        """textual-serve's routes (same names: its page template asks for them) behind the guard."""
        app = web.Application(middlewares=[self.guard])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes([
            web.get("/", self.handle_index, name="index"),
            web.get("/ws", self.handle_websocket, name="websocket"),
            web.get("/download/{key}", self.handle_download, name="download"),
            web.static("/static", self.statics_path, name="static"),
        ])
        app.on_shutdown.append(self.on_shutdown)
        return app

    @web.middleware
    async def guard(self, request: web.Request, handler) -> web.StreamResponse:
        if reason := self.refusal(request):
            raise web.HTTPForbidden(text=f"testwatch serve: {reason}\n")
        response = await handler(request)
        if TOKEN_PARAMETER in request.query and not response.prepared:
            # The page's own requests (its scripts, its WebSocket) then carry the token as a cookie.
            response.set_cookie(self.cookie_name, self.token, httponly=True, samesite="Strict")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    def refusal(self, request: web.Request) -> str | None:
        """Why ``request`` is refused, or None: no valid token, or a WebSocket from another origin."""
        offered = request.query.get(TOKEN_PARAMETER) or request.cookies.get(self.cookie_name, "")
        if not hmac.compare_digest(offered.encode(), self.token.encode()):
            return "a valid token is required: open the address `testwatch serve` printed"
        origin = request.headers.get("Origin")
        if request.path == "/ws" and origin is not None and origin.lower() != self.served_origin(request):
            return f"a WebSocket from {origin!r} is refused: only the served page may connect"
        return None

    def served_origin(self, request: web.Request) -> str:
        """The origin of the page served here (any name when listening on every address)."""
        return (f"http://{request.host}" if is_wildcard(self.host) else self.public_url).lower()

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        """textual-serve's session (it starts the app, ends it with the connection), one per slot."""
        try:
            async with asyncio.timeout(SLOT_WAIT_S):
                await self.app_slots.acquire()
        except TimeoutError:
            raise web.HTTPTooManyRequests(
                text=f"testwatch serve: {self.max_apps} app(s) already open on this project, the "
                "limit: close one, or start serve with a higher --max-apps\n"
            ) from None
        session = asyncio.current_task()
        self.sessions.add(session)
        try:
            return await super().handle_websocket(request)
        finally:
            self.sessions.discard(session)
            self.app_slots.release()

    async def on_shutdown(self, app: web.Application) -> None:
        """Serve stops: end every open session, which tells its app to quit and waits for it."""
        sessions = list(self.sessions)
        for session in sessions:
            session.cancel()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*sessions, return_exceptions=True), SHUTDOWN_WAIT_S)

    async def on_startup(self, app: web.Application) -> None:
        """Quiet: ``testwatch serve`` printed its own line, with the token."""
