#!/usr/bin/env python3
"""The SDG dashboard in a real browser, as a reader sees it, with JavaScript turned off.

Starts `baraza demo` on a free port with a fresh data directory. Moussa, a viewer of the water
project, signs in and reads the dashboard in French, then in English, following links only: the
dashboard, goals 6, 5 and 16, the four indicators (and, through their links, another
disaggregation and another period), and the chart to embed in an article. On every page:

- a full-page screenshot in $E2E_SCREENSHOTS (a temporary directory when unset; printed);
- no console error in Chromium's browser log (CSP violations land there), then the same pages
  again with JavaScript on;
- no request leaves the server: every request of DevTools' network events goes to the server's
  origin or is a data: URL;
- the page weight under 50 KB: the HTML and every sub-resource it loads, fetched again with
  `Accept-Encoding: gzip` and counted as sent;
- no sideways scrolling on a phone.

And what a newcomer relies on: charts as `<svg role="img">` with a title, a description and the
table of their data next to them, the credibility card, the reading rule, hidden and bracketed
small cells said as such (and absent from the JSON), the map's OpenStreetMap attribution, the
official series beside the citizen figures, "not representative" on a volunteer sample, decimal
commas in French; the downloads; and framing: the embed snippet, pasted into a page of another
origin, shows the chart, while an ordinary page is refused in the same <iframe>.

Usage: dashboard.py PATH/TO/baraza
"""
import base64
import functools
import http.server
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlparse

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from browser import check, chromium, navigate, start_demo, stop_demo, summary

BIN = sys.argv[1]
PROJECT = "/orgs/eau-tchad/projects/acces-eau-ndjamena-2026"
INDICATORS = ["eau-de-base", "points-en-panne", "corvee-eau", "satisfaction-usagers"]
GOALS = {6: ["eau-de-base", "points-en-panne"], 5: ["corvee-eau"], 16: ["satisfaction-usagers"]}
# What a page may weigh on a 2G phone: HTML, CSS, charts and everything else, compressed.
BUDGET = 50_000
SHOTS = os.environ.get("E2E_SCREENSHOTS") or tempfile.mkdtemp(prefix="baraza-dashboard-shots-")

TEXT = {
    "fr": {
        "dashboard": "Tableau de bord des ODD", "goal": "Objectif", "read": "Comment lire",
        "hidden": "masqué : trop peu d’enregistrements",
        "bracketed": "peu d’enregistrements : à lire avec prudence",
        "not_representative": "non représentatif", "credibility": "Fiche de crédibilité",
        "official": "Statistiques officielles", "periods": "Périodes", "by_group": "Par groupe",
        "embed": "Pour mettre ce graphique dans un article",
        "col_who": "Groupe ou lieu", "col_value": "Valeur",
    },
    "en": {
        "dashboard": "SDG dashboard", "goal": "Goal", "read": "How to read",
        "hidden": "hidden: too few records", "bracketed": "few records: read with care",
        "not_representative": "not representative", "credibility": "Credibility card",
        "official": "Official statistics", "periods": "Periods", "by_group": "By group",
        "embed": "To put this chart in an article",
        "col_who": "Group or place", "col_value": "Value",
    },
}

weights = []             # (language, page, bytes sent compressed)
markers = {"hidden": 0, "bracketed": 0}


class Reader:
    """A signed-in browser reading the dashboard in one language."""

    def __init__(self, driver, base, lang):
        self.driver, self.base, self.lang = driver, base, lang
        self.pages = []      # (name, url) of every page looked at, for the pass with JavaScript
        self.n = 0

    def t(self, key):
        return TEXT[self.lang][key]

    def go(self, element):
        """Follows a link: the logs start afresh for the page it opens."""
        drain(self.driver)
        navigate(self.driver, element)

    def fetch(self, url, encoding="gzip"):
        """The URL fetched again as this reader (same cookies), outside the browser: status,
        headers, the body as sent."""
        cookie = "; ".join(f"{c['name']}={c['value']}" for c in self.driver.get_cookies())
        req = urllib.request.Request(url, headers={
            "Cookie": cookie, "Accept-Encoding": encoding,
            "Accept-Language": "fr-FR,fr" if self.lang == "fr" else "en",
        })
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()


