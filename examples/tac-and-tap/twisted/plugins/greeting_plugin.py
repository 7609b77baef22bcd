"""twistd greeting: the service of greeting.tac, as a twistd plugin.

twistd imports this module on every run, to list its subcommands: keep it
cheap, and import the service only in makeService.
"""

from twisted.application.service import IServiceMaker
from twisted.plugin import IPlugin
from twisted.python import usage
from zope.interface import implementer


class Options(usage.Options):
    optParameters = [
        ["listen", "l", "tcp:8000:interface=127.0.0.1", "The endpoint to listen on."],
        ["text", "t", "Hello from a plugin", "The line to answer with."],
    ]


@implementer(IServiceMaker, IPlugin)
class GreetingMaker:
    tapname = "greeting"
    description = "Answer every GET with one line of text."
    options = Options

    def makeService(self, options):
        from twisted.logger import Logger

        from greeting.service import greeting_service

        # What this plugin's options object holds: its own options, no more.
        Logger().info("greeting's options: {options}", options=dict(options))
        return greeting_service(options["listen"], options["text"])


serviceMaker = GreetingMaker()
