"""The explanation page's demonstration shows what the page says it shows."""

import subprocess
import sys

from support.steps import ROOT

SCRIPT = ROOT / "docs" / "explanation" / "threads_after_fork.py"


def test_forked_pool_has_no_threads_and_hangs_its_first_workers():
    result = subprocess.run(
        [sys.executable, str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:5] == [
        "ThreadPool(5, 20), 7 tasks after fork:",
        "parent: pool.workers=5, live threads=5",
        "child:  pool.workers=5, live threads=0",
        "child:  tasks run: NO NO NO NO NO yes yes",
        "child:  pool.workers=7, live threads=2",
    ]
    assert lines[6:] == [
        "ThreadPool(3, 3), 4 tasks after fork:",
        "parent: pool.workers=3, live threads=3",
        "child:  pool.workers=3, live threads=0",
        "child:  tasks run: NO NO NO NO",
        "child:  pool.workers=3, live threads=0",
    ]
