"""Link Twisted's names to Twisted's API docs, at the address pydoctor gives them.

Two ways in:

* The ``:twisted:`` role, ``:twisted:`twisted.internet.threads.blockingCallFromThread```
  (or ``:twisted:`the title <twisted.plugin.getPlugins>```). The name must
  import from the installed Twisted, or the build fails: a link to a name that
  moved, or never existed, is caught here and not by a reader.
* autodoc's references to Twisted's classes (``Bases: twisted.web.resource.
  Resource``) and a docstring's ``:class:`twisted...```. With no intersphinx
  (the build must work without a network) such a reference has no target,
  which ``-n`` makes an error; this resolves each one whose name imports.
  Other unresolved references still fail the build.

pydoctor, which builds Twisted's API docs, gives each module, class and
interface a page of its own, ``<full name>.html``, and puts everything else
(a function, a method, a constant) on the page of the module or class that
holds it, at an anchor of its name: ``twisted.internet.threads.html#
blockingCallFromThread``, ``twisted.python.threadpool.ThreadPool.html#start``.
:func:`url_for` follows that layout; ``tests/docs/test_twisted_refs.py``
checks every ``:twisted:`` name of every page with it.
"""

import importlib
import inspect

from docutils import nodes
from sphinx.util.nodes import split_explicit_title

API = "https://docs.twisted.org/en/stable/api/"


class NotTwisted(LookupError):
    """The name is not one that the installed Twisted has."""


def find(name):
    """The object that ``name`` names, and the name of the module or class
    that holds it (None for a module)."""
    if not (name == "twisted" or name.startswith("twisted.")):
        raise NotTwisted(f"{name!r} is not in the twisted package")
    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        module_name = ".".join(parts[:split])
        try:
            obj = importlib.import_module(module_name)
        except ImportError:
            continue
        holder = None
        for index, attribute in enumerate(parts[split:], split):
            holder = ".".join(parts[:index])
            try:
                obj = getattr(obj, attribute)
            except AttributeError:
                raise NotTwisted(
                    f"{name!r}: {holder} has no attribute {attribute!r}"
                ) from None
        return obj, holder
    raise NotTwisted(f"{name!r}: no module of it imports")


def has_own_page(obj):
    """Modules, classes and zope interfaces have a page of their own."""
    if inspect.ismodule(obj) or inspect.isclass(obj):
        return True
    try:
        from zope.interface.interface import InterfaceClass
    except ImportError:  # pragma: no cover - Twisted depends on zope.interface
        return False
    return isinstance(obj, InterfaceClass)


def url_for(name):
    """The address of ``name`` in Twisted's API docs; NotTwisted if it
    does not import."""
    obj, holder = find(name)
    if holder is None or has_own_page(obj):
        return f"{API}{name}.html"
    return f"{API}{holder}.html#{name.rsplit('.', 1)[1]}"


def twisted_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    has_title, title, target = split_explicit_title(text)
    try:
        uri = url_for(target)
    except NotTwisted as error:
        message = inliner.reporter.error(
            f":twisted: link to a name the installed Twisted lacks: {error}",
            line=lineno,
        )
        problem = inliner.problematic(rawtext, rawtext, message)
        return [problem], [message]
    reference = nodes.reference(rawtext, title if has_title else target, refuri=uri)
    return [reference], []


def resolve(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    if not target.startswith("twisted.") or "._" in target:
        return None  # Not Twisted's, or a private name: no page to link to.
    try:
        uri = url_for(target)
    except NotTwisted:
        return None  # Unresolved: -n reports it.
    reference = nodes.reference("", "", internal=False, refuri=uri, reftitle=target)
    reference += contnode
    return reference


def setup(app):
    app.add_role("twisted", twisted_role)
    app.connect("missing-reference", resolve)
    return {"version": "2", "parallel_read_safe": True, "parallel_write_safe": True}
