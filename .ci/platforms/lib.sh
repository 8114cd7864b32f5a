# shellcheck shell=bash disable=SC2034,SC2153  # FAST_TESTS is for the sourcing script, which sets ROOT
# Shared by the scripts in .ci/platforms/ (sourced, not run): progress lines,
# a clean copy of the checkout, the fast test subset, and finding a Python.
# The sourcing script sets JOB (its name) and ROOT (the checkout) first.

# A fast subset of the suite (about ten seconds per backend here): the
# hand-worked network, gradients against finite differences, the backends
# against each other, losses, inputs, fit options, callbacks, model files and
# their byte order.  The platform jobs run this, not the whole suite, to stay
# within CI's time; .ci/run runs everything once.
FAST_TESTS=(tests/test_hand_worked.py tests/test_gradcheck.py tests/test_agreement.py tests/test_losses.py
            tests/test_inputs.py tests/test_fit_options.py tests/test_callbacks.py tests/test_save_load.py
            tests/test_model_files.py tests/test_platform_endianness.py)

say() { printf '== %s: %s\n' "$JOB" "$*"; }
die() { printf '== %s: FAILED: %s\n' "$JOB" "$*" >&2; exit 1; }

# copy_checkout DIR: the working tree without VCS data, builds or caches
copy_checkout() {
    mkdir -p "$1"
    tar -C "$ROOT" --exclude=./.git --exclude=./build --exclude=./dist --exclude='*.so' --exclude='*.pyd' \
        --exclude=__pycache__ --exclude='*.egg-info' --exclude='./.venv*' --exclude=.pytest_cache \
        --exclude=.mypy_cache --exclude=.hypothesis -cf - . | tar -C "$1" -xf -
}

# find_python 3.X: the path of a CPython 3.X interpreter, or nothing.  Looks
# in pyenv's versions (newest patch release first; $PYENV_ROOT or ~/.pyenv),
# then for python3.X on PATH (pyenv's shims skipped: they need pyenv's own
# selection); the interpreter must run and report that version.
find_python() {
    local v="$1" root="${PYENV_ROOT:-$HOME/.pyenv}" cand
    local -a cands=()
    if [ -d "$root/versions" ]; then
        while IFS= read -r cand; do cands+=("$cand/bin/python$v"); done \
            < <(find "$root/versions" -maxdepth 1 -name "$v.*" | sort -V -r)
    fi
    while IFS= read -r cand; do
        case "$cand" in */shims/*) ;; *) cands+=("$cand") ;; esac
    done < <(type -a -p "python$v" 2>/dev/null || true)
    for cand in "${cands[@]}"; do
        if [ -x "$cand" ] && timeout 60 "$cand" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$v'.split('.'))))" 2>/dev/null; then
            echo "$cand"
            return 0
        fi
    done
    return 0
}
