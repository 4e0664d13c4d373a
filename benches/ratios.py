#!/usr/bin/env python3
"""Print the medians and ratios of the dualtape benches from target/criterion.

Every benchmark id is question/workload/type/n/impl. Rows are grouped by
everything but impl (the "case"); for each case this prints the median time of
each impl and the ratio the question is about, all from the same run:

  seed, ops   ad / best handwritten (the faster of handwritten_scalar and
              handwritten_simd); seed also ad_resident / best handwritten,
              ad_map / best handwritten (W3, W4) and scalar / simd
  overhead    ns per recorded op (record_sweep / 100) and record_sweep / handwritten
  parallel    speedup threads1 / threads2 and sequential / threads2
  steady      fresh / cleared

Usage:
  python3 benches/ratios.py                      # everything in target/criterion (the latest run)
  python3 benches/ratios.py seed/W1 seed/W4/f64  # only ids starting with these prefixes
  python3 benches/ratios.py --baseline main      # a run saved with --save-baseline main
  python3 benches/ratios.py --md                 # a Markdown table
  python3 benches/ratios.py --baseline head1 --targets   # seed against its targets (the README's tables: run head1)
"""

import argparse
import json
import os
import sys

# question -> (impl columns in order, [(ratio label, function(medians) -> value or None)])
def _best_hand(m):
    hands = [v for k, v in m.items() if k.startswith("handwritten")]
    return min(hands) if hands else None


def _div(a, b):
    return a / b if a is not None and b else None


SPECS = {
    "seed": (
        ["ad", "ad_resident", "ad_map", "handwritten_scalar", "handwritten_simd"],
        [
            ("ad/hand", lambda m: _div(m.get("ad"), _best_hand(m))),
            ("resident/hand", lambda m: _div(m.get("ad_resident"), _best_hand(m))),
            ("map/hand", lambda m: _div(m.get("ad_map"), _best_hand(m))),
            ("scalar/simd", lambda m: _div(m.get("handwritten_scalar"), m.get("handwritten_simd"))),
        ],
    ),
    "ops": (
        ["ad", "handwritten_simd"],
        [("ad/hand", lambda m: _div(m.get("ad"), _best_hand(m)))],
    ),
    "overhead": (
        ["record", "sweep", "record_sweep", "handwritten"],
        [
            ("ns/op rec", lambda m: _div(m.get("record"), 100)),
            ("ns/op sweep", lambda m: _div(m.get("sweep"), 100)),
            ("ns/op both", lambda m: _div(m.get("record_sweep"), 100)),
            ("ad/hand", lambda m: _div(m.get("record_sweep"), m.get("handwritten"))),
        ],
    ),
    "parallel": (
        ["sequential", "threads1", "threads2"],
        [
            ("t1/t2", lambda m: _div(m.get("threads1"), m.get("threads2"))),
            ("seq/t2", lambda m: _div(m.get("sequential"), m.get("threads2"))),
        ],
    ),
    "steady": (
        ["cleared", "fresh"],
        [("fresh/cleared", lambda m: _div(m.get("fresh"), m.get("cleared")))],
    ),
}


# The seed targets (AD / best hand-written, single thread) by workload, at SIZES.
SIZES = [16, 1024, 65536, 1048576, 8388608]
TARGETS = {"W1": [10, 1.5, 1.3, 1.3, 1.3], "W2": [10, 2, 1.6, 1.6, 1.6],
           "W3": [10, 3, 3, 3, 3], "W4": [3, 1.8, 2, 2.5, 2.5]}
NAMES = {"W1": "W1 ‖x‖₂", "W2": "W2 x·x, VJP", "W3": "W3 3a³ − b², VJP", "W4": "W4 chain"}
WAYS = [("ad_resident", "resident"), ("ad", "copied in"), ("ad_map", "one map, resident")]


