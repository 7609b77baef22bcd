"""One small Twisted service, started two ways: by ``greeting.tac`` with
``twistd -y``, and by the plugin ``twistd greeting``
(docs/explanation/tac-and-tap.rst)."""
