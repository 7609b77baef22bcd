"""The options of ``twistd backup-server``: the production plugin's, and more.

They are read from the plugin's config file too, under ``[django]``.
"""

from twistd_django.options import DjangoOptions, Parameter, seconds, text, thread_count

BackupServerOptions = DjangoOptions.extended(
    "BackupServerOptions",
    {
        "agents": Parameter(
            None,
            "tcp:7001:interface=127.0.0.1",
            "Endpoint on which backup agents connect.",
            text,
            "endpoint",
        ),
        "orm-threads": Parameter(
            None,
            "2",
            "Threads (so database connections) for the agents' ORM work.",
            thread_count,
            "threads",
        ),
        "call-timeout": Parameter(
            None,
            "2",
            "How long a Django view waits for the Twisted side.",
            seconds(0.1, 60),
            "seconds",
        ),
    },
)
