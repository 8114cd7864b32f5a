"""Explanation.to_html: one self-contained page of a training step, read back with the standard
library's html.parser: Mazur's published numbers are on it, nothing is loaded from anywhere,
every value is escaped, and the data are embedded as JSON; `pynn explain` writes it."""
import csv
import json
import math
import re
from html.parser import HTMLParser

import numpy as np
import pytest

import pynn
from pynn import cli
from pynn.explain_html import explanation_json, render_fragment, render_page

from test_hand_worked import B1, B2, I1, I2, LR, PUBLISHED_E_TOTAL, PUBLISHED_UPDATED, T1, T2, W

# Mazur's names -> pynn's rows (W[i, j]: from input i to unit j)
NAMES = {"w1": "W1[0,0]", "w2": "W1[1,0]", "w3": "W1[0,1]", "w4": "W1[1,1]",
         "w5": "W2[0,0]", "w6": "W2[1,0]", "w7": "W2[0,1]", "w8": "W2[1,1]"}
# more of the post's published intermediate numbers
PUBLISHED = {"out_h1": "0.593269992", "out_o1": "0.75136507", "out_o2": "0.772928465",
             "dE_dout_o1": "0.74136507", "dout_dnet_o1": "0.186815602", "dE_dw5": "0.082167041",
             "dE_dout_h1": "0.036350306", "dout_dnet_h1": "0.241300709", "dE_dw1": "0.000438568"}
NUMBER = re.compile(r"[−-]?\d+(?:\.\d+)?(?:e[−-]?\d+)?")
ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "script", "body", "h2", "h3", "h4", "div", "p", "span",
                "br", "section", "aside", "svg", "g", "line", "circle", "rect", "text", "tspan", "table", "tr",
                "th", "td"}


def mazur_step():
    net = pynn.Network([pynn.Dense(2, 2, "sigmoid"), pynn.Dense(2, 2, "sigmoid")], loss="mse",
                       optimizer=pynn.SGD(lr=LR), dtype="float64")
    net.set_weights([[[W["w1"], W["w3"]], [W["w2"], W["w4"]]], [B1, B1],
                     [[W["w5"], W["w7"]], [W["w6"], W["w8"]]], [B2, B2]])
    return net.explain_step([[I1, I2]], [[T1, T2]])


