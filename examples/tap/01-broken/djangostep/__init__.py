"""Serve a Django project from twistd: the parts the plugin puts together."""
