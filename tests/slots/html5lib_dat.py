"""Reader for html5lib-tests ``tree-construction/*.dat`` files.

Each test is a run of ``#section`` lines: ``#data`` (the input document), ``#errors``,
``#new-errors``, ``#document-fragment`` (context element: the test parses a fragment),
``#script-on``/``#script-off`` (the result depends on scripting) and ``#document`` (the
expected tree dump). As in html5lib's own reader, a section's value drops its last newline.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TreeTest:
    file: str
    index: int          # position in its file, from 0
    data: str
    document: str
    fragment: str | None      # the context element of a fragment test
    scripting: bool | None    # None: the test holds either way

    @property
    def id(self) -> str:
        return f"{self.file}:{self.index}"


def read(path: Path) -> Iterator[TreeTest]:
    """The tests of one .dat file, in order."""
    text = path.read_bytes().decode("utf-8")
    sections: dict[str, str] = {}
    key: str | None = None
    index = 0
    lines = text.split("\n")
    for n, line in enumerate(lines):
        line = line + ("\n" if n < len(lines) - 1 else "")
        heading = line[1:].strip() if line.startswith("#") else None
        if heading is not None:
            if heading == "data" and sections:
                yield _test(path.name, index, sections)
                index += 1
                sections = {}
            key = heading
            sections[key] = ""
        elif key is not None:
            sections[key] += line
    if sections:
        yield _test(path.name, index, sections)


def _test(file: str, index: int, sections: dict[str, str]) -> TreeTest:
    def value(name: str) -> str:
        v = sections.get(name, "")
        return v[:-1] if v.endswith("\n") else v

    # The blank line between tests ends up at the end of the last section.
    document = value("document")
    document = document[:-1] if document.endswith("\n") else document
    scripting = True if "script-on" in sections else False if "script-off" in sections else None
    return TreeTest(
        file=file,
        index=index,
        data=value("data"),
        document=document,
        fragment=value("document-fragment") if "document-fragment" in sections else None,
        scripting=scripting,
    )


FRAGMENT = "skipped: fragment test (not a document)"
SCRIPTING_OFF = "skipped: scripting-off variant (pages are planned with scripting on, as run)"


def not_a_page(t: TreeTest) -> str | None:
    """Why a tree test is no page the edge would serve (FRAGMENT or SCRIPTING_OFF), or None."""
    if t.fragment is not None:
        return FRAGMENT
    if t.scripting is False:
        return SCRIPTING_OFF
    return None


def read_all(folder: Path) -> list[TreeTest]:
    return [t for path in sorted(folder.glob("*.dat")) for t in read(path)]
