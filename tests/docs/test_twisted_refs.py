"""Every ``:twisted:`` link of the docs names what the installed Twisted has,
at the address Twisted's API docs give it (docs/_ext/twisted_refs.py).

pydoctor, which builds those docs, gives each module, class and interface a
page, ``<name>.html``, and puts a function, method or constant on the page
of its module or class, at an anchor: ``twisted.plugin.html#getPlugins``.
"""

import importlib
import inspect
import re
import sys

import pytest

from support.tutorial import DOCS

sys.path.insert(0, str(DOCS / "_ext"))
twisted_refs = importlib.import_module("twisted_refs")

ROLE = re.compile(r":twisted:`(?:[^`<]*<)?([^`>]+)>?`")
API = "https://docs.twisted.org/en/stable/api/"


def targets():
    found = {}
    for page in sorted(DOCS.rglob("*.rst")):
        if "_build" in page.parts:
            continue
        for target in ROLE.findall(page.read_text()):
            found.setdefault(target, str(page.relative_to(DOCS)))
    return found


TARGETS = targets()


def test_the_pages_use_the_role():
    assert len(TARGETS) >= 15


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_each_target_imports_and_links_where_pydoctor_puts_it(target):
    module_name, _, attribute = target.rpartition(".")
    try:
        obj = importlib.import_module(target)
    except ImportError:
        holder = importlib.import_module(module_name) if module_name else None
        if holder is None or not hasattr(holder, attribute):
            # A method or attribute of a class: import the class's module.
            owner_module, _, owner = module_name.rpartition(".")
            holder = getattr(importlib.import_module(owner_module), owner)
        obj = getattr(holder, attribute)
    own_page = (
        inspect.ismodule(obj)
        or inspect.isclass(obj)
        or (type(obj).__name__ == "InterfaceClass")
    )
    expected = (
        f"{API}{target}.html" if own_page else f"{API}{module_name}.html#{attribute}"
    )
    assert twisted_refs.url_for(target) == expected, TARGETS[target]


@pytest.mark.parametrize(
    "target, url",
    [
        (
            "twisted.internet.threads.blockingCallFromThread",
            "twisted.internet.threads.html#blockingCallFromThread",
        ),
        ("twisted.plugin.getPlugins", "twisted.plugin.html#getPlugins"),
        ("twisted.plugin.pluginPackagePaths", "twisted.plugin.html#pluginPackagePaths"),
        (
            "twisted.python.threadpool.ThreadPool.start",
            "twisted.python.threadpool.ThreadPool.html#start",
        ),
        (
            "twisted.application.service.IServiceMaker",
            "twisted.application.service.IServiceMaker.html",
        ),
        ("twisted.internet.threads", "twisted.internet.threads.html"),
    ],
)
def test_the_layout(target, url):
    assert twisted_refs.url_for(target) == API + url


@pytest.mark.parametrize(
    "target",
    [
        "twisted.plugin.getPlugin",
        "twisted.internet.nothreads",
        "django.conf",
        "twistedx",
    ],
)
def test_a_name_twisted_lacks_is_refused(target):
    with pytest.raises(twisted_refs.NotTwisted):
        twisted_refs.url_for(target)
