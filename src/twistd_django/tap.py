"""What twistd asks the plugin for: ``Options``, and ``makeService``."""

from twistd_django.options import DjangoOptions as Options

__all__ = ["Options", "makeService"]


def makeService(options):
    """Build the service from ``options``."""
    from twisted.internet import reactor

    from twistd_django.service import django_service

    return django_service(options, reactor)
