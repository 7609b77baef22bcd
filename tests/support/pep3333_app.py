"""A plain WSGI application (no Django) for the PEP 3333 tests, checked by
the standard library's ``wsgiref.validate``.

``make_application(records)`` returns the application as the server must
see it: ``validator(application)``, inside ``Checked``, which writes to
files in the directory ``records``, for the test to read:

``problems.jsonl``
    one line for each exception that the validator, or anything else but the
    application's own ``DeliberateFailure``, raised: when the server called
    the application, iterated its body, or closed it; and each exception
    that could not be raised (``sys.unraisablehook``), which is how the
    validator reports a body never closed: an ``AssertionError`` in its
    ``__del__``. Empty if the server followed PEP 3333.

``events.jsonl``
    ``{"event": "call" | "close" | "ended", "id": N, ...}``: each request's
    call, the server's ``close()`` of its body, and the end of a stream's
    generator, with how many chunks it yielded.

The paths:

``/``             ``hello``, and a line to ``wsgi.errors``.
``/query``        the query string, raw and parsed, as JSON.
``/form``         a urlencoded POST body, parsed, as JSON.
``/upload``       a multipart/form-data POST: the SHA-256 and length of the
                  body and of each part, as JSON.
``/stream``       ``?chunks=N`` lines, ``?delay=S`` seconds apart, from a
                  generator, then ``done``; with ``?fail_after=K``, raise
                  ``DeliberateFailure`` once K chunks are sent.
``/collect``      run the garbage collector (so that a body the server
                  dropped without closing it is reported now), then ``ok``.

``?tag=...`` on any path names the request in the events.
"""

import gc
import hashlib
import itertools
import json
import sys
import threading
import time
import traceback
from email.message import Message
from pathlib import Path
from urllib.parse import parse_qs
from wsgiref.validate import validator

TEXT = [("Content-Type", "text/plain; charset=utf-8")]
JSON = [("Content-Type", "application/json")]
READ_SIZE = 64 * 1024


class DeliberateFailure(Exception):
    """The application's own error in the middle of a stream: expected."""


