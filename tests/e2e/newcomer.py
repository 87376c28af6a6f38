#!/usr/bin/env python3
"""The newcomer's journey in a real browser, with JavaScript turned off.

Starts `baraza demo` on a free port with a fresh data directory, then, in headless Chromium driven
by Selenium: the home page in French (the browser asks for French), sign in with a printed demo
account, open the organisation and its private project, switch to English with the header switch,
open the people page, sign out. Screenshots go to $E2E_SCREENSHOTS when it is set.

Usage: newcomer.py PATH/TO/baraza
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

BIN = sys.argv[1]
SHOTS = os.environ.get("E2E_SCREENSHOTS")
checks = {"passed": 0, "failed": 0}


def check(cond, what):
    if cond:
        checks["passed"] += 1
        print(f"ok   {what}")
    else:
        checks["failed"] += 1
        print(f"FAIL {what}")


def navigate(driver, element):
    """Clicks a link or button that loads a new page, and waits until the new page is there."""
    page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 20).until(EC.staleness_of(page))
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.TAG_NAME, "footer"))


def shot(driver, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        driver.save_screenshot(os.path.join(SHOTS, f"{name}.png"))


def main():
    data = tempfile.mkdtemp(prefix="baraza-e2e-")
    server = subprocess.Popen(
        [BIN, "demo", "--listen", "127.0.0.1:0", "--data-dir", data],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    base = None
    banner = []
    for line in server.stdout:
        banner.append(line)
        m = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        if m and base is None:
            base = m.group(1)
        if "amina@" in line:
            break
    account = next(l.split() for l in banner if "amina@" in l)
    email, password = account[0], account[1]

    opts = Options()
    for a in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--window-size=412,915", "--lang=fr-FR"]:
        opts.add_argument(a)
    opts.add_experimental_option("prefs", {
        "intl.accept_languages": "fr-FR,fr",
        "profile.managed_default_content_settings.javascript": 2,
    })
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=opts)
    try:
        driver.get(base + "/")
        html = driver.find_element(By.TAG_NAME, "html")
        check(html.get_attribute("lang") == "fr", "home page in French for a French browser")
        check("Projets publics" in driver.page_source, "public projects listed")
        shot(driver, "1-home-fr")

        navigate(driver, driver.find_element(By.LINK_TEXT, "Se connecter"))
        driver.find_element(By.NAME, "email").send_keys(email)
        driver.find_element(By.NAME, "password").send_keys(password)
        shot(driver, "2-login")
        navigate(driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
        check("Amina Mahamat" in driver.page_source, "signed in as the printed demo account")

        navigate(driver, driver.find_element(By.LINK_TEXT, "Organisations"))
        navigate(driver, driver.find_element(By.PARTIAL_LINK_TEXT, "Eau et Assainissement"))
        check("Accès à l’eau potable" in driver.page_source, "the organisation shows its private project")
        shot(driver, "3-org")
        navigate(driver, driver.find_element(By.PARTIAL_LINK_TEXT, "Accès à l’eau potable"))
        check("Propriétaire" in driver.page_source, "the project page shows the role, in French")
        shot(driver, "4-project-fr")

        navigate(driver, driver.find_element(By.CSS_SELECTOR, "form.lang button[value=en]"))
        check(driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en", "the switch turns the page to English")
        check("Your role" in driver.page_source and "Owner" in driver.page_source, "the project page in English")
        shot(driver, "5-project-en")
        driver.get(base + "/orgs")
        check(driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en", "the choice sticks on the next page")

        driver.back()
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.PARTIAL_LINK_TEXT, "people"))
        navigate(driver, driver.find_element(By.PARTIAL_LINK_TEXT, "people"))
        rows = driver.find_elements(By.CSS_SELECTOR, "main table tbody tr")
        check(len(rows) == 5, f"the people page lists the 5 members ({len(rows)})")
        shot(driver, "6-people")

        navigate(driver, driver.find_element(By.CSS_SELECTOR, "header form.inline button.link"))
        shot(driver, "7-signed-out")
        header = driver.find_element(By.CSS_SELECTOR, "header").text
        check("Sign in" in header and "Amina Mahamat" not in header, f"signed out ({header!r})")
    finally:
        driver.quit()
        server.terminate()
        server.wait(timeout=20)
        shutil.rmtree(data, ignore_errors=True)
    print(f"e2e: {checks['passed']} passed, {checks['failed']} failed")
    return 1 if checks["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
