"""``testwatch serve`` as an attacker and a careless user meet it: a real server on a free loopback
port, real HTTP and WebSocket clients. No token, a wrong token or another page's Origin is refused
before any app starts; the token opens the app; the app (and its pytest) ends with its connection,
with SIGTERM of serve and even with SIGKILL of serve."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import psutil
import pytest

aiohttp = pytest.importorskip("aiohttp")
pytest.importorskip("textual_serve")

TOKEN = "test-token-0123456789abcdef"
DEADLINE_S = 90.0
SLOW_TEST = """
import time

def test_slow():
    for _ in range(2400):
        time.sleep(0.05)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Served:
    process: subprocess.Popen
    port: int
    banner: str

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def descendants(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []


def alive(processes: list[psutil.Process]) -> list[str]:
    """The processes of ``processes`` still running (zombies count as gone)."""
    left = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{process.pid} {' '.join(process.cmdline())[:100]}")
        except psutil.NoSuchProcess:
            pass
    return left


async def until(condition, what: str, timeout_s: float = DEADLINE_S):
    """Poll ``condition`` (without blocking the loop) until truthy; fail after a generous deadline."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := condition():
            return value
        await asyncio.sleep(0.1)
    pytest.fail(f"timed out after {timeout_s:g} s waiting for {what}")


@pytest.fixture
def serve(make_project):
    """Start ``testwatch serve`` on a project whose one test runs for two minutes."""
    started: list[Served] = []
    seen: list[psutil.Process] = []

    def start(*options: str, env: dict | None = None) -> Served:
        root = make_project({"tests/test_slow.py": SLOW_TEST})
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "testwatch", "serve", str(root), "--port", str(port), *options],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
            env={**os.environ, "TESTWATCH_TOKEN": TOKEN, **(env or {})},
        )
        banner = ""
        while "(listening on" not in banner and process.poll() is None:
            banner += process.stdout.readline()
        served = Served(process, port, banner)
        started.append(served)
        return served

    def remember(served: Served) -> list[psutil.Process]:
        seen.extend(found := served.descendants())
        return found

    start.remember = remember
    yield start
    for served in started:
        seen.extend(served.descendants())
        if served.process.poll() is None:
            served.process.kill()
        served.process.communicate(timeout=30)
    for process in seen:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass


async def open_app(served: Served, session: aiohttp.ClientSession):
    """Open the page with the token (as the printed address does), then its WebSocket, as a browser."""
    async with session.get(f"{served.base}/?token={TOKEN}") as page:
        assert page.status == 200
        assert f"ws://127.0.0.1:{served.port}/ws" in await page.text()
    return await session.ws_connect(
        f"ws://127.0.0.1:{served.port}/ws?width=100&height=30", headers={"Origin": served.base}
    )


async def read_screen(websocket, text: bytes) -> None:
    """Read the app's stream until ``text`` has been drawn."""
    seen = b""
    while text not in seen:
        message = await asyncio.wait_for(websocket.receive(), DEADLINE_S)
        assert message.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT), message
        if message.type == aiohttp.WSMsgType.BINARY:
            seen += message.data


def browser() -> aiohttp.ClientSession:
    """A client that keeps cookies from an IP address, as browsers do (aiohttp's default does not)."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


def running_pytest(served: Served) -> list[psutil.Process]:
    """The served apps' pytest processes (a descendant gone or a zombie meanwhile is none)."""
    found = []
    for process in served.descendants():
        try:
            if "pytest" in " ".join(process.cmdline()):
                found.append(process)
        except psutil.NoSuchProcess:  # ZombieProcess included
            pass
    return found


