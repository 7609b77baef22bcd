"""Who is on the other end of a WebSocket: Django's session and user, looked
up in the ORM pool. Every function here blocks: run it with ``OrmPool.run()``,
never in the reactor thread."""

from dataclasses import dataclass
from importlib import import_module
from types import SimpleNamespace

from django.conf import settings
from django.contrib import auth

PERMISSION = "catalogue.view_snapshot"


@dataclass(frozen=True)
class Viewer:
    """The user of one session, and whether they may see snapshots."""

    session_key: str
    user_id: int
    username: str
    allowed: bool


def viewer(session_key, permission=PERMISSION):
    """The ``Viewer`` of ``session_key``, or None for an anonymous session (no
    such session, expired, logged out, or a user gone or inactive).

    Django decides, as for a request: the session engine of the settings
    loads the session, and ``django.contrib.auth.get_user`` its user, which
    also checks the session's hash against the user's password."""
    engine = import_module(settings.SESSION_ENGINE)
    request = SimpleNamespace(session=engine.SessionStore(session_key))
    user = auth.get_user(request)
    if not user.is_authenticated:
        return None
    return Viewer(session_key, user.pk, user.get_username(), user.has_perm(permission))


def viewers(session_keys, permission=PERMISSION):
    """``viewer()`` for each key: a dict of key to Viewer or None."""
    return {key: viewer(key, permission) for key in session_keys}
