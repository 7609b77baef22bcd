"""The ``twistd django`` plugin of the twistd-django package.

twistd imports every plugin module on every run, so this one imports
nothing of the package: Twisted's ``ServiceMaker`` loads
``twistd_django.tap`` only when ``twistd django`` is asked for.
"""

from twisted.application.service import ServiceMaker

serviceMaker = ServiceMaker(
    "twistd-django",
    "twistd_django.tap",
    "Serve a Django project over HTTP (the twistd-django package).",
    "django",
)