async def test_serve_refuses_every_request_without_its_token(serve):
    served = serve()
    assert f"/?token={TOKEN} " in served.banner
    await wait_until_up_with_token(served)
    async with aiohttp.ClientSession() as session:
        for path in ("/", "/static/js/textual.js", "/download/x", "/?token=wrong-token-0123456789"):
            async with session.get(served.base + path) as response:
                assert response.status == 403, path
                assert "a valid token is required" in await response.text()
        for query in ("", "&token=wrong-token-0123456789"):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(f"ws://127.0.0.1:{served.port}/ws?width=80{query}",
                                         headers={"Origin": served.base})
            assert refused.value.status == 403
    assert served.descendants() == []  # no app was started


async def wait_until_up_with_token(served: Served) -> None:
    async with aiohttp.ClientSession() as session:
        deadline = time.monotonic() + DEADLINE_S
        while True:
            try:
                async with session.get(f"{served.base}/static/js/textual.js?token={TOKEN}") as response:
                    assert response.status == 200
                    return
            except aiohttp.ClientConnectionError:
                assert served.process.poll() is None, served.process.stdout.read()
                assert time.monotonic() < deadline, "serve never answered"
                await asyncio.sleep(0.1)


async def test_serve_refuses_a_websocket_from_another_origin(serve):
    served = serve()
    await wait_until_up_with_token(served)
    async with browser() as session:
        async with session.get(f"{served.base}/?token={TOKEN}") as page:  # the cookie is set
            assert page.status == 200
        for origin in ("http://evil.example", f"http://localhost:{served.port}", "null",
                       f"http://127.0.0.1:{served.port + 1}"):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(f"ws://127.0.0.1:{served.port}/ws?token={TOKEN}",
                                         headers={"Origin": origin})
            assert refused.value.status == 403, origin
    assert served.descendants() == []


async def open_running_app(serve, served, session):
    """An app opened with the token, its screen shown and its pytest child running; returns the
    websocket and the processes to watch for (the app and its pytest)."""
    websocket = await open_app(served, session)
    await read_screen(websocket, b"Tests")
    await until(lambda: running_pytest(served), "the app's pytest child")
    return websocket, serve.remember(served)


async def test_the_token_opens_the_app_and_an_abrupt_disconnect_ends_it(serve):
    served = serve()
    await wait_until_up_with_token(served)
    async with browser() as session:
        websocket, apps = await open_running_app(serve, served, session)
        websocket._response.connection.transport.abort()  # the tab is gone: no close frame, a reset
    await until(lambda: not alive(apps), "the app and its pytest to end with their connection")
    assert served.process.poll() is None  # serve itself goes on


async def test_a_second_app_is_refused_while_one_is_open(serve):
    served = serve()
    await wait_until_up_with_token(served)
    async with browser() as first, browser() as second:
        websocket = await open_app(served, first)
        await read_screen(websocket, b"Tests")
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await open_app(served, second)
        assert refused.value.status == 429
        await websocket.close()
        apps = serve.remember(served)
        await until(lambda: not alive(apps), "the first app to end")
        again = await open_app(served, second)  # the slot is free again
        await read_screen(again, b"Tests")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
async def test_stopping_serve_ends_its_apps_and_their_pytest(serve, stop):
    served = serve()
    await wait_until_up_with_token(served)
    async with browser() as session:
        _, apps = await open_running_app(serve, served, session)
        served.process.send_signal(stop)
        await until(lambda: served.process.poll() is not None, "serve to stop")
    await until(lambda: not alive(apps), f"no process left after {stop.name} of serve")


def test_serve_beyond_loopback_warns_and_a_weak_token_is_refused(serve, cli, tmp_path):
    served = serve("--host", "0.0.0.0")
    assert "warning: listening on '0.0.0.0', beyond this machine" in served.banner
    assert f"?token={TOKEN} (listening on 0.0.0.0: the network)" in served.banner
    for option in (["--token", "short"], ["--token", "a token with spaces in it"]):
        done = cli("serve", str(tmp_path), "--port", str(free_port()), *option)
        assert done.returncode == 4
        assert "--token: a token needs at least 16 characters" in done.stderr
