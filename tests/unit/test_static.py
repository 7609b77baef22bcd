"""SafeFiles on a tree in tmp_path: regular files inside the root only, with
a cache header that depends on whether the name is hashed."""

import os

import pytest
from twisted.web.resource import getChildForRequest
from twisted.web.static import File
from twisted.web.test._util import _render
from twisted.web.test.requesthelper import DummyRequest

from twistd_django.static import ONE_YEAR, SafeFiles

HASHED = "style.3f2a9c1b7d4e.css"


@pytest.fixture
def tree(tmp_path):
    """static/ with files, a dotfile, a subfolder and symlinks; outside/
    beside it, which must not be reachable."""
    static, outside = tmp_path / "static", tmp_path / "outside"
    (static / "sub").mkdir(parents=True)
    outside.mkdir()
    (static / HASHED).write_bytes(b"body{color:red}")
    (static / "style.css").write_bytes(b"body{color:blue}")
    (static / ".env").write_bytes(b"SECRET_KEY=x")
    (static / ".git").mkdir()
    (static / ".git" / "config").write_bytes(b"[core]")
    (static / "sub" / "page.txt").write_bytes(b"a page")
    (outside / "secret.txt").write_bytes(b"outside the root")
    os.symlink(static / "style.css", static / "inside-link.css")
    os.symlink(outside / "secret.txt", static / "escape.txt")
    os.symlink(outside, static / "escape-dir")
    return static


def get(resource, path, method=b"GET"):
    """Traverse ``resource`` for ``path`` as the Site would, and render."""
    request = DummyRequest(path.lstrip(b"/").split(b"/"))
    request.method = method
    request.uri = path
    child = getChildForRequest(resource, request)
    _render(child, request)
    return request


def status(request):
    return request.responseCode or 200


def body(request):
    return b"".join(request.written)


def test_a_plain_file_is_served_with_no_cache(tree):
    request = get(SafeFiles(str(tree)), b"/style.css")
    assert status(request) == 200
    assert body(request) == b"body{color:blue}"
    assert request.responseHeaders.getRawHeaders(b"cache-control") == [b"no-cache"]


def test_a_hashed_file_is_cached_for_a_year(tree):
    request = get(SafeFiles(str(tree)), HASHED.encode())
    assert body(request) == b"body{color:red}"
    assert request.responseHeaders.getRawHeaders(b"cache-control") == [ONE_YEAR]
    assert ONE_YEAR == b"public, max-age=31536000, immutable"


def test_a_head_request_gets_the_cache_header_and_no_body(tree):
    request = get(SafeFiles(str(tree)), HASHED.encode(), method=b"HEAD")
    assert body(request) == b""
    assert request.responseHeaders.getRawHeaders(b"cache-control") == [ONE_YEAR]


@pytest.mark.parametrize(
    "name",
    [
        "style.3f2a9c1b7d4.css",  # 11 hex digits
        "style.3f2a9c1b7d4eX.css",
        "style.3F2A9C1B7D4E.css",  # Django's hashes are lower case.
        "3f2a9c1b7d4e",
    ],
)
def test_a_name_that_only_looks_hashed_gets_no_cache(tree, name):
    (tree / name).write_bytes(b"x")
    request = get(SafeFiles(str(tree)), b"/" + name.encode())
    assert body(request) == b"x"
    assert request.responseHeaders.getRawHeaders(b"cache-control") == [b"no-cache"]


def test_a_file_in_a_subfolder_is_served(tree):
    request = get(SafeFiles(str(tree)), b"/sub/page.txt")
    assert body(request) == b"a page"


def test_a_directory_is_not_listed(tree):
    request = get(SafeFiles(str(tree)), b"/sub/")
    assert status(request) == 404
    assert b"page.txt" not in body(request)


def test_the_root_directory_is_not_listed(tree):
    request = get(SafeFiles(str(tree)), b"/")
    assert status(request) == 404
    assert b"style.css" not in body(request)


def test_a_directory_without_its_slash_is_redirected_not_listed(tree):
    request = get(SafeFiles(str(tree)), b"/sub")
    assert status(request) in (301, 302)
    assert request.responseHeaders.getRawHeaders(b"location") == [b"/sub/"]
    assert b"page.txt" not in body(request)


@pytest.mark.parametrize("path", [b"/.env", b"/.git/config", b"/sub/.."])
def test_a_dotfile_is_not_found(tree, path):
    request = get(SafeFiles(str(tree)), path)
    assert status(request) == 404
    assert b"SECRET_KEY" not in body(request)
    assert b"[core]" not in body(request)


def test_a_missing_file_is_not_found(tree):
    assert status(get(SafeFiles(str(tree)), b"/nope.css")) == 404


def test_a_null_byte_is_not_found_rather_than_an_error(tree):
    request = get(SafeFiles(str(tree)), b"/style.css\x00.txt")
    assert status(request) == 404


def test_a_symlink_out_of_the_root_is_not_found(tree):
    request = get(SafeFiles(str(tree)), b"/escape.txt")
    assert status(request) == 404
    assert b"outside the root" not in body(request)


def test_a_file_through_a_symlinked_folder_out_of_the_root_is_not_found(tree):
    request = get(SafeFiles(str(tree)), b"/escape-dir/secret.txt")
    assert status(request) == 404
    assert b"outside the root" not in body(request)


def test_plain_twisted_file_does_follow_the_escaping_symlink(tree):
    """The check above is SafeFiles' doing: Twisted's File serves it."""
    assert body(get(File(str(tree)), b"/escape.txt")) == b"outside the root"


def test_a_symlink_inside_the_root_is_served(tree):
    request = get(SafeFiles(str(tree)), b"/inside-link.css")
    assert status(request) == 200
    assert body(request) == b"body{color:blue}"


def test_a_root_reached_through_a_symlink_serves_its_files(tree, tmp_path):
    os.symlink(tree, tmp_path / "current")
    files = SafeFiles(str(tmp_path / "current"))
    assert files.root == str(tree.resolve())
    assert body(get(files, b"/sub/page.txt")) == b"a page"


def test_children_keep_the_root_of_their_parent(tree):
    files = SafeFiles(str(tree))
    child = files.getChild(b"sub", DummyRequest([]))
    assert isinstance(child, SafeFiles)
    assert child.root == files.root == str(tree.resolve())


def test_a_fifo_inside_the_root_is_not_served(tree):
    os.mkfifo(tree / "pipe")
    child = SafeFiles(str(tree)).getChild(b"pipe", DummyRequest([]))
    # Not rendered: opening a FIFO for reading blocks until a writer comes.
    assert not isinstance(child, File)
