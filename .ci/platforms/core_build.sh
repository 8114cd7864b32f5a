# Shared by .ci/platforms/cross and .ci/platforms/mingw_wine (sourced, not
# run): installing their Debian packages and building core_selftest.c.
#
# The core's C sources and the flags csrc/build_core.py gives GCC
# (compile_args_for; check_flags_match_build_core keeps the two in step):
# -std=c99 and -ffp-contract=off (no FMA contraction) and
# -fexcess-precision=fast (float stays float) are what make float32 results
# bit-identical across x86-64, aarch64 and s390x.

CORE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PLAT="$CORE_ROOT/.ci/platforms"
CORE_SOURCES="common.c threads.c simd_x86.c simd_arm.c core_f32.c core_f64.c"
GCC_FLAGS="-O3 -std=c99 -fno-math-errno -ffp-contract=off -fexcess-precision=fast -Wall -Wextra"

log() { printf '[%s %4ds] %s\n' "$(basename "$0")" "$SECONDS" "$*"; }

# apt_install PACKAGE...: install what is missing (as root, or with sudo)
apt_install() {
    local missing=() p sudo=""
    for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if [ ${#missing[@]} -eq 0 ]; then log "apt: already installed: $*"; return 0; fi
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    log "apt-get install ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    log "apt: done"
}

# build_selftest CC OUTPUT [EXTRA FLAGS...]: the core and core_selftest.c as one program
build_selftest() {
    local cc="$1" out="$2" s
    shift 2
    local srcs=()
    for s in $CORE_SOURCES; do srcs+=("$CORE_ROOT/csrc/$s"); done
    # shellcheck disable=SC2086
    "$cc" $GCC_FLAGS "$@" -I"$CORE_ROOT/csrc" "${srcs[@]}" "$PLAT/core_selftest.c" -o "$out" -lm
}

# The flags above must include those csrc/build_core.py gives GCC for results.
check_flags_match_build_core() {
    python3 - "$CORE_ROOT/csrc/build_core.py" "$GCC_FLAGS" <<'PYEOF'
import ast, sys
# compile_args_for's flags, read without importing cffi
src = open(sys.argv[1], encoding="utf-8").read()
wanted = {"-std=c99", "-ffp-contract=off", "-fexcess-precision=fast"}
found = {n.value for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
if wanted - found:
    sys.exit("csrc/build_core.py no longer asks for %s: update .ci/platforms/core_build.sh" % sorted(wanted - found))
if wanted - set(sys.argv[2].split()):
    sys.exit(".ci/platforms/core_build.sh lacks %s" % sorted(wanted - set(sys.argv[2].split())))
PYEOF
}
