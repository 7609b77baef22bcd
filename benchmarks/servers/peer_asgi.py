"""The example site for daphne: Django's ASGI handler (no static files)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backupsite.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()
