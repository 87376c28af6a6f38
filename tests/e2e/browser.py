"""What the browser journeys share: the demo server, headless Chromium, checks and screenshots."""
import os
import re
import shutil
import subprocess
import tempfile

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

SHOTS = os.environ.get("E2E_SCREENSHOTS")
checks = {"passed": 0, "failed": 0}


def check(cond, what):
    if cond:
        checks["passed"] += 1
        print(f"ok   {what}")
    else:
        checks["failed"] += 1
        print(f"FAIL {what}")


def summary():
    """The closing line that CI counts; the exit status."""
    print(f"e2e: {checks['passed']} passed, {checks['failed']} failed")
    return 1 if checks["failed"] else 0


def navigate(driver, element):
    """Clicks a link or button that loads a new page, and waits until the new page is there."""
    page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 20).until(lambda _: gone(page))
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.TAG_NAME, "footer"))


def gone(element):
    """Whether an element of the previous page is gone. Chromium reports a node of an unloaded
    document either as stale or, while the new one is being built, as "does not belong to the
    document"; both mean the page changed."""
    try:
        element.is_enabled()
        return False
    except StaleElementReferenceException:
        return True
    except WebDriverException as e:
        if "does not belong to the document" in str(e) or "No node with given id" in str(e):
            return True
        raise


def shot(driver, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        driver.save_screenshot(os.path.join(SHOTS, f"{name}.png"))


def start_demo(binary):
    """Starts `baraza demo` on a free port in a fresh data directory; returns the process, its
    data directory, its base URL and the lines it printed up to its banner's end."""
    data = tempfile.mkdtemp(prefix="baraza-e2e-")
    server = subprocess.Popen(
        [binary, "demo", "--listen", "127.0.0.1:0", "--data-dir", data],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    base = None
    banner = []
    for line in server.stdout:
        banner.append(line)
        m = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        if m and base is None:
            base = m.group(1)
        if "Ctrl-C" in line:
            break
    return server, data, base, banner


def stop_demo(server, data):
    server.terminate()
    server.wait(timeout=20)
    shutil.rmtree(data, ignore_errors=True)


def chromium(javascript=False, logs=False):
    """Headless Chromium as a French phone, JavaScript off unless asked; with `logs`, the
    console (`browser`) and the DevTools network events (`performance`) are kept for
    `driver.get_log`."""
    opts = Options()
    if logs:
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    for a in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--window-size=412,915", "--lang=fr-FR"]:
        opts.add_argument(a)
    opts.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='baraza-chrome-')}")
    opts.add_experimental_option("prefs", {
        "intl.accept_languages": "fr-FR,fr",
        "profile.managed_default_content_settings.javascript": 1 if javascript else 2,
    })
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    return webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"),
                            options=opts)
