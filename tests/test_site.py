"""The site preview (`fabkd site` without Quarto) opens in headless Chromium: the index links every study,
and each study page loads with its figures and tables and no console errors."""
import json, shutil, subprocess
from pathlib import Path
import pytest
from fabkd.studies import STUDIES
from conftest import FABKD

CHROMEDRIVER = shutil.which('chromedriver')

@pytest.fixture(scope='module')
def preview(smoke_runs, tmp_path_factory):
    root, r = smoke_runs
    assert r.returncode == 0, r.stderr[-3000:]
    out = tmp_path_factory.mktemp('site')
    r = subprocess.run([FABKD, 'site', '--runs-root', str(root), '--latest-dir', str(out/'latest'), '--out', str(out/'site')],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert f'published the latest run of {len(STUDIES)} studies' in r.stdout
    return out

@pytest.fixture(scope='module')
def browser():
    # `make test` installs Debian's chromium and chromium-driver first (Makefile target `browser`)
    assert CHROMEDRIVER and shutil.which('chromium'), 'chromium / chromedriver missing: run `make test`, which installs them'
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which('chromium')
    for flag in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
                 '--disable-extensions', '--disable-component-update', '--no-first-run', '--allow-file-access-from-files'):
        opts.add_argument(flag)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()

def _open(driver, path:Path):
    driver.get(path.as_uri())
    assert driver.execute_script('return document.readyState') == 'complete'
    return [e for e in driver.get_log('browser') if e['level'] == 'SEVERE']

def test_index_links_every_study(preview, browser):
    errors = _open(browser, preview/'site'/'index.html')
    assert not errors, errors
    hrefs = {a.get_attribute('href').rsplit('/', 1)[-1] for a in browser.find_elements('tag name', 'a')}
    for name in STUDIES: assert f'{name}.html' in hrefs, name
    assert '00_core.html' in hrefs and 'index.html' in hrefs

@pytest.mark.parametrize('name', list(STUDIES))
def test_study_page_loads_with_figures_and_tables(preview, browser, name):
    errors = _open(browser, preview/'site'/'studies'/f'{name}.html')
    assert not errors, errors
    res = json.loads((preview/'latest'/f'{name}.results.json').read_text())
    # every figure the run saved is on the page, decoded (a broken image has naturalWidth 0)
    widths = browser.execute_script('return Array.from(document.images).map(i => i.naturalWidth)')
    assert len([w for w in widths if w > 0]) >= len(res['figures']) >= 1, widths
    assert len(browser.find_elements('css selector', 'table')) >= 2
    assert res['run_id'] in browser.find_element('tag name', 'body').text
