"""Every command that a page shows with a ``$`` prompt is run by the tests.

docs/conftest.py runs the ``console`` (and ``shell-session``) blocks of every
page, visible or invisible. A ``$`` line anywhere else on a page (in a
``text`` block, a ``parsed-literal``, a ``::`` literal block) would show a
reader a command that no test ran. A command that cannot be run here is
shown as what it is instead: the lines of a script, without a prompt.
"""

import re

import pytest
from sybil import Document

from support.console import LANGUAGES, ConsoleParser
from support.tutorial import DOCS

PROMPT = re.compile(r"^\s+\$( |$)")
PAGES = sorted(p for p in DOCS.rglob("*.rst") if "_build" not in p.parts)


def console_lines(path):
    """The numbers (from 1) of the lines inside the page's console blocks."""
    document = Document(path.read_text(), str(path))
    lines = set()
    for region in ConsoleParser(languages=LANGUAGES)(document):
        first = document.text.count("\n", 0, region.start) + 1
        last = document.text.count("\n", 0, region.end) + 1
        lines.update(range(first, last + 1))
    return lines


def stray_prompts(path, base=DOCS):
    inside = console_lines(path)
    return [
        f"{path.relative_to(base)}:{number}: {line.strip()}"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if PROMPT.match(line) and number not in inside
    ]


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_no_prompt_outside_a_console_block(page):
    assert stray_prompts(page) == []


def test_a_prompt_in_a_text_block_is_found(tmp_path):
    page = tmp_path / "page.rst"
    page.write_text(
        "Title\n=====\n\n.. code-block:: console\n\n   $ true\n\n"
        ".. code-block:: text\n\n   $ make install\n\n::\n\n   $ rm -rf /\n"
    )
    found = [line.split(": ", 1)[1] for line in stray_prompts(page, tmp_path)]
    assert found == ["$ make install", "$ rm -rf /"]
