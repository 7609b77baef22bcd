"""Listen on an endpoint, and say plainly why it failed if it cannot."""

from twisted.application import strports
from twisted.application.service import Service
from twisted.internet.defer import gatherResults
from twisted.internet.error import CannotListenError


class ListenError(Exception):
    """Short enough for twistd's status pipe, which passes on 100 bytes."""


class ListeningService(Service):
    """``strports.service``, whose failure to listen stops the start-up and
    reaches the shell that launched a daemon, with a message that names the
    address. twistd calls ``privilegedStartService`` before it drops
    privileges: that is where the port is bound, and where a bind fails."""

    def __init__(self, reactor, description, factory):
        self.factory = factory
        self.endpoint_service = strports.service(description, factory, reactor=reactor)

    def privilegedStartService(self):
        super().privilegedStartService()
        try:
            self.endpoint_service.privilegedStartService()
        except CannotListenError as error:
            reason = getattr(error.socketError, "strerror", None) or error.socketError
            raise ListenError(
                f"{reason}: {error.interface or '*'}:{error.port}"
            ) from error

    def startService(self):
        super().startService()
        self.endpoint_service.startService()

    def stopService(self):
        """Stop listening. A factory with a ``drain()`` (``LimitedSite``)
        then finishes its connections: the service stops once both are
        done."""
        super().stopService()
        stopped = self.endpoint_service.stopService()
        drain = getattr(self.factory, "drain", None)
        if drain is None:
            return stopped
        return gatherResults([stopped, drain()], consumeErrors=True).addCallback(
            lambda _: None
        )
