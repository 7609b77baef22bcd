"""A logging handler for servers that replace sys.stderr after Django starts."""

import logging
import sys


class StderrHandler(logging.StreamHandler):
    """Write to whatever ``sys.stderr`` is when a record is logged.

    ``logging.StreamHandler()`` keeps the ``sys.stderr`` of the moment Django
    configures logging. twistd loads the site first, and only then replaces
    ``sys.stderr`` with a file that writes to its log (and a daemon's real
    stderr is /dev/null), so the tracebacks would never reach the log.
    """

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        """Ignore the stream that StreamHandler.__init__ sets."""
