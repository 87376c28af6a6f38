#!/usr/bin/env python3
"""The open-data catalogue read by the tools its readers use (docs/catalogue.md).

Starts `baraza demo` on a free port with a fresh data directory, then:

- DCAT: scripts/ci/check_dcat.py fetches /catalog.ttl, .jsonld and .rdf (every Hydra page),
  checks the three describe the same datasets and validates them with pyshacl;
- Frictionless: `frictionless validate` on every public dataset's datapackage.json (the
  descriptor, and every resource downloaded and checked against its Table Schema);
- HXL: libhxl reads the demo's HXL-tagged register from its download URL;
- CKAN: scripts/ci/check_ckan.py, when present, drives the ckanapi client against the
  Action API.

Usage: open_data.py PATH/TO/baraza
Needs: pip install rdflib pyshacl frictionless libhxl ckanapi
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request

BIN = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
checks = {"passed": 0, "failed": 0}


def check(cond, what):
    if cond:
        checks["passed"] += 1
        print(f"ok   {what}")
    else:
        checks["failed"] += 1
        print(f"FAIL {what}")


def start(data):
    server = subprocess.Popen(
        [BIN, "demo", "--listen", "127.0.0.1:0", "--data-dir", data],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    base = None
    for line in server.stdout:
        m = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        if m and base is None:
            base = m.group(1)
        if "Press Ctrl-C" in line:
            break
    return server, base


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
    ckan = os.path.join(ROOT, "scripts/ci/check_ckan.py")
    if os.path.exists(ckan):
        run([sys.executable, ckan, base], "ckanapi against the CKAN Action API")


def main():
    data = tempfile.mkdtemp(prefix="baraza-opendata-")
    server, base = start(data)
    try:
        checks_on(base)
    except Exception as e:  # a crash is a failure, reported as such
        check(False, f"unexpected {type(e).__name__}: {e}")
    finally:
        server.terminate()
        server.wait(timeout=20)
        shutil.rmtree(data, ignore_errors=True)
    print(f"e2e: {checks['passed']} passed, {checks['failed']} failed")
    return 1 if checks["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
