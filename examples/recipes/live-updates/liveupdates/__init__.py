"""Live updates: the backup server pushes each new snapshot to the Django
page over a WebSocket, on the site's own port, checked by Django's session."""
