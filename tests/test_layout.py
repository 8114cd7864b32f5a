"""The package's layout, read from its source with ``ast`` (issue 10):

- the import graph of pynn's modules (imports for typing included) has no
  cycle, except through the lazy imports inside the method facades that exist
  to break one (``Network.fit``, ``Network.save``, ``Network.explain_step``,
  ``serialization.load``, and ``History.plot``, which also keeps matplotlib
  optional) and a facade's module's imports, for typing, of the types those
  facades return;
- the backends never import the network module, not even for typing: they
  work on a plan (pynn._plan), so they can be tested without a Network;
- no module but the plan and the two backends reaches into a plan's C cache,
  and no module reads a Network's former private buffer fields.
"""
import ast
import os
import re

import pytest

import pynn

PACKAGE = os.path.dirname(pynn.__file__)
#: (module, function) whose lazy imports are allowed to close a cycle
FACADES = {("pynn.network", "fit"), ("pynn.network", "save"), ("pynn.network", "explain_step"),
           ("pynn.network", "train_step"), ("pynn.serialization", "load"), ("pynn.training", "plot"),
           ("pynn.training", "fit")}


def _modules():
    """{module name: path} for the package and its subpackages (pynn.distributed, ...)."""
    names = {}
    for folder, dirs, files in os.walk(PACKAGE):
        dirs[:] = sorted(d for d in dirs if not d.startswith(("_", ".")))
        package = ".".join(["pynn"] + os.path.relpath(folder, PACKAGE).split(os.sep)).replace("pynn..", "pynn")
        package = "pynn" if folder == PACKAGE else package
        for file in sorted(files):
            if file.endswith(".py"):
                name = package if file == "__init__.py" else package + "." + file[:-3]
                names[name] = os.path.join(folder, file)
    return names


def _imports(module, path, modules):
    """[(imported module, function it is in or "TYPE_CHECKING" or None)] for every import in the file."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    found = []

    def target(node):
        if isinstance(node, ast.Import):
            return [alias.name for alias in node.names]
        is_package = os.path.basename(path) == "__init__.py"
        base = module if is_package else module.rsplit(".", 1)[0]
        if node.level:
            prefix = base.rsplit(".", node.level - 1)[0] if node.level > 1 else base
            prefix = prefix + ("." + node.module if node.module else "")
        else:
            prefix = node.module or ""
        return [prefix + "." + alias.name if prefix + "." + alias.name in modules else prefix
                for alias in node.names]

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, function or child.name)
            elif isinstance(child, ast.If) and ast.unparse(child.test) == "TYPE_CHECKING":
                visit(child, function or "TYPE_CHECKING")
            elif isinstance(child, (ast.Import, ast.ImportFrom)):
                found.extend((name, function) for name in target(child) if name in modules)
            else:
                visit(child, function)

    visit(tree, None)
    return found


def _graph(allow_facades):
    modules = _modules()
    imports = {module: _imports(module, path, modules) for module, path in modules.items()}
    # the modules each module's facades import lazily: it may name their types for typing
    facade_targets = {(module, name) for module, function in FACADES for name, where in imports[module]
                      if where == function}
    graph = {}
    for module in modules:
        graph[module] = set()
        for name, where in imports[module]:
            lazy_facade = (module, where) in FACADES
            facade_type = where == "TYPE_CHECKING" and (module, name) in facade_targets
            if name != module and not (allow_facades and (lazy_facade or facade_type)):
                graph[module].add(name)
    return graph


def _cycle(graph):
    """A cycle as a list of modules, or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt == "pynn" or node == "pynn":
                continue  # the package's __init__ re-exports everything; submodules import it only lazily
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_import_graph_has_no_cycle_but_the_facades():
    assert _cycle(_graph(allow_facades=True)) is None


def test_the_facades_are_what_breaks_the_cycles():
    """Without the facade exemption there is a cycle (network -> training -> network): so the
    test above really looks at the lazy imports."""
    assert _cycle(_graph(allow_facades=False)) is not None


@pytest.mark.parametrize("module", ["pynn.backends", "pynn.c_backend", "pynn.numpy_backend"])
def test_backends_do_not_import_the_network(module):
    modules = _modules()
    imported = {name for name, _ in _imports(module, modules[module], modules)}
    assert "pynn.network" not in imported


def test_no_module_reads_private_network_state():
    """The fields that used to hold a network's state outside its plan are gone, and only the
    plan and the backends touch a plan's C cache."""
    old_fields = re.compile(r"\.(_params|_grads|_state|_dense|_drop_rates|_has_dropout|_sizes|_act_codes|"
                            r"_loss_code|_param_views|_grad_views|_dropout_seed|_rows_per_call|"
                            r"_seconds_per_row|_c)\b")
    cache = re.compile(r"plan\.c\b")
    for module, path in _modules().items():
        text = open(path, encoding="utf-8").read()
        assert not old_fields.findall(text), module
        if module not in ("pynn._plan", "pynn.c_backend"):
            assert not cache.findall(text), module
