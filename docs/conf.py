"""Sphinx configuration for the cookbook "Django on twistd".

Build with warnings as errors, as `make docs` does:

    sphinx-build -n -W --keep-going -b html docs docs/_build/html
"""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent

# Local extensions: every module in docs/_ext (steps_table gives the
# steps-table directive).
EXT = DOCS / "_ext"
sys.path.insert(0, str(EXT))

# The package, from this checkout: autodoc documents it, and the options
# table reads it. (The repository's .venv has it installed, editable, from
# the same folder.)
sys.path.insert(0, str(ROOT / "src"))
import twistd_django  # noqa: E402

# The commands that command-output runs ("python ...") use the Python that
# runs Sphinx, the virtualenv's, even when its bin/ is not on PATH.
_bindir = os.path.dirname(sys.executable)
if os.environ.get("PATH", "").split(os.pathsep)[0] != _bindir:
    os.environ["PATH"] = os.pathsep.join(
        p for p in (_bindir, os.environ.get("PATH")) if p
    )

project = "Django on twistd"
author = "The Django on twistd authors"
copyright = "the Django on twistd authors"
# The package's version, shown where a page names its wheel.
version = release = twistd_django.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.extlinks",
    "sphinxcontrib.programoutput",
    *sorted(path.stem for path in EXT.glob("[!_]*.py")),
]

# No intersphinx: the build must work without a network. The :twisted: role
# is twisted_refs.py's: it checks that each name imports, and links it where
# Twisted's API docs put it.
extlinks = {
    "django": ("https://docs.djangoproject.com/en/stable/%s", "%s"),
    "ticket": ("https://github.com/twisted/twisted/issues/%s", "#%s"),
}

# :diff: headers name files from the repository's root (relative_diff.py).
diff_relative_to = str(ROOT)

# The list of tutorial steps that the steps-table directive renders.
steps_table_file = str(ROOT / "examples" / "steps.toml")

exclude_patterns = ["_build"]
nitpicky = True

# docs/reference/api.rst. Twisted's names link to its API docs
# (twisted_refs.py); these have no inventory to link to, and no intersphinx
# without a network.
autodoc_member_order = "bysource"
nitpick_ignore = [
    ("py:class", "logging.Handler"),
]
highlight_language = "none"

html_theme = "furo"
html_title = project
