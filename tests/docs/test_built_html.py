"""The built HTML holds no path of the machine it was built on.

A page shows files of the repository, and ``:diff:`` headers name two of
them: they must say ``examples/tap/01-broken/...``, relative to the
repository, not the folder of a checkout (docs/_ext/relative_diff.py). The
test builds the docs into a temporary folder, as ``make docs`` does, and
looks for the checkout's path and the output's path in every file.
"""

import subprocess
import sys

import pytest

from support.tutorial import DOCS, ROOT


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    out = tmp_path_factory.mktemp("html")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", "-b", "html", str(DOCS), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return out


def test_no_page_holds_the_build_folders_path(html):
    found = []
    for page in sorted(html.rglob("*")):
        if page.is_file() and page.suffix in (".html", ".txt", ".js"):
            text = page.read_text(errors="replace")
            for path in (str(ROOT), str(html)):
                if path in text:
                    at = text.index(path)
                    found.append(
                        f"{page.relative_to(html)}: {text[at - 60 : at + 80]!r}"
                    )
    assert found == []


def test_diff_headers_name_files_from_the_repository_root(html):
    page = (html / "tutorial/tap/02-threadpool-service.html").read_text()
    assert (
        '<span class="gd">--- examples/tap/01-broken/twisted/plugins/django_site.py'
        "</span>"
    ) in page
    assert (
        '<span class="gi">+++ examples/tap/02-threadpool-service/twisted/plugins/'
        "django_site.py</span>"
    ) in page
