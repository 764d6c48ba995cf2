"""compose.explore: one self-contained HTML page, checked as text and in a real browser.

The browser tests drive Debian's headless Chromium through its chromedriver with Selenium (never a
downloaded browser); without them, or without selenium, they skip and say what to install.
Screenshots are kept in pytest's tmp folder as artifacts.
"""

from __future__ import annotations

import html
import json
import os
import re
import time
from pathlib import Path

import keras
import pytest
from keras import layers

import compose
from compose._show._explore import ELK_VERSION, Explorer, explore, json_for_script
from compose._show._repeats import find_repeats
from compose.demo import HybridClassifier

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
NO_BROWSER = "needs Chromium and chromedriver (apt-get install chromium chromium-driver)"
ASSETS = Path(compose._show._explore.__file__).parent / "assets"

#: Names that would inject markup or script if the page wrote them as HTML.
HOSTILE_NAMES = [
    "</script><script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{x}}",
    "<!--",
    "new\nline",
    "ctl\x01\x1b\x7f",
    "sep\u2028\u2029",
    "&amp;<b>",
    "long" * 80,
]


@pytest.fixture(scope="module")
def demo_trace():
    return compose.trace(HybridClassifier(name="hybrid"), (None, 8), inspect=True)


def blocks_model():
    """A Sequential of three identical sub-Sequentials: rolled up as ``block ×3``."""
    blocks = [keras.Sequential([layers.Dense(8, name=f"dense_{i}"), layers.LayerNormalization(name=f"norm_{i}")], name=f"block_{i}")
              for i in range(3)]
    return keras.Sequential([keras.Input((8,)), *blocks, layers.Dense(2, name="head")], name="stack")


