"""Compare two outputs of core_selftest (see core_selftest.c for the format).

    python3 compare.py REFERENCE OTHER [--same-simd]

"=" lines must be identical (bit for bit); "~" lines (through the C
library's exp/log/tanh/erf/pow) must agree within max|a - b| <= RTOL *
max|reference| per line, RTOL 1e-5 for float32 and 1e-12 for float64; every
"!" line of OTHER must say ok; with --same-simd the "# simd_available" lines
must be equal too (the same CPU seen through two builds).  Prints a summary
and exits 1 on any difference.
"""
import struct
import sys

RTOL = {"f32": 1e-5, "f64": 1e-12}


def parse(path):
    """{name: (class, fields)} and the list of "!" lines and "#" lines."""
    lines, checks, info = {}, [], {}
    with open(path, encoding="ascii", errors="replace") as f:
        for raw in f:
            line = raw.rstrip("\r\n")
            if not line or line[0] not in "=~!#":
                continue
            kind, rest = line[0], line[2:]
            if kind == "!":
                checks.append(rest)
            elif kind == "#":
                key, _, value = rest.partition(" ")
                info[key] = value
            else:
                name, *fields = rest.split()
                lines[name] = (kind, fields)
    return lines, checks, info


def values(hexes):
    """The floats of a "~" line: 8 hex digits a float32, 16 a float64."""
    return [struct.unpack(">f" if len(h) == 8 else ">d", bytes.fromhex(h))[0] for h in hexes]


def main(argv):
    ref_path, other_path = argv[1], argv[2]
    ref, _, ref_info = parse(ref_path)
    other, checks, other_info = parse(other_path)
    problems = []
    n_exact = n_approx = n_approx_identical = 0
    worst = {}
    if not ref:
        problems.append("%s has no results" % ref_path)
    for name, (kind, fields) in sorted(ref.items()):
        if name not in other:
            problems.append("missing in %s: %s" % (other_path, name))
            continue
        okind, ofields = other[name]
        if kind == "=":
            n_exact += 1
            if okind != "=" or ofields != fields:
                problems.append("not bit-identical: %s\n    %s: %s\n    %s: %s" % (
                    name, ref_path, " ".join(fields[:6]), other_path, " ".join(ofields[:6])))
            continue
        n_approx += 1
        if ofields == fields:
            n_approx_identical += 1
            continue
        a, b = values(fields[1:]), values(ofields[1:])
        if len(a) != len(b):
            problems.append("length differs: %s" % name)
            continue
        scale = max(abs(v) for v in a) or 1.0
        diff = max(abs(x - y) for x, y in zip(a, b)) / scale
        precision = "f64" if name.endswith(".f64") else "f32"
        worst[precision] = max(worst.get(precision, 0.0), diff)
        if not diff <= RTOL[precision]:
            problems.append("~ beyond tolerance: %s (relative %.3g > %g)" % (name, diff, RTOL[precision]))
    for name in sorted(set(other) - set(ref)):
        problems.append("extra in %s: %s" % (other_path, name))
    failed = [c for c in checks if " ok" not in c]
    problems += ["check failed in %s: %s" % (other_path, c) for c in failed]
    if "--same-simd" in argv and ref_info.get("simd_available") != other_info.get("simd_available"):
        problems.append("simd_available differs: %r vs %r" % (ref_info.get("simd_available"),
                                                              other_info.get("simd_available")))
    print("%s vs %s: %d/%d exact lines bit-identical; %d/%d library-math lines bit-identical, the rest within "
          "tolerance (worst relative difference: %s); %d checks, %d failed" % (
              other_path, ref_path, n_exact - sum(p.startswith("not bit") for p in problems), n_exact,
              n_approx_identical, n_approx,
              ", ".join("%s %.2g" % kv for kv in sorted(worst.items())) or "none", len(checks), len(failed)))
    for p in problems:
        print("  " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
