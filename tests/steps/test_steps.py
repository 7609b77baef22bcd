"""Every step in examples/steps.toml does what it claims, daemonized and not."""

import re

import pytest

from support.http import get, hangs
from support.steps import STEPS

MODES = [pytest.param(True, id="daemonized"), pytest.param(False, id="foreground")]


def serves_static(step):
    """The steps built on twistd_django mount STATIC_ROOT at STATIC_URL."""
    return (step.folder / "twistd_django" / "resource.py").exists()


@pytest.mark.parametrize("daemonize", MODES)
@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.id)
def test_step_does_what_it_claims(twistd, step, daemonize):
    daemon = twistd(step, daemonize=daemonize)
    claim = step.claim(daemonize)
    if claim == "serves":
        page = get(daemon.port, "/", timeout=5)
        assert page.status == 200
        assert "Backup catalogue" in page.text
        if serves_static(step):
            css_url = re.search(r'href="(/static/[^"]+\.css)"', page.text)[1]
            css = get(daemon.port, css_url)
            assert css.status == 200
            assert css.headers["Content-Type"].startswith("text/css")
    else:
        assert claim == "hangs"
        assert hangs(daemon.port, "/", timeout=2)
        assert daemon.running(), "a hanging daemon must still be alive"
    daemon.stop()  # SIGTERM: the process exits and its pidfile is gone.
