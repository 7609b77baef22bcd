"""``manage.py migrate``, which first creates the directory of the database.

SQLite creates the database file but not its directory, and the settings
create nothing when they are imported.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.commands.migrate import Command as MigrateCommand


class Command(MigrateCommand):
    def handle(self, *args, **options):
        database = settings.DATABASES[options["database"]]
        if database["ENGINE"] == "django.db.backends.sqlite3":
            Path(database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        super().handle(*args, **options)
