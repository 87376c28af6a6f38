#!/usr/bin/env python3
"""Read Baraza's SDMX-CSV 2.0 indicator series with sdmx1 against their structure (docs/indicators.md).

Usage:
    python3 scripts/ci/check_sdmx.py BASE_URL [ORG PROJECT]

BASE_URL is a running Baraza with the demo data (`baraza demo`). The script signs in as the
demo's analyst (the demo's passwords are public), lists the project's indicators from
`…/indicators.json`, and for each one:

* reads the SDMX-ML 2.1 structure message (`…/indicators/{id}/sdmx-structure.xml`) with
  `sdmx.read_sdmx`: one dataflow, its data structure definition, a codelist for every
  dimension;
* reads the SDMX-CSV 2.0 (`…/indicators/{id}/sdmx2.csv`) with sdmx1's CSV reader, given that
  dataflow (`sdmx.read_sdmx(…, format="csv", structure=dataflow)`);
* checks that every key value is a code of its dimension's codelist, and that the observations
  are the figures of the JSON twin (`…/indicators/{id}.json`): as many, the same values and
  lower bounds for the totals and for each group (a group's code is found through the
  `BARAZA_SOURCE` annotation of its code, e.g. `F` for `femme`), hidden figures with no value,
  `OBS_STATUS=O` and `CONF_STATUS=C`;
* checks that signed out, both files are refused.

Prints one line per failure and a count: `sdmx: N passed, M failed`. Exit status: 0 when
everything passes, 1 on a failure, 2 when sdmx1 is missing or the server cannot be reached.
Needs: pip install sdmx1 (pinned in .ci/run)
"""

import http.cookiejar
import io
import json
import math
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

try:
    import sdmx
except ImportError:  # pragma: no cover
    sys.exit("check_sdmx: sdmx1 is missing (pip install sdmx1)")

ORG = "eau-tchad"
PROJECT = "acces-eau-ndjamena-2026"
# The demo's analyst: may view the project, not manage it (docs/demo.md, README).
ANALYST = ("idriss@eau-tchad.example", "demo-idriss-2026")

failures = []
passed = 0


def check(cond, what):
    global passed
    if cond:
        passed += 1
    else:
        failures.append(what)
        print(f"FAIL: {what}")
    return cond


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Client:
    """Keeps cookies; follows no redirect (a refusal stays a 303 to the login page)."""

    def __init__(self, base):
        self.base = base.rstrip("/")
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(jar), NoRedirect())

    def get(self, path):
        """Status, headers (case-insensitive) and body; an HTTP error is returned, not raised."""
        try:
            with self.opener.open(self.base + path, timeout=60) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def login(self, email, password):
        _, _, page = self.get("/login")
        csrf = re.search(rb'name="_csrf" value="([^"]+)"', page).group(1).decode()
        body = urllib.parse.urlencode(
            {"_csrf": csrf, "email": email, "password": password, "next": "/"}).encode()
        req = urllib.request.Request(self.base + "/login", data=body, method="POST")
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with self.opener.open(req, timeout=60) as r:
                r.read()
        except urllib.error.HTTPError as e:
            if e.code != 303:  # signed in: 303 to `next`
                raise


def number(v):
    """An observation's value as a float (None when empty)."""
    if v is None or v == "":
        return None
    f = float(v)
    return None if math.isnan(f) else f


def close(a, b):
    return a is not None and b is not None and abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def attr(o, name):
    a = o.attached_attribute.get(name)
    return "" if a is None or a.value is None else str(a.value)


