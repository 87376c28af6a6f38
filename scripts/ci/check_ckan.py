#!/usr/bin/env python3
"""Check Baraza's CKAN Action API with the real CKAN client, ckanapi (from PyPI).

Usage:
    python3 scripts/ci/check_ckan.py BASE_URL

BASE_URL is a running Baraza with the demo data (`baraza demo --listen 127.0.0.1:PORT
--data-dir DIR`). The script:

* calls, through `ckanapi.RemoteCKAN(BASE_URL).action`, package_search (q, fq, facets, paging),
  package_show, organization_list, group_list, license_list and datastore_search, and checks
  what they answer;
* checks that ckanapi turns CKAN's errors into its exceptions (NotFound, ValidationError,
  SearchError);
* runs the ckanapi command line as people do: `ckanapi search datasets q=eau -r BASE`,
  `ckanapi action package_list -r BASE` and `ckanapi dump datasets --all -r BASE -O out.jsonl`
  (which calls package_list, then package_show for every name, from worker processes), and
  checks that the dump holds exactly the public datasets of package_list, each with its
  resources.

Exit status: 0 when everything passes, 1 on a mismatch (each one said on a line), 2 when
ckanapi is missing or the server cannot be reached. Needs: pip install ckanapi
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import ckanapi
except ImportError:  # pragma: no cover
    sys.exit("check_ckan: ckanapi is missing (pip install ckanapi)")

PUBLIC = {"points-eau-menages-2026", "eau-de-base-serie", "registre-points-eau",
          "activite-iati-barometre-eau"}
DRAFT = "avis-usagers-brouillon"
ORG = "eau-tchad"

failures = []
passed = 0


def check(cond, what):
    global passed
    if cond:
        passed += 1
    else:
        failures.append(what)
        print(f"FAIL: {what}", flush=True)


def expect_error(exc, fn, what):
    try:
        fn()
    except exc:
        check(True, what)
    except Exception as e:  # noqa: BLE001 - any other error is the failure being reported
        check(False, f"{what}: got {type(e).__name__}: {e}")
    else:
        check(False, f"{what}: no error")


def ckanapi_cli():
    """The `ckanapi` command: the script beside this Python, else the one on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "ckanapi")
    if os.path.exists(beside):
        return [beside]
    found = shutil.which("ckanapi")
    if found:
        return [found]
    return [sys.executable, "-m", "ckanapi"]