class Page(HTMLParser):
    """Tags, the text of every element with a data-key (by key and tag), script bodies, attributes."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags, self.scripts, self.attrs = [], [], []
        self.stack = []  # (tag, key, class)
        self.keyed = {}  # (key, tag or class) -> text
        self.text = []
        self.feed(text)
        self.close()

    VOID = {"meta", "br", "line", "circle", "rect"}

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.append((tag, dict(attrs)))
        a = dict(attrs)
        if tag == "script":
            self.scripts.append([a.get("type"), a.get("class"), ""])
        if tag not in self.VOID:
            self.stack.append((tag, a.get("data-key"), a.get("class", "")))

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if self.stack and self.stack[-1][0] == "script":
            self.scripts[-1][2] += data
            return
        self.text.append(data)
        for tag, key, cls in self.stack:
            if key is not None:
                for what in (tag, cls.split(" ")[0] if cls else tag):
                    self.keyed[(key, what)] = self.keyed.get((key, what), "") + data + " "

    def all_text(self):
        return " ".join(self.text)


def _numbers(text):
    return [float(n.replace("−", "-")) for n in NUMBER.findall(text)]


def _near(printed_values, published):
    """Does a number printed to 8 significant digits match the published string (half a unit of the
    last digit of each, plus float slack)?"""
    want = float(published)
    digits = len(published.split(".")[1])
    for got in printed_values:
        tol = 0.5 * 10.0 ** (math.floor(math.log10(abs(got))) - 7) if got else 0.0
        if abs(got - want) <= tol + 0.5 * 10.0 ** -digits + 1e-15:
            return True
    return False


def test_the_page_reproduces_mazurs_numbers(tmp_path):
    path = mazur_step().to_html(tmp_path / "step.html")
    assert path == str(tmp_path / "step.html")
    page = Page(open(path, encoding="utf-8").read())
    # the loss, with its formula and value
    loss = page.keyed[("loss", "div")]
    assert "E = Σ (out − y)² / (N·K)" in loss and _near(_numbers(loss.split("E = ")[-1]), PUBLISHED_E_TOTAL)
    # the forward pass drawn: the neurons' outputs are on the drawing
    for (layer, unit), name in {(1, 0): "out_h1", (2, 0): "out_o1", (2, 1): "out_o2"}.items():
        node = page.keyed[("neuron %d,%d" % (layer, unit), "pynn-node")]
        assert _near(_numbers(node.split("out = ")[1])[:1], PUBLISHED[name]), name
    assert "net = 0.3775" in page.keyed[("neuron 1,0", "pynn-node")]  # Mazur: net_h1 = 0.3775
    assert "target y = 0.01" in page.keyed[("neuron 2,0", "pynn-node")]
    # every weight: its edge label (old -> new, gradient) and its chain-rule panel with the update
    for short, full in NAMES.items():
        label = page.keyed[(full, "pynn-label")]
        assert short in label and "→" in label and "∂E/∂w" in label
        new = _numbers(label.split("→")[1].split("∂E/∂w")[0])
        assert _near(new, PUBLISHED_UPDATED[short]), (short, label)
        assert _numbers(label.split("→")[0].replace(full, ""))[-1] == W[short]
        detail = page.keyed[(full, "pynn-detail")]
        update = detail.split("w ← w − lr·∂E/∂w = ")[1]
        old, lr, grad, result = _numbers(update)[:4]
        assert (old, lr) == (W[short], LR) and _near([result], PUBLISHED_UPDATED[short])
        assert result == pytest.approx(old - lr * grad, abs=1e-8)
    # the chain rule of w5 and w1 with the post's factors
    w5 = page.keyed[("W2[0,0]", "pynn-detail")].split("∂E/∂w = ∂E/∂out · ∂out/∂net · ∂net/∂w")[1]
    a, b, c, product = _numbers(w5.split("∂E/∂out =")[0])[:4]
    assert _near([a], PUBLISHED["dE_dout_o1"]) and _near([b], PUBLISHED["dout_dnet_o1"])
    assert _near([c], PUBLISHED["out_h1"]) and _near([product], PUBLISHED["dE_dw5"])
    w1 = page.keyed[("W1[0,0]", "pynn-detail")].split("∂E/∂w = ∂E/∂out · ∂out/∂net · ∂net/∂w")[1]
    a, b, c, product = _numbers(w1.split("∂E/∂out =")[0])[:4]
    assert _near([a], PUBLISHED["dE_dout_h1"]) and _near([b], PUBLISHED["dout_dnet_h1"])
    assert c == I1 and _near([product], PUBLISHED["dE_dw1"])
    # the hidden unit's ∂E/∂out written as the sum over its two paths, δ_o1·w5 + δ_o2·w7
    assert "Σ_k δ_k·W2[0,k] = 0.13849856·0.4 − 0.038098237·0.5 = 0.036350306" in \
        " ".join(page.keyed[("W1[0,0]", "pynn-detail")].split())
    # pynn also updates the biases: b2[0] 0.6 -> 0.6 - 0.5 * delta_o1
    b2 = page.keyed[("b2[0]", "pynn-detail")]
    assert "0.6 − 0.5·0.13849856 = 0.53075072" in b2


def test_the_page_is_self_contained_and_printable(tmp_path):
    text = open(mazur_step().to_html(tmp_path / "step.html"), encoding="utf-8").read()
    page = Page(text)
    for tag, attrs in page.attrs:
        assert "src" not in attrs and "href" not in attrs, (tag, attrs)
    assert "link" not in page.tags and "img" not in page.tags and "iframe" not in page.tags
    urls = re.findall(r"https?://[^\s\"'<>)]+", text)
    assert set(urls) == {"http://www.w3.org/2000/svg"}  # the SVG namespace: a name, never fetched
    assert "@import" not in text and "url(" not in text and "fetch(" not in text and "XMLHttpRequest" not in text
    csp = [a["content"] for tag, a in page.attrs if tag == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and csp[0].startswith("default-src 'none'")
    assert "@media print" in text
    # every chain-rule panel is in the page twice: once for the click panel, once for print
    assert text.count('data-key="W2[0,0]"><h4>') == 2
    assert text.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in text


def test_the_data_are_embedded_as_json():
    step = mazur_step()
    data = explanation_json(step)
    page = Page(render_page(data))
    blobs = [body for kind, cls, body in page.scripts if kind == "application/json"]
    assert len(blobs) == 1
    embedded = json.loads(blobs[0])
    assert embedded == json.loads(json.dumps(data))
    rows = {w["name"]: w for w in embedded["weights"]}
    for row in step.weights:
        assert rows[row.name]["old"] == row.old and rows[row.name]["new"] == row.new
        assert rows[row.name]["grad"] == row.grad
    assert embedded["loss"] == step.loss and embedded["sizes"] == [2, 2, 2]
    assert rows["W2[0,0]"]["alias"] == "w5" and rows["b1[0]"]["alias"] is None


EVIL = '</script><script>alert(1)</script><img src=x onerror=alert(2)>"\'&'


def test_everything_is_escaped():
    """Strings that could break out of an element or an attribute are shown as text."""
    data = explanation_json(mazur_step())
    data["optimizer"] = EVIL
    data["activations"] = [EVIL, "sigmoid"]
    data["loss_formula"] = EVIL
    for w in data["weights"]:
        w["alias"] = EVIL
        w["update_text"] = EVIL
    for n in data["neurons"]:
        n["activation"] = EVIL
        n["dE_text"] = EVIL
    data["weights"][0]["name"] = EVIL
    fragment = render_fragment(data)
    page = Page(render_page(data, title=EVIL))
    assert set(page.tags) <= ALLOWED_TAGS
    assert "img" not in page.tags
    kinds = [(kind, cls) for kind, cls, _ in page.scripts]
    assert kinds == [(None, None), ("application/json", "pynn-step-data")]  # the page's own script, the data
    assert json.loads(page.scripts[1][2])["optimizer"] == EVIL
    assert EVIL in page.all_text()  # shown as text
    for tag, attrs in page.attrs:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
    assert "<img" not in fragment and "</script><script>alert" not in fragment


def test_bad_arguments():
    step = mazur_step()
    data = explanation_json(step)
    with pytest.raises(ValueError, match="element_id"):
        render_fragment(data, element_id='x" onclick="alert(1)')
    with pytest.raises(ValueError, match="explanation_json"):
        render_fragment({"format": "something else"})
    with pytest.raises(ValueError, match="sample"):
        explanation_json(step, sample=1)
    assert 'id="mine"' in render_fragment(data, element_id="mine", include_assets=False)
    assert "<style>" not in render_fragment(data, include_assets=False)


def test_a_batch_draws_one_sample_and_sums_the_gradients(tmp_path):
    net = pynn.Network([pynn.Dense(2, 3, "tanh"), pynn.Dense(3, 2, "softmax")], loss="cross_entropy",
                       optimizer=pynn.SGD(lr=0.1), dtype="float64", seed=0)
    X = np.array([[0.5, -1.0], [1.5, 0.25], [-0.3, 0.8]])
    step = net.explain_step(X, [0, 1, 1])
    page = Page(open(step.to_html(tmp_path / "batch.html", sample=2), encoding="utf-8").read())
    detail = page.keyed[("W1[1,2]", "pynn-detail")]
    row = step.weight("W1[1,2]")
    term = row.terms[2]
    assert "(sample 2)" in detail and "summed over the 3 samples" in detail
    chain = _numbers(detail.split("(sample 2)")[1].split("∂E/∂out")[0])
    assert chain[:3] == pytest.approx([term.dE_dout, term.dout_dnet, term.dnet_dw], rel=1e-7)
    assert X[2, 1] in chain  # ∂net/∂w is sample 2's input x1
    total = _numbers(detail.split("summed over the 3 samples: ∂E/∂w = ")[1].split("Update")[0])
    assert total[-1] == pytest.approx(sum(t.product for t in row.terms), rel=1e-7)
    # the softmax output: δ in one piece, (p − y)/N with N = 3
    out = page.keyed[("neuron 2,1", "pynn-detail")]
    assert "δ = (p − y)/N = " in out and "/3" in out
    inputs = page.all_text()
    assert "Inputs x = [−0.3, 0.8]" in inputs


# ---- pynn explain ------------------------------------------------------------------------------

def test_pynn_explain_writes_the_hand_worked_page(tmp_path, capsys):
    out = tmp_path / "step.html"
    assert cli.main(["explain", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "page written to %s" % out in printed and "W2[0,0]" in printed and "0.35891648" in printed
    page = Page(out.read_text(encoding="utf-8"))
    assert _near(_numbers(page.keyed[("loss", "div")].split("E = ")[-1]), PUBLISHED_E_TOTAL)
    assert "Mazur" in page.all_text()


def test_pynn_explain_on_a_csv_row(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows = []
    for i in range(40):
        a, b = rng.normal(), 10 + 3 * rng.normal()
        rows.append([round(a, 4), round(b, 4), "yes" if a + (b - 10) / 3 > 0 else "no"])
    data = tmp_path / "data.csv"
    with open(data, "w", newline="") as f:
        csv.writer(f).writerows([["a", "b", "label"]] + rows)
    model = tmp_path / "m.safetensors"
    assert cli.main(["train", str(data), "--target", "label", "--hidden", "3", "--epochs", "2", "--save",
                     str(model), "--verbose", "0"]) == 0
    out = tmp_path / "row.html"
    saved = model.read_bytes()
    assert cli.main(["explain", str(model), str(data), "--row", "3", "--lr", "0.2", "--out", str(out)]) == 0
    assert model.read_bytes() == saved  # the step is taken on a copy
    capsys.readouterr()
    # the same step computed here: the row standardised with the model's means and deviations
    meta = cli.read_metadata(str(model))
    means = [c["mean"] for c in meta["columns"]]
    stds = [c["std"] for c in meta["columns"]]
    x = [(rows[2][0] - means[0]) / stds[0], (rows[2][1] - means[1]) / stds[1]]
    net = pynn.load(str(model))._copy(dtype="float64")
    label = meta["classes"].index(rows[2][2])
    p = net.predict([x])[0]
    page = Page(out.read_text(encoding="utf-8"))
    loss = _numbers(page.keyed[("loss", "div")].split("E = ")[-1])[0]
    assert loss == pytest.approx(-math.log(p[label]), rel=1e-7)
    assert "line 4 of data.csv" in page.all_text()  # the header is line 1, the third row line 4
    assert "lr = 0.2" in page.all_text()


@pytest.mark.parametrize("argv,message", [
    (["explain", "{model}"], "needs a CSV file"),
    (["explain", "{model}", "{data}", "--row", "99"], "--row must be in [1, 3]"),
    (["explain", "{tmp}/missing.safetensors", "{data}"], "no such file"),
])
def test_pynn_explain_errors(tmp_path, capsys, argv, message):
    data = tmp_path / "d.csv"
    data.write_text("a,b,y\n1,2,0\n2,1,1\n0,0,0\n")
    model = tmp_path / "m.safetensors"
    assert cli.main(["train", str(data), "--target", "y", "--hidden", "2", "--epochs", "1", "--save", str(model),
                     "--verbose", "0", "--validation-split", "0"]) == 0
    capsys.readouterr()
    args = [a.format(model=model, data=data, tmp=tmp_path) for a in argv] + ["--out", str(tmp_path / "x.html")]
    assert cli.main(args) == 1
    assert message in capsys.readouterr().err


def test_larger_networks_dropout_and_the_limit(tmp_path):
    net = pynn.Network([pynn.Dropout(0.5), pynn.Dense(5, 6, "relu"), pynn.Dropout(0.5), pynn.Dense(6, 3, "softmax")],
                       loss="cross_entropy", optimizer=pynn.Adam(lr=0.01), dtype="float64", seed=4)
    step = net.explain_step(np.random.default_rng(1).normal(size=(2, 5)), [2, 0])
    page = Page(open(step.to_html(tmp_path / "big.html", sample=1), encoding="utf-8").read())
    svg = [a for tag, a in page.attrs if tag == "svg"][0]
    assert "pynn-many" in svg["class"]  # 6 units: the edge labels show on selection only
    keys = {key for key, _ in page.keyed}
    assert {row.name for row in step.weights} <= keys and "neuron 2,2" in keys
    detail = page.keyed[("W2[0,0]", "pynn-detail")]
    assert "Update by Adam" in detail and _f_text(step.weight("W2[0,0]").new) in detail
    masks = {n.mask for n in step.neurons if n.sample == 1 and n.layer == 1}
    assert any("m = %s" % _f_text(m) in page.keyed[("neuron 1,%d" % n.unit, "pynn-detail")]
               for m in masks for n in step.neurons if n.sample == 1 and n.layer == 1 and n.mask == m)
    wide = pynn.Network([pynn.Dense(80, 70, "tanh"), pynn.Dense(70, 2)], loss="mse", dtype="float64")
    data = explanation_json(wide.explain_step(np.zeros((1, 80)), [[0.0, 1.0]]))
    with pytest.raises(ValueError, match="MAX_WEIGHTS"):
        render_fragment(data)


def _f_text(x):
    text = "%.8g" % x
    return "\u2212" + text[1:] if text.startswith("-") else text
