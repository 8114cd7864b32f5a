"""Headless Chromium for the tests that drive a page in a real browser (issue 15).

Use it from a test module (assigned rather than imported, which keeps pyflakes quiet)::

    import browser_support
    browser = browser_support.browser  # the fixture

    def test_page(browser):
        browser.get(url)
        ...

``browser`` is a selenium WebDriver for Debian's ``chromium`` driven through
Debian's ``chromium-driver`` (``/usr/bin/chromedriver``), headless, with a
temporary profile, started once per test session.  Both paths are passed to
selenium explicitly, so selenium-manager never runs and nothing is
downloaded.  Every wait is bounded: page loads and scripts time out after
``TIMEOUT`` seconds, so a hang fails the test instead of stalling CI.

Without selenium, Chromium or the driver the tests that use the fixture are
skipped, unless ``PYNN_REQUIRE_BROWSER=1`` (CI sets it): then they fail.
The paths can be overridden with ``PYNN_CHROMIUM`` and ``PYNN_CHROMEDRIVER``.

Helpers: :func:`wait_for` (poll a condition with a deadline) and
:func:`free_port` are shared with the tests too.
"""
import os
import shutil
import socket
import tempfile
import time

import pytest

TIMEOUT = 30.0  # seconds: page loads, scripts, and wait_for's default deadline

_CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _find(env, names, fallbacks=()):
    path = os.environ.get(env)
    if path:
        return path if os.path.isfile(path) else None
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    for path in fallbacks:
        if os.path.isfile(path):
            return path
    return None


def _unavailable(reason):
    """Skip, or fail when CI requires the browser."""
    if os.environ.get("PYNN_REQUIRE_BROWSER") == "1":
        pytest.fail("PYNN_REQUIRE_BROWSER=1 but " + reason)
    pytest.skip(reason)


def _chrome_binary(path):
    """Debian's /usr/bin/chromium is a shell wrapper; selenium wants the browser itself."""
    real = "/usr/lib/chromium/chromium"
    return real if os.path.realpath(path) == "/usr/bin/chromium" and os.path.isfile(real) else path


def start_browser(width=1280, height=900):
    """A new headless Chromium driver (call ``.quit()`` when done); raises RuntimeError with the
    reason when selenium, Chromium or chromedriver is missing."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        raise RuntimeError("selenium is not installed (pip install selenium)")
    chromium = _find("PYNN_CHROMIUM", _CHROMIUM_NAMES)
    if chromium is None:
        raise RuntimeError("Chromium is not installed (apt-get install chromium)")
    driver_path = _find("PYNN_CHROMEDRIVER", ("chromedriver",), ("/usr/lib/chromium/chromedriver",))
    if driver_path is None:
        raise RuntimeError("chromedriver is not installed (apt-get install chromium-driver)")
    profile = tempfile.mkdtemp(prefix="pynn-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = _chrome_binary(chromium)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-sync", "--disable-component-update",
                "--hide-scrollbars", "--force-device-scale-factor=1",
                "--window-size=%d,%d" % (width, height), "--user-data-dir=" + profile):
        options.add_argument(arg)
    try:
        driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    except Exception:
        shutil.rmtree(profile, ignore_errors=True)
        raise
    driver.set_page_load_timeout(TIMEOUT)
    driver.set_script_timeout(TIMEOUT)
    driver.pynn_profile = profile
    return driver


def stop_browser(driver):
    try:
        driver.quit()
    finally:
        shutil.rmtree(getattr(driver, "pynn_profile", ""), ignore_errors=True)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium (a selenium WebDriver) for the whole test session."""
    try:
        driver = start_browser()
    except RuntimeError as exc:
        _unavailable(str(exc))
    except Exception as exc:  # the browser or driver is there but would not start
        _unavailable("headless Chromium did not start: %s: %s" % (type(exc).__name__, exc))
    try:
        yield driver
    finally:
        stop_browser(driver)


def wait_for(condition, timeout=TIMEOUT, interval=0.05, message="condition"):
    """Call ``condition()`` until it returns something truthy and return that; AssertionError
    naming ``message`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, message))
        time.sleep(interval)


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_POINT_ON = """
const el = document.querySelector(arguments[0]);
if (!el) return null;
const svg = el.ownerSVGElement, m = el.getScreenCTM ? el.getScreenCTM() : null;
const read = (k) => Number(el.getAttribute(k));
const on = (x, y) => { const hit = document.elementFromPoint(x, y); return !!hit && (hit === el || el.contains(hit)); };
if (el.tagName !== 'line' || !m) {
  const r = el.getBoundingClientRect();
  for (const [fx, fy] of [[0.5, 0.5], [0.3, 0.5], [0.7, 0.5], [0.5, 0.3], [0.5, 0.7], [0.2, 0.2], [0.8, 0.8]]) {
    const x = r.left + fx * r.width, y = r.top + fy * r.height;
    if (on(x, y)) return [x, y];
  }
  return null;
}
for (const t of [0.5, 0.35, 0.65, 0.25, 0.75, 0.15, 0.85, 0.1, 0.9]) {
  const p = svg.createSVGPoint();
  p.x = read('x1') + t * (read('x2') - read('x1'));
  p.y = read('y1') + t * (read('y2') - read('y1'));
  const q = p.matrixTransform(m);
  if (on(q.x, q.y)) return [q.x, q.y];
}
return null;
"""


def click_element(driver, selector):
    """Click the element matching the CSS ``selector`` with a real mouse click at a point where it
    (or one of its children) is on top -- for an SVG line, a point along it that no other element
    covers -- scrolling it into view first.  AssertionError if no such point exists."""
    from selenium.webdriver.common.actions.action_builder import ActionBuilder

    driver.execute_script("document.querySelector(arguments[0]).scrollIntoView({block: 'center'})", selector)
    point = driver.execute_script(_POINT_ON, selector)
    if point is None:
        raise AssertionError("no visible point of %s to click" % selector)
    builder = ActionBuilder(driver)
    builder.pointer_action.move_to_location(int(round(point[0])), int(round(point[1])))
    builder.pointer_action.click()
    builder.perform()
