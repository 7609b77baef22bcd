"""Run N copies of a server on one listening socket, and stop them together."""
