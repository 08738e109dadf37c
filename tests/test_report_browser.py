"""The HTML report of the smoke run, opened in a real browser (headless Chromium).

``snakemake --report`` writes one self-contained HTML file: a JavaScript app whose results (every
figure and table) are embedded as data URIs. The test renders the report and keeps a screenshot of
its first page, and has the browser decode every embedded image inside the report page itself: a
figure that does not load (a broken or empty image) fails the test, and so does a missing table.
Chromium is Debian's ``chromium`` package (``.ci/run`` installs it); without it the test is skipped.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from workflow_runs import snakemake

BROWSER_TIMEOUT_S = 180
# The report's app renders and the probe decodes every image within this much virtual time.
VIRTUAL_TIME_MS = 30_000

# Runs inside the report page once it has loaded: decode every embedded result that is an image
# and write what happened into the page, for --dump-dom to return.
PROBE = """
<script>
window.addEventListener("load", async () => {
  const checked = [];
  for (const [path, result] of Object.entries(results)) {
    if (!result.mime_type.startsWith("image/")) {
      checked.push({path: path, image: false, loaded: result.data_uri.length > 0, width: 0});
      continue;
    }
    const image = new Image();
    const loaded = await new Promise((done) => {
      image.onload = () => done(image.naturalWidth > 0 && image.naturalHeight > 0);
      image.onerror = () => done(false);
      image.src = result.data_uri;
    });
    checked.push({path: path, image: true, loaded: loaded, width: image.naturalWidth});
  }
  const out = document.createElement("pre");
  out.id = "report-probe";
  out.textContent = JSON.stringify(checked);
  document.body.appendChild(out);
});
</script>
"""


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _browse(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    command = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
        f"--virtual-time-budget={VIRTUAL_TIME_MS}", *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT_S)


@pytest.mark.slow
def test_the_report_shows_every_figure_and_table_in_a_browser(smoke_run, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium on PATH: install Debian's chromium package (.ci/run does) to test the report in a browser")
    report = tmp_path / "report.html"
    made = snakemake(smoke_run, "--configfile", "config/smoke.yaml", "--report", str(report))
    assert made.returncode == 0, made.stderr[-3000:]

    # The first page as a reader sees it, kept as an artifact.
    screenshot = tmp_path / "report_first_page.png"
    shot = _browse(browser, tmp_path / "profile-shot", f"--screenshot={screenshot}", "--window-size=1280,1024", report.as_uri())
    assert screenshot.exists(), shot.stderr[-3000:]
    with Image.open(screenshot) as image:
        assert image.size == (1280, 1024)
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
        assert colours is None or len(colours) > 10, "the report's first page rendered blank"
    if os.environ.get("CI_ARTIFACTS"):
        artifacts = Path(os.environ["CI_ARTIFACTS"])
        artifacts.mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, artifacts / screenshot.name)

    # The app itself renders (the loading screen's JavaScript warning is gone, the app has content).
    dom = _browse(browser, tmp_path / "profile-dom", "--dump-dom", report.as_uri())
    assert dom.returncode == 0, dom.stderr[-3000:]
    app = re.search(r'<div id="app">(.*)', dom.stdout, re.S)
    assert app and len(app.group(1)) > 1000, "the report's app did not render"

    # Every embedded image decodes in the page.
    probe = tmp_path / "report_probe.html"
    probe.write_text(report.read_text().replace("</body>", PROBE + "</body>"))
    dom = _browse(browser, tmp_path / "profile-probe", "--dump-dom", probe.as_uri())
    found = re.search(r'<pre id="report-probe">(.*?)</pre>', dom.stdout, re.S)
    assert found, "the probe did not finish in the browser: " + dom.stderr[-3000:]
    checked = {item["path"]: item for item in json.loads(html.unescape(found.group(1)))}
    broken = sorted(path for path, item in checked.items() if not item["loaded"])
    assert not broken, f"results that do not load in the browser: {broken}"

    results = smoke_run / "results"
    figures = {str(p.relative_to(smoke_run)) for p in (results / "figures").rglob("*.png")}
    figures |= {str(p.relative_to(smoke_run)) for p in (results / "experiments").glob("*/samples/*.png")}
    images = {path for path, item in checked.items() if item["image"]}
    assert figures and figures <= images, f"figures missing from the report: {sorted(figures - images)}"
    tables = {str(p.relative_to(smoke_run)) for p in (results / "tables").iterdir()}
    assert {f"results/tables/main.{ext}" for ext in ("csv", "md", "tex")} <= tables
    assert tables <= set(checked), f"tables missing from the report: {sorted(tables - set(checked))}"
