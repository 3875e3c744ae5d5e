"""The site preview (`fabkd site` without Quarto) opens in headless Chromium: the index opens with the studies
table and links every study; each study page loads with no console errors, opens with its Findings right
after the run header, has its code folded and every figure decoded. A screenshot of each page is saved
under the test's temporary folder."""
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
    from selenium.webdriver.support.ui import WebDriverWait
    driver.get(path.as_uri())
    # `get` can hand back a large page while it is still 'interactive' (images decoding on a busy CI machine):
    # wait for the load to finish rather than read the state once; a page that never completes still fails
    WebDriverWait(driver, 60, poll_frequency=0.2).until(lambda d: d.execute_script('return document.readyState') == 'complete')
    return [e for e in driver.get_log('browser') if e['level'] == 'SEVERE']

def test_index_links_every_study(preview, browser):
    errors = _open(browser, preview/'site'/'index.html')
    assert not errors, errors
    # the first table is the studies summary: one row per study, each linking to its page
    rows = browser.find_element('css selector', 'table').find_elements('css selector', 'tbody tr')
    assert [r.find_element('tag name', 'a').text for r in rows] == list(STUDIES)
    assert 'claims' in browser.find_element('css selector', 'table').text
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
    # Findings is the first section, right after the run header
    h2 = browser.find_elements('tag name', 'h2')
    assert h2 and h2[0].text.startswith('Findings'), [h.text for h in h2[:3]]
    header = browser.find_element('tag name', 'blockquote')
    assert res['run_id'] in header.text and header.location['y'] < h2[0].location['y']
    # code is folded: every code input sits in a closed <details>, and none is visible
    folds = browser.find_elements('css selector', 'details.fabkd-code')
    assert folds and not any(d.get_attribute('open') for d in folds)
    inputs = browser.find_elements('css selector', '.jp-CodeCell .jp-InputArea')
    assert len(inputs) == len(folds) and not any(i.is_displayed() for i in inputs)
    assert 'Parameters' in [h.text.rstrip('¶') for h in h2]
    shot = preview/'screenshots'/f'{name}.png'; shot.parent.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
