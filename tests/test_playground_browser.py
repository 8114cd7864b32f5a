"""pynn playground in headless Chromium (issue 15): the page loads, Start lowers the loss shown,
a clicked weight shows the chain rule of the next step with the network's own numbers, and a
request without the token is refused.  Skipped without Chromium unless PYNN_REQUIRE_BROWSER=1.

The server runs in this process (on the backend the autouse fixture chose), so the test can
compare what the page shows with the served network itself.
"""
import copy
import json
import urllib.parse

import numpy as np
import pytest

import browser_support
from browser_support import click_element, wait_for

browser = browser_support.browser  # the fixture: one headless Chromium for the session
from pynn.playground import make_server

TOLERANCE = 1e-12  # the page shows rounded text but keeps each number's full value in data-value


@pytest.fixture
def playground():
    server = make_server(port=0).start()
    try:
        yield server
    finally:
        server.stop()


def dom_number(driver, selector):
    value = driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.dataset.value : null", selector)
    return None if value in (None, "") else float(value)


def open_page(driver, server):
    driver.get(server.url)
    wait_for(lambda: driver.execute_script("return document.body.dataset.ready === '1'"), message="the page")
    assert driver.title == "pynn playground"
    assert driver.find_element("id", "status").text == ""


def wait_until_idle(driver, server):
    """After Pause: wait until the page shows the step count the server has (no request in flight)."""
    def settled():
        shown = driver.execute_script("return document.getElementById('steps').dataset.value")
        busy = driver.execute_script("return document.getElementById('start').textContent")
        return busy == "Start" and shown == str(server.session.steps)
    wait_for(settled, message="the page to show the last step")


def test_page_loads_and_start_lowers_the_loss_shown(browser, playground, backend):
    open_page(browser, playground)
    session = playground.session
    assert browser.find_element("id", "backend-badge").text.endswith(
        ("C core backend" if backend == "c" else "numpy backend"))
    start = dom_number(browser, "#loss")
    assert start == pytest.approx(session.net.evaluate(session.data.X, session.data.y)["loss"], rel=TOLERANCE)
    browser.find_element("id", "start").click()
    wait_for(lambda: session.steps >= 200, message="200 training steps")
    browser.find_element("id", "start").click()  # pause
    wait_until_idle(browser, playground)
    shown = dom_number(browser, "#loss")
    with session.lock:
        scores = session.net.evaluate(session.data.X, session.data.y)  # independently, on the served network
    assert shown == pytest.approx(scores["loss"], rel=TOLERANCE)
    assert dom_number(browser, "#accuracy") == pytest.approx(scores["accuracy"])
    assert shown < 0.5 * start
    text = browser.find_element("id", "loss").text
    assert float(text.replace("−", "-")) == pytest.approx(shown, rel=1e-3)  # the text is the value, rounded
    # one Step button press is one step
    steps = session.steps
    browser.find_element("id", "step").click()
    wait_for(lambda: browser.execute_script("return document.getElementById('steps').dataset.value")
             == str(steps + 1), message="one step")
    assert session.steps == steps + 1


def _explained(driver):
    return driver.execute_script("""
        const body = document.getElementById('explain-body');
        if (!body.dataset.index) return null;
        const rows = [...body.querySelectorAll('#chain tr[data-row]')].map((tr) => {
          const r = {row: Number(tr.dataset.row)};
          for (const td of tr.querySelectorAll('td[data-field]')) r[td.dataset.field] = td.dataset.value === undefined ? null : Number(td.dataset.value);
          return r;
        });
        const num = (sel) => { const e = body.querySelector(sel); return e && e.dataset.value !== undefined ? Number(e.dataset.value) : null; };
        return {index: Number(body.dataset.index), step: Number(body.dataset.step), rows: rows,
                grad: num('#expl-grad'), old: num('[data-field=old]'), lr: num('[data-field=lr]'),
                new: num('[data-field=new]'), text: body.innerText, check: document.getElementById('backend-check').className};
    """)


