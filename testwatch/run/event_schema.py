"""What each event line from the pytest child must hold before the engine acts on it.

The event socket's path is in every test's environment, so a test (or a foreign plugin) can write
anything to it. ``problem`` names what is wrong with an event; the engine skips such a line with
a notice instead of letting it end the run. Unknown event kinds are left to the engine (ignored).
"""

from __future__ import annotations

_NUMBER = (int, float)
# kind -> key -> the type its value must have; keys not listed are optional.
_REQUIRED: dict[str, dict[str, type | tuple[type, ...]]] = {
    "test": {"nodeid": str, "phases": list},
    "start": {"nodeid": str},
    "collected": {"items": list},
    "collect_error": {},
    "collect_skip": {"nodeid": str},
    "figures": {"nodeid": str, "extra": dict},
    "session_start": {},
    "session_finish": {},
}
_OPTIONAL: dict[str, type | tuple[type, ...]] = {
    "longrepr": str, "sections": list, "extra": dict, "metadata": dict, "user_properties": list,
    "location": list, "rootdir": str, "exitstatus": int, "show_capture": str, "subtest": str,
    "files": list,
}
_PHASE = {"when": str, "outcome": str, "duration": _NUMBER}


def problem(event: object) -> str | None:
    """Why ``event`` (a decoded JSON line) cannot be used, or None when it can."""
    if not isinstance(event, dict):
        return f"expected a JSON object, got {type(event).__name__}"
    required = _REQUIRED.get(event.get("event"))
    if required is None:
        return None
    wrong = _wrong_keys(event, required) or _wrong_optional(event)
    if wrong:
        return wrong
    if event["event"] == "test":
        for phase in event["phases"]:
            if not isinstance(phase, dict):
                return "a phase is not a JSON object"
            wrong = _wrong_keys(phase, _PHASE) or _wrong_optional(phase)
            if wrong:
                return f"phase: {wrong}"
        if not all(_is_pair(section, str) for section in event.get("sections", [])):
            return "sections must be [title, text] pairs"
        if not all(_is_pair(prop, object) for prop in event.get("user_properties", [])):
            return "user_properties must be [name, value] pairs"
    if event["event"] == "collected" and not all(
        _is_pair(item, object) and isinstance(item[0], str) and isinstance(item[1], list)
        for item in event["items"]
    ):
        return "items must be [node id, markers] pairs"
    if not all(isinstance(path, str) for path in event.get("files") or []):
        return "files must be paths"
    return None


def _wrong_keys(event: dict, required: dict) -> str | None:
    for key, kind in required.items():
        if key not in event:
            return f"{key!r} is missing"
        if not isinstance(event[key], kind) or isinstance(event[key], bool):
            return f"{key!r} has the wrong type ({type(event[key]).__name__})"
    return None


def _wrong_optional(event: dict) -> str | None:
    for key, kind in _OPTIONAL.items():
        value = event.get(key)
        if value is not None and not isinstance(value, kind):
            return f"{key!r} has the wrong type ({type(value).__name__})"
    return None


def _is_pair(value: object, kind: type) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(isinstance(v, kind) for v in value)
