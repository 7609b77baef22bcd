"""The runner for the docs' console blocks (support/console.py), on small pages."""

import functools
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sybil import Sybil
from sybil.example import SybilFailure
from sybil.parsers.rest import DocTestParser

from support.console import (
    EXAMPLES,
    NAMESPACE_KEY,
    SANDBOX_ENV,
    ConsoleParser,
    ConsoleSession,
    console_setup,
    console_teardown,
    is_running,
    parse_session,
)

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


class Page:
    """One rst page run through Sybil: its outcomes and its session."""

    def __init__(self, path, timeout):
        self.sybil = Sybil(
            parsers=[ConsoleParser(timeout=timeout), DocTestParser()],
            path=str(path.parent),
            patterns=["*.rst"],
            # Sandboxes in pytest's temporary directory: a failed page keeps its.
            setup=functools.partial(console_setup, base=str(path.parent)),
            teardown=console_teardown,
        )
        self.document = self.sybil.parse(path)
        self.examples = list(self.document.examples())
        self.outcomes = []
        self.session = None

    def run(self, teardown=True):
        self.sybil.setup(self.document.namespace)
        self.session = self.document.namespace[NAMESPACE_KEY]
        try:
            for example in self.examples:
                try:
                    example.evaluate()
                except SybilFailure as failure:
                    self.outcomes.append((FAILED, str(failure)))
                except pytest.skip.Exception as skip:
                    self.outcomes.append((SKIPPED, str(skip)))
                else:
                    self.outcomes.append((PASSED, ""))
        finally:
            if teardown:
                self.teardown()
        return self

    def teardown(self):
        self.sybil.teardown(self.document.namespace)

    @property
    def results(self):
        return [outcome for outcome, _ in self.outcomes]

    def message(self, index):
        return self.outcomes[index][1]


@pytest.fixture
def page(tmp_path):
    """``page(text)`` writes an rst page and runs its blocks; see Page."""
    pages = []

    def make(text, timeout=10, run=True, teardown=True):
        path = tmp_path / f"page{len(pages)}.rst"
        path.write_text(textwrap.dedent(text))
        result = Page(path, timeout)
        pages.append(result)
        return result.run(teardown=teardown) if run else result

    yield make
    for result in pages:
        if result.session is not None and NAMESPACE_KEY in result.document.namespace:
            result.teardown()


def test_output_matches_with_ellipsis_and_whitespace(page):
    result = page(
        """
        Text.

        .. code-block:: console

           $ echo "pid 1234, thread PoolThread-wsgi-3"
           pid ..., thread PoolThread-...
           $ printf 'a   b\\n\\nc\\n'
           a b
           c
           $ true
        """
    )
    assert result.results == [PASSED]


def test_wrong_output_fails_and_shows_both(page):
    result = page(
        """
        .. code-block:: console

           $ echo hello
           goodbye
        """
    )
    assert result.results == [FAILED]
    message = result.message(0)
    assert "$ echo hello" in message
    assert "goodbye" in message and "hello" in message
    assert "line 4:" in message


def test_output_when_none_is_shown_fails(page):
    result = page(
        """
        .. code-block:: console

           $ echo surprise
        """
    )
    assert result.results == [FAILED]
    assert "(nothing)" in result.message(0)
    assert "surprise" in result.message(0)


def test_stderr_is_part_of_the_output(page):
    result = page(
        """
        .. code-block:: console

           $ echo out; echo err >&2
           out
           err
        """
    )
    assert result.results == [PASSED]


def test_nonzero_exit_fails_with_the_output(page):
    result = page(
        """
        .. code-block:: console

           $ echo before; exit 3
           before
        """
    )
    assert result.results == [FAILED]
    assert "exited with status 3" in result.message(0)
    assert "before" in result.message(0)


def test_pipefail_makes_a_failing_pipe_fail(page):
    result = page(
        """
        .. code-block:: console

           $ false | cat
        """
    )
    assert result.results == [FAILED]
    assert "status 1" in result.message(0)


