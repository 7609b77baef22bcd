"""The ``twistd django`` plugin of the twistd-django package, and its
``reuseport:`` endpoint.

twistd imports every plugin module on every run, so this one imports
nothing of the package: Twisted's ``ServiceMaker`` loads
``twistd_django.tap`` only when ``twistd django`` is asked for, and the
endpoint parser loads ``twistd_django.reuseport`` only when a
``reuseport:`` description is parsed.
"""

from twisted.application.service import ServiceMaker
from twisted.internet.interfaces import IStreamServerEndpointStringParser
from twisted.plugin import IPlugin
from zope.interface import implementer

serviceMaker = ServiceMaker(
    "twistd-django",
    "twistd_django.tap",
    "Serve a Django project over HTTP (the twistd-django package).",
    "django",
)


@implementer(IPlugin, IStreamServerEndpointStringParser)
class ReusePortParser:
    """``reuseport:PORT[:interface=ADDRESS][:backlog=N]``: TCP, with the port
    shared by every process that listens on it the same way."""

    prefix = "reuseport"

    def parseStreamServer(self, reactor, *args, **kwargs):
        from twistd_django.reuseport import parse

        return parse(reactor, *args, **kwargs)


reusePortParser = ReusePortParser()
