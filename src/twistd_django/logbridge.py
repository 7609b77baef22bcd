"""Send Python's ``logging`` records, Django's among them, to Twisted's log."""

import logging

from twisted.logger import Logger, LogLevel
from twisted.python.failure import Failure

LEVELS = [
    (logging.CRITICAL, LogLevel.critical),
    (logging.ERROR, LogLevel.error),
    (logging.WARNING, LogLevel.warn),
    (logging.INFO, LogLevel.info),
]


class TwistedLogHandler(logging.Handler):
    """Emit each record as a Twisted log event, with its traceback if any."""

    def emit(self, record):
        level = next((t for p, t in LEVELS if record.levelno >= p), LogLevel.debug)
        log = Logger(namespace=record.name)
        message = self.format(record) if self.formatter else record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            _, value, tb = record.exc_info
            log.failure(
                "{message}",
                failure=Failure(value, type(value), tb),
                level=level,
                message=message,
            )
        else:
            log.emit(level, "{message}", message=message)


def install(level=logging.WARNING):
    """Add the handler to the root logger, once: a second call returns the
    handler already there, at ``level``. Django's own loggers propagate to
    it, so with DEBUG off a 500's traceback reaches the twistd log."""
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler, TwistedLogHandler):
            handler.setLevel(level)
            return handler
    handler = TwistedLogHandler(level)
    root.addHandler(handler)
    return handler
