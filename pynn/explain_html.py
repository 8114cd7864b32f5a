"""One training step drawn as a self-contained HTML page.

``net.explain_step(X, y).to_html("step.html")`` writes one file that opens
from disk in any browser, loads nothing from anywhere (inline SVG, CSS and a
little JavaScript) and prints: the network drawn as neurons and edges, each
neuron with its weighted sum and activation, each edge with its weight,
gradient and new value; clicking, hovering or tabbing to a weight or neuron
shows its chain-rule product with the numbers (∂E/∂w = ∂E/∂out · ∂out/∂net ·
∂net/∂w = …) and the update with the learning rate; the loss with its
formula and value.  Every number is also in the page's text (tables, and
the chain-rule panels, all of which the print stylesheet shows), and the
step's data are embedded as JSON (``<script type="application/json"
class="pynn-step-data">``).

The pieces, for pages of one's own (the playground uses them):

- :func:`explanation_json` ``(expl, sample=0) -> dict``: the step as plain
  JSON-ready data (``expl.to_dict(sample)``); everything below renders from
  such a dict alone, so a server can send it anywhere.
- :func:`render_assets` ``() -> str``: the ``<style>`` and ``<script>`` the
  fragments need, once per page.  The script installs one set of document
  event listeners (click, mouseover, focus, Enter/Space) that handle every
  fragment in the page, including fragments inserted later; it defines
  ``window.pynnStep = {show(root, key), data(root)}`` and does nothing if
  loaded twice.
- :func:`render_fragment` ``(data, element_id="pynn-step", include_assets=True)
  -> str``: one ``<div class="pynn-step" id=element_id>`` with the drawing,
  the loss, the tables and the chain-rule panels, and the data as JSON.
  Every value is escaped, so it is safe to insert with ``element.innerHTML =
  fragment`` (scripts set that way do not run: pass ``include_assets=False``
  and put :func:`render_assets` in the page once).  Keys (``data-key``) are
  the weight names ("W2[0,0]", "b1[1]"), "neuron l,j" and "loss";
  ``pynnStep.show(root, "W2[0,0]")`` selects one from JavaScript.
- :func:`render_page` ``(data, title=None) -> str``: a whole HTML document.
- :func:`write_html` ``(expl, path, title=None, sample=0) -> str``: the page
  of an :class:`pynn.explain.Explanation` written to ``path`` (UTF-8); returns
  the path.

Numbering as in :class:`pynn.explain.Explanation`: layer 0 is the inputs,
layer l (from 1) the l-th Dense layer; units and samples count from 0.
"""
from __future__ import annotations

import html
import json
import math
import os
import re
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ._typing import PathLike

__all__ = ["explanation_json", "render_assets", "render_fragment", "render_page", "write_html"]

#: the drawing writes every number on the edges up to this many units in a layer; above, on hover only
LABEL_UNITS = 4
GAP_X = 440.0
#: the most weights and biases a page draws (each adds an edge, a label and two chain-rule panels)
MAX_WEIGHTS = 5000  # between the layers of the drawing (SVG units: pixels at scale 1)

