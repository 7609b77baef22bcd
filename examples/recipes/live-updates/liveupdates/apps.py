from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_out


class LiveUpdatesConfig(AppConfig):
    name = "liveupdates"
    verbose_name = "Live updates"

    def ready(self):
        user_logged_out.connect(session_ended, dispatch_uid="liveupdates-logout")


def session_ended(sender, request, user, **kwargs):
    """A logout in this process closes that session's WebSockets at once
    (through the bridge, from the view's thread to the reactor's). The hub's
    periodic re-check catches the rest: expiry, a logout in another process."""
    from backupserver import bridge

    key = getattr(request, "session", None) and request.session.session_key
    if not key:
        return
    try:
        bridge.call("end_session", key)
    except (bridge.Unavailable, bridge.Timeout):
        pass  # Another WSGI server, or a busy reactor: the re-check will do.
