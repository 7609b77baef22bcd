"""The root resource: Django at ``/``, and directories of files beside it."""

from twisted.web.resource import NoResource, Resource
from twisted.web.static import File


class FilesWithoutListing(File):
    """A static ``File`` that answers 404 for a directory with no index page."""

    def directoryListing(self):
        return NoResource("No such file.")


class DjangoRoot(Resource):
    """Send every request to the WSGI resource, except under a mounted prefix.

    ``WSGIResource`` cannot have children, so this resource sits above it.
    Django keeps an empty ``SCRIPT_NAME``: the path segment that Twisted has
    already consumed is put back before the request reaches the WSGI resource.
    """

    def __init__(self, wsgi):
        super().__init__()
        self.wsgi = wsgi
        self.mounts = []

    def mount(self, url_prefix, resource):
        """Serve ``resource`` at ``url_prefix``, for example ``"/static/"``."""
        segments = [s.encode() for s in url_prefix.strip("/").split("/") if s]
        if not segments:
            raise ValueError(f"cannot mount over Django at {url_prefix!r}")
        self.mounts.append((segments, resource))
        self.mounts.sort(key=lambda mount: -len(mount[0]))

    def getChildWithDefault(self, name, request):
        for segments, resource in self.mounts:
            if [name, *request.postpath[: len(segments) - 1]] == segments:
                for _ in segments[1:]:
                    request.prepath.append(request.postpath.pop(0))
                return resource
        request.postpath.insert(0, request.prepath.pop())
        return self.wsgi

    def render(self, request):
        return self.wsgi.render(request)


def django_root(wsgi, static_root=None):
    """Build the root resource: Django, with its static files at STATIC_URL."""
    from django.conf import settings

    root = DjangoRoot(wsgi)
    static_root = static_root or settings.STATIC_ROOT
    static_url = settings.STATIC_URL or ""
    if static_root and static_url.startswith("/"):
        root.mount(static_url, FilesWithoutListing(str(static_root)))
    return root