_CSS = """
.pynn-step { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2330;
  max-width: 1400px; }
.pynn-step h2 { font-size: 1.25em; margin: 0.2em 0 0.4em; }
.pynn-step h3 { font-size: 1.05em; margin: 1.2em 0 0.4em; }
.pynn-step .pynn-note { color: #4a5262; margin: 0.2em 0; }
.pynn-step .pynn-loss { background: #f4f6fb; border: 1px solid #d5dbe8; border-radius: 6px;
  padding: 0.5em 0.8em; margin: 0.6em 0; }
.pynn-step .pynn-loss .pynn-value { font-weight: 600; }
.pynn-step .pynn-layout { display: flex; gap: 12px; align-items: flex-start; }
.pynn-step svg.pynn-net { display: block; flex: 1 1 auto; min-width: 0; max-width: 100%; height: auto;
  background: #fff; border: 1px solid #e1e5ee; border-radius: 6px; }
.pynn-step .pynn-panel { flex: 0 0 330px; position: sticky; top: 8px; max-height: calc(100vh - 16px);
  overflow: auto; background: #fffdf4; border: 1px solid #eadfb4; border-radius: 6px; padding: 0.5em 0.9em; }
@media (max-width: 900px) {
  .pynn-step .pynn-layout { flex-direction: column; }
  .pynn-step .pynn-panel { flex: none; position: sticky; top: auto; bottom: 0; max-height: 45vh;
    box-shadow: 0 -2px 8px rgba(0, 0, 0, 0.08); }
}
.pynn-step .pynn-detail h4 { margin: 0.2em 0 0.4em; font-size: 1em; }
.pynn-step .pynn-detail p { margin: 0.25em 0; }
.pynn-step .pynn-math { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
  font-size: 0.92em; white-space: pre-wrap; overflow-wrap: anywhere; }
.pynn-step .pynn-detail[hidden], .pynn-step .pynn-hint[hidden] { display: none; }
.pynn-step line.pynn-edge { stroke-linecap: round; }
.pynn-step line.pynn-hit { stroke: transparent; stroke-width: 14px; cursor: pointer; pointer-events: stroke; }
.pynn-step line.pynn-hit:hover, .pynn-step line.pynn-hit:focus, .pynn-step line.pynn-hit.pynn-selected {
  stroke: rgba(255, 196, 0, 0.45); outline: none; }
.pynn-step g.pynn-node { cursor: pointer; }
.pynn-step g.pynn-node circle { fill: #fff; stroke: #34495e; stroke-width: 2px; }
.pynn-step g.pynn-node.pynn-input circle { fill: #eef3ff; }
.pynn-step g.pynn-node.pynn-bias circle { fill: #f3f3f3; stroke-dasharray: 3 2; }
.pynn-step g.pynn-node:hover circle, .pynn-step g.pynn-node:focus circle,
.pynn-step g.pynn-node.pynn-selected circle { stroke: #d89b00; stroke-width: 3px; }
.pynn-step g.pynn-node:focus { outline: none; }
.pynn-step svg text { font: 13px ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; fill: #1d2330; }
.pynn-step svg text.pynn-name { font: 600 13px system-ui, sans-serif; }
.pynn-step svg text.pynn-small { font-size: 12px; fill: #39414f; }
.pynn-step svg g.pynn-label rect { fill: rgba(255, 255, 255, 0.9); stroke: #d9dee8; }
.pynn-step svg g.pynn-label { pointer-events: none; }
.pynn-step svg g.pynn-label.pynn-selected rect { fill: #fff4cc; stroke: #d89b00; }
.pynn-step svg.pynn-many g.pynn-label { display: none; }
.pynn-step svg.pynn-many g.pynn-label.pynn-selected { display: inline; }
.pynn-step table { border-collapse: collapse; margin: 0.3em 0 0.8em; font-size: 0.9em; }
.pynn-step th, .pynn-step td { border-bottom: 1px solid #e4e7ee; padding: 2px 10px 2px 0; text-align: left;
  vertical-align: top; }
.pynn-step td.pynn-num { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
  text-align: right; white-space: nowrap; }
.pynn-step tr[data-key] { cursor: pointer; }
.pynn-step tr.pynn-selected { background: #fff4cc; }
.pynn-step .pynn-all-details { display: none; }
@media print {
  .pynn-step { max-width: none; font-size: 11pt; }
  .pynn-step .pynn-hint, .pynn-step .pynn-panel { display: none !important; }
  .pynn-step .pynn-layout { display: block; }
  .pynn-step svg.pynn-net { border: none; width: 100%; }
  .pynn-step svg.pynn-many g.pynn-label { display: none; }
  .pynn-step .pynn-all-details { display: block; }
  .pynn-step .pynn-all-details .pynn-detail { break-inside: avoid; border-top: 1px solid #ccc;
    padding-top: 0.3em; }
  .pynn-step table { break-inside: auto; }
  .pynn-step tr { break-inside: avoid; }
}
"""

