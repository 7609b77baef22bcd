"""The live-updates recipe in a real browser: Debian's chromium, through
Selenium and Debian's chromium-driver (tests/support/browser.py).

A user logs in through the login page and opens the snapshot list; an agent
reports over TCP, and the row is in the page's DOM within 2 s, without a
reload; the daemon stops and starts again, and the page says "reconnecting",
then "live", and gets the next snapshot. The test saves a screenshot of the
live page: with UPDATE_SCREENSHOTS=1, it becomes the how-to's
(docs/howto/push-live-updates.png).
"""

import os
import shutil
import time

import pytest

from support.browser import chromium_or_skip, start_chromium
from support.live import make_sessions, password, start_live, state
from support.procs import wait_until
from support.recipes import LineClient
from support.site import prepare_site
from support.steps import ROOT

SCREENSHOT = ROOT / "docs" / "howto" / "push-live-updates.png"
PUSH_DEADLINE = 2.0


@pytest.fixture
def chrome(tmp_path):
    chromium_or_skip()
    browser = start_chromium(tmp_path / "profile", tmp_path / "chromedriver.log")
    yield browser
    browser.quit()


def until(browser, condition, timeout, what):
    """Poll ``condition(browser)`` every 50 ms until it is true; its value."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(browser, timeout, poll_frequency=0.05).until(condition)
    except TimeoutException:
        raise AssertionError(
            f"no {what} within {timeout} s; the page says {live_state(browser)!r}"
        ) from None


def live_state(browser):
    return browser.execute_script(
        "var s = document.getElementById('live-status');"
        " return s && [s.dataset.state, s.textContent];"
    )


def row(browser, snapshot_id):
    from selenium.webdriver.common.by import By

    found = browser.find_elements(By.CSS_SELECTOR, f'tr[data-snapshot="{snapshot_id}"]')
    return found[0] if found else None


def report(daemon, host, label, status="ok", size=734_003_200):
    with LineClient(daemon.agents_port) as agent:
        assert agent.ask(f"HELLO {host}") == f"OK hello {host}"
        answer = agent.ask(f"REPORT {status} {size} {label}", timeout=20)
    assert answer.startswith("OK "), answer
    return int(answer.split()[1])


def reported_row_appears(browser, daemon, host, label):
    """Report a snapshot; assert its row is in the DOM within 2 s."""
    sent = time.monotonic()
    snapshot_id = report(daemon, host, label)
    element = until(
        browser, lambda b: row(b, snapshot_id), PUSH_DEADLINE + 1, f"row {label}"
    )
    took = time.monotonic() - sent
    assert took <= PUSH_DEADLINE, f"the row took {took:.2f} s"
    assert host in element.text and label in element.text
    return element


def test_rows_arrive_live_and_the_page_reconnects(twistd, chrome, tmp_path):
    from selenium.webdriver.common.by import By

    # A database of its own: the screenshot shows these rows only.
    data = prepare_site(tmp_path / "site-data")
    make_sessions(data, [("operator", True, 3600)])
    daemon = start_live(twistd, data=data)
    for host, label, status, size in [
        ("web1", "/home", "ok", 48_234_496),
        ("db1", "/var/lib/postgresql", "ok", 2_254_857_830),
        ("mail", "/var/mail", "failed", 0),
    ]:
        report(daemon, host, label, status, size)

    # Log in through the login page; it sends us to the snapshot list.
    chrome.get(f"http://127.0.0.1:{daemon.port}/accounts/login/?next=/")
    chrome.find_element(By.ID, "id_username").send_keys("operator")
    chrome.find_element(By.ID, "id_password").send_keys(password("operator"))
    chrome.find_element(By.ID, "log-in").click()
    until(chrome, lambda b: live_state(b) == ["live", "live"], 15, "live page")
    assert chrome.current_url == f"http://127.0.0.1:{daemon.port}/"
    chrome.execute_script("window.notReloaded = true;")

    # An agent reports over TCP: the row is in the DOM within 2 s.
    new_row = reported_row_appears(chrome, daemon, "web2", "/srv/www")
    assert "new" in new_row.get_attribute("class")
    assert chrome.execute_script("return window.notReloaded") is True
    shot = tmp_path / "push-live-updates.png"
    chrome.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("UPDATE_SCREENSHOTS"):
        shutil.copyfile(shot, SCREENSHOT)

    # Stop the daemon: the page says "reconnecting".
    daemon.stop()
    until(chrome, lambda b: live_state(b)[0] == "reconnecting", 10, "reconnecting")
    assert live_state(chrome) == ["reconnecting", "reconnecting"]

    # Start it again on the same port: "live" again, and the next snapshot.
    again = start_live(twistd, port=daemon.port, data=data)
    until(chrome, lambda b: live_state(b) == ["live", "live"], 20, "live again")
    assert wait_until(lambda: state(again)["connections"] == 1, 5)
    reported_row_appears(chrome, again, "db2", "/etc")
    assert chrome.execute_script("return window.notReloaded") is True
    again.stop()


def test_the_how_to_has_a_screenshot_of_the_live_page():
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
