"""What each Python file binds and reads (``module_names.ModuleFacts``), kept on disk beside the
history by content hash, so a selection after a module-level edit parses only the files whose
content changed since any earlier selection, in this process or another (``testwatch affected``).

The file (``module-facts.json``, a ``content_cache.ContentCache``) holds one entry per project
file: its content hash and its facts (null when it does not parse).
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

from testwatch.select import fingerprints, import_time, module_names
from testwatch.select.content_cache import MISSING, ContentCache, code_version
from testwatch.select.fingerprints import BlockReads
from testwatch.select.module_names import ModuleFacts, Statement

CACHE_NAME = "module-facts.json"


def _reads_out(reads: BlockReads) -> list[list[str]]:
    return [
        sorted(reads.names), sorted(reads.attributes), sorted(reads.mentions), sorted(reads.dynamic),
        sorted(reads.self_only),
    ]


def _reads_in(data: list[list[str]]) -> BlockReads:
    names, attributes, mentions, dynamic, self_only = data
    return BlockReads(
        frozenset(names), frozenset(attributes), frozenset(mentions), frozenset(dynamic), frozenset(self_only)
    )


def facts_to_json(facts: ModuleFacts) -> dict:
    """``facts`` as plain JSON values (``facts_from_json`` gives them back)."""
    statements = [
        [
            sorted(s.bound),
            _reads_out(s.reads),
            s.kind,
            s.effects,
            sorted(s.calls),
            [
                [sorted(names), _reads_out(reads), sorted(calls), copies]
                for names, reads, calls, copies in s.members
            ],
            None if s.instance_attributes is None else sorted(s.instance_attributes),
            s.copies_only,
            s.plain_attributes,
            s.settled,
            sorted(s.unsettled_members),
            s.alias_of,
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
        "object_dicts": facts.object_dicts,
        "imported": sorted(facts.imported),
        "handles_modules": facts.handles_modules,
        "exported": None if facts.exported is None else list(facts.exported),
        "dynamic_blocks": {block: sorted(targets) for block, targets in facts.dynamic_blocks.items()},
        "layout": list(facts.layout),
        "undefined": facts.undefined,
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
            tuple(
                (frozenset(names), _reads_in(r), frozenset(c), bool(copy)) for names, r, c, copy in members
            ),
            None if attributes is None else frozenset(attributes),
            bool(copies_only),
            bool(plain),
            bool(settled),
            frozenset(unsettled),
            str(alias_of),
        )
        for bound, reads, kind, effects, calls, members, attributes, copies_only, plain, settled, unsettled,
        alias_of in data["statements"]
    ]
    return ModuleFacts(
        statements,
        {name: _reads_in(reads) for name, reads in data["blocks"].items()},
        [tuple(entry) for entry in data["from_imports"]],
        set(data["star_imports"]),
        data["dynamic"],
        set(data["dynamic_targets"]),
        bool(data["object_dicts"]),
        frozenset(data["imported"]),
        bool(data["handles_modules"]),
        None if data["exported"] is None else tuple(data["exported"]),
        {block: set(targets) for block, targets in data["dynamic_blocks"].items()},
        tuple(str(entry) for entry in data["layout"]),
        str(data["undefined"]),
    )


class FactsCache:
    """The facts of a project's Python files by content hash; ``path`` None keeps them in memory."""

    def __init__(self, path: Path | None, root: Path | None = None) -> None:
        self.path = path
        code = [fingerprints, import_time, module_names, sys.modules[__name__]]
        version = functools.partial(code_version, code)
        self._entries = ContentCache(path, version, root)

    def get(self, relative: str, sha: str) -> ModuleFacts | object | None:
        """The facts stored for this content of ``relative``; ``MISSING`` when there are none."""
        stored = self._entries.get(relative, sha)
        if stored is MISSING:
            return MISSING
        try:
            return None if stored is None else facts_from_json(stored)
        except (KeyError, TypeError, ValueError):  # written by hand, or damaged: parse again
            return MISSING

    def put(self, relative: str, sha: str, facts: ModuleFacts | None) -> None:
        self._entries.put(relative, sha, None if facts is None else facts_to_json(facts))

    def save(self) -> None:
        """Write the entries if any changed; a folder that cannot take the file is left alone."""
        self._entries.save()