_JS = """
(function () {
  "use strict";
  if (window.pynnStep) { return; }
  function keyed(node) {
    while (node && node.nodeType === 1) {
      if (node.hasAttribute("data-key") && !node.classList.contains("pynn-detail")) { return node; }
      node = node.parentNode;
    }
    return null;
  }
  function rootOf(node) {
    while (node && node.nodeType === 1 && !node.classList.contains("pynn-step")) { node = node.parentNode; }
    return node && node.nodeType === 1 ? node : null;
  }
  function show(root, key) {
    var panel = root.querySelector(".pynn-panel");
    if (!panel) { return false; }
    var found = false;
    var details = panel.querySelectorAll(".pynn-detail");
    for (var i = 0; i < details.length; i++) {
      var match = details[i].getAttribute("data-key") === key;
      details[i].hidden = !match;
      found = found || match;
    }
    var hint = panel.querySelector(".pynn-hint");
    if (hint) { hint.hidden = found; }
    var marked = root.querySelectorAll("[data-key]");
    for (var j = 0; j < marked.length; j++) {
      var el = marked[j];
      if (el.classList.contains("pynn-detail")) { continue; }
      if (el.getAttribute("data-key") === key) {
        el.classList.add("pynn-selected");
        if (el.classList.contains("pynn-label")) { el.parentNode.appendChild(el); }  /* on top of the others */
      } else { el.classList.remove("pynn-selected"); }
    }
    return found;
  }
  function handle(event) {
    var el = keyed(event.target);
    var root = el && rootOf(el);
    if (root) { show(root, el.getAttribute("data-key")); }
  }
  document.addEventListener("click", handle);
  document.addEventListener("mouseover", handle);
  document.addEventListener("focusin", handle);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" || event.key === " ") {
      var el = keyed(event.target);
      if (el && rootOf(el)) { handle(event); event.preventDefault(); }
    }
  });
  window.pynnStep = {
    show: show,
    data: function (root) {
      var holder = root.querySelector("script.pynn-step-data");
      return holder ? JSON.parse(holder.textContent) : null;
    }
  };
})();
"""

_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


def explanation_json(expl: Any, sample: int = 0) -> Dict[str, Any]:
    """The step ``expl`` (an :class:`pynn.explain.Explanation`) as JSON-ready
    data, drawing ``sample`` (from 0): ``expl.to_dict(sample)``.  Keys:
    "format" ("pynn.explain/1"), "sizes", "activations", "loss_name",
    "optimizer", "plain_sgd", "lr", "n_samples", "sample", "positions",
    "inputs", "targets", "input_mask", "loss", "loss_formula", "loss_text",
    "dE_formula", "neurons" (layer, unit, activation, net, out, dE_dout,
    dout_dnet, delta, mask, weighted_sum, derivative, derivative_text, dE_text, paths) and
    "weights" (name, alias, layer, source, unit, old, grad, lr, new, term
    {dE_dout, dout_dnet, delta, dnet_dw, product}, chain_text, sum_text,
    update_text).  Numbers are floats (None for a missing or non-finite
    value), the *_text entries the formulas with this sample's numbers."""
    data = expl.to_dict(sample)
    assert isinstance(data, dict)
    return data


def render_assets() -> str:
    """The ``<style>`` and ``<script>`` every fragment needs (once per page)."""
    return "<style>%s</style>\n<script>%s</script>\n" % (_CSS, _JS)


def _e(value: Any) -> str:
    """Text or an attribute value, escaped for HTML (and inline SVG)."""
    return html.escape(str(value), quote=True)


def _f(x: Optional[float]) -> str:
    """A number as in the text tables: 8 significant digits, "−" for minus, "—" when missing."""
    if x is None:
        return "—"
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError("a number was expected in the explanation's data; got %r" % (x,))
    if x == 0:
        return "0"
    return ("%.8g" % x).replace("-", "−")


