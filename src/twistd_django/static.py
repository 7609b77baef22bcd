"""Serve a directory of files safely: no listings, no dotfiles, no escapes."""

import os
import re

from twisted.web.pages import notFound
from twisted.web.static import File

# ManifestStaticFilesStorage names: style.3f2a9c1b7d4e.css
HASHED_NAME = re.compile(rb"\.[0-9a-f]{12}\.[^./]+$")
ONE_YEAR = b"public, max-age=31536000, immutable"


class SafeFiles(File):
    """A static ``File`` that serves only regular files inside its root.

    Twisted's ``File`` lists directories, serves dotfiles, follows symlinks
    wherever they lead, and answers a null byte in the path with a 500.
    """

    def __init__(self, path, *args, root=None, **kwargs):
        super().__init__(path, *args, **kwargs)
        self.root = root or os.path.realpath(path)

    def createSimilarFile(self, path):
        similar = super().createSimilarFile(path)
        similar.root = self.root
        return similar

    def directoryListing(self):
        return notFound("No such file.")

    def getChild(self, name, request):
        if name.startswith(b".") or b"\0" in name:
            return notFound("No such file.")
        child = super().getChild(name, request)
        inside = os.path.realpath(getattr(child, "path", self.root))
        if isinstance(child, File) and not (
            inside == self.root or inside.startswith(self.root + os.sep)
        ):
            return notFound("No such file.")
        if (
            isinstance(child, File)
            and child.exists()
            and not (child.isfile() or child.isdir())
        ):
            # A FIFO or a device: opening it could block the reactor.
            return notFound("No such file.")
        return child

    def render_GET(self, request):
        if self.isdir():
            return super().render_GET(request)
        if HASHED_NAME.search(self.basename().encode()):
            request.setHeader(b"cache-control", ONE_YEAR)
        else:
            request.setHeader(b"cache-control", b"no-cache")
        return super().render_GET(request)

    render_HEAD = render_GET
