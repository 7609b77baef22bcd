"""Run the shell sessions that the docs show, for real, with Sybil.

A page shows a terminal session in a ``code-block:: console`` (or
``shell-session``) directive::

    .. code-block:: console

       $ cd examples/tap/01-broken
       $ twistd --pidfile=twistd.pid --logfile=twistd.log \\
           django --listen tcp:8080:interface=127.0.0.1
       $ curl -s http://127.0.0.1:8080/status.json
       {"pid": ..., ...}

A line that starts with ``$ `` is a command; a command line that ends with
a backslash goes on over the next lines, and so does a command with a
here-document (``<<EOF``, ``<<'EOF'``, ``<<-EOF``), up to the line that holds
only its delimiter, which a reader types as it is::

    $ cat > django.ini <<EOF
    [django]
    threads = 4
    EOF

The lines after a command, up to the
next command or the end of the block, are its expected output, compared with
doctest's ELLIPSIS and NORMALIZE_WHITESPACE against stdout and stderr merged.
No expected output means that the command must print nothing. A command must
exit with status 0; a page that shows a failing command writes
``$ cmd || echo "exit status $?"``.

Each page runs in its own sandbox, like a reader's terminal in a fresh clone:
a temporary directory holding a copy of ``examples/``, where the session
starts. The current directory and the exported variables carry over from one
command to the next, and from one block to the next, of the same page. The
port numbers 8080, 8443 and 9000 are replaced, in the commands and in their
expected output, by free ports chosen for the page. At the end of the page,
every process that it left running is stopped: the ones named by a ``*.pid``
file in the sandbox, and any other whose working directory, command line or
environment points into the sandbox.

Wire it up in a conftest.py::

    from sybil import Sybil
    from support.console import ConsoleParser, console_setup, console_teardown

    pytest_collect_file = Sybil(
        parsers=[ConsoleParser()],
        patterns=["*.rst"],
        setup=console_setup,
        teardown=console_teardown,
    ).pytest()
"""

from __future__ import annotations

import doctest
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sybil import Document, Example, Region
from sybil.parsers.rest.lexers import DirectiveInCommentLexer, DirectiveLexer

from .http import free_ports
from .procs import cwd_is_below, is_running, read_pid, wait_for_exit
from .site import site_env

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

#: The key of the page's :class:`ConsoleSession` in the Sybil namespace.
NAMESPACE_KEY = "console"
#: The languages of the code blocks that are run.
LANGUAGES = ("console", "shell-session")
#: The port numbers that pages use, each replaced by a free port per page.
PORTS = (8080, 8443, 9000)
DEFAULT_TIMEOUT = 30.0
#: How long a process may take to exit after SIGTERM, then after SIGKILL.
STOP_GRACE = 5.0
#: Set to keep every sandbox after the run; a failed page always keeps its own.
KEEP_ENV = "CONSOLE_KEEP_SANDBOX"
#: The variable that marks every process a page starts, for the teardown.
SANDBOX_ENV = "CONSOLE_SANDBOX"
#: Runtime files that the sandbox does not copy from examples/.
COPY_IGNORE = shutil.ignore_patterns(
    "__pycache__",
    "*.pyc",
    "var",
    "*.pid",
    "*.log",
    "dropin.cache",
    "*.sqlite3",
    ".ruff_cache",
)
#: Variables that bash sets itself, not carried from one command to the next.
SHELL_OWN = frozenset({"_", "SHLVL", "PWD", "OLDPWD"})
CHECK_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
PROMPT = "$ "


# Parsing ---------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """One ``$`` command of a block and the output it should print."""

    text: str  # without the "$ ", continuation lines and backslashes kept
    expected: str  # "" when the page shows no output
    line: int  # 0-based line of the "$ " within the block's source


@dataclass(frozen=True)
class Session:
    """The parsed content of one console block."""

    commands: tuple[Command, ...]
    error: str | None = None  # why the block cannot be run
    line_offset: int = 0  # of the block's first line, from the directive's


#: ``<<WORD``, ``<<'WORD'``, ``<<"WORD"`` or ``<<-WORD``; not ``<<<``.
HEREDOC = re.compile(r"(?<!<)<<(-?)\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2(?!<)")