def _json_script(data: Mapping[str, Any]) -> str:
    """The data as JSON inside <script type="application/json">: "<", ">" and "&" as \\u escapes, so no
    value can close the element."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, sort_keys=True)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return '<script type="application/json" class="pynn-step-data">%s</script>' % text


def _layout(sizes: List[int]) -> Tuple[Dict[Tuple[int, int], Tuple[float, float]], float, float, float]:
    """Positions of each unit (layer, unit) and of the bias node (layer, -1) feeding layer + 1, the
    width and height of the drawing, and the node radius."""
    gap_x, gap_y, r, top = GAP_X, 210.0, 34.0, 70.0
    tallest = max(sizes) + 1  # a bias node below each layer but the last
    height = top + tallest * gap_y
    pos: Dict[Tuple[int, int], Tuple[float, float]] = {}
    for l, n in enumerate(sizes):
        x = 80.0 + l * gap_x
        count = n + (1 if l < len(sizes) - 1 else 0)
        y0 = top + (tallest - count) * gap_y / 2 + gap_y / 2 - 20
        for j in range(n):
            pos[(l, j)] = (x, y0 + j * gap_y)
        if l < len(sizes) - 1:
            pos[(l, -1)] = (x, y0 + n * gap_y)
    width = 80.0 + (len(sizes) - 1) * gap_x + 150.0
    height = max(y for _, y in pos.values()) + r + 80.0  # room for the numbers below the lowest node
    return pos, width, height, r


def _place(x1: float, y1: float, dx: float, dy: float, w: float, h: float,
           placed: List[Tuple[float, float, float, float]], pos: Mapping[Tuple[int, int], Tuple[float, float]],
           r: float) -> Tuple[float, float]:
    """The centre of an edge label of size w x h: the first point along the edge (from the middle
    outwards) where it covers no label placed before and no node, else the one covering least; its
    box is added to ``placed``."""
    def overlap(box: Tuple[float, float, float, float]) -> float:
        area = 0.0
        for other in placed:
            ox = min(box[2], other[2]) - max(box[0], other[0])
            oy = min(box[3], other[3]) - max(box[1], other[1])
            if ox > 0 and oy > 0:
                area += ox * oy
        for (nx, ny) in pos.values():
            ox = min(box[2], nx + r) - max(box[0], nx - r)
            oy = min(box[3], ny + r + 50) - max(box[1], ny - r)  # the node and the numbers below it
            if ox > 0 and oy > 0:
                area += 4 * ox * oy
        return area

    best: Optional[Tuple[float, float, float, Tuple[float, float, float, float]]] = None
    for t in (0.5, 0.4, 0.6, 0.3, 0.7, 0.45, 0.55, 0.35, 0.65, 0.25, 0.75, 0.2, 0.8):
        cx, cy = x1 + dx * t, y1 + dy * t
        box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        cost = overlap(box)
        if best is None or cost < best[0]:
            best = (cost, cx, cy, box)
        if cost == 0:
            break
    assert best is not None
    placed.append(best[3])
    return best[1], best[2]


def _text(x: float, y: float, lines: List[str], cls: str = "", anchor: str = "middle", dy: float = 14.0) -> str:
    out = '<text x="%.1f" y="%.1f" text-anchor="%s"%s>' % (x, y, anchor, ' class="%s"' % cls if cls else "")
    for i, line in enumerate(lines):
        out += '<tspan x="%.1f" dy="%s">%s</tspan>' % (x, "0" if i == 0 else "%.1f" % dy, _e(line))
    return out + "</text>"


def _svg(data: Mapping[str, Any]) -> str:
    sizes = [int(s) for s in data["sizes"]]
    pos, width, height, r = _layout(sizes)
    neurons = {(int(n["layer"]), int(n["unit"])): n for n in data["neurons"]}
    many = max(sizes) > LABEL_UNITS
    lines_out: List[str] = []
    hits: List[str] = []
    labels: List[str] = []
    big = max([abs(w["old"]) for w in data["weights"] if w["old"] is not None] + [1e-12])
    placed: List[Tuple[float, float, float, float]] = []  # the label boxes so far: x0, y0, x1, y1
    for w in data["weights"]:
        l, j = int(w["layer"]), int(w["unit"])
        i = -1 if w["source"] is None else int(w["source"])
        (x1, y1), (x2, y2) = pos[(l - 1, i)], pos[(l, j)]
        dx, dy = x2 - x1, y2 - y1
        length = math.hypot(dx, dy)
        ax, ay = x1 + dx * r / length, y1 + dy * r / length
        bx, by = x2 - dx * r / length, y2 - dy * r / length
        old = w["old"] or 0.0
        colour = "#c0392b" if old < 0 else "#2e6fbe"
        thick = 1.0 + 4.0 * abs(old) / big
        key = _e(w["name"])
        alias = " (%s)" % w["alias"] if w["alias"] else ""
        title = "%s%s: w = %s, ∂E/∂w = %s, new %s" % (w["name"], alias, _f(w["old"]), _f(w["grad"]), _f(w["new"]))
        lines_out.append('<line class="pynn-edge" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" '
                         'stroke-width="%.2f"%s/>' % (ax, ay, bx, by, colour, thick,
                                                      ' stroke-dasharray="5 4"' if i < 0 else ""))
        hits.append('<line class="pynn-hit" data-key="%s" tabindex="0" role="button" aria-label="%s" '
                    'x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"><title>%s</title></line>'
                    % (key, _e(title), ax, ay, bx, by, _e(title)))
        text = ["%s%s" % (w["name"], " " + w["alias"] if w["alias"] else ""),
                "%s → %s" % (_f(w["old"]), _f(w["new"])), "∂E/∂w %s" % _f(w["grad"])]
        box_w = 10 + 7.3 * max(len(line) for line in text)  # 12px monospace: about 7.3 px a character
        if many:  # labels show one at a time, on selection: at the middle of the edge
            lx, ly = x1 + dx / 2, y1 + dy / 2
        else:
            lx, ly = _place(x1, y1, dx, dy, box_w, 48.0, placed, pos, r)
        labels.append('<g class="pynn-label" data-key="%s"><rect x="%.1f" y="%.1f" width="%.1f" height="48" '
                      'rx="4"/>%s</g>' % (key, lx - box_w / 2, ly - 24, box_w,
                                          _text(lx, ly - 9, text, "pynn-small", dy=14.5)))
    nodes: List[str] = []
    for (l, j), (x, y) in pos.items():
        if j < 0:
            nodes.append('<g class="pynn-node pynn-bias"><circle cx="%.1f" cy="%.1f" r="%.1f"/>%s</g>'
                         % (x, y, r * 0.6, _text(x, y + 5, ["+1"], "pynn-name")))
            nodes.append(_text(x, y + r * 0.6 + 16, ["bias b%d" % (l + 1)], "pynn-small"))
            continue
        if l == 0:
            value = data["inputs"][j]
            mask = data["input_mask"][j] if data.get("input_mask") else None
            body = ["x%d" % j, _f(value)] + (["m = %s" % _f(mask)] if mask is not None else [])
            nodes.append('<g class="pynn-node pynn-input"><circle cx="%.1f" cy="%.1f" r="%.1f"/>%s</g>'
                         % (x, y, r, _text(x, y - 4, body[:2], "pynn-name", dy=16.0)))
            nodes.append(_text(x, y + r + 16, ["input %d" % j] + body[2:], "pynn-small"))
            continue
        n = neurons[(l, j)]
        key = "neuron %d,%d" % (l, j)
        title = "layer %d, unit %d: net = %s, out = %s(net) = %s" % (l, j, _f(n["net"]), n["activation"],
                                                                   _f(n["out"]))
        below = ["net = %s" % _f(n["net"]), "out = %s" % _f(n["out"]), "δ = %s" % _f(n["delta"])]
        if l == len(sizes) - 1:
            below.append("target y = %s" % _f(data["targets"][j]))
        nodes.append('<g class="pynn-node" data-key="%s" tabindex="0" role="button" aria-label="%s">'
                     '<title>%s</title><circle cx="%.1f" cy="%.1f" r="%.1f"/>%s%s</g>'
                     % (_e(key), _e(title), _e(title), x, y, r,
                        _text(x, y - 3, ["%d,%d" % (l, j), str(n["activation"])], "pynn-name", dy=15.0),
                        _text(x, y + r + 16, below, "pynn-small")))
    heads = []
    for l in range(len(sizes)):
        x = 80.0 + l * GAP_X
        name = "layer 0: inputs" if l == 0 else "layer %d%s" % (l, ": outputs" if l == len(sizes) - 1 else "")
        heads.append(_text(x, 30, [name], "pynn-name"))
    return ('<svg class="pynn-net%s" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="%.0f" '
            'role="img" aria-label="the network: neurons and weighted edges">%s%s%s%s%s</svg>'
            % (" pynn-many" if many else "", width, height, width, "".join(heads), "".join(lines_out), "".join(nodes),
               "".join(labels), "".join(hits)))


def _weight_detail(data: Mapping[str, Any], w: Mapping[str, Any]) -> str:
    l, j = int(w["layer"]), int(w["unit"])
    n_samples = int(data["n_samples"])
    neuron = next(n for n in data["neurons"] if int(n["layer"]) == l and int(n["unit"]) == j)
    t = w["term"]
    positions = data.get("positions") or []
    code = ("net.layers[%d].%s" % (positions[l - 1], "W[%d, %d]" % (w["source"], j) if w["source"] is not None
                                   else "b[%d]" % j)) if len(positions) >= l else ""
    if w["source"] is None:
        what = "the bias of unit %d of layer %d" % (j, l)
        dnet = "∂net/∂w = 1 (a bias)"
    else:
        src = int(w["source"])
        what = "the weight from %s to unit %d of layer %d" % (
            "input %d" % src if l == 1 else "unit %d of layer %d" % (src, l - 1), j, l)
        dnet = "∂net/∂w = %s, the input it multiplies (%s)" % (
            _f(t["dnet_dw"]), "x%d" % src if l == 1 else "out of unit %d of layer %d" % (src, l - 1))
    parts = ['<div class="pynn-detail" data-key="%s">' % _e(w["name"]),
             "<h4>%s%s</h4>" % (_e(w["name"]), " = %s in Mazur's post" % _e(w["alias"]) if w["alias"] else ""),
             '<p class="pynn-note">%s%s</p>' % (_e(what), " (%s)" % _e(code) if code else "")]
    head = "∂E/∂w = ∂E/∂out · ∂out/∂net · ∂net/∂w" if t["dE_dout"] is not None else "∂E/∂w = δ · ∂net/∂w"
    sample = " (sample %d)" % t["sample"] if n_samples > 1 else ""
    parts.append('<p class="pynn-math pynn-chain">%s%s\n  = %s</p>' % (
        _e(head), _e(sample), _e(w["chain_text"].split(" = ", 1)[1])))
    rows = []
    if t["dE_dout"] is not None:
        rows.append("%s = %s" % (neuron["dE_text"], _f(t["dE_dout"])))
        rows.append("%s (%s)" % (neuron["derivative_text"], neuron["activation"]))
    else:
        rows.append("%s = %s" % (neuron["dE_text"], _f(t["delta"])))
    rows.append(dnet)
    parts.append('<p class="pynn-math">%s</p>' % "\n".join(_e(r) for r in rows))
    if n_samples > 1:
        parts.append('<p class="pynn-math">summed over the %d samples: ∂E/∂w = %s = %s</p>'
                     % (n_samples, _e(w["sum_text"]), _e(_f(w["grad"]))))
    label = "Update (SGD, lr = %s)" % _f(w["lr"]) if data["plain_sgd"] else "Update by %s" % data["optimizer"]
    parts.append('<p class="pynn-math pynn-update">%s:\n  %s</p></div>' % (_e(label), _e(w["update_text"])))
    return "".join(parts)


def _neuron_detail(data: Mapping[str, Any], n: Mapping[str, Any]) -> str:
    l, j = int(n["layer"]), int(n["unit"])
    rows = ["net = Σ w·in + b = %s = %s" % (n["weighted_sum"], _f(n["net"])) if n["weighted_sum"]
            else "net = Σ w·in + b = %s" % _f(n["net"]),
            "out = %s(net) = %s" % (n["activation"], _f(n["out"]))]
    if n.get("mask") is not None:
        rows.append("dropout: the next layer sees out·m, m = %s" % _f(n["mask"]))
    if n["dE_dout"] is not None:
        rows += ["%s = %s" % (n["dE_text"], _f(n["dE_dout"])), str(n["derivative_text"]),
                 "δ = ∂E/∂net = ∂E/∂out · ∂out/∂net = %s" % _f(n["delta"])]
    else:
        rows.append("%s = %s" % (n["dE_text"], _f(n["delta"])))
    return ('<div class="pynn-detail" data-key="%s"><h4>unit %d of layer %d (%s)</h4><p class="pynn-math">%s</p>'
            '</div>' % (_e("neuron %d,%d" % (l, j)), j, l, _e(n["activation"]), "\n".join(_e(r) for r in rows)))


def _loss_detail(data: Mapping[str, Any]) -> str:
    return ('<div class="pynn-detail" data-key="loss"><h4>The loss</h4><p class="pynn-math">%s\n%s</p>'
            '<p class="pynn-math">output layer: %s</p></div>'
            % (_e(data["loss_formula"]), _e(data["loss_text"]), _e(data["dE_formula"])))


def _tables(data: Mapping[str, Any]) -> str:
    def row(key: Optional[str], cells: List[Tuple[str, bool]]) -> str:
        attr = ' data-key="%s" tabindex="0"' % _e(key) if key else ""
        return "<tr%s>%s</tr>" % (attr, "".join('<td class="pynn-num">%s</td>' % _e(c) if num else
                                                "<td>%s</td>" % _e(c) for c, num in cells))

    def head(names: List[str]) -> str:
        return "<tr>%s</tr>" % "".join("<th>%s</th>" % _e(n) for n in names)

    forward = [row("neuron %d,%d" % (n["layer"], n["unit"]),
                   [(str(n["layer"]), False), (str(n["unit"]), False), (n["weighted_sum"] or "", False),
                    (_f(n["net"]), True), (str(n["activation"]), False), (_f(n["out"]), True),
                    (_f(n["dE_dout"]), True), (_f(n["dout_dnet"]), True), (_f(n["delta"]), True)])
               for n in data["neurons"]]
    weights = [row(w["name"], [(w["name"], False), (w["alias"] or "", False), (_f(w["old"]), True),
                               (_f(w["term"]["dE_dout"]), True), (_f(w["term"]["dout_dnet"]), True),
                               (_f(w["term"]["dnet_dw"]), True), (_f(w["grad"]), True), (_f(w["new"]), True)])
               for w in data["weights"]]
    multi = int(data["n_samples"]) > 1
    return ('<h3>Neurons%s</h3><table class="pynn-neurons">%s%s</table>'
            '<h3>Weights and biases</h3><table class="pynn-weights">%s%s</table>'
            % (" (sample %d)" % data["sample"] if multi else "",
               head(["layer", "unit", "net = Σ w·in + b", "net", "act", "out", "∂E/∂out", "∂out/∂net",
                     "δ = ∂E/∂net"]), "".join(forward),
               head(["weight", "post", "old", "∂E/∂out", "∂out/∂net", "∂net/∂w",
                     "∂E/∂w" + (" (all samples)" if multi else ""), "new"]), "".join(weights)))


def render_fragment(data: Mapping[str, Any], element_id: str = "pynn-step", include_assets: bool = True) -> str:
    """The step in ``data`` (what :func:`explanation_json` returns) as an HTML
    fragment: a ``<div class="pynn-step" id=element_id>`` holding the drawing
    (inline SVG), the loss, the chain-rule panel (one ``.pynn-detail`` per
    weight, neuron and the loss; the selected one shown), the tables and the
    data as JSON; with ``include_assets`` also :func:`render_assets`.
    ``element_id``: letters, digits, "-" and "_", starting with a letter.

    >>> import pynn
    >>> from pynn.explain_html import explanation_json, render_fragment
    >>> net = pynn.Network([pynn.Dense(1, 1, "sigmoid")], loss="mse", optimizer=pynn.SGD(lr=1.0),
    ...                    dtype="float64")
    >>> net.set_weights([[[0.0]], [0.0]])
    >>> data = explanation_json(net.explain_step([[2.0]], [[1.0]]))
    >>> print(data["weights"][0]["chain_text"])
    ∂E/∂out · ∂out/∂net · ∂net/∂w = (−1) · 0.25 · 2 = −0.5
    >>> print(data["weights"][0]["update_text"])
    w ← w − lr·∂E/∂w = 0 − 1·(−0.5) = 0.5
    >>> fragment = render_fragment(data, element_id="step1", include_assets=False)
    >>> fragment.startswith('<div class="pynn-step" id="step1">'), 'class="pynn-step-data"' in fragment
    (True, True)
    """
    if not isinstance(element_id, str) or not _ID.match(element_id):
        raise ValueError("element_id must be letters, digits, '-' or '_' starting with a letter; got %r"
                         % (element_id,))
    if not isinstance(data, Mapping) or data.get("format") != "pynn.explain/1":
        raise ValueError("data must be what explanation_json returns (format 'pynn.explain/1')")
    if len(data["weights"]) > MAX_WEIGHTS:
        raise ValueError("the network has %d weights and biases, more than a page draws (MAX_WEIGHTS = %d): "
                         "explain a smaller network, or read step.to_text(layer=..., neuron=...)"
                         % (len(data["weights"]), MAX_WEIGHTS))
    sizes = "-".join(str(int(s)) for s in data["sizes"])
    n_samples = int(data["n_samples"])
    details = ([_loss_detail(data)] + [_weight_detail(data, w) for w in data["weights"]]
               + [_neuron_detail(data, n) for n in data["neurons"]])
    intro = ("One SGD step of a %s network (%s), loss %s%s. Layer 0 is the inputs, layer l (from 1) the l-th "
             "Dense layer; units count from 0; W2[i,j] is the weight from unit i of layer 1 to unit j of layer 2."
             % (sizes, ", ".join(str(a) for a in data["activations"]), data["loss_name"],
                ", sample %d of %d drawn" % (data["sample"], n_samples) if n_samples > 1 else ""))
    opt = ("Optimizer: %s. Each edge shows its weight's name, old → new value and ∂E/∂w (blue: positive, red: "
           "negative, thicker: larger |w|; dashed: a bias)." % data["optimizer"])
    inputs = "Inputs x = [%s], target y = [%s]." % (", ".join(_f(v) for v in data["inputs"]),
                                                   ", ".join(_f(v) for v in data["targets"]))
    loss = ('<div class="pynn-loss" data-key="loss" tabindex="0"><span class="pynn-math">%s</span><br>'
            '<span class="pynn-math pynn-value">%s</span>%s</div>'
            % (_e(data["loss_formula"]), _e(data["loss_text"]),
               " (the whole batch of %d samples)" % n_samples if n_samples > 1 else ""))
    panel = ('<aside class="pynn-panel" aria-live="polite"><p class="pynn-hint">Click, hover or tab to a weight '
             '(an edge) or a neuron to see its chain-rule product with the numbers and its update.</p>%s</aside>'
             % "".join(d.replace('<div class="pynn-detail"', '<div class="pynn-detail" hidden', 1) for d in details))
    every = ('<section class="pynn-all-details"><h3>Every chain-rule product</h3>%s</section>'
             % "".join(_weight_detail(data, w) for w in data["weights"]))
    body = ('<div class="pynn-step" id="%s"><p class="pynn-note">%s</p><p class="pynn-note">%s</p>'
            '<p class="pynn-note">%s</p>%s<div class="pynn-layout">%s%s</div>%s%s%s</div>'
            % (_e(element_id), _e(intro), _e(opt), _e(inputs), loss, _svg(data), panel, _tables(data), every,
               _json_script(data)))
    return (render_assets() if include_assets else "") + body


def render_page(data: Mapping[str, Any], title: Optional[str] = None) -> str:
    """A whole HTML document of the step in ``data``: :func:`render_fragment`
    with its assets, a title and a heading (default: "pynn: one training
    step")."""
    title = "pynn: one training step" if title is None else str(title)
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
            "script-src 'unsafe-inline'; img-src data:\">\n"
            "<title>%s</title>\n%s<style>body { margin: 16px 24px; font: 14px system-ui, sans-serif; color: #1d2330; }"
            "</style>\n</head>\n<body>\n<h2>%s</h2>\n%s\n</body>\n</html>\n"
            % (_e(title), render_assets(), _e(title), render_fragment(data, include_assets=False)))


def write_html(expl: Any, path: PathLike, title: Optional[str] = None, sample: int = 0) -> str:
    """Write the page of the step ``expl`` (drawing ``sample``) to ``path``
    as UTF-8 and return the path (a str)."""
    page = render_page(explanation_json(expl, sample), title)
    target = os.fspath(path)
    with open(target, "w", encoding="utf-8") as f:
        f.write(page)
    return str(target)
