#!/usr/bin/python3
"""self_browser.py — drive the self-service page in a real browser.

    self_browser.py URL LOGIN CURRENT NEW SHOTDIR PREFIX

Opens URL in headless Chromium (Debian's chromium + chromium-driver,
through python3-selenium), saves PREFIX-form.png, fills the form with
keyboard input only (Tab between fields, Enter to send), saves
PREFIX-result.png, and prints the page's outcome code (data-outcome)
and the message text on two lines.  Exit 0 when a page came back.
"""
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait


def main():
    url, login, current, new, shotdir, prefix = sys.argv[1:7]
    opts = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--window-size=900,1100",
                "--no-first-run", "--disable-extensions",
                "--lang=vi"):
        opts.add_argument(arg)
    opts.binary_location = "/usr/bin/chromium"
    service = Service("/usr/bin/chromedriver")
    driver = webdriver.Chrome(service=service, options=opts)
    try:
        driver.set_page_load_timeout(20)
        driver.get(url)
        WebDriverWait(driver, 10).until(
            EC.presence_of_element_located((By.ID, "login")))
        # Every field has a label, and the labels name the fields.
        for field in ("login", "current", "new", "confirm"):
            label = driver.find_element(By.CSS_SELECTOR, f"label[for='{field}']")
            if not label.text.strip():
                print(f"no label for {field}", file=sys.stderr)
                return 3
        driver.save_screenshot(os.path.join(shotdir, prefix + "-form.png"))
        # Keyboard only: focus the first field, then Tab from field to field.
        first = driver.find_element(By.ID, "login")
        first.click()
        active = driver.switch_to.active_element
        for value in (login, current, new, new):
            active.send_keys(value)
            active.send_keys(Keys.TAB)
            active = driver.switch_to.active_element
        # Focus is now on the button: Enter sends the form.
        active.send_keys(Keys.ENTER)
        WebDriverWait(driver, 15).until(
            EC.presence_of_element_located((By.ID, "outcome")))
        main_el = driver.find_element(By.ID, "main")
        outcome = main_el.get_attribute("data-outcome")
        text = driver.find_element(By.ID, "outcome").text.replace("\n", " ")
        driver.save_screenshot(os.path.join(shotdir, prefix + "-result.png"))
        print(outcome)
        print(text)
        return 0
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
