"""twistd -y plugin_unbuffered.tac: the production plugin as it was before
tuning, writing every response back with one blocking call per chunk.

$PLUGIN_ARGS holds the plugin's options, as for ``twistd django``.
"""

import os
import shlex

from twisted.application import service
from twisted.internet import reactor

from twistd_django.options import DjangoOptions
from twistd_django.service import django_service

options = DjangoOptions()
options.parseOptions(shlex.split(os.environ["PLUGIN_ARGS"]))
application = service.Application("plugin-unbuffered")
django_service(options, reactor, buffered=False).setServiceParent(application)
