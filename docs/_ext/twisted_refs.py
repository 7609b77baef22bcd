"""Link Python cross-references to Twisted's names to Twisted's API docs.

autodoc names Twisted's classes as bases (``Bases: twisted.web.resource.
Resource``), and a docstring or page may name them with ``:class:``. With no
intersphinx (the build must work without a network), such a reference has no
target, which ``-n`` makes an error. This resolves every unresolved ``py``
reference whose target is in the ``twisted`` package to its page on
docs.twisted.org, the same address as the ``:twisted:`` role of conf.py's
extlinks. Other unresolved references still fail the build.
"""

from docutils import nodes

API = "https://docs.twisted.org/en/stable/api/{}.html"


def resolve(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    if not target.startswith("twisted.") or "._" in target:
        return None  # Not Twisted's, or a private name: no page to link to.
    reference = nodes.reference(
        "", "", internal=False, refuri=API.format(target), reftitle=target
    )
    reference += contnode
    return reference


def setup(app):
    app.connect("missing-reference", resolve)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
