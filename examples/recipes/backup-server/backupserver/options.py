"""The options of ``twistd backup-server``: the production plugin's, and more."""

from twisted.python import usage

from twistd_django.options import DjangoOptions, seconds, thread_count


class BackupServerOptions(DjangoOptions):
    optParameters = [
        [
            "agents",
            None,
            "tcp:7001:interface=127.0.0.1",
            "Endpoint on which backup agents connect.",
        ],
        [
            "orm-threads",
            None,
            "2",
            "Threads (so database connections) for the agents' ORM work.",
        ],
        [
            "call-timeout",
            None,
            "2",
            "How long a Django view waits for the Twisted side, in seconds.",
        ],
    ]

    def postOptions(self):
        super().postOptions()
        for name, check in (
            ("orm-threads", thread_count),
            ("call-timeout", seconds(0.1, 60)),
        ):
            try:
                self[name] = check(self[name])
            except ValueError as error:
                raise usage.UsageError(f"--{name}: {error}") from None
