#!/usr/bin/env python3
"""The web form in a real browser, with JavaScript turned off.

Starts `baraza demo` on a free port with a fresh data directory, then, in headless Chromium driven
by Selenium, with JavaScript disabled and a French browser:

1. Fatimé (collector) signs in, opens the water-point survey and fills it page by page: a choice
   list that follows the province on the same page, a geopoint, answers that make questions appear,
   a constraint refused with the form's French message, a repeat sized by an answer, the review
   page, sending.
2. A citizen without an account opens the survey's public link printed by the demo, fills it and
   sends it.
3. Amina (owner) finds both submissions, marks one "has issues" with a comment, and corrects the
   other in the web form with a reason; the record shows two versions.

Screenshots go to $E2E_SCREENSHOTS when it is set.

Usage: webform.py PATH/TO/baraza
"""
import re
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from browser import check, chromium, gone, navigate, start_demo, stop_demo, summary
from browser import shot as save_shot

BIN = sys.argv[1]


def shot(driver, name):
    save_shot(driver, f"webform-{name}")


def browser(javascript=False):
    return chromium(javascript)


def by_name(driver, name):
    return driver.find_element(By.CSS_SELECTOR, f'[name="{name}"]')


def type_in(driver, name, text):
    el = by_name(driver, name)
    el.clear()
    el.send_keys(text)


def choose(driver, name, value):
    """Ticks the radio button or check box `value` of question `name`."""
    driver.find_element(By.CSS_SELECTOR, f'input[name="{name}"][value="{value}"]').click()


def press(driver, action):
    navigate(driver, driver.find_element(By.CSS_SELECTOR, f'.nav button[value="{action}"]'))


def sign_in(driver, base, email, password):
    driver.get(base + "/login")
    driver.find_element(By.NAME, "email").send_keys(email)
    driver.find_element(By.NAME, "password").send_keys(password)
    navigate(driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))


def fill_survey(driver, who, quartier, temps):
    """Fills the survey from its first page to the review."""
    Select(by_name(driver, "/data/localisation/province")).select_by_value("ndjamena")
    type_in(driver, "/data/localisation/quartier", quartier)
    type_in(driver, "/data/localisation/gps#lat", "12.1048")
    type_in(driver, "/data/localisation/gps#lon", "15.0445")
    # The commune list follows the province: the page comes back with it.
    press(driver, "next")
    options = [o.get_attribute("value") for o in Select(by_name(driver, "/data/localisation/commune")).options]
    check(options == ["", "arr1", "arr7", "arr9"], f"{who}: the communes of N'Djamena appear ({options})")
    check("Vos réponses ont ajouté des questions" in driver.page_source, f"{who}: told that the page changed")
    Select(by_name(driver, "/data/localisation/commune")).select_by_value("arr7")
    press(driver, "next")
    check("Point d’eau" in driver.find_element(By.TAG_NAME, "h1").text, f"{who}: page 2, the water point")
    choose(driver, "/data/point/type_point", "forage")
    choose(driver, "/data/point/fonctionnel", "non")
    type_in(driver, "/data/point/temps_trajet", temps)
    press(driver, "next")
    check(len(driver.find_elements(By.CSS_SELECTOR, 'input[name="/data/point/pannes"]')) == 5,
          f"{who}: the breakdown question appears once the point is said broken")
    choose(driver, "/data/point/pannes", "pompe")
    type_in(driver, "/data/point/jours_panne", "20")
    press(driver, "next")
    if temps == "900":
        check("Entre 0 et 600 minutes" in driver.page_source, f"{who}: the constraint message, in French")
        shot(driver, "constraint")
        type_in(driver, "/data/point/temps_trajet", "25")
        press(driver, "next")
    check("Ménage" in driver.find_element(By.TAG_NAME, "h1").text, f"{who}: page 3, the household")
    choose(driver, "/data/menage/sexe_chef", "femme")
    type_in(driver, "/data/menage/taille_menage", "6")
    type_in(driver, "/data/menage/nb_enfants", "1")
    press(driver, "next")
    check(driver.find_elements(By.CSS_SELECTOR, 'input[name="/data/menage/enfant[1]/age_mois"]'),
          f"{who}: one child asked about, as the answer said")
    type_in(driver, "/data/menage/enfant[1]/age_mois", "18")
    choose(driver, "/data/menage/enfant[1]/diarrhee", "non")
    press(driver, "next")
    press(driver, "next")
    check("Vérifier et envoyer" in driver.find_element(By.TAG_NAME, "h1").text, f"{who}: the review page")
    check(quartier in driver.page_source and "Forage avec pompe" in driver.page_source,
          f"{who}: the review shows the answers with their labels")
    shot(driver, f"review-{who}")


