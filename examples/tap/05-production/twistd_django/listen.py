"""Listen on an endpoint, and say plainly why it failed if it cannot."""

from twisted.application.internet import StreamServerEndpointService
from twisted.internet import endpoints
from twisted.internet.error import CannotListenError


class ListenError(Exception):
    """Short enough for twistd's status pipe, which passes on 100 bytes."""


class ListeningService(StreamServerEndpointService):
    """Like ``strports.service``: a failure to listen stops the start-up,
    and reaches the shell that launched a daemon, not only its log."""

    _raiseSynchronously = True

    def __init__(self, reactor, description, factory):
        super().__init__(endpoints.serverFromString(reactor, description), factory)

    def privilegedStartService(self):
        try:
            super().privilegedStartService()
        except CannotListenError as error:
            reason = getattr(error.socketError, "strerror", None) or error.socketError
            raise ListenError(
                f"{reason}: {error.interface or '*'}:{error.port}"
            ) from error
