"""``testwatch serve``: the real server answers on 127.0.0.1 by default and prints its token address."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

pytest.importorskip("textual_serve")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_binds_localhost_and_serves_the_app_page(make_project):
    root = make_project({"tests/test_a.py": "def test_ok():\n    pass\n"})
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "testwatch", "serve", str(root), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ},
    )
    try:
        first_line = server.stdout.readline()  # "testwatch serve: ADDRESS (listening on ...)"
        assert "(listening on 127.0.0.1: this machine only)" in first_line
        address = first_line.split()[2]
        assert address.startswith(f"http://127.0.0.1:{port}/?token=")
        deadline = time.monotonic() + 60
        page = None
        while page is None:
            try:
                page = urllib.request.urlopen(address, timeout=5).read().decode()
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        assert "testwatch" in page
        assert f"ws://127.0.0.1:{port}/ws" in page
    finally:
        server.terminate()
        server.communicate(timeout=30)
