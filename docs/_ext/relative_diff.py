"""``literalinclude``'s ``:diff:`` headers, with paths relative to the repository.

Sphinx names both files of a ``:diff:`` by their absolute paths, so a built
page would show ``--- /home/someone/checkout/examples/tap/...``: the folder
it happened to be built in. This names them from the folder that
``diff_relative_to`` gives (conf.py: the repository's root), as ``git diff``
would: ``--- examples/tap/01-broken/...``. A path outside that folder keeps
its absolute form. ``tests/docs/test_built_html.py`` checks that no built
page holds the build's folder.
"""

import os
from difflib import unified_diff

from sphinx.directives import code


def relative(path, root):
    path = os.path.abspath(path)
    root = os.path.abspath(root)
    if os.path.commonpath([path, root]) != root:
        return path
    return os.path.relpath(path, root)


class RelativeDiffReader(code.LiteralIncludeReader):
    root = None  # Set from the config when the builder starts.

    def show_diff(self, location=None):
        new_lines = self.read_file(self.filename)
        old_filename = self.options["diff"]
        old_lines = self.read_file(old_filename)
        root = self.root or os.getcwd()
        diff = unified_diff(
            old_lines,
            new_lines,
            relative(old_filename, root),
            relative(self.filename, root),
        )
        return list(diff)


def configure(app):
    RelativeDiffReader.root = app.config.diff_relative_to or app.srcdir


def setup(app):
    app.add_config_value("diff_relative_to", None, "env")
    code.LiteralIncludeReader = RelativeDiffReader
    app.connect("builder-inited", configure)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
