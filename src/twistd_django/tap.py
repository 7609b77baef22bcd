"""What twistd asks the plugin for: ``Options``, and ``makeService``."""

from twistd_django.options import DjangoOptions as Options

__all__ = ["Options", "makeService"]


def makeService(options):
    """Check Twisted's internals, then build the service from ``options``."""
    from twisted.internet import reactor

    from twistd_django import twisted_private
    from twistd_django.service import django_service

    twisted_private.check()
    return django_service(options, reactor)
