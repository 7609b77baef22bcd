"""The root resource: Django at ``/``, and directories of files beside it."""

from twisted.web.resource import Resource

from twistd_django.static import SafeFiles


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


def django_root(wsgi, static_root=None, media_root=None):
    """Build the root resource: Django, with STATIC_ROOT at STATIC_URL and
    MEDIA_ROOT at MEDIA_URL when they are local paths."""
    from django.conf import settings

    root = DjangoRoot(wsgi)
    for directory, url in (
        (static_root or settings.STATIC_ROOT, settings.STATIC_URL),
        (media_root or settings.MEDIA_ROOT, settings.MEDIA_URL),
    ):
        if directory and url and url.startswith("/"):
            root.mount(url, SafeFiles(str(directory)))
    return root