@pytest.mark.parametrize("layer, i, j", [(0, 1, 2), (2, 3, 0)])  # W1[1,2] (into a hidden neuron), W3[3,0] (output)
def test_clicking_a_weight_shows_its_chain_rule_numbers(browser, playground, layer, i, j):
    open_page(browser, playground)
    session = playground.session
    browser.find_element("id", "step").click()
    wait_for(lambda: session.steps == 1 and browser.execute_script(
        "return document.getElementById('steps').dataset.value") == "1", message="one step")
    sizes = [2] + session.config["hidden"] + [1]
    index = sum(sizes[l] * sizes[l + 1] + sizes[l + 1] for l in range(layer)) + i * sizes[layer + 1] + j
    click_element(browser, '#net .hit[data-weight="%d"]' % index)
    shown = wait_for(lambda: (lambda e: e if e and e["index"] == index else None)(_explained(browser)),
                     message="the explanation of weight %d" % index)
    assert "W%d[%d,%d]" % (layer + 1, i, j) in shown["text"]
    assert shown["step"] == session.steps + 1 == 2

    # the same step, independently: explain_step on a copy of the served network, its next batch
    batch = session.next_batch()
    X, y = session.data.X[batch], session.data.y[batch]
    before = [w.copy() for w in session.net.get_weights()]
    step = copy.deepcopy(session.net).explain_step(X, y)
    row = step.weights[index]
    gradient = session.net.gradients(X, y)[2 * layer][i, j]  # the backend's own gradient
    assert [r["row"] for r in shown["rows"]] == batch.tolist()
    total = 0.0
    for r, term in zip(shown["rows"], row.terms):
        for field in ("dE_dout", "dout_dnet", "delta", "dnet_dw", "product"):
            expected = getattr(term, field)
            assert (r[field] is None) == (expected is None), field
            if expected is not None:
                assert r[field] == pytest.approx(expected, rel=TOLERANCE, abs=1e-300)
        if r["dE_dout"] is not None:  # ∂E/∂out · ∂out/∂net · ∂net/∂w, multiplied here
            assert r["dE_dout"] * r["dout_dnet"] * r["dnet_dw"] == pytest.approx(r["product"], rel=1e-12, abs=1e-16)
        total += r["product"]
    assert total == pytest.approx(gradient, rel=1e-9, abs=1e-15)
    assert shown["grad"] == pytest.approx(gradient, rel=1e-9, abs=1e-15)
    assert shown["old"] == before[2 * layer][i, j]
    assert shown["new"] == pytest.approx(before[2 * layer][i, j] - shown["lr"] * gradient, rel=1e-12, abs=1e-15)
    assert shown["lr"] == session.config["lr"]
    assert shown["check"] == "ok"
    if layer == 0:  # a hidden neuron: all three factors shown
        assert all(r["dE_dout"] is not None for r in shown["rows"])
    for a, b in zip(before, session.net.get_weights()):  # looking did not train
        np.testing.assert_array_equal(a, b)
    # a point's number opens the whole step drawn by pynn.explain_html for that point
    link = browser.find_element("css selector", '#chain tr[data-row="%d"] a' % batch[1])
    assert link.get_attribute("target") == "_blank" and "noopener" in link.get_attribute("rel")
    browser.get(link.get_attribute("href"))
    data = json.loads(browser.execute_script(
        "return document.querySelector('script.pynn-step-data').textContent"))
    assert data["sample"] == 1 and data["inputs"] == X[1].tolist()
    w = next(w for w in data["weights"] if w["name"] == row.name)
    assert w["grad"] == pytest.approx(gradient, rel=1e-9, abs=1e-15)


def test_symmetry_preset_in_the_page(browser, playground):
    open_page(browser, playground)
    browser.find_element("css selector", 'button[data-preset="symmetry"]').click()
    wait_for(lambda: playground.session.config["init"] == "constant", message="the preset")
    browser.find_element("id", "start").click()
    wait_for(lambda: playground.session.steps >= 100, message="100 steps")
    browser.find_element("id", "start").click()
    wait_until_idle(browser, playground)
    assert "Every weight starts at 0.5" in browser.find_element("id", "note").text
    assert "all 4 neurons identical" in browser.find_element("id", "net").text
    W = playground.session.net.get_weights()[0]
    assert np.all(W == W[:, :1])


def test_the_browser_is_refused_without_the_token(browser, playground):
    parts = urllib.parse.urlsplit(playground.url)
    browser.get("http://127.0.0.1:%d/" % parts.port)
    body = browser.find_element("tag name", "body").text
    assert "token" in json.loads(body)["error"]
    assert "pynn playground" not in browser.title
    browser.get("http://localhost:%d/?token=wrong" % parts.port)
    assert "token" in json.loads(browser.find_element("tag name", "body").text)["error"]