def drain(driver):
    driver.get_log("performance")
    driver.get_log("browser")


def network(driver):
    """The DevTools network events since the last drain."""
    return [json.loads(e["message"])["message"] for e in driver.get_log("performance")]


def full_shot(driver, path):
    """The whole page, not only the first screen, at the phone's width."""
    size = driver.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    clip = {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1}
    png = driver.execute_cdp_cmd("Page.captureScreenshot",
                                 {"format": "png", "captureBeyondViewport": True, "clip": clip})
    with open(path, "wb") as f:
        f.write(base64.b64decode(png["data"]))


SUBRESOURCES = """return [...document.querySelectorAll(
  'link[rel~=stylesheet][href], link[rel~=icon][href], script[src], img[src], iframe[src],'
  + 'source[src], video[src], audio[src], embed[src], object[data], image[href], use[href]')]
  .map(e => e.href && e.href.baseVal !== undefined ? new URL(e.href.baseVal, document.baseURI).href
                                                    : (e.href || e.src || e.data))"""


def look(r, name):
    """The checks of every page: screenshot, console, requests, weight, width."""
    d = r.driver
    WebDriverWait(d, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")
    url = d.current_url
    r.n += 1
    r.pages.append((name, url))
    label = f"{r.lang} {name}"
    path = os.path.join(SHOTS, f"dashboard-{r.lang}-{r.n:02d}-{name}.png")
    full_shot(d, path)

    events = network(d)
    severe = [e["message"] for e in d.get_log("browser") if e["level"] == "SEVERE"]
    check(not severe, f"{label}: no console error {severe[:2] if severe else ''}")

    sent = [e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"]
    away = [u for u in sent if not (u.startswith(r.base + "/") or u.startswith("data:"))]
    check(sent and not away, f"{label}: all {len(sent)} requests stay on the server {away[:3] if away else ''}")

    # The weight: the page and what it loads (from the network events and the DOM, so that a
    # resource the browser had cached still counts), as the server sends them compressed.
    loads = {u.split("#")[0] for u in sent + d.execute_script(SUBRESOURCES)
             if u.startswith(r.base + "/")}
    loads.discard(url.split("#")[0])
    status, headers, body = r.fetch(url)
    check(status == 200 and headers.get("Content-Encoding") == "gzip",
          f"{label}: the page comes gzip-compressed ({status}, {headers.get('Content-Encoding')})")
    total, parts = len(body), [f"html {len(body)}"]
    for u in sorted(loads):
        _, h, b = r.fetch(u)
        total += len(b)
        parts.append(f"{urlparse(u).path.rsplit('/', 1)[-1]} {len(b)}{'' if h.get('Content-Encoding') else ' (raw)'}")
    received = sum(e["params"].get("encodedDataLength", 0) for e in events
                   if e["method"] == "Network.loadingFinished")
    weights.append((r.lang, name, total))
    print(f"     weight {label}: {total} B compressed ({', '.join(parts)}); "
          f"the browser received {received} B with headers")
    check(total < BUDGET, f"{label}: weighs {total / 1000:.1f} KB compressed, under 50 KB")

    # Charts shrink to the phone's width (the embed's to its <iframe>'s); wide tables may still
    # scroll sideways, which is said but not failed.
    if not name.startswith("embed"):
        wide = d.execute_script(WIDE_CHARTS)
        check(not wide, f"{label}: the charts fit the phone's width {wide}")
    wide = d.execute_script(WIDE)
    if wide:
        print(f"     note {label}: wider than the phone ({d.execute_script('return window.innerWidth')} px): {', '.join(wide)}")
    print(f"     screenshot {path}")


WIDE_CHARTS = """return [...document.querySelectorAll('svg[role=img]')]
  .filter(s => s.getBoundingClientRect().right > window.innerWidth + 1).map(s => s.id)"""

# The outermost elements that stick out on the right.
WIDE = """const w = window.innerWidth + 1;
return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w
    && e.parentElement.getBoundingClientRect().right <= w)
  .map(e => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''} ${Math.round(e.getBoundingClientRect().right)} px`)"""


CHARTS = """return [...document.querySelectorAll('svg[role=img]')].map(s => {
  const t = s.querySelector(':scope > title'), d = s.querySelector(':scope > desc');
  const next = (s.closest('figure') || s).nextElementSibling;
  return {title: t ? t.textContent.trim() : '', desc: d ? d.textContent.trim() : '',
          table: !!next && (next.tagName === 'TABLE'
            || (next.classList.contains('scroll') && !!next.querySelector(':scope > table'))),
          text: [...s.querySelectorAll('text')].map(x => x.textContent).join(' | '),
          numbers: [...s.querySelectorAll('text')].map(x => x.textContent.trim())
            .filter(x => /^[-−–()\d\s.,%]+$/.test(x) && /\d/.test(x))};
})"""

# Text a chart's clip hides, wholly or partly (axis labels, value labels).
CUT = """return [...document.querySelectorAll('svg[role=img]')].flatMap(s =>
  [...s.querySelectorAll('[clip-path] text')].filter(t => {
    const id = t.closest('[clip-path]').getAttribute('clip-path').match(/#([^)]+)/)[1];
    const r = s.querySelector(`clipPath[id="${id}"] rect`);
    if (!r) return false;
    const [x, y, w, h] = ['x', 'y', 'width', 'height'].map(a => +r.getAttribute(a));
    const b = t.getBBox();
    return b.x < x - .5 || b.y < y - .5 || b.x + b.width > x + w + .5 || b.y + b.height > y + h + .5;
  }).map(t => `${s.id}: ${t.textContent}`))"""

# The figure tables: group or place, period, value, interval, records, note.
ROWS = """return [...document.querySelectorAll('table')].filter(t => {
      const th = [...t.querySelectorAll('thead th')].map(h => h.textContent.trim());
      return th.length === 6 && th[0] === arguments[0] && th[2] === arguments[1];
    }).flatMap(t => [...t.querySelectorAll('tbody tr')].map(
    tr => [...tr.querySelectorAll('td')].map(td => td.textContent.trim())))"""


def charts_and_tables(r, label, least):
    """Every chart is an accessible image with its data in a table right after it; hidden and
    bracketed figures say so; numbers are written as the language writes them."""
    d = r.driver
    charts = d.execute_script(CHARTS)
    check(len(charts) >= least, f"{label}: {len(charts)} charts as <svg role=img>")
    check(all(c["title"] and c["desc"] for c in charts), f"{label}: every chart has a <title> and a <desc>")
    check(all(c["table"] for c in charts), f"{label}: every chart is followed by the table of its data")
    cut = d.execute_script(CUT)
    # A value over a bar whose interval reaches the top of the axis is still cut: said, not failed.
    values = [t for t in cut if t.startswith("groups: ") and re.fullmatch(r"\(?[\d.,]+\)?", t[8:])]
    if values:
        print(f"     note {label}: values cut at the top of the bar chart: {values}")
    cut = [t for t in cut if t not in values]
    check(not cut, f"{label}: no axis or legend label of a chart is cut off {cut[:4]}")
    rows = d.execute_script(ROWS, r.t("col_who"), r.t("col_value"))
    check(rows, f"{label}: {len(rows)} figures in tables")
    wrong = []
    for row in rows:
        value, note = row[2], row[5]
        if value == "—":
            markers["hidden"] += 1
            if note != r.t("hidden"):
                wrong.append(row)
        elif value.startswith("("):
            markers["bracketed"] += 1
            if note != r.t("bracketed"):
                wrong.append(row)
        elif note:
            wrong.append(row)
    check(not wrong, f"{label}: hidden figures read “—”, bracketed ones “( )”, each with its note {wrong[:2]}")
    numbers = d.execute_script("return [...document.querySelectorAll('td.num')].map(t => t.textContent)")
    numbers += [n for c in charts for n in c["numbers"]]
    point, comma = re.compile(r"\d\.\d"), re.compile(r"\d,\d")
    if r.lang == "fr":
        bad = [n for n in numbers if point.search(n)]
        check(not bad and any(comma.search(n) for n in numbers),
              f"{label}: numbers with a decimal comma in French {bad[:3]}")
    else:
        bad = [n for n in numbers if comma.search(n)]
        check(not bad and any(point.search(n) for n in numbers),
              f"{label}: numbers with a decimal point in English {bad[:3]}")


def indicator_page(r, slug, name):
    """What a newcomer needs on an indicator's page."""
    d = r.driver
    label = f"{r.lang} {name}"
    look(r, name)
    text = d.find_element(By.TAG_NAME, "main").text
    charts_and_tables(r, label, 1 if slug == "satisfaction-usagers" else 2)
    card = d.find_elements(By.CSS_SELECTOR, "#credibility")
    check(card and r.t("credibility") in card[0].text, f"{label}: the credibility card")
    check(r.t("read") in text, f"{label}: the rule for reading the figures")
    if slug != "satisfaction-usagers":
        svgs = d.execute_script(CHARTS)
        check(any("OpenStreetMap" in c["text"] for c in svgs), f"{label}: the map credits OpenStreetMap")
    if slug == "eau-de-base":
        tables = [t.text for t in d.find_elements(By.TAG_NAME, "table")]
        check(r.t("official") in text and any("1.4.1" in t and "JMP" in t for t in tables),
              f"{label}: the official series (1.4.1, JMP) in its own table")
    if slug == "satisfaction-usagers":
        check(r.t("not_representative") in text, f"{label}: says “{r.t('not_representative')}”")


def choose(r, slug, nav_key, param, name):
    """Clicks the first choice of a navigation (periods or groups) that is not the current one;
    the page that opens shows it chosen. Returns the value chosen, or None when there is none."""
    d = r.driver
    navs = d.find_elements(By.CSS_SELECTOR, f'nav.choices[aria-label="{r.t(nav_key)}"]')
    links = navs[0].find_elements(By.TAG_NAME, "a") if navs else []
    if not links:
        print(f"     {r.lang} {slug}: no other {param} to choose")
        return None
    wanted, label = parse_qs(urlparse(links[0].get_attribute("href")).query)[param][0], links[0].text
    r.go(links[0])
    got = parse_qs(urlparse(d.current_url).query).get(param, [None])[0]
    now = d.find_elements(By.CSS_SELECTOR, f'nav.choices[aria-label="{r.t(nav_key)}"] strong')
    check(got == wanted and now and now[0].text == label,
          f"{r.lang} {slug}: the link chooses {param}={wanted} ({got}, shown “{now[0].text if now else ''}”)")
    indicator_page(r, slug, name(wanted))
    return wanted


def read_everything(r):
    """From the project page: the dashboard, three goals, the four indicators, the embed."""
    d = r.driver
    r.go(d.find_element(By.LINK_TEXT, r.t("dashboard")))
    look(r, "dashboard")
    label = f"{r.lang} dashboard"
    check(d.find_element(By.TAG_NAME, "h1").text == r.t("dashboard"), f"{label}: its title")
    check(len(d.find_elements(By.CSS_SELECTOR, "ol.goals li")) == 17, f"{label}: the 17 goals")
    cards = [a.get_attribute("href").rsplit("/", 1)[-1]
             for a in d.find_elements(By.CSS_SELECTOR, "section.card h3 a")]
    check(sorted(cards) == sorted(INDICATORS), f"{label}: the four indicators ({cards})")
    dashboard = d.current_url

    for goal, tracked in GOALS.items():
        r.go(d.find_element(By.CSS_SELECTOR, f"ol.goals a[href$='/indicators/goals/{goal}']"))
        look(r, f"goal-{goal}")
        h1 = d.find_element(By.TAG_NAME, "h1").text
        check(h1.startswith(f"{r.t('goal')} {goal} "), f"{r.lang} goal {goal}: its title ({h1!r})")
        links = [a.get_attribute("href").rsplit("/", 1)[-1]
                 for a in d.find_elements(By.CSS_SELECTOR, "main li a[href*='/indicators/']")]
        check(all(s in links for s in tracked), f"{r.lang} goal {goal}: links to {tracked} ({links})")
        r.go(d.find_element(By.CSS_SELECTOR, "main p.muted a[href$='/indicators']"))

    embed = None
    for slug in INDICATORS:
        check(d.current_url == dashboard, f"{r.lang}: back on the dashboard")
        r.go(d.find_element(By.CSS_SELECTOR, f"section.card h3 a[href$='/indicators/{slug}']"))
        indicator_page(r, slug, slug)
        if slug == "eau-de-base":
            snippet = d.find_element(By.CSS_SELECTOR, "pre.embed").text
            check(r.t("embed") in d.find_element(By.TAG_NAME, "main").text, f"{r.lang} {slug}: offers the embed snippet")
            embed = snippet
        by = choose(r, slug, "by_group", "by", lambda v: f"{slug}-by-{v}")
        choose(r, slug, "periods", "period", lambda v: f"{slug}{f'-by-{by}' if by else ''}-period-{v}")
        r.go(d.find_element(By.CSS_SELECTOR, "main p.muted a[href$='/indicators']"))

    # The embed: its address is in the snippet to copy (no link leads there).
    src = re.search(r'src="([^"]+)"', embed or "")
    check(src and src.group(1).startswith(r.base + "/"), f"{r.lang}: the snippet has an absolute address ({src and src.group(1)})")
    if src:
        drain(d)
        d.get(src.group(1))
        look(r, "embed-eau-de-base")
        charts_and_tables(r, f"{r.lang} embed", 1)
        d.back()
        WebDriverWait(d, 20).until(lambda d: d.find_elements(By.TAG_NAME, "footer"))
    return embed


def downloads(r):
    """The twins and downloads answer, and keep hidden figures out."""
    base = f"{r.base}{PROJECT}/indicators"
    status, _, body = r.fetch(base + ".json", "identity")
    data = json.loads(body) if status == 200 else {}
    check(len(data.get("indicators", [])) == 4 and len(data.get("goals", [])) == 17, "the dashboard's JSON twin")
    for slug in INDICATORS:
        status, _, body = r.fetch(f"{base}/{slug}.json", "identity")
        figures = json.loads(body).get("figures", []) if status == 200 else []
        hidden = [f for f in figures if f["shown"] == "hidden"]
        check(figures and all("n" not in f and "estimate" not in f for f in hidden),
              f"{slug}.json: {len(figures)} figures, the {len(hidden)} hidden ones without count or value")
        status, h, body = r.fetch(f"{base}/{slug}.csv", "identity")
        check(status == 200 and body.startswith(b"indicator,period,place,dimension,group,shown"), f"{slug}.csv")
        status, h, body = r.fetch(f"{base}/{slug}/sdmx.csv", "identity")
        check(status == 200 and body.upper().startswith(b"DATAFLOW"), f"{slug}/sdmx.csv ({body[:40]!r})")
        status, h, body = r.fetch(f"{base}/{slug}/chart.svg", "identity")
        check(status == 200 and h.get("Content-Type", "").startswith("image/svg+xml") and b"<svg" in body,
              f"{slug}/chart.svg")
    status, _, body = r.fetch(f"{base}/analytics.json?dimension=dx:eau-de-base&dimension=pe:2026-11"
                              "&dimension=sexe_chef", "identity")
    rows = json.loads(body).get("rows", []) if status == 200 else []
    check(rows and all(x["indicator"] == "eau-de-base" and x["period"] == "2026-11"
                       and x["dimension"] == "sexe_chef" for x in rows),
          f"analytics.json by sex of the head of household ({len(rows)} rows)")


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def framing(r, snippet):
    """Another site's page: the embed snippet shows the chart in its <iframe>; an ordinary page
    in the same <iframe> is refused."""
    d = r.driver
    page = f"{r.base}{PROJECT}/indicators/eau-de-base"
    _, h, _ = r.fetch(page + "/embed")
    check("frame-ancestors *" in h.get("Content-Security-Policy", "") and "X-Frame-Options" not in h,
          "the embed page may be framed (frame-ancestors *, no X-Frame-Options)")
    _, h, _ = r.fetch(page)
    check(h.get("X-Frame-Options") == "DENY" and "frame-ancestors 'none'" in h.get("Content-Security-Policy", ""),
          "an indicator page may not be framed (X-Frame-Options DENY, frame-ancestors 'none')")

    site = tempfile.mkdtemp(prefix="baraza-site-")
    with open(os.path.join(site, "article.html"), "w") as f:
        f.write(f"<!doctype html><title>Article</title><h1>Article</h1>{snippet}\n")
    with open(os.path.join(site, "page.html"), "w") as f:
        f.write(f'<!doctype html><title>Page</title><h1>Page</h1><iframe src="{page}" width="660" height="480"></iframe>\n')
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=site))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    other = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        d.get(f"{other}/article.html")
        d.switch_to.frame(d.find_element(By.TAG_NAME, "iframe"))
        WebDriverWait(d, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")
        svg = d.find_elements(By.CSS_SELECTOR, "svg[role=img] title")
        check(svg and d.find_elements(By.TAG_NAME, "table"),
              "another site frames the embed: the chart and its table are in the <iframe>")
        d.switch_to.default_content()
        full_shot(d, os.path.join(SHOTS, "dashboard-framed-embed.png"))

        drain(d)
        d.get(f"{other}/page.html")
        d.switch_to.frame(d.find_element(By.TAG_NAME, "iframe"))
        where = d.execute_script("return document.URL")
        refused = where.startswith("chrome-error:") and not d.find_elements(By.CSS_SELECTOR, "#credibility, footer")
        d.switch_to.default_content()
        said = [e["message"] for e in d.get_log("browser") if "frame-ancestors 'none'" in e["message"]]
        check(refused and said, f"the same <iframe> refuses an ordinary indicator page ({where}; {said[:1]})")
        full_shot(d, os.path.join(SHOTS, "dashboard-framed-refused.png"))
    finally:
        server.shutdown()
        shutil.rmtree(site, ignore_errors=True)


def sign_in(driver, base, email, password):
    driver.get(base + "/login")
    driver.find_element(By.NAME, "email").send_keys(email)
    driver.find_element(By.NAME, "password").send_keys(password)
    navigate(driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))


