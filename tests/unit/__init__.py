"""In-process unit tests of the twistd_django package, with Twisted's own
test doubles: no daemons, no sockets, no sleeps.

This folder is a package so that its module names (``unit.test_options``)
do not clash with same-named test modules elsewhere under ``tests/``.
"""
