"""The documentation holds together: every relative link in README.md, CONTRIBUTING.md,
CHANGELOG.md and docs/*.md leads to a file that exists (and to a heading there, when it names
one), and the README stays short enough for users (the detail lives in docs/)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README_LIMIT_BYTES = 15_000
# [text](target) and ![alt](target); the target ends at whitespace or the closing parenthesis.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def documents() -> list[Path]:
    return [
        REPO / "README.md",
        REPO / "CONTRIBUTING.md",
        REPO / "CHANGELOG.md",
        *sorted((REPO / "docs").glob("*.md")),
    ]


def relative_links(text: str) -> list[str]:
    """Link targets outside code blocks and code spans that are not web or mail addresses."""
    prose = CODE_SPAN.sub("", FENCE.sub("", text))
    return [target for target in LINK.findall(prose) if not re.match(r"[a-z][a-z0-9+.-]*:", target)]


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives a document's headings: lower case, punctuation dropped, spaces
    to hyphens, ``-1``, ``-2``… for repeats."""
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", FENCE.sub("", text), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchor, number = slug, 0
        while anchor in found:
            number += 1
            anchor = f"{slug}-{number}"
        found.add(anchor)
    return found


def broken_links(document: Path) -> list[str]:
    text = document.read_text(encoding="utf-8")
    broken = []
    for target in relative_links(text):
        path_part, _, anchor = target.partition("#")
        path = (document.parent / path_part).resolve() if path_part else document
        where = f"{document.relative_to(REPO)}: {target}"
        if not path.exists():
            broken.append(f"{where}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path.read_text(encoding="utf-8")):
            broken.append(f"{where}: no heading #{anchor} in {path.name}")
    return broken


@pytest.mark.parametrize("document", documents(), ids=lambda path: path.name)
def test_every_relative_link_resolves(document):
    assert document.is_file()
    assert broken_links(document) == []


def test_the_readme_links_to_every_document():
    links = {target.partition("#")[0] for target in relative_links((REPO / "README.md").read_text())}
    expected = {str(path.relative_to(REPO)) for path in documents()[1:]}
    assert expected <= links


def test_the_readme_is_short():
    assert (REPO / "README.md").stat().st_size < README_LIMIT_BYTES


def test_a_broken_link_is_found(tmp_path, monkeypatch):
    monkeypatch.setattr(f"{__name__}.REPO", tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# Title here\n\n## Second one\n")
    page = tmp_path / "README.md"
    page.write_text(
        "[ok](docs/a.md) [ok](docs/a.md#second-one) [web](https://example.com) `[no](x.md)`\n"
        "```\n[no](y.md)\n```\n[gone](docs/b.md) [bad anchor](docs/a.md#third)\n"
    )
    assert broken_links(page) == [
        "README.md: docs/b.md: no such file",
        "README.md: docs/a.md#third: no heading #third in a.md",
    ]