def test_a_shown_failure_passes(page):
    result = page(
        """
        .. code-block:: console

           $ ls no-such-file || echo "exit status $?"
           ls: cannot access 'no-such-file': No such file or directory
           exit status 2
        """
    )
    assert result.results == [PASSED]


def test_continuation_lines_make_one_command(page):
    result = page(
        """
        .. code-block:: shell-session

           $ echo one \\
               two \\
               three
           one two three
        """
    )
    assert result.results == [PASSED]


def test_cd_and_export_persist_across_blocks(page):
    result = page(
        """
        .. code-block:: console

           $ cd examples/site
           $ export GREETING="hello there" PYTHONPATH=$PWD
           $ PLAIN=not-exported

        Some text between the blocks.

        .. code-block:: console

           $ pwd
           .../sandbox/examples/site
           $ echo "$GREETING"
           hello there
           $ python -c "import backupsite; print(backupsite.__name__)"
           backupsite
           $ echo "[$PLAIN]"
           []
           $ cd ..; unset GREETING
           $ pwd; echo "[$GREETING]"
           .../sandbox/examples
           []
        """
    )
    assert result.results == [PASSED, PASSED]


def test_the_sandbox_environment(page, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "/should/not/leak")
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "nope.settings")
    bindir = os.path.dirname(sys.executable)
    result = page(
        f"""
        .. code-block:: console

           $ pwd
           .../sandbox
           $ ls
           examples
           $ echo "[$PYTHONPATH] [$DJANGO_SETTINGS_MODULE] $PYTHONDONTWRITEBYTECODE"
           [] [] 1
           $ command -v python twistd
           {bindir}/python
           {bindir}/twistd
           $ echo $BACKUPSITE_DATA_DIR
           .../sandbox/var
           $ test -n "$DJANGO_SECRET_KEY" && echo set
           set
        """
    )
    assert result.results == [PASSED], result.message(0)


def test_controlled_variables_survive_a_page_that_unsets_them(page):
    result = page(
        f"""
        .. code-block:: console

           $ unset {SANDBOX_ENV}
           $ echo ${SANDBOX_ENV}
           .../sandbox
        """
    )
    assert result.results == [PASSED], result.message(0)


def test_ports_are_replaced_consistently(page):
    result = page(
        """
        .. code-block:: console

           $ echo 8080 8443 9000 18080 80801 > ports.txt
           $ cat ports.txt
           8080 8443 9000 18080 80801

        .. code-block:: console

           $ cat ports.txt
           8080 8443 9000 18080 80801
           $ echo 8080 | python -c "import sys; print(int(sys.stdin.read()) == 8000 + 80)"
           False
        """,
        teardown=False,
    )
    assert result.results == [PASSED, PASSED], result.outcomes
    session = result.session
    ports = session.port_map
    assert set(ports) == {8080, 8443, 9000}
    assert len(set(ports.values())) == 3
    assert not set(ports.values()) & {8080, 8443, 9000}
    written = (session.sandbox / "ports.txt").read_text().split()
    assert written == [str(ports[8080]), str(ports[8443]), str(ports[9000])] + [
        "18080",
        "80801",
    ]


def test_the_expected_output_gets_the_same_port(page):
    result = page(
        """
        .. code-block:: console

           $ python -c "print(8000 + 80)"
           8080
        """
    )
    assert result.results == [FAILED]
    assert "Expected:" in result.message(0)


def test_each_page_gets_its_own_ports(page):
    one = page("text\n", run=True, teardown=False)
    two = page("text\n", run=True, teardown=False)
    assert one.session.port_map[8080] != two.session.port_map[8080]
    assert one.session.sandbox != two.session.sandbox


