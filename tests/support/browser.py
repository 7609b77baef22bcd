"""A real browser for the tests: Debian's chromium, driven by Selenium through
Debian's chromium-driver. Nothing downloads a browser: Selenium gets the
driver's path, so its own manager stays out of it.

``.ci/run`` installs both packages (``apt-get install chromium
chromium-driver``); outside CI a test that needs them skips and says how to
install them.
"""

import os
import shutil

import pytest

INSTALL = "apt-get install chromium chromium-driver (Debian, Ubuntu)"
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",  # Root in a container has no user namespace for it.
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--password-store=basic",
    "--window-size=1000,640",
]


def find(*names):
    path = os.pathsep.join(
        [os.environ.get("PATH", ""), "/usr/bin", "/usr/lib/chromium"]
    )
    for name in names:
        found = shutil.which(name, path=path)
        if found:
            return found
    return None


def chromium_or_skip():
    """The paths of chromium and its driver, and Selenium; skip (fail in CI)
    when one is missing."""
    missing = []
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package (the test extra)")
    browser = find("chromium", "chromium-browser")
    driver = find("chromedriver", "chromium-driver")
    if browser is None:
        missing.append(f"chromium ({INSTALL})")
    if driver is None:
        missing.append(f"chromedriver ({INSTALL})")
    if missing:
        message = "a real browser needs " + ", ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(f"{message}: .ci/run should have installed it.")
        pytest.skip(message)
    return browser, driver


def start_chromium(profile_dir, log_path):
    """A headless chromium with a fresh profile in ``profile_dir``; the
    driver's log goes to ``log_path``. The caller quits it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = chromium_or_skip()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile_dir}")
    service = Service(executable_path=driver, log_output=str(log_path))
    chrome = webdriver.Chrome(options=options, service=service)
    chrome.set_page_load_timeout(30)
    chrome.set_script_timeout(10)
    return chrome