def print_targets(cases):
    """The seed workloads as Markdown: per type, every way's ratio against its
    target (✗ where missed), then the median times beside the best loop."""
    header = " | n = 16 | 1 024 | 65 536 | 1 048 576 | 8 388 608 |\n|---|---:|---:|---:|---:|---:|"
    def medians(w, t, n):
        return cases.get(f"seed/{w}/{t}/{n}", {})
    for t in ("f64", "f32"):
        print(f"| {t}: AD / best hand-written (target)" + header)
        for w, targets in TARGETS.items():
            for impl, way in WAYS:
                cells = []
                for n, target in zip(SIZES, targets):
                    m = medians(w, t, n)
                    r = _div(m.get(impl), _best_hand(m))
                    if r is None:
                        cells.append("–")
                    else:
                        # Marked on the ratio as printed, so "1.60 (1.6)" is met.
                        r = round(r, 2)
                        cells.append(f"{r:.2f} ({target:g})" + (" ✗" if r > target else ""))
                if any(c != "–" for c in cells):
                    print(f"| {NAMES[w]}, {way} | " + " | ".join(cells) + " |")
        print()
    for t in ("f64", "f32"):
        print(f"| {t}: median time, AD / best hand-written" + header)
        for w in TARGETS:
            for impl, way in WAYS:
                pairs = [(medians(w, t, n).get(impl), _best_hand(medians(w, t, n))) for n in SIZES]
                if any(a is not None for a, _ in pairs):
                    cells = ["–" if a is None or h is None else f"{fmt_time(a)} / {fmt_time(h)}" for a, h in pairs]
                    print(f"| {NAMES[w]}, {way} | " + " | ".join(cells) + " |")
        print()


def fmt_time(ns):
    if ns is None:
        return "-"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def fmt_ratio(r):
    return "-" if r is None else f"{r:.2f}"


def load(root, baseline):
    """{case: {impl: median ns}} for every benchmark saved under `baseline`."""
    cases = {}
    for dirpath, _dirs, files in os.walk(root):
        if os.path.basename(dirpath) != baseline or "benchmark.json" not in files:
            continue
        with open(os.path.join(dirpath, "benchmark.json")) as f:
            bench = json.load(f)
        with open(os.path.join(dirpath, "estimates.json")) as f:
            median = json.load(f)["median"]["point_estimate"]
        case, _, impl = bench["full_id"].rpartition("/")
        cases.setdefault(case, {})[impl] = median
    return cases


def sort_key(case):
    # question/workload/type/n: sort n numerically
    parts = case.split("/")
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("prefix", nargs="*", help="only ids starting with one of these")
    ap.add_argument("--baseline", default="new", help="criterion baseline directory (default: new, the latest run)")
    ap.add_argument("--dir", default=None, help="criterion output (default: target/criterion beside benches/)")
    ap.add_argument("--md", action="store_true", help="print Markdown tables")
    ap.add_argument("--targets", action="store_true", help="print the seed workloads against their targets (Markdown)")
    args = ap.parse_args()
    root = args.dir or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "criterion")
    cases = load(root, args.baseline)
    if args.prefix:
        cases = {c: m for c, m in cases.items() if any(c.startswith(p) for p in args.prefix)}
    if not cases:
        sys.exit(f"no benchmarks under {root} (baseline {args.baseline!r}); run `cargo bench` first")
    if args.targets:
        if not any(c.startswith("seed/") for c in cases):
            sys.exit(f"no seed benchmarks under {root} (baseline {args.baseline!r}); run `cargo bench --bench seed` first")
        return print_targets(cases)

    by_question = {}
    for case in sorted(cases, key=sort_key):
        by_question.setdefault(case.split("/")[0], []).append(case)

    for question, rows in by_question.items():
        cols, ratios = SPECS.get(question, (sorted({i for c in rows for i in cases[c]}), []))
        header = ["case"] + cols + [label for label, _ in ratios]
        table = [header]
        for case in rows:
            m = cases[case]
            table.append([case] + [fmt_time(m.get(c)) for c in cols] + [fmt_ratio(fn(m)) for _, fn in ratios])
        if args.md:
            print("| " + " | ".join(header) + " |")
            print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|")
            for row in table[1:]:
                print("| " + " | ".join(row) + " |")
        else:
            widths = [max(len(r[i]) for r in table) for i in range(len(header))]
            for row in table:
                print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))))
        print()


if __name__ == "__main__":
    main()
