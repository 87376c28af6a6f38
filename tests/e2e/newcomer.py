#!/usr/bin/env python3
"""The newcomer's journey in a real browser, with JavaScript turned off.

Starts `baraza demo` on a free port with a fresh data directory, then, in headless Chromium driven
by Selenium: the home page in French (the browser asks for French), sign in with a printed demo
account, open the organisation and its private project, switch to English with the header switch,
open the people page, sign out. Screenshots go to $E2E_SCREENSHOTS when it is set.

Usage: newcomer.py PATH/TO/baraza
"""
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from browser import check, chromium, navigate, shot, start_demo, stop_demo, summary

BIN = sys.argv[1]


def main():
    server, data, base, banner = start_demo(BIN)
    account = next(l.split() for l in banner if "amina@" in l)
    email, password = account[0], account[1]
    driver = chromium()
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
        stop_demo(server, data)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
