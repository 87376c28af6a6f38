#!/usr/bin/env python3
"""k-anonymity and l-diversity of `baraza sdc risk`, cross-checked against pyCANON.

pyCANON (PyPI `pycanon`) is an independent implementation of the privacy models. For several
generated survey files (seeded, so a failure can be replayed), this runs
`baraza sdc risk FILE --keys … --sensitive … --missing category --json` and pyCANON's
`k_anonymity`, `l_diversity` and `entropy_l_diversity` on the same file, and requires the same
k, the same distinct l and the same entropy l. pyCANON has no notion of a missing value that
matches any category, so the files have none and Baraza treats missing values as their own
category.

With `--time N`, it only times the two side by side on one generated file of N records
(docs/BENCHMARKS.md): Baraza's whole `sdc risk` (reading the file, every measure, SUDA included,
the summary printed) and pyCANON's reading of the file and `k_anonymity`.

Usage: sdc_pycanon.py PATH/TO/baraza [--time N]
"""

import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time

import pandas as pd
from pycanon import anonymity

KEYS = ["region", "sex", "age_band", "household_size"]
SENSITIVE = "illness"


def survey(path, rows, seed, regions, largest_household):
    """A survey-like file: skewed categories, so that small classes exist (or, with few
    categories and many records, do not)."""
    rng = random.Random(seed)
    regions = [f"R{i:02d}" for i in range(regions)]
    weights = [1 / (i + 1) for i in range(len(regions))]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(KEYS + [SENSITIVE])
        for _ in range(rows):
            w.writerow(
                [
                    rng.choices(regions, weights)[0],
                    rng.choice(["F", "M"]),
                    rng.choice(["0-14", "15-24", "25-44", "45-64", "65+"]),
                    min(int(rng.expovariate(0.3)) + 1, largest_household),
                    rng.choices(["none", "malaria", "cholera", "typhoid"], [6, 3, 1, 1])[0],
                ]
            )


def baraza(binary, path):
    started = time.perf_counter()
    out = subprocess.run(
        [
            binary,
            "sdc",
            "risk",
            path,
            "--keys",
            ",".join(KEYS),
            "--sensitive",
            SENSITIVE,
            "--missing",
            "category",
            "--json",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    seconds = time.perf_counter() - started
    a = json.loads(out)["assessment"]
    k = min(r["fk"] for r in a["per_record"])
    (ld,) = [d for d in a["l_diversity"] if d["variable"] == SENSITIVE]
    return k, ld["min_distinct"], ld["min_entropy"], seconds


def pycanon(path):
    data = pd.read_csv(path, dtype=str, keep_default_na=False)
    started = time.perf_counter()
    k = anonymity.k_anonymity(data, KEYS)
    seconds = time.perf_counter() - started
    l_distinct = anonymity.l_diversity(data, KEYS, [SENSITIVE])
    l_entropy = anonymity.entropy_l_diversity(data, KEYS, [SENSITIVE])
    return k, l_distinct, l_entropy, seconds


def side_by_side(binary, rows):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "survey.csv")
        survey(path, rows, 7, 12, 10)
        for run in range(3):
            started = time.perf_counter()
            subprocess.run(
                [binary, "sdc", "risk", path, "--keys", ",".join(KEYS), "--sensitive",
                 SENSITIVE, "--missing", "category"],
                check=True,
                capture_output=True,
            )
            ours = time.perf_counter() - started
            started = time.perf_counter()
            data = pd.read_csv(path, dtype=str, keep_default_na=False)
            read = time.perf_counter() - started
            started = time.perf_counter()
            k = anonymity.k_anonymity(data, KEYS)
            theirs = time.perf_counter() - started
            print(
                f"run {run + 1}: {rows} records, 4 keys: baraza sdc risk (everything) {ours:.2f} s; "
                f"pyCANON read_csv {read:.2f} s + k_anonymity {theirs:.2f} s (k = {k})"
            )


def main():
    binary = sys.argv[1]
    if len(sys.argv) == 4 and sys.argv[2] == "--time":
        side_by_side(binary, int(sys.argv[3]))
        return
    failures = 0
    # (records, seed, regions, largest household size): from files full of unique records to
    # files where every class is large and diverse.
    cases = [
        (200, 1, 12, 15),
        (1_000, 2, 6, 8),
        (5_000, 3, 4, 4),
        (20_000, 4, 3, 3),
        (50_000, 5, 12, 10),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for rows, seed, regions, largest in cases:
            path = os.path.join(tmp, f"survey-{rows}-{seed}.csv")
            survey(path, rows, seed, regions, largest)
            bk, bl, bentropy, bsecs = baraza(binary, path)
            pk, pl, pentropy, psecs = pycanon(path)
            # pyCANON's entropy l is the floor of exp(the smallest class entropy); Baraza
            # reports exp(entropy) itself, the effective number of values.
            bent = int(bentropy + 1e-9)
            same = (bk, bl, bent) == (pk, pl, pentropy)
            failures += not same
            print(
                f"{'ok  ' if same else 'FAIL'} {rows:>6} records (seed {seed}): "
                f"k {bk} / {pk}, distinct l {bl} / {pl}, entropy l {bent} / {pentropy} "
                f"(Baraza / pyCANON); Baraza's whole assessment {bsecs:.3f} s, "
                f"pyCANON's k-anonymity alone {psecs:.3f} s"
            )
    print(f"e2e: {len(cases) - failures} passed, {failures} failed")
    if failures:
        print(f"sdc cross-check: {failures} file(s) where Baraza and pyCANON disagree")
        sys.exit(1)
    print(f"sdc cross-check: Baraza and pyCANON agree on {len(cases)} files")


if __name__ == "__main__":
    main()
