"""The page of Explanation.to_html in headless Chromium (tests/browser_support.py): it opens from
disk, loads nothing, and clicking (or hovering, or tabbing to) a weight shows its chain-rule
product with the numbers and its update; clicking a neuron shows its forward and backward pass.
Skipped without selenium/Chromium unless PYNN_REQUIRE_BROWSER=1."""
import pytest

import pynn

from browser_support import browser, click_element, wait_for  # noqa: F401,F811  (browser: the fixture)


@pytest.fixture(scope="module")
def page_url(tmp_path_factory):
    net = pynn.Network([pynn.Dense(2, 2, "sigmoid"), pynn.Dense(2, 2, "sigmoid")], loss="mse",
                       optimizer=pynn.SGD(lr=0.5), dtype="float64")
    net.set_weights([[[0.15, 0.25], [0.20, 0.30]], [0.35, 0.35], [[0.40, 0.50], [0.45, 0.55]], [0.60, 0.60]])
    path = tmp_path_factory.mktemp("page") / "step.html"
    net.explain_step([[0.05, 0.10]], [[0.01, 0.99]]).to_html(path)
    return path.as_uri()


SHOWN = """
return Array.from(document.querySelectorAll('.pynn-panel .pynn-detail'))
  .filter(e => !e.hidden && e.offsetParent !== null).map(e => e.innerText);
"""


def shown(browser):
    return browser.execute_script(SHOWN)


def test_clicking_a_weight_shows_its_chain_rule(browser, page_url):
    browser.get(page_url)
    assert browser.execute_script("return typeof window.pynnStep") == "object"
    assert shown(browser) == []  # nothing selected: the hint
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    click_element(browser, 'line.pynn-hit[data-key="W2[0,0]"]')
    text, = wait_for(lambda: shown(browser), message="the panel of W2[0,0]")
    text = " ".join(text.split())
    assert "W2[0,0] = w5" in text
    assert "= 0.74136507 · 0.1868156 · 0.59326999 = 0.082167041" in text
    assert "w ← w − lr·∂E/∂w = 0.4 − 0.5·0.082167041 = 0.35891648" in text
    assert browser.execute_script(
        "return document.querySelector('line.pynn-hit[data-key=\"W2[0,0]\"]').classList.contains('pynn-selected')")
    # another weight replaces it: a hidden-layer weight, its ∂E/∂out the sum over two paths
    click_element(browser, 'line.pynn-hit[data-key="W1[0,0]"]')
    wait_for(lambda: "W1[0,0]" in " ".join(shown(browser)), message="the panel of W1[0,0]")
    text, = shown(browser)
    text = " ".join(text.split())
    assert "= 0.036350306 · 0.24130071 · 0.05 = 0.00043856773" in text
    assert "0.13849856·0.4 − 0.038098237·0.5 = 0.036350306" in text
    assert "0.15 − 0.5·0.00043856773 = 0.14978072" in text


def test_hover_keyboard_and_neurons(browser, page_url):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    browser.get(page_url)
    node = browser.find_element(By.CSS_SELECTOR, 'g.pynn-node[data-key="neuron 2,1"] circle')
    ActionChains(browser).move_to_element(node).perform()  # hovering is enough
    text, = wait_for(lambda: shown(browser), message="the panel of neuron 2,1")
    text = " ".join(text.split())
    assert "unit 1 of layer 2" in text and "out = sigmoid(net) = 0.77292847" in text
    assert "∂E/∂out = 2·(0.77292847 − 0.99)/2 = −0.21707153" in text
    # keyboard: focus a weight's edge
    browser.execute_script("document.querySelector('line.pynn-hit[data-key=\"b2[1]\"]').focus()")
    wait_for(lambda: "b2[1]" in " ".join(shown(browser)), message="the panel of b2[1]")
    assert "0.6 − 0.5·(−0.038098237) = 0.61904912" in " ".join(shown(browser)[0].split())
    # from JavaScript, as the playground does
    assert browser.execute_script(
        "return window.pynnStep.show(document.querySelector('.pynn-step'), 'loss')")
    assert "E = 0.29837111" in shown(browser)[0]
    data = browser.execute_script("return window.pynnStep.data(document.querySelector('.pynn-step'))")
    assert data["sizes"] == [2, 2, 2] and abs(data["loss"] - 0.298371109) < 1e-9
