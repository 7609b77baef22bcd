"""The options of ``twistd live-updates``: the backup server's, and the
WebSocket's limits. They are read from the plugin's config file too."""

from backupserver.options import BackupServerOptions
from twistd_django.options import Parameter, seconds, whole_number

LiveUpdatesOptions = BackupServerOptions.extended(
    "LiveUpdatesOptions",
    {
        "live-max-message": Parameter(
            None,
            "4096",
            "Close a WebSocket (1009) whose page sends a message over this size.",
            whole_number(1),
            "bytes",
        ),
        "live-max-connections": Parameter(
            None,
            "1000",
            "Answer 503 to a WebSocket handshake past this many in all.",
            whole_number(1),
            "connections",
        ),
        "live-max-per-user": Parameter(
            None,
            "10",
            "Answer 429 to a user's WebSocket handshake past this many of theirs.",
            whole_number(1),
            "connections",
        ),
        "live-backlog": Parameter(
            None,
            "262144",
            "Drop a page that reads too slowly once this much waits for it.",
            whole_number(1),
            "bytes",
        ),
        "live-recheck": Parameter(
            None,
            "10",
            "Check the sessions of the open WebSockets this often; close those"
            " that ended.",
            seconds(0.1, 3600),
            "seconds",
        ),
        "live-ping": Parameter(
            None,
            "20",
            "Ping each WebSocket this often; drop one that missed two pongs.",
            seconds(0.1, 3600),
            "seconds",
        ),
    },
)
