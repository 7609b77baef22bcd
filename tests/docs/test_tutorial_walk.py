"""The tutorial, read in order in one terminal, as a reader would.

docs/conftest.py runs each page in a sandbox of its own, which hides a page
that depends on something the previous one did not leave behind. This test
runs the console blocks of every tutorial page, in the order of the
tutorial's table of contents, in one sandbox and one shell state: the
folder, the exported variables and the running processes carry over from
each page to the next. It skips the blocks that only catch a page run alone
up (support/tutorial.py), so a break between two pages fails here, at the
first command that needs what is missing.
"""

import os

from sybil import Sybil
from sybil.example import SybilFailure

from support.console import NAMESPACE_KEY, ConsoleParser, ConsoleSession
from support.tutorial import (
    TUTORIAL,
    is_catch_up,
    prepare_clone,
    toctree_entries,
    tutorial_pages,
)


def console_examples(page):
    sybil = Sybil(
        parsers=[ConsoleParser(timeout=30)], path=str(page.parent), patterns=[page.name]
    )
    document = sybil.parse(page)
    return document, list(document.examples())


def test_every_tutorial_page_is_in_the_walk():
    pages = set(TUTORIAL.rglob("*.rst")) - {TUTORIAL / "index.rst"}
    assert set(tutorial_pages()) == pages
    assert len(tutorial_pages()) == len(set(tutorial_pages()))


def test_the_toctree_globs_expand_as_sphinx_does(tmp_path):
    (tmp_path / "b").mkdir()
    for name in ("b/2.rst", "b/1.rst", "c.rst"):
        (tmp_path / name).write_text("x\n")
    (tmp_path / "index.rst").write_text(
        ".. toctree::\n   :glob:\n\n   b/*\n   Title <c>\n\nText.\n"
    )
    assert toctree_entries(tmp_path / "index.rst") == [
        tmp_path / "b/1.rst",
        tmp_path / "b/2.rst",
        tmp_path / "c.rst",
    ]


def test_pages_after_the_first_catch_up_and_say_where_they_start():
    first, *others = [page for page in tutorial_pages() if console_examples(page)[1]]
    assert not any(is_catch_up(e.parsed) for e in console_examples(first)[1])
    for page in others:
        examples = console_examples(page)[1]
        assert is_catch_up(examples[0].parsed), page
        assert "starts where" in page.read_text(), page


def test_the_tutorial_in_order_in_one_sandbox(tmp_path):
    session = ConsoleSession(base=str(tmp_path))
    prepare_clone(session.sandbox)
    ran = []
    try:
        for page in tutorial_pages():
            document, examples = console_examples(page)
            document.namespace[NAMESPACE_KEY] = session
            for example in examples:
                if is_catch_up(example.parsed):
                    continue
                try:
                    example.evaluate()
                except SybilFailure as failure:
                    raise AssertionError(
                        f"the walk broke in {page.relative_to(TUTORIAL)}, after "
                        f"{len(ran)} blocks that passed:\n{failure}"
                    ) from None
                ran.append((str(page.relative_to(TUTORIAL)), example.line))
    finally:
        session.close()
    # Every page with a console block took part, plugin steps and .tac steps.
    assert {name for name, _ in ran} >= {
        f"{kind}/{page.name}"
        for kind in ("tap", "tac")
        for page in (TUTORIAL / kind).glob("*.rst")
    }
    assert session.cwd != str(session.sandbox)
    assert os.path.basename(session.cwd) == "02-multiservice"
