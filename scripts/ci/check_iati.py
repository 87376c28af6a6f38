#!/usr/bin/env python3
"""Validate Baraza's IATI activity files against the IATI 2.03 XML schema (docs/iati.md).

Usage:
    python3 scripts/ci/check_iati.py BASE_URL [ORG] [DATASET]

BASE_URL is a running Baraza with the demo data. The script:

* downloads the IATI Standard's schemas as the pyIATI package ships them (the sdist of
  pyIATI==0.4.1 from PyPI, with `pip download --no-deps --no-binary :all:`) and extracts
  `iati/resources/standard/2-03/schemas/*.xsd` into a temporary directory;
* fetches the organisation's file (`/orgs/ORG/iati-activities.xml`) and the catalogue
  dataset's IATI-XML resource (found through `/dataset/DATASET.json`), parses them with lxml
  with entities and network access turned off, and validates them against
  `iati-activities-schema.xsd`;
* checks a few things the schema cannot: the version, one activity at least, identifiers that
  begin with the reporting organisation's, budget periods of at most a year.

Prints one line per failure and a count: `iati: N passed, M failed`. Exit status: 0 when
everything passes, 1 on a failure, 2 when lxml is missing or the schemas cannot be fetched.
Needs: pip install lxml
"""

import datetime
import glob
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request

try:
    from lxml import etree
except ImportError:  # pragma: no cover
    sys.exit("check_iati: lxml is missing (pip install lxml)")

PYIATI = "pyIATI==0.4.1"
SCHEMAS = "iati/resources/standard/2-03/schemas/"

failures = []
passed = 0


def check(cond, what):
    global passed
    if cond:
        passed += 1
    else:
        failures.append(what)
        print(f"FAIL: {what}")


def schemas(into):
    """The 2.03 schemas from pyIATI's sdist, extracted into `into`; the main schema's path."""
    dl = os.path.join(into, "dl")
    p = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--no-binary", ":all:", "-d", dl, PYIATI],
        capture_output=True, text=True, timeout=600)
    archives = glob.glob(os.path.join(dl, "*.tar.gz"))
    if not archives:
        sys.exit(f"check_iati: cannot download {PYIATI}: {p.stderr.strip()[-500:]}")
    out = os.path.join(into, "xsd")
    os.makedirs(out)
    with tarfile.open(archives[0]) as tar:
        for m in tar.getmembers():
            if m.isfile() and SCHEMAS in m.name and m.name.endswith(".xsd"):
                data = tar.extractfile(m).read()
                with open(os.path.join(out, os.path.basename(m.name)), "wb") as f:
                    f.write(data)
    main = os.path.join(out, "iati-activities-schema.xsd")
    if not os.path.exists(main):
        sys.exit("check_iati: the sdist has no 2.03 activity schema")
    return main


def fetch(url):
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.status, r.headers.get("content-type", ""), r.read()


def parser():
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def days(s):
    return datetime.date.fromisoformat(s)


def validate(schema, url, what):
    try:
        status, ctype, body = fetch(url)
    except Exception as e:  # an HTTP error or a refused connection is a failure
        check(False, f"{what}: cannot fetch {url}: {e}")
        return
    check(status == 200 and ctype.startswith("application/xml"),
          f"{what}: 200 application/xml (got {status} {ctype})")
    try:
        doc = etree.fromstring(body, parser())
    except etree.XMLSyntaxError as e:
        check(False, f"{what}: not well-formed XML: {e}")
        return
    ok = schema.validate(doc)
    check(ok, f"{what}: valid against the IATI 2.03 schema"
          + ("" if ok else ": " + "; ".join(str(e) for e in list(schema.error_log)[:5])))
    check(doc.get("version") == "2.03", f"{what}: version 2.03")
    acts = doc.findall("iati-activity")
    check(len(acts) >= 1, f"{what}: {len(acts)} activities")
    for a in acts:
        ident = a.findtext("iati-identifier") or ""
        ref = a.find("reporting-org").get("ref")
        check(ident.startswith(ref + "-"), f"{what}: {ident} begins with its reporting org {ref}")
        for b in a.findall("budget"):
            start = days(b.find("period-start").get("iso-date"))
            end = days(b.find("period-end").get("iso-date"))
            try:
                year_later = start.replace(year=start.year + 1)
            except ValueError:  # 29 February
                year_later = datetime.date(start.year + 1, 3, 1)
            check(start <= end < year_later, f"{what}: {ident} budget {start}–{end} within a year")
        for v in a.iter("value"):
            check(v.get("value-date") and v.text and "e" not in v.text.lower(),
                  f"{what}: {ident} value {v.text} with a value date")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    base = sys.argv[1].rstrip("/")
    org = sys.argv[2] if len(sys.argv) > 2 else "eau-tchad"
    dataset = sys.argv[3] if len(sys.argv) > 3 else "activite-iati-barometre-eau"
    tmp = tempfile.mkdtemp(prefix="check-iati-")
    try:
        main_xsd = schemas(tmp)
        schema = etree.XMLSchema(etree.parse(main_xsd, parser()))
        validate(schema, f"{base}/orgs/{org}/iati-activities.xml", "the organisation's file")
        try:
            _, _, body = fetch(f"{base}/dataset/{dataset}.json")
            d = json.loads(body)["dataset"]
            res = [r for r in d["resources"] if r["format"] == "IATI-XML"]
            check(len(res) == 1, f"the dataset {dataset} has one IATI-XML resource")
            for r in res:
                check(r["media_type"] == "application/xml", "its media type is application/xml")
                validate(schema, f"{base}/dataset/{dataset}/resource/{r['id']}/download",
                         "the catalogue's resource")
        except Exception as e:
            check(False, f"the dataset {dataset}: {type(e).__name__}: {e}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"iati: {passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
