"""DjangoRoot: everything goes to the WSGI resource, with the path as
Django must see it, except what is under a mounted prefix."""

import pytest
from twisted.web.resource import Resource, getChildForRequest
from twisted.web.test.requesthelper import DummyRequest

from twistd_django.resource import DjangoRoot


class Leaf(Resource):
    isLeaf = True

    def __init__(self, name):
        super().__init__()
        self.name = name


@pytest.fixture
def root():
    root = DjangoRoot(Leaf("django"))
    root.mount("/static/", Leaf("static"))
    root.mount("/files/media/", Leaf("media"))
    root.mount("/files/", Leaf("files"))
    return root


def traverse(root, path):
    """As Site.getResourceFor: the path's segments, then the traversal."""
    request = DummyRequest(path[1:].split(b"/"))
    resource = getChildForRequest(root, request)
    return resource.name, request.prepath, request.postpath


def test_a_django_path_reaches_the_wsgi_resource_whole(root):
    assert traverse(root, b"/catalogue/backups/3") == (
        "django",
        [],
        [b"catalogue", b"backups", b"3"],
    )


def test_the_site_root_reaches_django_with_an_empty_script_name(root):
    assert traverse(root, b"/") == ("django", [], [b""])


def test_a_mounted_prefix_reaches_its_resource(root):
    assert traverse(root, b"/static/css/site.css") == (
        "static",
        [b"static"],
        [b"css", b"site.css"],
    )


def test_the_longest_mount_wins_whatever_the_order_of_mounting(root):
    assert traverse(root, b"/files/media/a.jpg") == (
        "media",
        [b"files", b"media"],
        [b"a.jpg"],
    )
    assert traverse(root, b"/files/other.txt") == ("files", [b"files"], [b"other.txt"])


def test_a_path_that_only_starts_like_a_mount_goes_to_django(root):
    assert traverse(root, b"/staticfiles/x") == ("django", [], [b"staticfiles", b"x"])


def test_mounting_over_django_is_refused():
    root = DjangoRoot(Leaf("django"))
    for prefix in ["/", "", "//"]:
        with pytest.raises(ValueError, match="cannot mount over Django"):
            root.mount(prefix, Leaf("x"))


def test_render_goes_to_the_wsgi_resource():
    class Answer(Resource):
        isLeaf = True

        def render(self, request):
            return b"from django"

    request = DummyRequest([])
    request.render(DjangoRoot(Answer()))
    assert request.written == [b"from django"]
