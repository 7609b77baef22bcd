"""twistd plugin: ``twistd django-tls``: the production plugin, plus --http2.

Serve over TLS with the production plugin's ``--listen`` and Twisted's
``ssl:`` endpoint. With the ``h2`` package installed (``twisted[http2]``),
Twisted's ``Site`` offers HTTP/2 through ALPN on its own; ``--http2=no``
offers only HTTP/1.1, for a client or a proxy that mishandles HTTP/2.
"""

from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import IServiceMaker
from twisted.plugin import IPlugin
from twisted.python import usage
from twisted.web.server import Site
from zope.interface import implementer

from twistd_django.options import DjangoOptions, yes_no


class DjangoTLSOptions(DjangoOptions):
    optParameters = [
        ["http2", None, "yes", "Offer HTTP/2 through ALPN, if h2 is installed."],
    ]

    def postOptions(self):
        super().postOptions()
        try:
            self["http2"] = yes_no()(self["http2"])
        except ValueError as error:
            raise usage.UsageError(f"--http2: {error}") from None


def http11_only():
    return [b"http/1.1"]


@implementer(IServiceMaker, IPlugin)
class DjangoTLSMaker:
    tapname = "django-tls"
    description = "Serve a Django project; --http2=no turns HTTP/2 off."
    options = DjangoTLSOptions

    def makeService(self, options):
        from twisted.internet import reactor

        from twistd_django.service import django_service

        service = django_service(options, reactor)
        if not options["http2"]:
            for child in service:
                if isinstance(child, StreamServerEndpointService) and isinstance(
                    child.factory, Site
                ):
                    # Site.acceptableProtocols() is what ALPN offers.
                    child.factory.acceptableProtocols = http11_only
        return service


serviceMaker = DjangoTLSMaker()
