"""The backup server's settings, with the live page and a login page."""

from backupserver.settings import *  # noqa: F403
from backupserver.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "liveupdates"]
ROOT_URLCONF = "liveupdates.urls"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
