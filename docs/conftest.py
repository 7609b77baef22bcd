"""Test the docs: Sybil runs every page's console blocks, doctests and code.

Each page gets its own sandbox (a copy of examples/ in a temporary
directory), its own free ports in place of 8080, 8443 and 9000, and a
teardown that stops whatever the page left running: see
tests/support/console.py. The sandbox is also made to look like a clone
whose ``make venv`` has run (support/tutorial.py), for the tutorial's first
commands. tests/docs/test_tutorial_walk.py runs the tutorial's pages once
more, in order, in one sandbox.

The console blocks here may also hold a here-document: a command with
``<<EOF`` (or ``<<'EOF'``, ``<<-EOF``) goes on over the next lines, up to the
line that holds only ``EOF``, which a reader types as they are::

    $ cat > django.ini <<EOF
    [django]
    threads = 4
    EOF
"""

import re
import sys
from doctest import ELLIPSIS
from pathlib import Path

from sybil import Sybil
from sybil.parsers.rest import DocTestParser, PythonCodeBlockParser

TESTS = str(Path(__file__).resolve().parents[1] / "tests")
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

from support import console  # noqa: E402
from support.console import NAMESPACE_KEY, console_setup, console_teardown  # noqa: E402
from support.tutorial import prepare_clone  # noqa: E402

# ``<<WORD``, ``<<'WORD'``, ``<<"WORD"`` or ``<<-WORD``; not ``<<<``.
HEREDOC = re.compile(r"(?<!<)<<(-?)\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2(?!<)")


def parse_session(source, line_offset=0):
    """``console.parse_session``, which also reads here-documents."""
    lines = source.rstrip("\n").split("\n")
    commands = []
    current = None  # [command lines, output lines, line index]
    continued = False
    words = []  # the delimiters of the command's here-documents, in order
    pending = []  # those still to read
    for index, line in enumerate(lines):
        if pending:
            current[0].append(line)
            strip_tabs, word = pending[0]
            if (line.lstrip("\t") if strip_tabs else line) == word:
                pending.pop(0)
            continue
        if continued:
            current[0].append(line)
        elif line == "$" or line.startswith(console.PROMPT):
            current = [[line[len(console.PROMPT) :]], [], index]
            commands.append(current)
            words = []
        elif current is None:
            if line.strip():
                return console.Session(
                    (),
                    f"line {index + 1} of the block is output before any "
                    f"'$ ' command: {line!r}",
                    line_offset,
                )
            continue
        else:
            current[1].append(line)
            continue
        words += [(bool(m[1]), m[3]) for m in HEREDOC.finditer(line)]
        continued = line.endswith("\\")
        if not continued:
            pending, words = words, []
    if continued:
        return console.Session(
            (), "the block ends inside a command ending in '\\'", line_offset
        )
    if pending:
        return console.Session(
            (),
            f"the block ends inside a here-document: no line {pending[0][1]!r}",
            line_offset,
        )
    return console.Session(
        tuple(
            console.Command(
                text="\n".join(text),
                expected=console.expected_output(output),
                line=index,
            )
            for text, output, index in commands
        ),
        None,
        line_offset,
    )


class ConsoleParser(console.ConsoleParser):
    """The runner's parser, with here-documents."""

    def __call__(self, document):
        for region in super().__call__(document):
            source = region.lexemes["source"]
            region.parsed = parse_session(source, source.line_offset)
            yield region


def setup(namespace):
    """A page's console session, in a sandbox that looks like a clone."""
    console_setup(namespace)
    prepare_clone(namespace[NAMESPACE_KEY].sandbox)


def parsers():
    return [
        ConsoleParser(timeout=30),
        DocTestParser(optionflags=ELLIPSIS),
        PythonCodeBlockParser(),
    ]


# The HTML build copies the sources; never collect anything from it.
collect_ignore = ["_build"]

pytest_collect_file = Sybil(
    parsers=parsers(),
    patterns=["*.rst"],
    excludes=["_build/*"],
    setup=setup,
    teardown=console_teardown,
).pytest()