class Hostile(keras.Model):
    """Every hostile name in a path (a dict key), as a Keras name (which cannot hold "/") and as
    a container's name."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.heads = {name: layers.Dense(2, name=name.replace("/", "")) for name in HOSTILE_NAMES}
        x = keras.Input((3,))
        self.inner = keras.Model(x, layers.Dense(3, name=HOSTILE_NAMES[1])(x), name="<script>alert(2)<script>")

    def call(self, x):
        return [self.heads[name](self.inner(x)) for name in HOSTILE_NAMES]


# -- as text


def test_the_same_model_gives_the_same_bytes(demo_trace):
    page = explore(demo_trace)
    assert page.html == explore(demo_trace).html
    again = compose.trace(HybridClassifier(name="hybrid"), (None, 8), inspect=True)
    assert explore(again).html == page.html  # a new model object, the same names


def test_the_page_is_self_contained(demo_trace):
    page = explore(demo_trace).html
    library = (ASSETS / "elk.bundled.js").read_text(encoding="utf-8")
    assert page.count(library) == 1
    ours = page.replace(library, "")
    # Our own text (template, styles, script, data) names no URL at all.
    assert not re.search(r"(?i)https?:|//[a-z0-9.-]+\.[a-z]{2,}/", ours)
    assert not re.search(r"(?i)<script[^>]*\ssrc|<link|<img|<iframe|@import|url\((?!#)", ours)  # url(#id): a fragment
    # The library's URLs are XML namespace names and license addresses it never fetches, and it
    # has no way to fetch: no XMLHttpRequest, fetch or importScripts, and a Worker only from a
    # `workerUrl`, which the viewer does not give (elk.bundled.js then runs in the page).
    urls = set(re.findall(r"https?://[^\s\"')]*", library))
    assert all(re.match(r"https?://(www\.)?(eclipse\.org|w3\.org|gnu\.org)?/", url) for url in urls), urls
    assert not re.search(r"XMLHttpRequest|fetch\(|importScripts", library)
    assert library.count("new Worker(") == library.count("new Worker(url)") == 2  # both for a workerUrl
    assert "new ELK()" in ours and "workerUrl" not in ours
    assert f"elkjs {ELK_VERSION}" in page and "Eclipse Public License 2.0" in page


def test_json_in_a_script_cannot_end_it():
    text = json_for_script({"names": HOSTILE_NAMES})
    assert not re.search("[<>&\u2028\u2029]", text)
    assert json.loads(text) == {"names": HOSTILE_NAMES}


def test_hostile_names_stay_inside_the_json():
    page = explore(Hostile(name="hostile"), (None, 3)).html
    assert page.count("<script") == 3  # the library, the data, the viewer
    assert "<img" not in page and "alert(1)</script>" not in page
    data = re.search(r'<script type="application/json" class="cx-data">(.*?)</script>', page, re.S).group(1)
    paths = {item["path"] for item in json.loads(data)["items"]}
    assert {f"heads.{name}" for name in HOSTILE_NAMES} <= paths


def test_in_a_notebook_it_is_a_sandboxed_iframe(demo_trace):
    page = explore(demo_trace)
    shown = page._repr_html_()
    assert shown.startswith("<iframe ") and 'sandbox="allow-scripts"' in shown
    assert html.unescape(re.search(r'srcdoc="([^"]*)"', shown).group(1)) == page.html


def test_save_and_to_file_write_the_page(demo_trace, tmp_path):
    page = explore(demo_trace, to_file=tmp_path / "a.html", title="the demo")
    page.save(tmp_path / "b.html")
    assert (tmp_path / "a.html").read_text(encoding="utf-8") == page.html == (tmp_path / "b.html").read_text(encoding="utf-8")
    assert "<title>the demo</title>" in page.html
    assert isinstance(page, Explorer)


def test_depth_must_be_positive(demo_trace):
    with pytest.raises(ValueError, match="depth must be >= 1"):
        explore(demo_trace, depth=0)


# -- in the browser


@pytest.fixture(scope="module")
def driver():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip(NO_BROWSER)
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (pip install selenium)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--window-size=1200,900", "--disable-gpu"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)
    yield browser
    browser.quit()


def wait_for_layout(driver, count=1):
    """Wait until the viewer has drawn ``count`` layouts; its dataset says how it went."""
    state = {}
    for _ in range(400):
        state = driver.execute_script("const r = document.querySelector('.cx-viewer'); return r && Object.assign({}, r.dataset)")
        if state and state.get("state") in ("ready", "failed") and int(state.get("layouts", 0)) >= count:
            break
        time.sleep(0.05)
    assert state.get("state") == "ready", state
    return state


def open_page(driver, page, path):
    page.save(path)
    driver.get_log("browser")  # forget what earlier pages logged
    driver.get(path.as_uri())
    return wait_for_layout(driver)


def assert_clean(driver):
    """Nothing went wrong and nothing left the page: no console error, only local requests."""
    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
    urls = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".concat(performance.getEntriesByType('navigation').map(e => e.name))")
    assert all(url.split(":")[0] in ("file", "data", "blob", "about") for url in urls), urls


def css(driver, selector):
    return driver.find_elements("css selector", selector)


def node(driver, path, kind="cx-node"):
    """The drawn node (or open group, with kind="cx-group") of ``path``; found by attribute value,
    since a path may hold any character."""
    found = [element for element in css(driver, "." + kind) if element.get_attribute("data-path") == path]
    assert len(found) == 1, (path, len(found))
    return found[0]


def test_the_demo_expands_and_collapses(driver, demo_trace, tmp_path):
    open_page(driver, explore(demo_trace), tmp_path / "demo.html")
    assert len(css(driver, ".cx-node")) == demo_trace.view(1).number_of_nodes() == 11
    driver.save_screenshot(str(tmp_path / "demo.png"))
    node(driver, "features").click()
    wait_for_layout(driver, 2)
    assert {"features/hidden", "features/norm"} <= {e.get_attribute("data-path") for e in css(driver, ".cx-node")}
    node(driver, "features", "cx-group").find_element("css selector", ".cx-toggle").click()  # the "−"
    wait_for_layout(driver, 3)
    assert len(css(driver, ".cx-node")) == 11
    assert "demo.py:" in css(driver, ".cx-model-problems")[0].text  # the problem's file:line
    assert_clean(driver)


def test_search_highlights_and_opens_containers(driver, demo_trace, tmp_path):
    open_page(driver, explore(demo_trace), tmp_path / "demo.html")
    search = css(driver, ".cx-search")[0]
    search.send_keys("layernormalization\n")
    wait_for_layout(driver, 2)
    assert "cx-match" in node(driver, "features/norm").get_attribute("class")
    assert node(driver, "features", "cx-group")  # its container opened
    assert css(driver, ".cx-found")[0].text == "1 match"
    assert_clean(driver)


def test_details_on_hover(driver, demo_trace, tmp_path):
    from selenium.webdriver import ActionChains

    open_page(driver, explore(demo_trace), tmp_path / "demo.html")
    ActionChains(driver).move_to_element(node(driver, "embed")).perform()
    text = css(driver, ".cx-details")[0].text
    for expected in ("embed", "Dense", "(None, 8)", "(None, 16)", "float32", "144", "eager", "1 exact, 0 inferred"):
        assert expected in text
    ActionChains(driver).move_to_element(node(driver, "fallback")).perform()
    assert "Reached\nno" in css(driver, ".cx-details")[0].text
    assert "cx-unreached" in node(driver, "fallback").get_attribute("class")
    assert_clean(driver)


def test_a_rolled_up_run_unrolls_on_click(driver, tmp_path):
    trace = compose.trace(blocks_model())
    open_page(driver, explore(trace), tmp_path / "blocks.html")
    run = node(driver, "block ×3")
    assert "cx-repeat" in run.get_attribute("class") and "block ×3" in run.text
    assert len(css(driver, ".cx-node")) == 4  # input, the run, head, output
    run.click()
    wait_for_layout(driver, 2)
    assert {"block_0", "block_1", "block_2"} <= {e.get_attribute("data-path") for e in css(driver, ".cx-node")}
    assert_clean(driver)


def test_hostile_names_cannot_inject(driver, tmp_path):
    from selenium.common.exceptions import NoAlertPresentException

    open_page(driver, explore(Hostile(name="hostile"), (None, 3), depth=None), tmp_path / "hostile.html")
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text
    assert driver.execute_script("return document.querySelectorAll('img, iframe, script').length") == 3
    shown = {element.get_attribute("data-path") for element in css(driver, ".cx-node")}
    assert {f"heads.{name}" for name in HOSTILE_NAMES} <= shown
    css(driver, ".cx-search")[0].send_keys("<img\n")
    wait_for_layout(driver, 2)
    assert driver.execute_script("return document.querySelectorAll('img').length") == 0
    driver.save_screenshot(str(tmp_path / "hostile.png"))
    assert_clean(driver)


def test_two_viewers_on_one_page(driver, demo_trace, tmp_path):
    # As a notebook shows them: each in its own sandboxed iframe.
    first, second = explore(demo_trace), explore(compose.trace(blocks_model()))
    page = tmp_path / "notebook.html"
    page.write_text(f"<!DOCTYPE html><html><body>{first._repr_html_()}{second._repr_html_()}</body></html>", encoding="utf-8")
    driver.get_log("browser")
    driver.get(page.as_uri())
    counts = []
    for frame in css(driver, "iframe"):
        driver.switch_to.frame(frame)
        counts.append(int(wait_for_layout(driver)["nodes"]))
        driver.switch_to.default_content()
    assert counts == [11, 4]
    assert_clean(driver)


@pytest.fixture(scope="module")
def bert_trace():
    keras_hub = pytest.importorskip("keras_hub", reason="needs keras_hub (pip install keras-hub)")
    backbone = keras_hub.models.BertBackbone(vocabulary_size=50, num_layers=3, num_heads=2, hidden_dim=16,
                                             intermediate_dim=32, max_sequence_length=8)
    return compose.trace(backbone)


def test_a_keras_hub_bert_backbone(driver, bert_trace, tmp_path):
    repeats = find_repeats(bert_trace)
    assert [run.label for run in repeats] == ["transformer_layer ×3"]
    open_page(driver, explore(bert_trace), tmp_path / "bert.html")
    expected = bert_trace.view(1).number_of_nodes() - sum(run.count - 1 for run in repeats if run.parent == "")
    assert len(css(driver, ".cx-node")) == expected
    driver.save_screenshot(str(tmp_path / "bert.png"))
    node(driver, "transformer_layer ×3").click()
    wait_for_layout(driver, 2)
    node(driver, "transformer_layer_1").click()
    wait_for_layout(driver, 3)
    inside = [n for n, scope in bert_trace.graph.nodes(data="scope") if scope == "transformer_layer_1"]
    assert inside and {e.get_attribute("data-path") for e in css(driver, ".cx-node")} >= set(inside)
    # Search a layer of the last block: the run and the block open, the layer is highlighted.
    target = next(n for n, scope in bert_trace.graph.nodes(data="scope") if scope == "transformer_layer_2")
    driver.refresh()
    wait_for_layout(driver)
    css(driver, ".cx-search")[0].send_keys(target + "\n")
    wait_for_layout(driver, 2)
    assert "cx-match" in node(driver, target).get_attribute("class")
    assert node(driver, "transformer_layer_2", "cx-group") and node(driver, "transformer_layer ×3", "cx-group")
    driver.save_screenshot(str(tmp_path / "bert_search.png"))
    assert_clean(driver)
