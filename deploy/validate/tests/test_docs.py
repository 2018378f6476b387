"""The documentation's links stay true wherever pages move.

- Every relative link in the project's Markdown (README.md, CHANGELOG.md, docs/, model-export/ and deploy/
  pages) names a file or folder that exists, and a `#fragment` names a heading of the target page, spelt
  the way GitHub turns headings into anchors.
- Every page under docs/ is reachable from README.md, directly or through another page.
- The front door stays a front door: README.md is at most 250 lines.
- A cross-reference is a link: no page says `see "Some Heading"` in quotes, the form that broke silently
  when sections moved between pages.

Links to the web (http, https, mailto) are not fetched: the machines that run the tests have no internet.
The dead-letter table and the /metrics list have their own tests (DeadLetterCodeDocsTest in streams-app,
test_observability.py here), which read the pages those tables live on.

Run: deploy/validate/.venv/bin/python -m pytest deploy/validate/tests (deploy/run-tests.sh does).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
README = REPO / "README.md"
FRONT_DOOR_MAX_LINES = 250


def markdown_pages() -> list[Path]:
    """The project's own Markdown files (not those of virtual environments, builds or node modules)."""
    pages = [README, REPO / "CHANGELOG.md"]
    for folder in ("docs", "model-export", "deploy", "benchmark", "schemas", "streams-app", "tests"):
        for page in sorted((REPO / folder).rglob("*.md")):
            parts = set(page.relative_to(REPO).parts)
            if parts & {".venv", "build", "target", "node_modules", ".pytest_cache"}:
                continue
            pages.append(page)
    return [p for p in pages if p.exists()]


FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
LINK = re.compile(r"(?<!!)\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|!\[[^\]]*\]\(([^)\s]+)\)")
INLINE_CODE = re.compile(r"`[^`]*`")


def prose_lines(page: Path) -> list[tuple[int, str]]:
    """(line number, text) of the lines outside fenced code blocks."""
    out, fenced = [], False
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            out.append((number, line))
    return out


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, markup and punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`([^`]*)`", r"\1", heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)        # a link in a heading keeps its text
    text = re.sub(r"[*_]{1,2}([^*_]+)[*_]{1,2}", r"\1", text)   # emphasis
    text = text.strip().lower()
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch in "-_ " or category[0] in "LN" or category == "Mn":
            kept.append(ch)
    return "".join(kept).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading anchor of a page, with GitHub's -1, -2 ... suffixes for repeated headings."""
    seen: dict[str, int] = {}
    out = set()
    for _, line in prose_lines(page):
        m = HEADING.match(line)
        if not m:
            continue
        base = github_anchor(m.group(2))
        count = seen.get(base, 0)
        out.add(base if count == 0 else f"{base}-{count}")
        seen[base] = count + 1
    return out


def links(page: Path) -> list[tuple[int, str]]:
    """(line number, target) of every Markdown link and image outside code."""
    out = []
    for number, line in prose_lines(page):
        for m in LINK.finditer(INLINE_CODE.sub("", line)):
            out.append((number, m.group(1) or m.group(2)))
    return out


def is_external(target: str) -> bool:
    return re.match(r"^[a-z][a-z0-9+.-]*:", target) is not None


def broken_links(page: Path, root: Path = REPO) -> list[str]:
    problems = []
    for number, target in links(page):
        if is_external(target):
            continue
        path_part, _, fragment = target.partition("#")
        resolved = page if not path_part else (page.parent / path_part).resolve()
        where = f"{page.relative_to(root)}:{number}: {target}"
        if not resolved.exists():
            problems.append(f"{where}: no such file")
            continue
        if fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
            problems.append(f"{where}: no heading with anchor #{fragment} in {resolved.relative_to(root)}")
    return problems


@pytest.mark.parametrize("page", markdown_pages(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves(page: Path):
    assert broken_links(page) == []


def test_a_broken_link_is_reported(tmp_path: Path):
    page = tmp_path / "page.md"
    (tmp_path / "other.md").write_text("# Other page\n\n## Exit codes of `run`\n")
    page.write_text(
        "# Page\n\n[fine](other.md#exit-codes-of-run) [gone](missing.md) [bad anchor](other.md#exit-codes)\n"
        "```\n[in code](nowhere.md)\n```\n"
    )
    problems = broken_links(page, root=tmp_path)
    assert len(problems) == 2
    assert "missing.md: no such file" in problems[0]
    assert "no heading with anchor #exit-codes in other.md" in problems[1]


def test_github_anchors_of_typical_headings():
    assert github_anchor("Faults: what the service does when a record misbehaves") == \
        "faults-what-the-service-does-when-a-record-misbehaves"
    assert github_anchor("Container images (`deploy/container/`)") == "container-images-deploycontainer"
    assert github_anchor("Learning the small class: spam at 5 % (trained here)") == \
        "learning-the-small-class-spam-at-5--trained-here"
    assert github_anchor("The distribution (a JRE 17 is all it needs)") == "the-distribution-a-jre-17-is-all-it-needs"


def test_every_docs_page_is_reachable_from_the_readme():
    reachable, todo = set(), [README.resolve()]
    while todo:
        page = todo.pop()
        if page in reachable or page.suffix != ".md" or not page.exists():
            continue
        reachable.add(page)
        for _, target in links(page):
            path_part = target.partition("#")[0]
            if path_part and not is_external(target):
                todo.append((page.parent / path_part).resolve())
    unreachable = [str(p.relative_to(REPO)) for p in sorted((REPO / "docs").glob("*.md")) if p.resolve() not in reachable]
    assert unreachable == []


def test_the_readme_is_a_front_door():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= FRONT_DOOR_MAX_LINES, f"README.md has {len(lines)} lines; move detail to docs/"


QUOTED_REFERENCE = re.compile(r"\b[Ss]ee (?:the )?\"[A-Z][^\"]*\"")


@pytest.mark.parametrize("page", markdown_pages(), ids=lambda p: str(p.relative_to(REPO)))
def test_cross_references_are_links(page: Path):
    quoted = [f"{page.relative_to(REPO)}:{n}: {m.group(0)}"
              for n, line in prose_lines(page) for m in QUOTED_REFERENCE.finditer(INLINE_CODE.sub("", line))]
    assert quoted == [], "write these as links to the page and heading: [text](page.md#anchor)"