def to_project(driver):
    navigate(driver, driver.find_element(By.CSS_SELECTOR, "header a[href='/orgs']"))
    navigate(driver, driver.find_element(By.PARTIAL_LINK_TEXT, "Eau et Assainissement"))
    navigate(driver, driver.find_element(By.CSS_SELECTOR, f"main a[href='{PROJECT}']"))


def main():
    os.makedirs(SHOTS, exist_ok=True)
    print(f"     screenshots in {SHOTS}")
    server, data, base, banner = start_demo(BIN)
    accounts = {l.split()[0]: l.split()[1] for l in banner if "@eau-tchad.example" in l}
    moussa = ("moussa@eau-tchad.example", accounts.get("moussa@eau-tchad.example", ""))
    readers = {}
    driver = chromium(logs=True)
    try:
        sign_in(driver, base, *moussa)
        check("Moussa" in driver.find_element(By.TAG_NAME, "header").text, "Moussa, a viewer, is signed in")
        fr = readers["fr"] = Reader(driver, base, "fr")
        to_project(driver)
        snippet = read_everything(fr)
        downloads(fr)

        to_project(driver)
        navigate(driver, driver.find_element(By.CSS_SELECTOR, "form.lang button[value=en]"))
        check(driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en", "the switch turns the pages to English")
        en = readers["en"] = Reader(driver, base, "en")
        read_everything(en)

        framing(fr, snippet or "")
    finally:
        driver.quit()

    # The same pages with JavaScript on: still no console error.
    driver = chromium(javascript=True, logs=True)
    try:
        sign_in(driver, base, *moussa)
        for lang in ("fr", "en"):
            # The language chosen last is remembered for the account: choose it again.
            driver.get(base + PROJECT)
            if driver.find_element(By.TAG_NAME, "html").get_attribute("lang") != lang:
                navigate(driver, driver.find_element(By.CSS_SELECTOR, f"form.lang button[value={lang}]"))
            for name, url in readers.get(lang, Reader(driver, base, lang)).pages:
                drain(driver)
                driver.get(url)
                WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")
                severe = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
                check(not severe and driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang,
                      f"{lang} {name}, JavaScript on: no console error {severe[:2] if severe else ''}")
    finally:
        driver.quit()
        stop_demo(server, data)

    check(markers["hidden"] and markers["bracketed"],
          f"the demo shows hidden ({markers['hidden']}) and bracketed ({markers['bracketed']}) figures")
    print("     page weights (compressed bytes):")
    for lang, name, total in weights:
        print(f"     {lang} {name:<45} {total:>6}")
    print(f"     screenshots in {SHOTS}")
    return summary()


if __name__ == "__main__":
    sys.exit(main())
