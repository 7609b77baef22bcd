# twistd -y greeting.tac: twistd runs this file, and takes the variable
# named "application". A .tac file gets no options of its own: it reads
# its settings from the environment.
import os

from twisted.application.service import Application

from greeting.service import greeting_service

application = Application("greeting")
greeting_service(
    os.environ.get("GREETING_LISTEN", "tcp:8000:interface=127.0.0.1"),
    os.environ.get("GREETING_TEXT", "Hello from a .tac file"),
).setServiceParent(application)
