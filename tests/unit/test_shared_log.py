"""Why daemons that share one access log lost lines with Twisted's log file,
and keep them all with the package's: two writers, as two processes would
be, each with its own open file on the same path."""

from twisted.python.logfile import LogFile

from twistd_django.logfile import ReopeningFile


def interleave(first, second, count=20):
    for n in range(count):
        first.write(f"first {n}\n")
        second.write(f"second {n}\n")
    first.close()
    second.close()


def test_twisteds_log_file_writes_at_its_own_offset_over_the_other_writers(tmp_path):
    path = tmp_path / "access.log"
    path.write_text("")
    first, second = LogFile.fromFullPath(path), LogFile.fromFullPath(path)
    for log in (first, second):
        log.write = _flushing(log)
    interleave(first, second)
    lines = path.read_text().splitlines()
    # Opened at the end of the file, each writes from its own position.
    assert len(lines) < 40


def _flushing(log):
    write = log.write

    def write_and_flush(text):
        write(text.encode() if isinstance(text, str) else text)
        log.flush()

    return write_and_flush


def test_reopening_files_append_so_no_line_is_lost(tmp_path):
    path = tmp_path / "access.log"
    interleave(ReopeningFile(path), ReopeningFile(path))
    lines = path.read_text().splitlines()
    assert sorted(lines) == sorted(
        [f"first {n}" for n in range(20)] + [f"second {n}" for n in range(20)]
    )