def run_cli(args):
    cmd = ckanapi_cli() + args
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if res.returncode != 0:
        check(False, f"`{' '.join(args)}` exited {res.returncode}: {res.stderr.strip()[-800:]}")
    return res


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    base = sys.argv[1].rstrip("/")
    ua = "baraza-ci/check_ckan (ckanapi)"
    ckan = ckanapi.RemoteCKAN(base, user_agent=ua)
    try:
        status = ckan.action.status_show()
    except Exception as e:  # noqa: BLE001
        print(f"check_ckan: {base} does not answer status_show: {e}", file=sys.stderr)
        sys.exit(2)
    check(status.get("ckan_version", "").startswith("2.10"), f"status_show ckan_version: {status}")

    # package_search: everything, text, filters, facets, paging.
    allp = ckan.action.package_search(rows=1000)
    names = {d["name"] for d in allp["results"]}
    check(allp["count"] == len(PUBLIC), f"package_search count {allp['count']}")
    check(names == PUBLIC, f"package_search names {sorted(names)}")
    check(DRAFT not in names, "the draft is not public")
    r = ckan.action.package_search(q="menages")
    check("points-eau-menages-2026" in {d["name"] for d in r["results"]},
          "q=menages finds the households' survey (accents folded)")
    r = ckan.action.package_search(fq="res_format:PDF")
    check([d["name"] for d in r["results"]] == ["registre-points-eau"], f"fq res_format:PDF: {r['count']}")
    r = ckan.action.package_search(fq=f"organization:{ORG}", **{"facet.field": ["groups", "tags"]})
    check(r["count"] == len(PUBLIC), "fq organization")
    check(r["facets"].get("tags", {}).get("eau") == len(PUBLIC), f"tags facet: {r['facets']}")
    check(any(i["name"] == "sdg-6" for i in r["search_facets"].get("groups", {}).get("items", [])),
          "groups search_facets has sdg-6")
    seen = []
    for start in range(0, 5, 2):
        page = ckan.action.package_search(sort="id asc", rows=2, start=start)
        seen += [d["name"] for d in page["results"]]
    check(sorted(seen) == sorted(PUBLIC), f"paging by id covers each dataset once: {seen}")

    # package_show, organisations, groups, licences.
    p = ckan.action.package_show(id="registre-points-eau")
    check(p["organization"]["name"] == ORG, "package_show organization")
    check(len(p["resources"]) == 2, "package_show resources")
    check({r["format"] for r in p["resources"]} == {"CSV", "PDF"}, "resource formats")
    check(p["state"] == "active" and p["type"] == "dataset", "state and type")
    orgs = ckan.action.organization_list()
    check(ORG in orgs, f"organization_list: {orgs}")
    orgs_full = ckan.action.organization_list(all_fields=True)
    check(any(o["name"] == ORG and o["package_count"] == len(PUBLIC) for o in orgs_full),
          "organization_list all_fields package_count")
    groups = ckan.action.group_list()
    check(len(groups) == 17 and "sdg-6" in groups, f"group_list: {groups}")
    groups_full = ckan.action.group_list(all_fields=True)
    six = [g for g in groups_full if g["name"] == "sdg-6"]
    check(bool(six) and six[0]["title"].startswith("6. "), f"sdg-6 title: {six}")
    licences = ckan.action.license_list()
    ids = {l["id"] for l in licences}
    check({"cc-by", "lov2", "odc-odbl"} <= ids, f"license_list: {sorted(ids)}")
    check(all("title" in l and "od_conformance" in l for l in licences), "licence fields")

    # datastore_search on the register (its HXL row skipped).
    csv_res = p["resources"][0]
    check(csv_res.get("datastore_active") is True, "the register's CSV is in the datastore")
    ds = ckan.action.datastore_search(resource_id=csv_res["id"], limit=3)
    check(ds["total"] == 7, f"datastore total: {ds.get('total')}")
    check(len(ds["records"]) == 3, "datastore limit")
    check(all(not str(r["code"]).startswith("#") for r in ds["records"]), "HXL row skipped")
    ds = ckan.action.datastore_search(resource_id=csv_res["id"], filters={"etat": "en panne"},
                                      sort="code desc")
    codes = [r["code"] for r in ds["records"]]
    check(codes and codes == sorted(codes, reverse=True) and all(r["etat"] == "en panne" for r in ds["records"]),
          f"datastore filters and sort: {codes}")

    # Errors as ckanapi's exceptions.
    expect_error(ckanapi.NotFound, lambda: ckan.action.package_show(id="no-such-dataset"),
                 "package_show of an unknown dataset raises NotFound")
    expect_error(ckanapi.NotFound, lambda: ckan.action.package_show(id=DRAFT),
                 "the draft is not found anonymously")
    expect_error(ckanapi.ValidationError, lambda: ckan.action.package_search(rows=-1),
                 "rows=-1 raises ValidationError")
    expect_error(ckanapi.SearchError, lambda: ckan.action.package_search(fq="colour:blue"),
                 "an undefined field raises SearchError")
    expect_error(ckanapi.NotFound,
                 lambda: ckan.action.datastore_search(resource_id=p["resources"][1]["id"]),
                 "datastore_search on the PDF raises NotFound")
    # GET, as RemoteCKAN(get_only=True) sends it.
    get_only = ckanapi.RemoteCKAN(base, user_agent=ua, get_only=True)
    r = get_only.action.package_search(q="eau", rows=1)
    check(r["count"] >= 1 and len(r["results"]) == 1, "GET package_search")

    # The command line.
    work = tempfile.mkdtemp(prefix="check-ckan-")
    try:
        res = run_cli(["search", "datasets", "q=eau", "-r", base])
        found = {json.loads(line)["name"] for line in res.stdout.splitlines() if line.strip()}
        check(found and found <= PUBLIC, f"ckanapi search datasets q=eau: {sorted(found)}")
        res = run_cli(["action", "package_list", "-r", base])
        try:
            listed = json.loads(res.stdout)
        except ValueError:
            listed = None
        check(isinstance(listed, list) and set(listed) == PUBLIC, f"ckanapi action package_list: {listed}")
        out = os.path.join(work, "out.jsonl")
        run_cli(["dump", "datasets", "--all", "-r", base, "-O", out, "-q"])
        dumped = []
        if os.path.exists(out):
            with open(out, encoding="utf-8") as f:
                dumped = [json.loads(line) for line in f if line.strip()]
        dumped_names = [d["name"] for d in dumped]
        check(sorted(dumped_names) == sorted(listed or []),
              f"the dump holds exactly package_list's datasets: {dumped_names}")
        for d in dumped:
            check(len(d.get("resources", [])) >= 1 and len(d["resources"]) == d.get("num_resources"),
                  f"{d.get('name')}: dumped with its resources")
            for r in d.get("resources", []):
                check(r.get("url", "").startswith(base + "/dataset/"), f"{d['name']}: resource url {r.get('url')}")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    if failures:
        print(f"check_ckan: {len(failures)} failed, {passed} passed", file=sys.stderr)
        for f in failures:
            print(f"  - {f}", file=sys.stderr)
        sys.exit(1)
    print(f"e2e: {passed} passed, 0 failed (ckanapi against {base})")


if __name__ == "__main__":
    main()
