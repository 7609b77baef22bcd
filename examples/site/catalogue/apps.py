import sys
import warnings

from django.apps import AppConfig
from django.conf import settings
from django.core.signals import request_started


class CatalogueConfig(AppConfig):
    name = "catalogue"
    verbose_name = "Backup catalogue"

    def ready(self):
        if getattr(settings, "SECRET_KEY_WARNING", None):
            request_started.connect(warn_again, dispatch_uid=__name__)


def warn_again(**kwargs):
    """Repeat the settings' warning about the secret key, on the first request.

    twistd loads the site before it starts its log: what the settings print
    goes to the terminal, or nowhere once twistd has become a daemon. By the
    first request, twistd writes stderr and warnings to its log.
    """
    request_started.disconnect(warn_again, dispatch_uid=__name__)
    print(f"WARNING: {settings.SECRET_KEY_WARNING}", file=sys.stderr)
    warnings.warn(settings.SECRET_KEY_WARNING, RuntimeWarning, stacklevel=1)