def test_a_command_that_runs_too_long_is_killed(page):
    started = time.monotonic()
    result = page(
        """
        .. code-block:: console

           $ echo started; sleep 60 & sleep 61
           started
        """,
        timeout=1,
        teardown=False,
    )
    elapsed = time.monotonic() - started
    assert result.results == [FAILED]
    message = result.message(0)
    assert "timed out after 1 s" in message
    assert "$ echo started; sleep 60 & sleep 61" in message
    assert "started" in message
    assert elapsed < 10
    # The whole process group is gone, the background sleep with it.
    from support.console import processes_inside

    assert processes_inside(result.session.sandbox) == []


def test_blocks_after_a_failure_are_skipped(page):
    result = page(
        """
        .. code-block:: console

           $ false

        .. code-block:: console

           $ echo never
           never
        """
    )
    assert result.results == [FAILED, SKIPPED]
    assert "earlier console block failed" in result.message(1)


def test_other_blocks_are_left_to_other_parsers(page):
    result = page(
        """
        .. code-block:: python

           raise SystemExit("not run by the console parser")

        .. code-block:: text

           $ exit 1

        >>> 1 + 1
        2

        .. code-block:: console

           $ echo run
           run
        """
    )
    assert result.results == [PASSED, PASSED]


def test_invisible_blocks_are_run(page):
    result = page(
        """
        .. invisible-code-block: console

           $ echo hidden > hidden.txt

        .. code-block:: console

           $ cat hidden.txt
           hidden
        """
    )
    assert result.results == [PASSED, PASSED]


def test_output_before_the_first_command_is_an_error():
    session = parse_session("output\n$ echo\n")
    assert session.error and "before any '$ ' command" in session.error
    assert parse_session("$ echo \\\n").error


def test_parse_session_splits_commands_and_output():
    session = parse_session("$ a \\\n  b\nout 1\nout 2\n$ c\n\n$ d\nx\n")
    assert session.error is None
    assert [(c.text, c.expected, c.line) for c in session.commands] == [
        ("a \\\n  b", "out 1\nout 2\n", 0),
        ("c", "", 4),
        ("d", "x\n", 6),
    ]


def test_parse_session_reads_here_documents():
    session = parse_session(
        "$ cat > a.ini <<EOF\n[django]\n$ not a command\nEOF\n"
        "$ cat <<'ONE' <<-TWO\none\nONE\n\t\ttwo\n\tTWO\n"
        "$ cat <<< word\nword\n"
    )
    assert session.error is None
    assert [(c.text, c.expected, c.line) for c in session.commands] == [
        ("cat > a.ini <<EOF\n[django]\n$ not a command\nEOF", "", 0),
        ("cat <<'ONE' <<-TWO\none\nONE\n\t\ttwo\n\tTWO", "", 4),
        ("cat <<< word", "word\n", 9),
    ]
    # A here-document that a continuation line begins, and one never ended.
    session = parse_session("$ cat \\\n  <<EOF\nx\nEOF\nx\n")
    assert [(c.text, c.expected) for c in session.commands] == [
        ("cat \\\n  <<EOF\nx\nEOF", "x\n")
    ]
    assert "no line 'EOF'" in parse_session("$ cat <<EOF\nx\n").error


def test_a_here_document_is_written_as_the_reader_types_it(page):
    result = page(
        """
        .. code-block:: console

           $ cat > django.ini <<EOF
           [django]
           home = $HOME
           EOF
           $ grep -c '^home = /' django.ini
           1
           $ cat <<'EOF'
           $HOME stays
           EOF
           $HOME stays
        """
    )
    assert result.results == [PASSED], result.message(0)


