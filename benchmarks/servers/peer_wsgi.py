"""The example site for the WSGI servers that have no static file server of
their own: Django, with WhiteNoise serving STATIC_ROOT in the WSGI pool."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backupsite.settings")

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from whitenoise import WhiteNoise  # noqa: E402

application = WhiteNoise(
    get_wsgi_application(), root=settings.STATIC_ROOT, prefix=settings.STATIC_URL
)
