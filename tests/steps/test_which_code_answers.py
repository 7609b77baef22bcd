"""Each step's command runs that step's code, and the package's its own.

Every step folder has a plugin, and the package installs one: Twisted
imports every module of every twisted/plugins folder on sys.path, so a name
two of them shared would be chosen by path order. The steps use the
package ``djangostep`` and the tapname ``djangostep``; the package is
``twistd_django``, tapname ``django``.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import twistd_django.options
from support.daemon import TWISTD
from support.steps import ROOT, SITE, STEPS

WHO_ANSWERS = """
import json, sys
from twisted.application.service import IServiceMaker
from twisted.plugin import getPlugins
makers = list(getPlugins(IServiceMaker))
tapname = sys.argv[1]
chosen = [m for m in makers if m.tapname == tapname]
options = [sys.modules[m.options.__module__].__file__ for m in chosen]
print(json.dumps({
    "tapnames": sorted(m.tapname for m in makers),
    "options_files": options,
    "description": [m.description for m in chosen],
}))
"""


def step_env(folder):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = os.pathsep.join([str(folder), str(SITE)])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def ask(folder, tapname):
    result = subprocess.run(
        [sys.executable, "-c", WHO_ANSWERS, tapname],
        cwd=folder,
        env=step_env(folder),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout)


TAP_STEPS = [s for s in STEPS if s.kind == "tap"]


@pytest.mark.parametrize("step", TAP_STEPS, ids=lambda s: s.id)
def test_the_steps_tapname_loads_the_steps_own_options(step, tmp_path):
    folder = step.copy_to(tmp_path)
    tapname = step.args[0]
    found = ask(folder, tapname)
    # One plugin per tapname, whatever else is on the path.
    assert len(found["tapnames"]) == len(set(found["tapnames"])), found
    [options_file] = found["options_files"]
    # Beside any step, `twistd django` is the installed package.
    [package_options] = ask(folder, "django")["options_files"]
    assert package_options == twistd_django.options.__file__
    assert Path(package_options).is_relative_to(ROOT / "src")
    if step.installed:
        assert tapname == "django"
        assert options_file == package_options
    else:
        assert tapname == "djangostep"
        assert Path(options_file) == folder / "djangostep" / "options.py"
        assert Path(step.path).name in found["description"][0]


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.id)
def test_twistd_lists_both_plugins_beside_every_step(step, tmp_path):
    """No step hides the package's plugin, nor the package a step's."""
    folder = step.copy_to(tmp_path)
    result = subprocess.run(
        [TWISTD, "--help"],
        cwd=folder,
        env=step_env(folder),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    commands = result.stdout.partition("Commands:")[2]
    names = re.findall(r"^ {4}(\S+)", commands, re.MULTILINE)
    assert names.count("django") == 1, commands
    has_step_plugin = step.kind == "tap" and not step.installed
    assert names.count("djangostep") == (1 if has_step_plugin else 0), commands
