"""The example site's settings, with the agents' pages added."""

from backupsite.settings import *  # noqa: F403
from backupsite.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "agents"]
ROOT_URLCONF = "backupserver.urls"
