"""Serve a Django project from twistd: ``twistd django``, and its parts.

Importing this package, or any module in it, configures nothing and starts
nothing: the plugin builds the service when twistd asks it to.
"""

__version__ = "0.2.0"
