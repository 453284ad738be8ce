"""How testwatch names a test: pytest's node id with its file part relative to the project folder.

pytest's node ids are relative to its rootdir, which a config file in a folder above the project
(a monorepo's) or ``--rootdir`` moves away from the folder pytest runs in. testwatch names tests as
pytest's own terminal shows them run in the project folder (``pytest -v``, the short summary:
``Config.cwd_relative_nodeid``), which is also what ``pytest NODEID`` takes there; when the rootdir
is the project folder, as usual, the two are the same. Dependencies, selections and the history
then speak of one kind of path. The engine maps what the child reports as it arrives; the child
maps its items' ids to match the tests testwatch chose. Standard library only.
"""

from __future__ import annotations

import os


class ProjectIds:
    """Maps pytest's node ids (relative to ``rootdir``) to testwatch's (relative to ``project``)."""

    def __init__(self, rootdir: str, project: str) -> None:
        # Both resolved: pytest's rootdir comes from the real working folder, the project folder
        # from the user's argument, which may pass through a symbolic link.
        self._rootdir = os.path.realpath(rootdir)
        self._project = os.path.realpath(project)
        self._files: dict[str, str] = {}  # pytest's file part -> the project's

    @classmethod
    def of(cls, config) -> ProjectIds:
        """The mapping of a pytest run: its rootdir to the folder pytest was started in."""
        return cls(str(config.rootpath), str(config.invocation_params.dir))

    def __call__(self, nodeid: str) -> str:
        """``nodeid`` with its file part relative to the project (``..`` where it lies outside)."""
        if not nodeid or self._rootdir == self._project:
            return nodeid
        file_part, separator, rest = nodeid.partition("::")
        mapped = self._files.get(file_part)
        if mapped is None:
            path = os.path.join(self._rootdir, *file_part.split("/"))
            mapped = os.path.relpath(path, self._project).replace(os.sep, "/")
            self._files[file_part] = mapped
        return f"{mapped}{separator}{rest}"

    def event(self, event: dict) -> dict:
        """A child's event with its node ids mapped (the ``nodeid`` field, ``collected`` items)."""
        if self._rootdir == self._project:
            return event
        if isinstance(event.get("nodeid"), str):
            event["nodeid"] = self(event["nodeid"])
        if event.get("event") == "collected":
            event["items"] = [[self(item[0]), *item[1:]] for item in event["items"]]
            event["files"] = [self(path) for path in event.get("files") or []]
        return event
