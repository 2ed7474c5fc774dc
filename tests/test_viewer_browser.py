"""The backprop viewer in a real (headless) browser: every step, the highlighted node, the caption, the fit.

Needs Chromium and its driver (Debian: ``apt-get install chromium chromium-driver``; CI's
``.ci/run`` installs them) and selenium (the dev extra); skips with the reason otherwise.
"""

from __future__ import annotations

import os
import shutil

import pytest
from test_viz import mlp_loss

from tinygrad_course import viz

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e .[dev])")

BROWSER = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
DRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.skipif(
        BROWSER is None or DRIVER is None,
        reason="no headless browser: install Chromium and its driver (apt-get install chromium chromium-driver)",
    ),
    pytest.mark.skipif(not (viz.dot_available() or viz.wasm_renderer()), reason="Graphviz's dot is not installed"),
]


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = BROWSER
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,800"):
        options.add_argument(arg)
    try:
        driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    except Exception as err:  # a browser that is installed but cannot start (no display libraries, ...)
        pytest.skip(f"the headless browser did not start: {type(err).__name__}: {str(err).splitlines()[0]}")
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    loss, net = mlp_loss()
    flow = viz.flow_of(loss)
    viewer = viz.BackpropViewer(loss, net, flow=flow)
    path = viewer.save(tmp_path_factory.mktemp("viewer") / "backprop.html")
    return path, viewer


def set_size(driver, width: int, height: int) -> None:
    """Make the page's viewport exactly width × height CSS pixels."""
    driver.set_window_size(width, height)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])


def layout(driver) -> dict:
    return driver.execute_script(
        """
        const stage = document.getElementById('stage').getBoundingClientRect();
        const frame = document.querySelector('.frame.active');
        const nodes = frame.querySelectorAll('g.node.current');
        const node = nodes.length ? nodes[0].getBoundingClientRect() : null;
        const svg = frame.querySelector('svg').getBoundingClientRect();
        const doc = document.documentElement;
        return {
          step: +document.body.getAttribute('data-step'), frame: +frame.getAttribute('data-step'),
          current: nodes.length, caption: document.getElementById('caption').textContent,
          label: document.getElementById('label').textContent, zoom: window.backpropViewer.zoom,
          stage: [stage.left, stage.top, stage.right, stage.bottom],
          node: node && [node.left, node.top, node.right, node.bottom],
          svg: [svg.left, svg.top, svg.right, svg.bottom],
          hscroll: doc.scrollWidth > doc.clientWidth, vscroll: doc.scrollHeight > doc.clientHeight,
          width: window.innerWidth, height: window.innerHeight,
        };"""
    )


def inside(inner, outer, slack: float = 1.0) -> bool:
    return (
        inner[0] >= outer[0] - slack
        and inner[1] >= outer[1] - slack
        and inner[2] <= outer[2] + slack
        and inner[3] <= outer[3] + slack
    )


def expected_caption(k: int, caption: str) -> str:
    return f"step {k}: " + caption.replace(", → ", "\n→ ").replace(" → ", "\n→ ", 1)


def test_next_steps_through_every_node_highlighted_and_in_view(browser, page):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    path, viewer = page
    set_size(browser, 1280, 800)
    browser.get(path.as_uri())
    n = len(viewer)
    assert n == 9
    body = browser.find_element(By.TAG_NAME, "body")
    for k in range(1, n + 1):
        state = layout(browser)
        assert (state["step"], state["frame"], state["label"]) == (k, k, f"step {k} / {n}")
        assert state["current"] == 1, f"step {k}: the processed node is not highlighted"
        assert inside(state["node"], state["stage"]), f"step {k}: the current node {state['node']} is off screen"
        assert inside(state["svg"], state["stage"]) and not state["hscroll"] and not state["vscroll"]
        assert state["caption"] == expected_caption(k, viewer.captions[k - 1])
        if k == 1:
            browser.find_element(By.ID, "next").click()  # the button ...
        else:
            body.send_keys(Keys.ARROW_RIGHT)  # ... and the key
    assert layout(browser)["step"] == n  # next at the end stays at the end
    assert any("→ 0.weight: ‖g‖ = " in c for c in viewer.captions)  # inputs named by their parameter


def test_zoom_keeps_the_current_node_centred_and_fit_restores(browser, page):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    path, _ = page
    set_size(browser, 1280, 800)
    browser.get(path.as_uri())
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.END)
    for _ in range(4):
        body.send_keys("+")
    state = layout(browser)
    assert state["zoom"] > 2 and state["step"] == 9
    assert inside(state["node"], state["stage"]) and not state["hscroll"]
    stage_x = (state["stage"][0] + state["stage"][2]) / 2
    node_x = (state["node"][0] + state["node"][2]) / 2
    assert abs(node_x - stage_x) < (state["stage"][2] - state["stage"][0]) / 4  # near the centre
    body.send_keys("0")
    assert layout(browser)["zoom"] == 1
    body.send_keys(" ")  # play ...
    assert browser.execute_script("return window.backpropViewer.timer !== null")
    body.send_keys(" ")  # ... and pause
    assert browser.execute_script("return window.backpropViewer.timer === null")


@pytest.mark.parametrize(("width", "height"), [(480, 360), (1920, 1080)])
def test_fits_small_and_large_windows_without_scrolling(browser, page, width, height):
    path, _ = page
    set_size(browser, width, height)
    browser.get(path.as_uri())
    state = layout(browser)
    assert state["width"] == width and not state["hscroll"] and not state["vscroll"]
    assert inside(state["svg"], state["stage"]) and inside(state["node"], state["stage"])


def test_jupyter_repr_runs_inside_its_iframe(browser, page, tmp_path):
    from selenium.webdriver.common.by import By

    _, viewer = page
    host = tmp_path / "notebook.html"
    host.write_text(f"<!DOCTYPE html><html><body>{viewer._repr_html_()}</body></html>", encoding="utf-8")
    set_size(browser, 1280, 800)
    browser.get(host.as_uri())
    browser.switch_to.frame(browser.find_element(By.TAG_NAME, "iframe"))
    try:
        state = layout(browser)
        assert state["step"] == 1 and state["current"] == 1 and not state["hscroll"]
    finally:
        browser.switch_to.default_content()


def test_page_needs_no_network(page):
    path, _ = page
    text = path.read_text(encoding="utf-8")
    assert "http://" not in text.replace("http://www.w3.org", "") and "https://" not in text
    assert os.path.getsize(path) > 0
