"""Who may use ``testwatch serve``: its token (made at start, or the user's own) and where it listens."""

from __future__ import annotations

import ipaddress
import os
import secrets
import string

from testwatch.config.settings import ConfigError

TOKEN_ENV = "TESTWATCH_TOKEN"
MIN_TOKEN_CHARS = 16
TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + "-_.~")  # safe in a URL as it is
WILDCARD_HOSTS = ("", "0.0.0.0", "::")


def choose_token(option: str | None) -> str:
    """The ``--token`` option, else $TESTWATCH_TOKEN, else a new random one; raises ConfigError."""
    token = option if option is not None else os.environ.get(TOKEN_ENV)
    if token is None:
        return secrets.token_urlsafe(24)
    where = "--token" if option is not None else TOKEN_ENV
    if len(token) < MIN_TOKEN_CHARS or not set(token) <= TOKEN_CHARS:
        raise ConfigError(
            f"{where}: a token needs at least {MIN_TOKEN_CHARS} characters among letters, digits and "
            "- _ . ~ (leave it unset and serve makes a random one)"
        )
    return token


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_wildcard(host: str) -> bool:
    """Whether ``host`` means every address of the machine."""
    return host in WILDCARD_HOSTS


def public_url(host: str, port: int) -> str:
    """The served page's address (an IPv6 address in brackets, as URLs want)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def network_warning(host: str) -> str | None:
    """The warning printed when serve listens beyond this machine, or None."""
    if is_loopback(host):
        return None
    return (
        f"testwatch serve: warning: listening on {host!r}, beyond this machine: anyone who can reach "
        "it and has the token can run this project's tests and read their output; the connection is "
        "plain HTTP, so the token and the screen cross the network unencrypted"
    )
