"""The smoke profile's report page as a reader meets it: its first screen (the run, the verdict
counts, the claims' forest plot) comes before any long text; every link and image resolves
inside the report folder; and a real browser (headless Chromium, 1400 px wide) renders it.
The browser half skips, saying why, where no Chromium is installed (`apt-get install
chromium`)."""

from __future__ import annotations

import base64
import html.parser
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest


class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.images, self.ids, self.order = [], [], set(), []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "img":
            self.images.append(a.get("src", ""))
        self.order.append((tag, a.get("id"), a.get("alt")))


def _page(ws: Path):
    rep = ws / "reports" / "smoke"
    text = (rep / "index.html").read_text()
    p = _Page()
    p.feed(text)
    return rep, text, p


def test_first_screen_links_and_images(smoke_workspace):
    rep, text, p = _page(smoke_workspace)
    # the first screen: what ran and how the claims came out, then the forest plot, before the
    # claims' text, the tables and the other figures
    head = text[:text.index('<h2 id="claims">')]
    for word in ("<b>Data</b>", "<b>Budget</b>", "<b>Reproducibility</b>", "claims</b>:",
                 'alt="claims forest plot"', "claims_forest.csv"):
        assert word in head, word
    assert {"claims", "tables", "figures", "forest"} <= p.ids
    for href in p.links:
        if href.startswith("#"):
            assert href[1:] in p.ids, href
        else:
            assert not href.startswith(("http:", "https:", "//")), href  # self-contained
            assert (rep / href).exists(), f"broken link {href}"
    assert p.images and all(src.startswith("data:image/png;base64,") for src in p.images)
    for src in p.images:
        png = base64.b64decode(src.split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000


def _png_size_and_spread(path: Path) -> tuple[int, int, int]:
    """(width, height, number of distinct byte values in the first decoded rows): enough to
    tell a rendered page from a blank one without an image library."""
    data = path.read_bytes()
    w, h = struct.unpack(">II", data[16:24])
    idat, pos = b"", 8
    while pos < len(data):
        n = struct.unpack(">I", data[pos:pos + 4])[0]
        kind = data[pos + 4:pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    raw = zlib.decompress(idat)
    return w, h, len(set(raw[: min(len(raw), 4 * w * 400)]))


def _browser() -> str | None:
    return next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)),
                None)


@pytest.mark.skipif(_browser() is None, reason="no Chromium on this machine "
                    "(`apt-get install chromium` brings it); the page's links and images are "
                    "still checked by test_first_screen_links_and_images")
def test_the_page_renders_in_a_browser(smoke_workspace, tmp_path):
    rep, _, _ = _page(smoke_workspace)
    shot = tmp_path / "first_screen.png"
    r = subprocess.run([_browser(), "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", "--window-size=1400,1000",
                        f"--screenshot={shot}", (rep / "index.html").as_uri()],
                       capture_output=True, text=True, timeout=180)
    assert shot.is_file(), f"no screenshot (exit {r.returncode}): {r.stderr[-2000:]}"
    w, h, spread = _png_size_and_spread(shot)
    assert (w, h) == (1400, 1000) and spread > 20, (w, h, spread)  # drawn, not blank
