"""What each Python file binds and reads (``module_names.ModuleFacts``), kept on disk beside the
history by content hash, so a selection after a module-level edit parses only the files whose
content changed since any earlier selection, in this process or another (``testwatch affected``).

The file (``module-facts.json``) holds one entry per project file: its content hash and its facts
(null when it does not parse). It is tied to the code that computes the facts and to the Python
version: when either differs the file is ignored and rewritten. A cache that cannot be read or
written costs a parse, never a wrong selection.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

from testwatch.history.output_files import written_whole
from testwatch.select import fingerprints, module_names
from testwatch.select.fingerprints import BlockReads, content_hash
from testwatch.select.module_names import ModuleFacts, Statement

CACHE_NAME = "module-facts.json"
MISSING = object()  # what ``FactsCache.get`` returns for a file it holds no facts of


def _reads_out(reads: BlockReads) -> list[list[str]]:
    return [sorted(reads.names), sorted(reads.attributes), sorted(reads.mentions), sorted(reads.dynamic)]


def _reads_in(data: list[list[str]]) -> BlockReads:
    names, attributes, mentions, dynamic = data
    return BlockReads(frozenset(names), frozenset(attributes), frozenset(mentions), frozenset(dynamic))


def facts_to_json(facts: ModuleFacts) -> dict:
    """``facts`` as plain JSON values (``facts_from_json`` gives them back)."""
    statements = [
        [
            sorted(s.bound),
            _reads_out(s.reads),
            s.kind,
            s.effects,
            sorted(s.calls),
            [[sorted(names), _reads_out(reads), sorted(calls)] for names, reads, calls in s.members],
        ]
        for s in facts.statements
    ]
    return {
        "statements": statements,
        "blocks": {name: _reads_out(reads) for name, reads in facts.blocks.items()},
        "from_imports": [list(entry) for entry in facts.from_imports],
        "star_imports": sorted(facts.star_imports),
        "dynamic": facts.dynamic,
        "dynamic_targets": sorted(facts.dynamic_targets),
    }


def facts_from_json(data: dict) -> ModuleFacts:
    """The facts ``facts_to_json`` wrote; raises KeyError, TypeError or ValueError on other data."""
    statements = [
        Statement(
            frozenset(bound),
            _reads_in(reads),
            kind,
            effects,
            frozenset(calls),
            tuple((frozenset(names), _reads_in(r), frozenset(c)) for names, r, c in members),
        )
        for bound, reads, kind, effects, calls, members in data["statements"]
    ]
    return ModuleFacts(
        statements,
        {name: _reads_in(reads) for name, reads in data["blocks"].items()},
        [tuple(entry) for entry in data["from_imports"]],
        set(data["star_imports"]),
        data["dynamic"],
        set(data["dynamic_targets"]),
    )


def _code_version() -> str:
    """Changes with the code that computes the facts and with the Python version (its ``ast``)."""
    parts = [sys.version.encode()]
    for module in (fingerprints, module_names, sys.modules[__name__]):
        with contextlib.suppress(OSError, TypeError):
            parts.append(Path(module.__file__).read_bytes())
    return content_hash(b"\0".join(parts))


class FactsCache:
    """The facts of a project's Python files by content hash; ``path`` None keeps them in memory."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._entries: dict[str, tuple[str, dict | None]] | None = None  # file -> (sha, JSON facts)
        self._dirty = False
        self._version = ""

    def get(self, relative: str, sha: str) -> ModuleFacts | object | None:
        """The facts stored for this content of ``relative``; ``MISSING`` when there are none."""
        entry = self._load().get(relative)
        if entry is None or entry[0] != sha:
            return MISSING
        try:
            return None if entry[1] is None else facts_from_json(entry[1])
        except (KeyError, TypeError, ValueError):  # written by hand, or damaged: parse again
            return MISSING

    def put(self, relative: str, sha: str, facts: ModuleFacts | None) -> None:
        self._load()[relative] = (sha, None if facts is None else facts_to_json(facts))
        self._dirty = True

    def save(self) -> None:
        """Write the entries if any changed; a folder that cannot take the file is left alone."""
        if not self._dirty or self.path is None or not self.path.parent.is_dir():
            return
        files = {relative: list(entry) for relative, entry in self._load().items()}
        record = {"version": self._version, "files": files}
        with contextlib.suppress(OSError), written_whole(self.path) as out:
            json.dump(record, out, separators=(",", ":"))
        self._dirty = False

    def _load(self) -> dict[str, tuple[str, dict | None]]:
        if self._entries is None:
            self._version = _code_version()
            self._entries = {}
            if self.path is not None:
                with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
                    record = json.loads(self.path.read_bytes())
                    if record.get("version") == self._version:
                        self._entries = {rel: (sha, facts) for rel, (sha, facts) in record["files"].items()}
        return self._entries
