"""twistd plugin: ``twistd django-tls``: the production plugin, plus --http2.

Serve over TLS with the production plugin's ``--listen`` and Twisted's
``ssl:`` endpoint. With the ``h2`` package installed (``twisted[http2]``),
Twisted's ``Site`` offers HTTP/2 through ALPN on its own; ``--http2=no``
offers only HTTP/1.1, for a client or a proxy that mishandles HTTP/2.
"""

from twisted.application.service import IServiceMaker
from twisted.plugin import IPlugin
from zope.interface import implementer

from twistd_django.options import DjangoOptions, Parameter, yes_no

DjangoTLSOptions = DjangoOptions.extended(
    "DjangoTLSOptions",
    {
        "http2": Parameter(
            None,
            "yes",
            "Offer HTTP/2 through ALPN, if h2 is installed.",
            yes_no(),
            "yes/no",
        ),
    },
)


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
            # Site.acceptableProtocols() is what ALPN offers.
            service.site.acceptableProtocols = http11_only
        return service


serviceMaker = DjangoTLSMaker()
