"""Load a Django project's WSGI application."""

import os


def django_application(settings_module):
    """Configure Django with ``settings_module`` and return its WSGI callable."""
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()