def main():
    server, data, base, banner = start_demo(BIN)
    accounts = {l.split()[0]: l.split()[1] for l in banner if "@eau-tchad.example" in l}
    public = next((re.search(r"(http://\S+/f/\S+)", l).group(1) for l in banner if "/f/" in l), None)
    check(public is not None, "the demo prints the survey's public link")
    form = f"{base}/orgs/eau-tchad/projects/acces-eau-ndjamena-2026/forms/points_eau"

    driver = browser()
    try:
        # 1. A collector in the field.
        sign_in(driver, base, "fatime@eau-tchad.example", accounts["fatime@eau-tchad.example"])
        driver.get(form)
        navigate(driver, driver.find_element(By.PARTIAL_LINK_TEXT, "Remplir ce formulaire"))
        navigate(driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
        check("Page 1 sur 4" in driver.page_source, "the first page, in French")
        shot(driver, "page1")
        fill_survey(driver, "Fatimé", "Chagoua", "900")
        press(driver, "send")
        check("Merci, c’est envoyé" in driver.page_source, "sent, with its reference")
        sent = re.search(r"uuid:[0-9a-f-]{36}", driver.page_source)
        check(sent is not None, "the reference is the instanceID")
        shot(driver, "sent")
    finally:
        driver.quit()

    driver = browser()
    try:
        # 2. A citizen through the public link.
        driver.get(public)
        navigate(driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
        check(driver.find_elements(By.CSS_SELECTOR, 'input[name="website"]'), "the honeypot is on the page")
        fill_survey(driver, "citoyen", "Moursal", "15")
        press(driver, "send")
        check("Vos réponses ont bien été reçues" in driver.page_source, "the citizen is thanked")
        shot(driver, "public-thanks")
    finally:
        driver.quit()

    driver = browser()
    try:
        # 3. The owner reviews and corrects.
        sign_in(driver, base, "amina@eau-tchad.example", accounts["amina@eau-tchad.example"])
        instance = sent.group(0) if sent else ""
        driver.get(f"{form}/submissions/{instance}")
        check("Chagoua" in driver.page_source and "Fatimé Haroun" in driver.page_source,
              "the record shows the answers and who sent them")
        Select(by_name(driver, "review_state")).select_by_value("has_issues")
        by_name(driver, "comment").send_keys("Vérifier le temps de trajet avec l’enquêtrice.")
        navigate(driver, driver.find_element(By.XPATH, "//button[contains(., 'Enregistrer la revue')]"))
        check("À revoir" in driver.page_source and "Vérifier le temps de trajet" in driver.page_source,
              "the review state and the comment are on the record")
        navigate(driver, driver.find_element(By.XPATH, "//button[contains(., 'Corriger cette fiche')]"))
        check("Correction" in driver.page_source, "the correction opens in the web form")
        press(driver, "next")
        type_in(driver, "/data/point/temps_trajet", "35")
        navigate(driver, driver.find_element(By.CSS_SELECTOR, '.nav button[value="next"]'))
        press(driver, "next")
        press(driver, "next")
        by_name(driver, "_reason").send_keys("Temps confirmé par téléphone : 35 minutes.")
        press(driver, "send")
        check("Version antérieure" in driver.page_source and "Version actuelle" in driver.page_source,
              "the corrected record shows its versions")
        check("Temps confirmé par téléphone" in driver.page_source, "the reason is in the history")
        shot(driver, "corrected")
    finally:
        driver.quit()

    driver = browser(javascript=True)
    try:
        # 4. With JavaScript on, the optional script refreshes the page as answers change.
        driver.get(public)
        navigate(driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
        page = driver.find_element(By.TAG_NAME, "html")
        Select(by_name(driver, "/data/localisation/province")).select_by_value("ouaddai")
        WebDriverWait(driver, 20).until(lambda _: gone(page))
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.TAG_NAME, "footer"))
        options = [o.get_attribute("value") for o in Select(by_name(driver, "/data/localisation/commune")).options]
        check(options == ["", "abeche", "adre"], f"with JavaScript, the communes follow the province at once ({options})")
        check(driver.find_elements(By.XPATH, "//button[contains(., 'Utiliser ma position')]"),
              "with JavaScript, a button fills the position from the device")
    finally:
        driver.quit()
        stop_demo(server, data)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