class Records:
    """Append JSON lines to ``problems.jsonl`` and ``events.jsonl``."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.problems = self.directory / "problems.jsonl"
        self.events = self.directory / "events.jsonl"
        self.problems.touch()
        self.events.touch()
        self.lock = threading.Lock()

    def _append(self, path, entry):
        line = json.dumps(entry) + "\n"
        with self.lock, path.open("a") as f:
            f.write(line)

    def problem(self, where, error, **details):
        self._append(
            self.problems,
            {
                "where": where,
                "type": type(error).__name__,
                "error": str(error),
                "traceback": "".join(traceback.format_exception(error)),
                **details,
            },
        )

    def event(self, event, request_id, **details):
        self._append(self.events, {"event": event, "id": request_id, **details})

    def install_unraisable_hook(self):
        """Record each exception that nothing can catch, as the validator's
        "Iterator garbage collected without being closed"; then report it as
        Python does (to stderr: the twistd log)."""

        def hook(unraisable):
            if unraisable.exc_value is not None:
                self.problem(
                    "unraisable",
                    unraisable.exc_value,
                    object=repr(unraisable.object),
                )
            sys.__unraisablehook__(unraisable)

        sys.unraisablehook = hook


def make_application(records_directory):
    """The validated application, inside ``Checked``; it also installs the
    unraisable hook, for the process that serves it."""
    records = Records(records_directory)
    records.install_unraisable_hook()
    ids = itertools.count(1)
    validated = validator(application)

    def checked(environ, start_response):
        request_id = next(ids)
        tag = parse_qs(environ.get("QUERY_STRING", "")).get("tag", [""])[0]
        environ["pep3333.records"] = records
        environ["pep3333.id"] = request_id
        records.event("call", request_id, path=environ.get("PATH_INFO", ""), tag=tag)
        try:
            body = validated(environ, start_response)
        except DeliberateFailure:
            raise
        except BaseException as error:
            records.problem("call", error, path=environ.get("PATH_INFO", ""))
            raise
        return Checked(body, records, request_id, tag)

    return checked


class Checked:
    """The validator's body, with a record of what it raises and of
    ``close()``. No ``streaming`` attribute: the server streams it."""

    def __init__(self, body, records, request_id, tag):
        self.body = body
        self.iterator = iter(body)
        self.records = records
        self.request_id = request_id
        self.tag = tag

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return next(self.iterator)
        except (StopIteration, DeliberateFailure):
            raise
        except BaseException as error:
            self.records.problem("iteration", error, tag=self.tag)
            raise

    def close(self):
        self.records.event("close", self.request_id, tag=self.tag)
        try:
            self.body.close()
        except BaseException as error:
            self.records.problem("close", error, tag=self.tag)
            raise


def application(environ, start_response):
    """The plain WSGI application that the validator checks."""
    path = environ["PATH_INFO"]
    query = parse_qs(environ["QUERY_STRING"])
    if path == "/":
        environ["wsgi.errors"].write("pep3333: hello\n")
        environ["wsgi.errors"].flush()
        start_response("200 OK", list(TEXT))
        return [b"hello\n"]
    if path == "/query":
        return json_response(
            start_response,
            {"query_string": environ["QUERY_STRING"], "fields": query},
        )
    if path == "/form" and environ["REQUEST_METHOD"] == "POST":
        body = read_body(environ)
        return json_response(
            start_response,
            {
                "content_type": environ["CONTENT_TYPE"],
                "content_length": environ["CONTENT_LENGTH"],
                "fields": parse_qs(body.decode("ascii")),
            },
        )
    if path == "/upload" and environ["REQUEST_METHOD"] == "POST":
        body = read_body(environ)
        parts = multipart_parts(body, environ["CONTENT_TYPE"])
        return json_response(
            start_response,
            {
                "body_sha256": hashlib.sha256(body).hexdigest(),
                "body_length": len(body),
                "parts": {
                    name: {
                        "filename": filename,
                        "sha256": hashlib.sha256(content).hexdigest(),
                        "length": len(content),
                    }
                    for name, filename, content in parts
                },
            },
        )
    if path == "/stream":
        start_response("200 OK", list(TEXT))
        return stream(
            environ["pep3333.records"],
            environ["pep3333.id"],
            chunks=int(query.get("chunks", ["5"])[0]),
            delay=float(query.get("delay", ["0"])[0]),
            fail_after=int(query["fail_after"][0]) if "fail_after" in query else None,
        )
    if path == "/collect":
        gc.collect()
        start_response("200 OK", list(TEXT))
        return [b"ok\n"]
    start_response("404 Not Found", list(TEXT))
    return [b"not found\n"]


def json_response(start_response, data):
    start_response("200 OK", list(JSON))
    return [json.dumps(data, sort_keys=True).encode()]


def stream(records, request_id, chunks, delay, fail_after):
    sent = 0
    try:
        for i in range(chunks):
            if i == fail_after:
                raise DeliberateFailure(f"pep3333: deliberate failure after {i}")
            if i:
                time.sleep(delay)
            yield f"chunk {i}\n".encode()
            sent += 1
        yield b"done\n"
    finally:
        records.event("ended", request_id, sent=sent)


def read_body(environ):
    """Read CONTENT_LENGTH bytes from wsgi.input, in pieces: ``read(size)``,
    the only form that the validator lets an application call."""
    left = int(environ.get("CONTENT_LENGTH") or 0)
    pieces = []
    while left > 0:
        piece = environ["wsgi.input"].read(min(left, READ_SIZE))
        if not piece:
            break
        pieces.append(piece)
        left -= len(piece)
    return b"".join(pieces)


def header_param(header, value, name):
    message = Message()
    message[header] = value
    return message.get_param(name, header=header)


def multipart_parts(body, content_type):
    """The parts of a multipart/form-data body: (name, filename, content),
    the content byte for byte (RFC 7578)."""
    boundary = header_param("content-type", content_type, "boundary")
    if not boundary:
        raise ValueError(f"no boundary in {content_type!r}")
    sections = (b"\r\n" + body).split(b"\r\n--" + boundary.encode("ascii"))
    if len(sections) < 2 or not sections[-1].startswith(b"--"):
        raise ValueError("no closing boundary")
    parts = []
    for section in sections[1:-1]:
        if not section.startswith(b"\r\n"):
            raise ValueError("a boundary line with something after it")
        head, separator, content = section[2:].partition(b"\r\n\r\n")
        if not separator:
            raise ValueError("a part with no blank line after its headers")
        headers = dict(
            line.decode("utf-8").split(":", 1) for line in head.split(b"\r\n")
        )
        headers = {k.strip().lower(): v.strip() for k, v in headers.items()}
        disposition = headers["content-disposition"]
        parts.append(
            (
                header_param("content-disposition", disposition, "name"),
                header_param("content-disposition", disposition, "filename"),
                content,
            )
        )
    return parts