def check_indicator(c, path, slug):
    status, headers, xml = c.get(f"{path}/{slug}/sdmx-structure.xml")
    check(status == 200 and headers.get("Content-Type", "").startswith(
        "application/vnd.sdmx.structure+xml"), f"{slug}: structure served as SDMX-ML")
    sm = sdmx.read_sdmx(io.BytesIO(xml))
    flows = list(sm.dataflow.values())
    if not check(len(flows) == 1 and len(sm.structure) == 1,
                 f"{slug}: one dataflow and one DSD ({len(flows)}, {len(sm.structure)})"):
        return
    df = flows[0]
    dsd = df.structure
    dims = [d.id for d in dsd.dimensions]
    check(dims[:3] == ["FREQ", "SERIES", "REF_AREA"] and dims[-1] == "TIME_PERIOD",
          f"{slug}: dimensions {dims}")
    attributes = {a.id for a in dsd.attributes}
    check({"UNIT_MEASURE", "OBS_STATUS", "CONF_STATUS", "LOWER_BOUND", "UPPER_BOUND"} <= attributes,
          f"{slug}: attributes {sorted(attributes)}")
    codelists = {}
    for d in dsd.dimensions:
        if d.id == "TIME_PERIOD":
            continue
        cl = d.local_representation.enumerated if d.local_representation else None
        if check(cl is not None and len(cl.items) > 0, f"{slug}: {d.id} has a codelist"):
            codelists[d.id] = cl

    status, headers, body = c.get(f"{path}/{slug}/sdmx2.csv")
    check(status == 200 and headers.get("Content-Type", "").startswith("text/csv"),
          f"{slug}: sdmx2.csv served as CSV")
    check(body.startswith(b"STRUCTURE,STRUCTURE_ID,ACTION,"), f"{slug}: SDMX-CSV 2.0 header")
    msg = sdmx.read_sdmx(io.BytesIO(body), format="csv", structure=df)
    obs = [o for ds in msg.data for o in ds.obs]
    check(all(ds.action.name == "information" for ds in msg.data), f"{slug}: ACTION is I")

    _, _, twin = c.get(f"{path}/{slug}.json")
    figures = json.loads(twin)["figures"]
    check(len(obs) == len(figures) and len(obs) > 0,
          f"{slug}: sdmx1 reads {len(obs)} observations, the JSON twin has {len(figures)} figures")

    # Every key value is a code of its dimension's codelist.
    bad = sorted({(k, v.value) for o in obs for k, v in o.dimension.values.items()
                  if k in codelists and v.value not in codelists[k].items})
    check(not bad, f"{slug}: every key value is in its codelist ({bad[:5]})")

    # The observations by key: REF_AREA, TIME_PERIOD and the one dimension not at _T.
    by_key = {}
    for o in obs:
        kv = {k: v.value for k, v in o.dimension.values.items()}
        groups = tuple(sorted((k, v) for k, v in kv.items()
                              if k not in ("FREQ", "SERIES", "REF_AREA", "TIME_PERIOD") and v != "_T"))
        check(len(groups) <= 1, f"{slug}: one disaggregation at most in {kv}")
        by_key[(kv.get("REF_AREA"), kv.get("TIME_PERIOD"), groups)] = o
    check(len(by_key) == len(obs), f"{slug}: keys are unique")

    # A group's code: the code itself, or the one whose BARAZA_SOURCE annotation names the
    # group (SDG codes such as F for `femme`, ids made valid such as 9PLUS for `9+`).
    def code_of(group):
        found = []
        for d_id, cl in codelists.items():
            if d_id in ("FREQ", "SERIES", "REF_AREA"):
                continue
            for code in cl.items.values():
                sources = [str(a.title) for a in code.annotations if a.type == "BARAZA_SOURCE"]
                if group in sources or (not sources and code.id == group):
                    found.append((d_id, code.id))
        return found

    same = hidden_ok = 0
    for f in figures:
        if f["dim"] == "_T":
            groups = ()
        else:
            found = code_of(f["group"])
            groups = None
            for d_id, code in found:
                if ((f["place"], f["period"], ((d_id, code),))) in by_key:
                    groups = ((d_id, code),)
        o = by_key.get((f["place"], f["period"], groups)) if groups is not None else None
        if not check(o is not None, f"{slug}: an observation for {f['period']} {f['place']} {f['dim']}={f['group']}"):
            continue
        if f["shown"] == "hidden":
            ok = number(o.value) is None and attr(o, "OBS_STATUS") == "O" and attr(o, "CONF_STATUS") == "C"
            hidden_ok += check(ok, f"{slug}: hidden {f['period']} {f['place']} {f['group']} is empty, O, C")
        else:
            est = f["estimate"]
            ok = close(number(o.value), est["value"])
            if est.get("low") is not None:
                ok = ok and close(number(attr(o, "LOWER_BOUND")), est["low"])
            same += check(ok, f"{slug}: {f['period']} {f['place']} {f['group']}: {o.value} == {est['value']}")
    print(f"{slug}: {len(obs)} observations read by sdmx1 {sdmx.__version__}, "
          f"{same} values equal to the JSON twin, {hidden_ok} hidden figures empty and confidential")
    return obs, codelists


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    base = sys.argv[1]
    org, project = (sys.argv[2], sys.argv[3]) if len(sys.argv) > 3 else (ORG, PROJECT)
    c = Client(base)
    try:
        c.login(*ANALYST)
        _, _, body = c.get(f"/orgs/{org}/projects/{project}/indicators.json")
    except OSError as e:
        print(f"check_sdmx: {base} cannot be reached: {e}")
        return 2
    path = f"/orgs/{org}/projects/{project}/indicators"
    indicators = json.loads(body)["indicators"]
    check(len(indicators) >= 1, f"{len(indicators)} indicators listed")
    for ind in indicators:
        slug = ind["id"]
        check_indicator(c, path, slug)

    # Permissions: signed out, the private project's series and structure are refused.
    anon = Client(base)
    for tail in ("sdmx2.csv", "sdmx-structure.xml"):
        status, _, _ = anon.get(f"{path}/{indicators[0]['id']}/{tail}")
        check(status in (303, 401, 403, 404), f"signed out, {tail} is refused ({status})")

    print(f"sdmx: {passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
