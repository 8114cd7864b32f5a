"""Remake the README's screenshots of pynn's learner views in headless Chromium.

    python scripts/screenshots.py [--out docs/images]

Needs Debian's ``chromium`` and ``chromium-driver`` (or PYNN_CHROMIUM / PYNN_CHROMEDRIVER) and
selenium, as the browser tests do (tests/browser_support.py).  Writes:

- ``playground.png``: the playground after training two spirals for a while;
- ``playground-explain.png``: a weight clicked, its chain rule shown (circle data set, plain SGD);
- ``playground-symmetry.png``: the symmetry lesson (every weight starting at 0.5) after training;
- ``playground-lr-sweep.png``: the learning-rate sweep lesson;
- ``explain-2-2-2.png``: ``Explanation.to_html`` of the hand-worked 2-2-2 example (when
  pynn.explain_html can render it).

Everything is seeded, the playground runs in float64 and the script makes the training steps itself
(as the page would ask for them), so the pictures only change when the page or the numbers do.
"""
import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from browser_support import click_element, start_browser, stop_browser, wait_for  # noqa: E402

import pynn  # noqa: E402
from pynn.playground import make_server  # noqa: E402


def train(driver, server, steps, per_frame=20):
    """Train ``steps`` steps as the page does (``per_frame`` a request, one loss-curve point each),
    but from here, so that every run makes the same pictures; then reload the page."""
    for _ in range(steps // per_frame):
        server.session.step(per_frame)
    open_page(driver, server)
    time.sleep(0.3)


def open_page(driver, server):
    driver.get(server.url)
    wait_for(lambda: driver.execute_script("return document.body.dataset.ready === '1'"), message="the page")


def click_weight(driver, index):
    """Click weight ``index`` (its place in get_weights() flattened) and wait for its chain rule."""
    selector = '#net [data-weight="%d"]' % index
    click_element(driver, selector)
    wait_for(lambda: driver.execute_script(
        "return document.getElementById('explain-body').dataset.index === arguments[0]", str(index)),
        message="the explanation")
    driver.execute_script("document.getElementById('tip').style.display = 'none'")  # the hover label
    time.sleep(0.3)


def playground_shots(driver, out):
    server = make_server(port=0)
    server.session.configure({"dataset": "spirals-2", "hidden": [8, 6], "activation": "tanh", "lr": 0.01,
                              "optimizer": "adam", "batch_size": 10, "seed": 0})
    server.start()
    try:
        train(driver, server, 3000)
        save(driver, out, "playground.png")

        # a weight's chain rule, on plain SGD so that the update is w - lr * dE/dw
        server.session.configure({"dataset": "circle", "hidden": [4, 3], "activation": "tanh", "lr": 0.3,
                                  "optimizer": "sgd", "batch_size": 8, "seed": 0})
        train(driver, server, 400)
        click_weight(driver, 2 * 4 + 4 + 1 * 3 + 2)  # W2[1,2]: after W1 (2x4) and b1 (4)
        save(driver, out, "playground-explain.png")

        driver.execute_script("window.scrollTo(0, 0)")
        driver.find_element("css selector", 'button[data-preset="symmetry"]').click()
        wait_for(lambda: server.session.config["init"] == "constant", message="the symmetry preset")
        train(driver, server, 400)
        save(driver, out, "playground-symmetry.png")

        driver.execute_script("window.scrollTo(0, 0)")
        driver.find_element("css selector", 'button[data-preset="lr-sweep"]').click()
        wait_for(lambda: server.session.comparison is not None, message="the learning-rate sweep: %s"
                 % driver.find_element("id", "status").text)
        train(driver, server, 500)
        save(driver, out, "playground-lr-sweep.png")
    finally:
        server.stop()


def explain_shot(driver, out):
    try:
        net = pynn.Network([pynn.Dense(2, 2, "sigmoid"), pynn.Dense(2, 2, "sigmoid")], loss="mse",
                           optimizer=pynn.SGD(lr=0.5), dtype="float64")
        net.set_weights([[[0.15, 0.25], [0.20, 0.30]], [0.35, 0.35], [[0.40, 0.50], [0.45, 0.55]], [0.60, 0.60]])
        step = net.explain_step([[0.05, 0.10]], [[0.01, 0.99]])
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "step.html")
            step.to_html(path)
            driver.get("file://" + path)
            time.sleep(0.5)
            # click the weight w5 (W2[0,0]) to show its chain rule, as a learner would
            selector = 'line[data-key="W2[0,0]"]'
            if driver.execute_script("return !!document.querySelector(arguments[0])", selector):
                click_element(driver, selector)
                time.sleep(0.3)
                driver.execute_script("window.scrollTo(0, 0)")
            save(driver, out, "explain-2-2-2.png")
    except (ImportError, NotImplementedError, AttributeError) as exc:
        print("skipped explain-2-2-2.png: Explanation.to_html is not available (%s: %s)" % (type(exc).__name__, exc))


def save(driver, out, name):
    """Screenshot the viewport to ``out/name``, cut below the page's content (with Pillow)."""
    path = os.path.join(out, name)
    driver.save_screenshot(path)
    bottom = driver.execute_script(
        "const m = document.querySelector('main') || document.body;"
        "return Math.ceil(Math.max(...[...m.children].map((c) => c.getBoundingClientRect().bottom))) + 16;")
    try:
        from PIL import Image
    except ImportError:
        pass
    else:
        with Image.open(path) as image:
            if 0 < bottom < image.height:
                image.crop((0, 0, image.width, bottom)).save(path, optimize=True)
    print("wrote", path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "images"), help="directory for the PNGs")
    parser.add_argument("--only", choices=["playground", "explain"], help="make only these screenshots")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    driver = start_browser(width=1320, height=1400)
    try:
        if args.only in (None, "playground"):
            playground_shots(driver, args.out)
        if args.only in (None, "explain"):
            explain_shot(driver, args.out)
    finally:
        stop_browser(driver)
    return 0


if __name__ == "__main__":
    sys.exit(main())
