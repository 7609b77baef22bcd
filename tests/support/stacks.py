"""The state and Python stacks of a live process, for the report of a test
that failed while its daemon still ran: a hang shows where each thread
waits, and a stopped process (state T) shows as one.

py-spy reads the stacks from outside, pausing the process only while it
reads them; it needs to be allowed to ptrace it (root, or the same user
with ptrace allowed)."""

import shutil
import subprocess
import sys
from pathlib import Path

DUMP_TIMEOUT = 20  # Seconds; py-spy dump takes well under one.


def python_stacks(pid):
    """``py-spy dump`` of ``pid``, with its locals; or why there is none."""
    beside = Path(sys.executable).with_name("py-spy")  # In the test venv.
    py_spy = str(beside) if beside.exists() else shutil.which("py-spy")
    if py_spy is None:
        return "(no stacks: py-spy is not installed)"
    try:
        dump = subprocess.run(
            [py_spy, "dump", "--locals", "--pid", str(pid)],
            capture_output=True,
            text=True,
            timeout=DUMP_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return f"(no stacks: py-spy dump took over {DUMP_TIMEOUT} s)"
    return dump.stdout + dump.stderr


def thread_states(pid):
    """Each thread's kernel state and wait channel, from /proc."""
    lines = []
    for task in sorted(Path(f"/proc/{pid}/task").glob("*")):
        try:
            stat = (task / "stat").read_text()
            wchan = (task / "wchan").read_text() or "-"
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        state = stat[stat.rindex(")") + 2]
        lines.append(f"thread {task.name} ({name}): state {state}, waiting in {wchan}")
    return "\n".join(lines) or f"(no threads of {pid} in /proc)"


def report(pid):
    return thread_states(pid) + "\n\n" + python_stacks(pid)
