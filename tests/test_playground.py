"""pynn playground (issue 15): the server's security rules, the training session, the command.

The page itself is driven in headless Chromium in test_playground_browser.py.
"""
import http.client
import json
import os
import signal
import subprocess
import sys
import urllib.parse

import numpy as np
import pytest

import pynn
from pynn.playground import make_server
from pynn.playground.server import MAX_BODY, strict_json
from pynn.playground.session import LIMITS, ConfigError, Session, builtin_datasets, load_csv

TIMEOUT = 30


@pytest.fixture
def server():
    srv = make_server(port=0).start()
    try:
        yield srv
    finally:
        srv.stop()


def request(srv, method, path, body=None, token=True, host=None, headers=None, raw=None):
    """(status, headers, body bytes) of one request to ``srv``; ``token``: True (the right one),
    False (none) or a string (that one)."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=TIMEOUT)
    try:
        if token is True:
            token = srv.token
        if token:
            path += ("&" if "?" in path else "?") + "token=" + urllib.parse.quote(token)
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host or "127.0.0.1:%d" % srv.port)
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        hdrs = dict(headers or {})
        if data is not None:
            hdrs.setdefault("Content-Type", "application/json")
            hdrs.setdefault("Content-Length", str(len(data)))
        for k, v in hdrs.items():
            conn.putheader(k, v)
        conn.endheaders()
        if data is not None:
            conn.send(data)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def api(srv, path, body=None):
    status, _, data = request(srv, "GET" if body is None else "POST", path, body)
    assert status == 200, data
    return json.loads(data)


# ---- security ----------------------------------------------------------------------------------

def test_binds_loopback_only_and_url_carries_a_token(server):
    assert server.server_address[0] == "127.0.0.1"
    parts = urllib.parse.urlsplit(server.url)
    assert parts.hostname == "127.0.0.1" and parts.port == server.port
    token = urllib.parse.parse_qs(parts.query)["token"][0]
    assert token == server.token and len(token) >= 32
    assert make_server(port=0).token != token  # a fresh random token each time


@pytest.mark.parametrize("path", ["/", "/api/state", "/nothing-here"])
def test_requests_without_the_right_token_are_refused(server, path):
    for token in (False, "", "wrong", server.token[:-1], server.token + "x"):
        status, _, body = request(server, "GET", path, token=token)
        assert status == 403, (token, body)
        assert b"<html" not in body and b"weights" not in body
    status, _, _ = request(server, "POST", "/api/step", {"steps": 1}, token="wrong")
    assert status == 403
    assert api(server, "/api/state")["steps"] == 0  # the refused step did not train


def test_token_in_a_header_is_accepted(server):
    status, _, _ = request(server, "GET", "/api/state", token=False, headers={"X-Pynn-Token": server.token})
    assert status == 200


@pytest.mark.parametrize("host", ["evil.example:{port}", "evil.example", "127.0.0.1", "127.0.0.1:{other}",
                                  "localhost.evil.example:{port}", "[::1]:{port}", "0.0.0.0:{port}"])
def test_foreign_host_headers_are_refused_even_with_the_token(server, host):
    host = host.format(port=server.port, other=server.port + 1)
    status, _, body = request(server, "GET", "/", host=host)
    assert status == 403
    assert b"Host" in body


def test_loopback_host_names_are_accepted(server):
    for host in ("127.0.0.1:%d" % server.port, "localhost:%d" % server.port, "LocalHost:%d" % server.port):
        status, headers, body = request(server, "GET", "/", host=host)
        assert status == 200, host
        assert body.startswith(b"<!DOCTYPE html>")


def test_the_page_and_its_headers(server):
    status, headers, body = request(server, "GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "connect-src 'self'" in csp
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert ('<script nonce="%s">' % nonce).encode() in body  # the page's one script carries the nonce
    assert b"{{NONCE}}" not in body
    assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"
    assert b"http://" not in body.replace(b"http://www.w3.org/2000/svg", b"")  # nothing loaded from elsewhere
    assert b"https://" not in body


@pytest.mark.parametrize("path", ["/index.html", "/page.html", "/../pynn/playground/page.html", "/api",
                                  "/api/state/", "/static/x.js", "/etc/passwd", "//etc/passwd",
                                  "/%2e%2e/server.py"])
def test_unknown_paths_are_404(server, path):
    status, _, body = request(server, "GET", path)
    assert status == 404, path
    status, _, _ = request(server, "POST", path, {})
    assert status == 404, path


def test_request_bodies_are_limited_and_strictly_parsed(server):
    big = b'{"steps": 1, "pad": "' + b"x" * MAX_BODY + b'"}'
    assert request(server, "POST", "/api/step", raw=big)[0] == 413
    assert request(server, "POST", "/api/step", raw=b'{"steps": 1}',
                   headers={"Content-Type": "text/plain"})[0] == 415
    assert request(server, "POST", "/api/step", raw=b'{"steps": 1}',
                   headers={"Content-Type": "application/x-www-form-urlencoded"})[0] == 415
    for raw in (b'{"steps": NaN}', b'{"steps": 1, "steps": 2}', b"[1]", b"{", b'"x"', b"\xff\xfe"):
        status, _, body = request(server, "POST", "/api/step", raw=raw)
        assert status == 400, raw
        assert "error" in json.loads(body)
    for length in ("", "²", "-1", "1e3", "0x10"):  # ASCII digits only
        assert request(server, "POST", "/api/step", raw=b'{"steps": 1}', headers={"Content-Length": length})[0] \
            == 411, length
    assert request(server, "POST", "/api/step", {"steps": 1, "extra": 0})[0] == 400
    assert request(server, "PUT", "/api/step", {"steps": 1})[0] == 405
    assert api(server, "/api/state")["steps"] == 0


def test_strict_json():
    assert strict_json(b'{"a": [1, 2.5, "x"]}') == {"a": [1, 2.5, "x"]}
    for raw in (b'{"a": Infinity}', b'{"a": -Infinity}', b'{"a": 1, "a": 1}', b"null", b"3"):
        with pytest.raises(ValueError):
            strict_json(raw)


@pytest.mark.parametrize("config, field", [
    ({"hidden": [4] * (LIMITS["max_hidden_layers"] + 1)}, "hidden"),
    ({"hidden": [LIMITS["max_units"] + 1]}, "hidden[0]"),
    ({"hidden": [0]}, "hidden[0]"),
    ({"hidden": [2.5]}, "hidden[0]"),
    ({"hidden": "4,4"}, "hidden"),
    ({"lr": 100.0}, "lr"),
    ({"lr": 0}, "lr"),
    ({"lr": "0.1"}, "lr"),
    ({"lr": True}, "lr"),
    ({"batch_size": LIMITS["max_batch_size"] + 1}, "batch_size"),
    ({"seed": -1}, "seed"),
    ({"activation": "softmax"}, "activation"),
    ({"init": "../../etc"}, "init"),
    ({"optimizer": "lbfgs"}, "optimizer"),
    ({"dataset": "/etc/passwd"}, "dataset"),
    ({"epochs": 3}, "unknown"),
])
def test_training_parameters_are_validated(server, config, field):
    status, _, body = request(server, "POST", "/api/config", {"config": config})
    assert status == 400
    assert field in json.loads(body)["error"]
    assert api(server, "/api/state")["config"]["hidden"] == [4, 4]  # unchanged


def test_steps_per_request_are_bounded(server):
    for steps in (0, -1, LIMITS["max_steps_per_request"] + 1, 1.5, "10", None):
        status, _, _ = request(server, "POST", "/api/step", {"steps": steps})
        assert status == 400, steps
    assert api(server, "/api/step", {"steps": LIMITS["max_steps_per_request"]})["steps"] == \
        LIMITS["max_steps_per_request"]


# ---- the session: what the page shows is the network's own numbers ------------------------------

def test_session_trains_on_the_current_backend_and_reports_the_true_loss(backend):
    session = Session(builtin_datasets(), {"dataset": "xor", "hidden": [3], "lr": 0.3, "batch_size": 8, "seed": 1})
    assert session.state()["backend"] == backend == pynn.backend()
    data = session.data
    # an independent twin: the same seeded network, trained on the same batches with train_step
    twin = pynn.Network([pynn.Dense(2, 3, "tanh"), pynn.Dense(3, 1, "sigmoid")], loss="binary_cross_entropy",
                        optimizer=pynn.SGD(lr=0.3), dtype="float64", seed=1)
    for a, b in zip(twin.get_weights(), session.net.get_weights()):
        np.testing.assert_array_equal(a, b)
    start = session.state()["loss"]
    assert start == pytest.approx(twin.evaluate(data.X, data.y)["loss"], rel=1e-12)
    rng = np.random.default_rng(1)
    order, pos = rng.permutation(len(data.X)), 0
    for _ in range(60):
        batch = order[pos:pos + 8]
        np.testing.assert_array_equal(session.next_batch(), batch)
        twin.train_step(data.X[batch], data.y[batch])
        session.step(1)
        pos += 8
        if pos >= len(order):
            order, pos = rng.permutation(len(data.X)), 0
    state = session.state()
    for a, b in zip(twin.get_weights(), session.net.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    scores = twin.evaluate(data.X, data.y)
    assert state["loss"] == pytest.approx(scores["loss"], rel=1e-10)
    assert state["accuracy"] == pytest.approx(scores["accuracy"])
    assert state["loss"] < start
    assert state["steps"] == 60 and state["epoch"] == pytest.approx(60 * 8 / len(data.X))


def test_explain_is_the_chain_rule_of_the_next_step_and_does_not_train():
    session = Session(builtin_datasets(), {"dataset": "spirals-3", "hidden": [4, 3], "lr": 0.2, "batch_size": 5})
    session.step(7)
    before = session.net.get_weights()
    batch = session.next_batch()
    X, y = session.data.X[batch], session.data.y[batch]
    grads = np.concatenate([g.ravel() for g in session.net.gradients(X, y)])  # the backend's gradients
    flat_before = np.concatenate([w.ravel() for w in before])
    for index in (0, 5, len(grads) - 1, 2 * 4 + 4 + 2):  # W1[0,0], b1[1], the last bias, W2[0,2]
        e = session.explain(index)
        assert e["batch"] == batch.tolist() and e["step"] == 8
        total = 0.0
        for t in e["terms"]:
            if t["dE_dout"] is not None:  # a hidden neuron: the three factors of the chain rule
                assert t["dE_dout"] * t["dout_dnet"] == pytest.approx(t["delta"], rel=1e-12, abs=1e-15)
            assert t["delta"] * t["dnet_dw"] == pytest.approx(t["product"], rel=1e-12, abs=1e-15)
            total += t["product"]
        assert e["n_terms"] == len(batch) == len(e["terms"])
        assert total == pytest.approx(grads[index], rel=1e-9, abs=1e-12)
        assert e["grad"] == pytest.approx(grads[index], rel=1e-9, abs=1e-12)
        assert e["old"] == flat_before[index]
        assert e["new"] == pytest.approx(flat_before[index] - 0.2 * grads[index], rel=1e-12, abs=1e-14)
    for a, b in zip(before, session.net.get_weights()):  # looking did not train
        np.testing.assert_array_equal(a, b)
    session.step(1)  # the step it explained
    after = np.concatenate([w.ravel() for w in session.net.get_weights()])
    np.testing.assert_allclose(after, flat_before - 0.2 * grads, rtol=1e-12, atol=1e-14)
    with pytest.raises(ConfigError):
        session.explain(len(grads))


def test_maps_show_the_network_on_the_grid():
    session = Session(builtin_datasets(), {"dataset": "circle", "hidden": [3], "batch_size": 20})
    session.step(30)
    state = session.state()
    maps = state["maps"]
    points, bounds = session.grid()
    G = LIMITS["grid"]
    assert points.shape == (G * G, 2) and maps["size"] == G
    assert bounds[0] < session.data.X[:, 0].min() and bounds[1] > session.data.X[:, 0].max()
    import base64
    p = session.net.predict(points)[:, 0]  # sigmoid output: p(class 1)
    q = np.frombuffer(base64.b64decode(maps["decision"][1]), np.uint8)
    np.testing.assert_array_less(np.abs(q / 255.0 - p), 1 / 255.0 + 1e-9)
    W, b = session.net.get_weights()[:2]
    hidden = np.tanh(points @ W + b)  # hidden neuron 2 by hand
    n = maps["neurons"][1][2]
    assert n["lo"] == pytest.approx(hidden[:, 2].min()) and n["hi"] == pytest.approx(hidden[:, 2].max())
    q = np.frombuffer(base64.b64decode(n["map"]), np.uint8)
    np.testing.assert_array_less(np.abs(n["lo"] + q / 255.0 * (n["hi"] - n["lo"]) - hidden[:, 2]),
                                 (n["hi"] - n["lo"]) / 255.0)
    json.dumps(state, allow_nan=False)  # the page's JSON: no NaN


def test_symmetry_preset_keeps_hidden_neurons_identical():
    session = Session(builtin_datasets())
    state = session.preset("symmetry")
    assert state["config"]["init"] == "constant" and state["note"]
    state = session.step(200)
    W, b = session.net.get_weights()[:2]
    assert np.all(W == W[:, :1]) and np.all(b == b[0])  # every hidden neuron the same, by hand
    assert state["network"]["distinct"] == [1]
    state = session.preset("symmetry-random")
    state = session.step(200)
    W = session.net.get_weights()[0]
    assert len({tuple(col) for col in W.T.tolist()}) == W.shape[1]
    assert state["network"]["distinct"] == [W.shape[1]]
    assert state["accuracy"] > 0.9  # random starts learn XOR


def test_lr_sweep_preset_compares_rates_and_keeps_the_best_live():
    session = Session(builtin_datasets())
    state = session.preset("lr-sweep")
    curves = state["comparison"]["curves"]
    assert [c["lr"] for c in curves] == [0.01, 0.1, 1.0, 10.0]
    finals = {c["lr"]: (c["loss"][-1] if c["loss"][-1] is not None else np.inf) for c in curves}
    assert state["config"]["lr"] == min(finals, key=finals.get)
    assert len(curves[0]["loss"]) == state["comparison"]["epochs"] + 1
    assert curves[0]["loss"][0] == curves[-1]["loss"][0]  # one start for all
    assert finals[0.01] > finals[state["config"]["lr"]]  # too small a rate barely moves
    assert state["steps"] == 0
    # a rate picked from the list keeps the lesson's curves beside the live one
    assert session.configure(dict(state["config"], lr=0.1), keep_comparison=True)["comparison"] is not None


def test_csv_data(tmp_path):
    path = tmp_path / "moons.csv"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2)) * [10.0, 0.1] + [100.0, -5.0]
    labels = np.where(X[:, 0] > 100.0, "yes", "no")
    path.write_text("height,weight,extra,answer\n" + "".join(
        "%r,%r,%d,%s\n" % (float(a), float(b), i, c) for i, ((a, b), c) in enumerate(zip(X, labels))))
    data = load_csv(str(path), "file-1")
    assert data.classes == ["no", "yes"] and data.features == ("height", "weight")
    np.testing.assert_array_equal(data.y, (labels == "yes").astype(int))
    np.testing.assert_allclose(data.X, (X - X.mean(0)) / X.std(0))
    srv = make_server(port=0, data_paths=(str(path),)).start()
    try:
        state = api(srv, "/api/state")
        assert state["data"]["key"] == "file-1" and state["data"]["classes"] == ["no", "yes"]
        assert "file-1" in [d["key"] for d in state["datasets"]]
    finally:
        srv.stop()
    bad = tmp_path / "bad.csv"
    for text, message in [("a,b,c\n1,2,x\n3,4,x\n", "2 to"), ("a,b,c\n1,z,x\n3,4,y\n", "must be a number"),
                          ("a,b\n1,2\n3,4\n", "three columns"), ("a,b,c\n1,2,x\n3,4\n", "fields")]:
        bad.write_text(text)
        with pytest.raises(ValueError, match=message):
            load_csv(str(bad), "file-1")


# ---- the command ------------------------------------------------------------------------------

def _start_command(*args):
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYNN_BACKEND=pynn.backend())
    env.pop("BROWSER", None)
    proc = subprocess.Popen([sys.executable, "-m", "pynn", "playground", "--port", "0", "--no-browser", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    return proc


def _first_line(proc):
    import threading
    line = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(TIMEOUT)
    if not line:
        proc.kill()
        raise AssertionError("pynn playground printed nothing in %d s" % TIMEOUT)
    return line[0].strip()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_command_prints_its_url_first_serves_and_stops_cleanly(backend, stop):
    proc = _start_command()
    try:
        url = _first_line(proc)
        parts = urllib.parse.urlsplit(url)
        assert parts.scheme == "http" and parts.hostname == "127.0.0.1" and parts.port > 0
        token = urllib.parse.parse_qs(parts.query)["token"][0]
        conn = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=TIMEOUT)
        conn.request("GET", "/api/state?token=" + token)
        response = conn.getresponse()
        state = json.loads(response.read())
        assert response.status == 200 and state["backend"] == backend
        conn.request("GET", "/api/state")
        response = conn.getresponse()
        response.read()
        assert response.status == 403
        conn.close()
        proc.send_signal(stop)
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, err
    assert "stopped" in out and token not in err


def test_a_stop_signal_while_a_request_is_handed_over_still_stops(backend, monkeypatch):
    """SIGTERM landing while the main thread hands a connection to its handler
    thread: socketserver answers an Exception raised there by logging it and
    serving on, so the stop must not be an Exception (a CI run hung that way,
    the SIGINT case of the test above)."""
    import io
    import threading

    from pynn import playground
    made = []
    real_make_server = playground.make_server

    def make_server_signalling(**kwargs):
        srv = real_make_server(**kwargs)
        hand_over = srv.process_request

        def process_request(request, client_address):
            os.kill(os.getpid(), signal.SIGTERM)  # its handler runs here, in the main thread
            hand_over(request, client_address)
        srv.process_request = process_request
        made.append(srv)
        return srv

    def client():
        while not made:
            threading.Event().wait(0.01)
        try:
            http.client.HTTPConnection("127.0.0.1", made[0].port, timeout=TIMEOUT).request("GET", "/")
        except OSError:
            pass  # the server may close the connection as it stops

    hung = []

    def watchdog():  # without the fix run() would serve forever: end it and say so
        if not done.wait(TIMEOUT):
            hung.append(True)
            made[0].shutdown()

    monkeypatch.setattr(playground, "make_server", make_server_signalling)
    done = threading.Event()
    threading.Thread(target=client, daemon=True).start()
    threading.Thread(target=watchdog, daemon=True).start()
    out = io.StringIO()
    handler_before = signal.getsignal(signal.SIGTERM)
    try:
        assert playground.run(port=0, open_browser=False, out=out) == 0
    finally:
        done.set()
    assert not hung, "run() kept serving after SIGTERM"
    assert out.getvalue().splitlines()[-1] == "pynn playground: stopped"
    assert signal.getsignal(signal.SIGTERM) is handler_before  # the previous handler is back


def test_command_reports_a_bad_csv(tmp_path):
    bad = tmp_path / "one.csv"
    bad.write_text("a,b,c\n1,2,x\n3,4,x\n")
    proc = _start_command("--data", str(bad))
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 1 and "one.csv" in err and "classes" in err and out == ""


def test_step_page_draws_the_next_step_by_explain_html(server):
    import copy
    import re

    session = server.session
    session.step(5)
    batch = session.next_batch()
    before = [w.copy() for w in session.net.get_weights()]
    status, headers, body = request(server, "GET", "/step?sample=3")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "connect-src" not in headers["Content-Security-Policy"]  # default-src 'none': no connection
    page = body.decode("utf-8")
    assert "point #%d" % batch[3] in page
    data = json.loads(re.search(r'<script type="application/json" class="pynn-step-data">(.*?)</script>',
                                page, re.S).group(1))
    X, y = session.data.X[batch], session.data.y[batch]
    step = copy.deepcopy(session.net).explain_step(X, y)  # independently, on a copy
    grads = np.concatenate([g.ravel() for g in session.net.gradients(X, y)])
    assert data["sample"] == 3 and data["n_samples"] == len(batch)
    assert [w["name"] for w in data["weights"]] == [w.name for w in step.weights]
    np.testing.assert_allclose([w["grad"] for w in data["weights"]], grads, rtol=1e-9, atol=1e-15)
    assert data["inputs"] == X[3].tolist()  # the drawn point's inputs
    for a, b in zip(before, session.net.get_weights()):  # drawing did not train
        np.testing.assert_array_equal(a, b)
    assert request(server, "GET", "/step?sample=3", token=False)[0] == 403
    for sample in ("10", "-1", "x", "1e3", "9" * 7, "%C2%B2"):  # ... and "²"
        assert request(server, "GET", "/step?sample=" + sample)[0] == 400, sample


def test_epochs_count_the_rows_trained_on():
    session = Session(builtin_datasets(), {"dataset": "xor", "batch_size": 30})  # 200 rows: 6 x 30 + 20
    sizes = []
    for _ in range(7):
        sizes.append(len(session.next_batch()))
        session.step(1)
    assert sizes == [30] * 6 + [20]
    assert session.epoch == 1.0 and session.state()["epoch"] == 1.0