def test_a_daemon_left_running_is_stopped_at_teardown(page):
    result = page(
        """
        .. code-block:: console

           $ sleep 300 & echo $! > sleeper.pid
           $ cd examples && (sleep 301 & echo $! > ../no-pidfile.txt)
           $ setsid -f sh -c 'echo $$ > ../detached.tmp; cd /; exec sleep 302'
           $ while [ ! -s ../detached.tmp ]; do sleep 0.05; done; mv ../detached.tmp ../detached.txt
        """,
        teardown=False,
    )
    assert result.results == [PASSED], result.message(0)
    sandbox = result.session.sandbox
    pids = [
        int((sandbox / name).read_text())
        for name in ("sleeper.pid", "no-pidfile.txt", "detached.txt")
    ]
    assert all(is_running(pid) for pid in pids)
    stopped = result.session.close()
    result.document.namespace.pop(NAMESPACE_KEY)
    assert not any(is_running(pid) for pid in pids)
    assert set(pids) <= set(stopped)
    assert not sandbox.exists()


def test_teardown_leaves_processes_outside_the_sandbox_alone(page, tmp_path):
    outside = subprocess.Popen(["sleep", "300"], cwd=tmp_path)
    try:
        result = page(
            f"""
            .. code-block:: console

               $ echo {outside.pid} > stale.pid
            """
        )
        assert result.results == [PASSED]
        assert is_running(outside.pid)
    finally:
        outside.send_signal(signal.SIGKILL)
        outside.wait()


def test_a_failed_page_keeps_its_sandbox(page):
    result = page(
        """
        .. code-block:: console

           $ echo evidence > twistd.log; false
        """
    )
    assert result.results == [FAILED]
    assert "(sandbox: " in result.message(0)
    assert (result.session.sandbox / "twistd.log").read_text() == "evidence\n"


def snapshot(folder):
    return {
        str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(Path(folder).rglob("*"))
    }


def test_the_repository_examples_are_not_modified(page):
    before = snapshot(EXAMPLES)
    result = page(
        """
        .. code-block:: console

           $ cd examples/tap/01-broken
           $ ls twisted/plugins
           django_site.py
           $ echo "# changed" >> djangostep/__init__.py
           $ touch new-file.txt twistd.pid
           $ mkdir -p ../../site/var && echo db > ../../site/var/db.sqlite3
           $ python -c "import sys; sys.path.insert(0, '.'); import djangostep"
           $ rm -r ../../tac
        """,
        teardown=False,
    )
    assert result.results == [PASSED], result.message(0)
    copy = result.session.sandbox / "examples"
    assert (copy / "tap/01-broken/new-file.txt").exists()
    assert not (copy / "tac").exists()
    assert not list(copy.rglob("__pycache__"))
    assert snapshot(EXAMPLES) == before


def test_the_sandbox_copy_leaves_out_runtime_files(tmp_path):
    examples = tmp_path / "examples"
    (examples / "step" / "twisted" / "plugins").mkdir(parents=True)
    (examples / "step" / "__pycache__").mkdir()
    (examples / "site" / "var").mkdir(parents=True)
    for name in (
        "step/twisted/plugins/plugin.py",
        "step/twisted/plugins/dropin.cache",
        "step/__pycache__/x.pyc",
        "step/twistd.pid",
        "step/twistd.log",
        "site/var/db.sqlite3",
        "site/db.sqlite3",
    ):
        (examples / name).write_text("x")
    session = ConsoleSession(examples=examples)
    try:
        copied = sorted(
            str(p.relative_to(session.sandbox / "examples"))
            for p in (session.sandbox / "examples").rglob("*")
            if p.is_file()
        )
        assert copied == ["step/twisted/plugins/plugin.py"]
    finally:
        session.close()


def test_a_page_without_the_setup_fails_clearly(tmp_path):
    path = tmp_path / "page.rst"
    path.write_text(".. code-block:: console\n\n   $ true\n")
    sybil = Sybil(parsers=[ConsoleParser()], path=str(tmp_path), patterns=["*.rst"])
    (example,) = sybil.parse(path).examples()
    with pytest.raises(SybilFailure, match="console_setup"):
        example.evaluate()


def test_teardown_without_a_session_does_nothing():
    console_teardown({})
