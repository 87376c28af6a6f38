#!/usr/bin/env python3
"""ODK's official Python client, pyodk, against a real Baraza.

Starts `baraza demo` on a free port with a fresh data directory, configures pyodk as its
documentation says (a TOML file named by PYODK_CONFIG_FILE, with base_url, username, password
and default_project_id) for the demo's manager, and checks what pyodk users do: list projects
and forms, read the demo survey's 300 submissions with `submissions.get_table` (with $top,
$skip, $count, a filter on the submission date, $expand=*, $select, $wkt, the repeat's table),
list and get submissions, create one from XML and replay it. Then HTTP Digest sign-in for
ODK Collect, with the `requests` library's own Digest client, before and after the account
allows it.

Usage: pyodk_check.py PATH/TO/baraza
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET

import requests
from requests.auth import HTTPDigestAuth

from pyodk.client import Client
from pyodk.errors import PyODKError

BIN = sys.argv[1]
MANAGER = ("claire@eau-tchad.example", "demo-claire-2026")
ANALYST = ("idriss@eau-tchad.example", "demo-idriss-2026")
FORM = "points_eau"
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


def leaves(xml_text):
    """{local name: text} of the leaves of a submission (first occurrence)."""
    out = {}
    for el in ET.fromstring(xml_text.encode()).iter():
        if len(el) == 0:
            out.setdefault(el.tag.split("}")[-1], el.text or "")
    return out


def pyodk_checks(base, work):
    config = os.path.join(work, "pyodk_config.toml")
    cache = os.path.join(work, "pyodk_cache.toml")
    # The project id is found first, as a user would on the server's projects page.
    token = requests.post(f"{base}/v1/sessions", json={"email": MANAGER[0], "password": MANAGER[1]}).json()["token"]
    projects = requests.get(f"{base}/v1/projects", headers={"Authorization": f"Bearer {token}"}).json()
    pid = next(p["id"] for p in projects if p["name"].startswith("Accès"))
    with open(config, "w") as f:
        f.write(f'[central]\nbase_url = "{base}"\nusername = "{MANAGER[0]}"\n'
                f'password = "{MANAGER[1]}"\ndefault_project_id = {pid}\n')
    os.environ["PYODK_CONFIG_FILE"] = config
    os.environ["PYODK_CACHE_FILE"] = cache

    with Client() as client:
        listed = client.projects.list()
        # The survey's project, the barometer and the citizen reports.
        check(len(listed) == 3 and any(p.id == pid for p in listed), f"projects.list: {[p.name for p in listed]}")
        forms = client.forms.list()
        form = next((f for f in forms if f.xmlFormId == FORM), None)
        check(form is not None and form.state == "open" and len(form.hash) == 32, f"forms.list: {[(f.xmlFormId, f.state) for f in forms]}")
        check(client.forms.get(FORM).version == form.version, "forms.get")
        check("<h:html" in client.forms.get_xml(FORM), "forms.get_xml")

        table = client.submissions.get_table(form_id=FORM)
        rows = table["value"]
        check(len(rows) == 300, f"get_table: {len(rows)} submissions")
        ids = {r["__id"] for r in rows}
        check(len(ids) == 300, "get_table: every submission once")
        row = rows[0]
        xml = client.get(f"projects/{pid}/forms/{FORM}/submissions/{row['__id']}.xml").text
        sent = leaves(xml)
        check(row["localisation"]["quartier"] == sent["quartier"]
              and row["point"]["temps_trajet"] == int(sent["temps_trajet"])
              and row["menage"]["taille_menage"] == int(sent["taille_menage"])
              and row["point"]["type_point"] == sent["type_point"]
              and row["meta"]["instanceID"] == row["__id"],
              "get_table: values are those submitted")
        lat, lon = (float(x) for x in sent["gps"].split()[:2])
        gps = row["localisation"]["gps"]
        check(gps["type"] == "Point" and abs(gps["coordinates"][0] - lon) < 1e-9 and abs(gps["coordinates"][1] - lat) < 1e-9,
              "get_table: geopoint as GeoJSON (longitude first)")
        check(row["__system"]["submitterName"].startswith("Fatimé") and row["__system"]["reviewState"] is None,
              "get_table: __system")
        check(all(isinstance(r["point"]["prix"], (int, float)) for r in rows), "get_table: decimals are numbers")

        page = client.submissions.get_table(form_id=FORM, top=10, count=True)
        check(len(page["value"]) == 10 and page["@odata.count"] == 300 and "@odata.nextLink" in page,
              "get_table: $top, $count and @odata.nextLink")
        nxt = requests.get(page["@odata.nextLink"], auth=MANAGER).json()
        check(len(nxt["value"]) == 10 and not ({r["__id"] for r in nxt["value"]} & {r["__id"] for r in page["value"]}),
              "the next link gives the next page (Basic credentials, as Excel and Power BI)")
        tail = client.submissions.get_table(form_id=FORM, skip=290, top=20)
        check(len(tail["value"]) == 10 and "@odata.nextLink" not in tail, "get_table: $skip")
        since = client.submissions.get_table(form_id=FORM, filter="__system/submissionDate ge 2000-01-01", count=True)
        before = client.submissions.get_table(form_id=FORM, filter="__system/submissionDate lt 2000-01-01T00:00:00Z", count=True)
        check(since["@odata.count"] == 300 and before["@odata.count"] == 0 and before["value"] == [],
              "get_table: filter on __system/submissionDate")
        try:
            client.submissions.get_table(form_id=FORM, filter="year(__system/submissionDate) eq 2026")
            check(False, "an unsupported filter is refused")
        except PyODKError as e:
            check(e.args[1].status_code == 501 if len(e.args) > 1 else "501" in str(e), "an unsupported filter is refused (501)")

        children = client.submissions.get_table(form_id=FORM, table_name="Submissions.menage.enfant")["value"]
        expected = sum(r["menage"]["nb_enfants"] for r in rows)
        check(len(children) == expected and all(c["__Submissions-id"] in ids for c in children),
              f"get_table: the repeat's table ({len(children)} children)")
        expanded = client.submissions.get_table(form_id=FORM, expand="*")["value"]
        check(sum(len(r["menage"].get("enfant", [])) for r in expanded) == expected, "get_table: $expand=*")
        wkt = client.submissions.get_table(form_id=FORM, top=1, wkt=True)["value"][0]
        check(wkt["localisation"]["gps"].startswith("POINT ("), "get_table: $wkt")
        sel = client.submissions.get_table(form_id=FORM, top=1, select="__id,localisation/quartier")["value"][0]
        check(set(sel) == {"__id", "localisation"} and set(sel["localisation"]) == {"quartier"}, "get_table: $select")

        subs = client.submissions.list(form_id=FORM)
        check(len(subs) == 300 and all(s.submitterId < 0 for s in subs), "submissions.list")
        one = client.submissions.get(row["__id"], form_id=FORM)
        check(one.instanceId == row["__id"], "submissions.get")

        # Create one, as pyodk documents it: the XML of a filled form.
        me = client.get("users/current").json()
        new_id = f"uuid:{uuid.uuid4()}"
        new_xml = re.sub(r"<instanceID>[^<]*</instanceID>", f"<instanceID>{new_id}</instanceID>", xml)
        time.sleep(1.1)  # submission dates are in seconds: be after the demo's
        created = client.submissions.create(xml=new_xml, form_id=FORM)
        check(created.instanceId == new_id and created.submitterId == me["id"], "submissions.create")
        stamp = created.createdAt.strftime("%Y-%m-%dT%H:%M:%SZ")
        recent = client.submissions.get_table(form_id=FORM, filter=f"__system/submissionDate ge {stamp}", count=True)
        check(recent["@odata.count"] == 1 and recent["value"][0]["__id"] == new_id, "the new submission, filtered by date")
        mine = client.submissions.get_table(form_id=FORM, filter=f"__system/submitterId eq '{me['id']}'")
        check([r["__id"] for r in mine["value"]] == [new_id], "filtered by submitter")
        for body, what in [(new_xml, "a replay"), (new_xml.replace("<prix>", "<prix>9"), "other content")]:
            try:
                client.submissions.create(xml=body, form_id=FORM)
                check(False, f"{what} under the same instanceID is refused")
            except PyODKError as e:
                status = e.args[1].status_code if len(e.args) > 1 else None
                check(status == 409, f"{what} under the same instanceID: 409 as in Central")
        check(len(client.submissions.list(form_id=FORM)) == 301, "nothing doubled")


def digest_checks(base):
    """ODK Collect over plain HTTP signs in with Digest: requests' own Digest client."""
    pid = requests.get(f"{base}/v1/projects", auth=MANAGER).json()
    pid = next(p["id"] for p in pid if p["name"].startswith("Accès"))
    url = f"{base}/v1/projects/{pid}/formList"
    headers = {"X-OpenRosa-Version": "1.0"}
    r = requests.get(url, headers=headers, auth=HTTPDigestAuth(*ANALYST))
    check(r.status_code == 401, "Digest is refused for an account that did not allow it")
    # Idriss allows it on his account page (a browser's form, with its CSRF token).
    s = requests.Session()
    page = s.get(f"{base}/login").text
    csrf = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)
    s.post(f"{base}/login", data={"_csrf": csrf, "email": ANALYST[0], "password": ANALYST[1], "next": "/account"})
    page = s.get(f"{base}/account").text
    csrf = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)
    r = s.post(f"{base}/account/digest", data={"_csrf": csrf, "action": "enable", "password": ANALYST[1]},
               allow_redirects=False)
    check(r.status_code == 303, "Digest sign-in allowed on the account page")
    r = requests.get(url, headers=headers, auth=HTTPDigestAuth(*ANALYST))
    check(r.status_code == 200 and FORM in r.text, "requests' HTTPDigestAuth lists the forms")
    r = requests.get(f"{base}/v1/projects/{pid}/forms/{FORM}.xml", headers=headers, auth=HTTPDigestAuth(*ANALYST))
    check(r.status_code == 200 and "<h:html" in r.text, "and downloads the form")
    r = requests.get(url, headers=headers, auth=HTTPDigestAuth(ANALYST[0], "wrong-password-1"))
    check(r.status_code == 401, "a wrong password over Digest is refused")
    r = requests.get(f"{base}/v1/projects/{pid}/forms/{FORM}.svc/Submissions", auth=HTTPDigestAuth(*ANALYST))
    check(r.status_code == 401, "Digest does not open the data feed")


def main():
    data = tempfile.mkdtemp(prefix="baraza-pyodk-")
    server, base = start(data)
    try:
        pyodk_checks(base, data)
        digest_checks(base)
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