def parse_session(source: str, line_offset: int = 0) -> Session:
    """Split a console block's text into commands and expected outputs."""
    lines = source.rstrip("\n").split("\n")
    commands = []
    current = None  # [command lines, output lines, line index]
    continued = False
    words = []  # the delimiters of the command's here-documents, in order
    pending = []  # those still to read: (strip leading tabs?, delimiter)
    for index, line in enumerate(lines):
        if pending:
            current[0].append(line)
            strip_tabs, word = pending[0]
            if (line.lstrip("\t") if strip_tabs else line) == word:
                pending.pop(0)
            continue
        if continued:
            current[0].append(line)
        elif line == "$" or line.startswith(PROMPT):
            current = [[line[len(PROMPT) :]], [], index]
            commands.append(current)
            words = []
        elif current is None:
            if line.strip():
                return Session(
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
        return Session(
            (), "the block ends inside a command ending in '\\'", line_offset
        )
    if pending:
        return Session(
            (),
            f"the block ends inside a here-document: no line {pending[0][1]!r}",
            line_offset,
        )
    return Session(
        tuple(
            Command(
                text="\n".join(text),
                expected=expected_output(output),
                line=index,
            )
            for text, output, index in commands
        ),
        None,
        line_offset,
    )


def expected_output(lines: list[str]) -> str:
    text = "\n".join(lines).strip("\n")
    return text + "\n" if text else ""


class ConsoleParser:
    """A Sybil parser for ``code-block:: console`` and ``shell-session`` blocks.

    Also finds the invisible kind, ``.. invisible-code-block: console``, for
    set-up or clean-up commands that a page does not show.

    :param timeout: seconds that each command may run before it is killed.
    """

    def __init__(self, timeout: float = DEFAULT_TIMEOUT, languages=LANGUAGES):
        self.timeout = timeout
        self.languages = tuple(languages)
        self.lexers = [
            DirectiveLexer(directive=r"(sourcecode|code-block|code)"),
            DirectiveInCommentLexer(directive=r"(invisible-)?code(-block)?"),
        ]

    def __call__(self, document: Document) -> Iterator[Region]:
        for lexer in self.lexers:
            for region in lexer(document):
                language = (region.lexemes.get("arguments") or "").strip()
                if language not in self.languages:
                    continue
                source = region.lexemes["source"]
                region.parsed = parse_session(source, source.line_offset)
                region.evaluator = self.evaluate
                yield region

    def evaluate(self, example: Example) -> str | None:
        session = example.namespace.get(NAMESPACE_KEY)
        if session is None:
            return (
                "no console session for this document: give Sybil "
                "setup=console_setup and teardown=console_teardown"
            )
        parsed: Session = example.parsed
        if session.failed_at is not None:
            pytest.skip(f"an earlier console block failed ({session.failed_at})")
        if parsed.error:
            session.failed_at = f"{Path(example.path).name}, line {example.line}"
            return f"cannot run this console block: {parsed.error}"
        for command in parsed.commands:
            line = example.line + parsed.line_offset + command.line + 1
            failure = session.check(command, self.timeout)
            if failure:
                session.failed_at = f"{Path(example.path).name}, line {line}"
                return f"line {line}: {failure}\n(sandbox: {session.sandbox})"
        return None


# Running ---------------------------------------------------------------------


@dataclass
class Result:
    status: int | None  # None when the command timed out
    output: str
    seconds: float


@dataclass
class ConsoleSession:
    """A reader's terminal for one page: sandbox, directory, environment, ports.

    :param examples: the folder copied into the sandbox as ``examples/``.
    :param ports: the port numbers to replace with free ports.
    :param base: where to create the temporary directory (default: $TMPDIR).
    :param keep: keep the sandbox after :meth:`close`.
    """

    examples: Path = EXAMPLES
    ports: Iterable[int] = PORTS
    base: str | None = None
    keep: bool = field(default_factory=lambda: bool(os.environ.get(KEEP_ENV)))
    failed_at: str | None = None

    def __post_init__(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="docs-console-", dir=self.base))
        #: The sandbox root: it stands for the repository root.
        self.sandbox = self.tmp / "sandbox"
        self.sandbox.mkdir()
        self.state = self.tmp / "state"  # outside the sandbox
        self.state.mkdir()
        shutil.copytree(self.examples, self.sandbox / "examples", ignore=COPY_IGNORE)
        self.cwd = str(self.sandbox)
        self.env = initial_env(self.sandbox)
        ports = tuple(self.ports)
        self.port_map = dict(zip(ports, free_ports(len(ports)), strict=True))
        self._port_re = re.compile(
            r"(?<!\d)(" + "|".join(str(p) for p in self.port_map) + r")(?!\d)"
        )
        self._env_program = shutil.which("env") or "/usr/bin/env"
        self._count = 0

    def substitute(self, text: str) -> str:
        """Replace the page's port numbers with this session's free ports."""
        if not self.port_map:
            return text
        return self._port_re.sub(lambda m: str(self.port_map[int(m[1])]), text)

    def run(self, command: str, timeout: float = DEFAULT_TIMEOUT) -> Result:
        """Run one command line in bash, in the page's directory and environment.

        The command is run as written: substitute the ports first.
        """
        self._count += 1
        cwd_file = self.state / "cwd"
        env_file = self.state / "env"
        out_file = self.state / f"output-{self._count}"
        for stale in (cwd_file, env_file):
            stale.unlink(missing_ok=True)
        # An EXIT trap saves the state even when the command calls exit.
        save = (
            "__console_status=$?; "
            f"pwd > {shlex.quote(str(cwd_file))}; "
            f"{shlex.quote(self._env_program)} -0 > {shlex.quote(str(env_file))}; "
            'exit "$__console_status"'
        )
        script = f"set -o pipefail\ntrap {shlex.quote(save)} EXIT\n{command}\n"
        env = dict(self.env, PWD=self.cwd)
        started = time.monotonic()
        # Write the output to a file, not a pipe: a command that starts a
        # server with "&" leaves it holding the file open after bash exits.
        with out_file.open("wb") as out:
            process = subprocess.Popen(
                ["bash", "-c", script],
                cwd=self.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                status = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                status = None
                kill_group(process.pid)
                process.wait()
        seconds = time.monotonic() - started
        output = out_file.read_bytes().decode("utf-8", errors="replace")
        out_file.unlink()
        self._load_state(cwd_file, env_file)
        return Result(status, output, seconds)

    def _load_state(self, cwd_file, env_file):
        if cwd_file.exists():
            cwd = cwd_file.read_text().rstrip("\n")
            if cwd:
                self.cwd = cwd
        if env_file.exists():
            data = env_file.read_bytes().decode("utf-8", errors="surrogateescape")
            env = {}
            for entry in data.split("\0"):
                name, sep, value = entry.partition("=")
                if sep and name not in SHELL_OWN:
                    env[name] = value
            if env:
                env[SANDBOX_ENV] = str(self.sandbox)
                self.env = env

    def check(self, command: Command, timeout: float = DEFAULT_TIMEOUT) -> str | None:
        """Run a command of the page; return why it failed, or None."""
        text = self.substitute(command.text)
        expected = self.substitute(command.expected)
        shown = "$ " + command.text
        if text != command.text:
            shown += "\n(run as: $ " + text + ")"
        try:
            result = self.run(text, timeout)
        except OSError as error:  # e.g. the directory was removed
            return f"cannot run the command:\n{shown}\n{error}"
        if result.status is None:
            return (
                f"the command timed out after {timeout:g} s, and was killed "
                f"with its process group:\n{shown}\n"
                f"Output so far:\n{indent(result.output)}"
            )
        if result.status != 0:
            return (
                f"the command exited with status {result.status}:\n{shown}\n"
                f"Output:\n{indent(result.output)}"
            )
        if not doctest.OutputChecker().check_output(
            expected, result.output, CHECK_FLAGS
        ):
            return (
                f"unexpected output from the command:\n{shown}\n"
                f"Expected:\n{indent(expected) if expected else '    (nothing)'}\n"
                f"Got:\n{indent(result.output)}"
            )
        return None

    def close(self) -> list[int]:
        """Stop every process the page left running; remove the sandbox.

        Returns the PIDs that had to be stopped. The sandbox is kept when a
        block failed, or when $CONSOLE_KEEP_SANDBOX is set.
        """
        stopped = []
        pids = [
            pid
            for pid in pidfile_pids(self.sandbox)
            if is_running(pid) and is_inside(pid, self.sandbox)
        ]
        stopped += stop(pids)
        for _ in range(3):
            pids = processes_inside(self.sandbox)
            if not pids:
                break
            stopped += stop(pids)
        if not (self.keep or self.failed_at):
            shutil.rmtree(self.tmp, ignore_errors=True)
        return stopped


def initial_env(sandbox: Path) -> dict[str, str]:
    # The virtualenv's bin, so that twistd, python and django-admin are its own.
    # sys.executable is not resolved: a venv's python is a symlink out of it.
    bindir = os.path.dirname(sys.executable)
    path = [bindir, *(p for p in os.environ.get("PATH", "").split(os.pathsep) if p)]
    return site_env(
        sandbox / "var",
        PATH=os.pathsep.join(path),
        PYTEST_CURRENT_TEST=None,
        # A reader's shell is not inside a make: when the suite runs under
        # one (make test, make test-under-load), a make that a page runs
        # would otherwise take its flags and say "Entering directory".
        **dict.fromkeys(MAKE_VARIABLES),
        **{SANDBOX_ENV: sandbox},
    )


MAKE_VARIABLES = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")


def indent(text: str) -> str:
    return "".join("    " + line + "\n" for line in text.rstrip("\n").split("\n"))


# Processes -------------------------------------------------------------------


def signal_all(pids: Iterable[int], signum: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, signum)
        except (ProcessLookupError, PermissionError):
            pass


def stop(pids: Iterable[int], grace: float = STOP_GRACE) -> list[int]:
    """SIGTERM, wait up to ``grace`` seconds, then SIGKILL what is left."""
    pids = [pid for pid in dict.fromkeys(pids) if is_running(pid)]
    signal_all(pids, signal.SIGTERM)
    alive = wait_for_exit(pids, grace)
    signal_all(alive, signal.SIGKILL)
    wait_for_exit(alive, grace)
    return pids


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def pidfile_pids(directory: Path) -> list[int]:
    pids = (read_pid(pidfile) for pidfile in sorted(Path(directory).rglob("*.pid")))
    return [pid for pid in pids if pid is not None]


def _own_lineage() -> set[int]:
    """This process and its ancestors: never candidates for the teardown."""
    pids = set()
    pid = os.getpid()
    while pid > 0 and pid not in pids:
        pids.add(pid)
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            break
        match = re.search(r"^PPid:\s*(\d+)", status, re.MULTILINE)
        pid = int(match[1]) if match else 0
    return pids


def is_inside(pid: int, sandbox: Path, exclude: set[int] | None = None) -> bool:
    """Whether the process belongs to the page whose sandbox is ``sandbox``.

    True if its working directory is inside the sandbox, an argument of its
    command line is a path inside it, or its environment carries the marker
    that every command of the page gets.
    """
    if pid in (_own_lineage() if exclude is None else exclude):
        return False
    root = str(sandbox)
    proc = Path(f"/proc/{pid}")
    if cwd_is_below(pid, root):
        return True
    try:
        for arg in (proc / "cmdline").read_bytes().split(b"\0"):
            arg = arg.decode(errors="replace")
            if arg == root or (root + os.sep) in arg:
                return True
    except OSError:
        pass
    try:
        marker = f"{SANDBOX_ENV}={root}".encode()
        if marker in (proc / "environ").read_bytes().split(b"\0"):
            return True
    except OSError:
        pass
    return False


def processes_inside(sandbox: Path) -> list[int]:
    """The running processes that belong to the page of ``sandbox``."""
    pids = []
    exclude = _own_lineage()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            pid = int(entry.name)
            if is_running(pid) and is_inside(pid, sandbox, exclude):
                pids.append(pid)
    return pids


# Sybil setup and teardown ----------------------------------------------------


def console_setup(namespace: dict, **options) -> None:
    """Sybil setup: give the document a fresh :class:`ConsoleSession`."""
    namespace[NAMESPACE_KEY] = ConsoleSession(**options)


def console_teardown(namespace: dict) -> None:
    """Sybil teardown: stop the page's processes, remove its sandbox."""
    session = namespace.pop(NAMESPACE_KEY, None)
    if session is not None:
        session.close()
