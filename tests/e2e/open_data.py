#!/usr/bin/env python3
"""The open-data catalogue read by the tools its readers use (docs/catalogue.md).

Starts `baraza demo` on a free port with a fresh data directory, then:

- DCAT: scripts/ci/check_dcat.py fetches /catalog.ttl, .jsonld and .rdf (every Hydra page),
  checks the three describe the same datasets and validates them with pyshacl;
- Frictionless: `frictionless validate` on every public dataset's datapackage.json (the
  descriptor, and every resource downloaded and checked against its Table Schema);
- HXL: libhxl reads the demo's HXL-tagged register from its download URL;
- IATI: scripts/ci/check_iati.py validates the organisation's IATI activity file and the
  catalogue's IATI-XML resource against the IATI 2.03 schema (from pyIATI's sdist) with lxml;
- SDMX: scripts/ci/check_sdmx.py reads every demo indicator's SDMX-CSV 2.0 with sdmx1 against
  its SDMX-ML 2.1 structure and compares it with the JSON twin;
- CKAN: scripts/ci/check_ckan.py, when present, drives the ckanapi client against the
  Action API.

Usage: open_data.py PATH/TO/baraza
Needs: pip install rdflib pyshacl frictionless libhxl ckanapi lxml sdmx1 (and selenium, which the shared
tests/e2e/browser.py imports)
"""
import json
import os
import subprocess
import sys
import urllib.request

from browser import check, start_demo, stop_demo, summary

BIN = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def get_json(url):
    with urllib.request.urlopen(url, timeout=60) as r:
        return json.load(r)


def run(cmd, what):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    out = (p.stdout + p.stderr).strip()
    check(p.returncode == 0, what)
    if p.returncode != 0:
        print(out[-3000:])
    return p


def checks_on(base):
    run([sys.executable, os.path.join(ROOT, "scripts/ci/check_dcat.py"), base],
        "DCAT: three syntaxes agree and pass the SHACL shapes")
    public = get_json(f"{base}/catalogue.json")["results"]
    check(len(public) >= 3, f"the demo catalogue lists {len(public)} public datasets")
    for d in public:
        name = d["name"]
        p = run(["frictionless", "validate", "--json", f"{base}/dataset/{name}/datapackage.json"],
                f"frictionless validate {name}'s Data Package")
        try:
            report = json.loads(p.stdout)
            check(report.get("valid") is True, f"frictionless finds {name}'s data valid")
        except ValueError:
            check(False, f"frictionless printed a JSON report for {name}")
    import hxl
    reg = get_json(f"{base}/dataset/registre-points-eau.json")["dataset"]
    csv = next(r for r in reg["resources"] if r["format"] == "CSV")
    src = hxl.data(f"{base}/dataset/registre-points-eau/resource/{csv['id']}/download")
    tags = [c.display_tag for c in src.columns]
    check("#adm1+code" in tags and "#geo+lat" in tags, f"libhxl reads the register's hashtags {tags}")
    rows = list(src)
    check(len(rows) == 7, f"libhxl reads {len(rows)} rows (7 expected)")
    by_province = {}
    for row in rows:
        by_province[row.get("#adm1+code")] = by_province.get(row.get("#adm1+code"), 0) + 1
    check(by_province == {"TD-ND": 4, "TD-OD": 3}, f"and selects by hashtag: {by_province}")
    # The released survey table takes its hashtags from the XLSForm's hxl column.
    rel = get_json(f"{base}/dataset/points-eau-menages-2026.json")["dataset"]
    csv = next(r for r in rel["resources"] if r["format"] == "CSV")
    url = f"{base}/dataset/points-eau-menages-2026/resource/{csv['id']}/download"
    src = hxl.data(url)
    tags = [c.display_tag for c in src.columns if c.display_tag]
    check("#adm1+name" in tags and "#status+functional" in tags,
          f"libhxl reads the released table's hashtags from the XLSForm {tags}")
    with urllib.request.urlopen(url) as resp:
        lines = resp.read().decode("utf-8").strip().splitlines()
    rows = list(src)
    check(len(rows) == len(lines) - 2 and rows,
          f"libhxl reads the {len(rows)} released rows below the hashtag row")
    run([sys.executable, os.path.join(ROOT, "scripts/ci/check_iati.py"), base],
        "IATI: the organisation's file and the catalogue's resource pass the IATI 2.03 schema")
    run([sys.executable, os.path.join(ROOT, "scripts/ci/check_sdmx.py"), base],
        "SDMX: sdmx1 reads every indicator's SDMX-CSV 2.0 against its structure, as the JSON says")
    ckan = os.path.join(ROOT, "scripts/ci/check_ckan.py")
    if os.path.exists(ckan):
        run([sys.executable, ckan, base], "ckanapi against the CKAN Action API")


def main():
    server, data, base, _ = start_demo(BIN)
    try:
        checks_on(base)
    except Exception as e:  # a crash is a failure, reported as such
        check(False, f"unexpected {type(e).__name__}: {e}")
    finally:
        stop_demo(server, data)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
