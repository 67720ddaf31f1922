"""index.html of a failing gate, rendered by headless Chromium: the matrix is the first screen and the
failing cell is marked. The screenshots stay in the test's tmp dir (look at them when changing html.py)."""

import re
import shutil
import struct
import subprocess

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium(tmp_path, *args):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("chromium is not installed: apt-get install -y chromium (.ci/run does)")
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    proc = subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True,
                          timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def page(failing_gate):
    _, out, _ = failing_gate
    return out / "index.html"


def test_chromium_shows_the_matrix_with_the_failing_cell_marked(page, tmp_path):
    dom = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert '<span class="badge fail" id="status">FAIL</span>' in dom
    first_screen = dom[: dom.index('id="tests"')] if 'id="tests"' in dom else dom
    assert first_screen.index("Parity matrix") < first_screen.index("Instance Type")
    rows = re.findall(r'<th scope="row">([^<]+)</th>', dom)
    assert rows[:3] == ["Database Type", "Monitoring", "Deployment Method"] and "Instance Type" in rows
    cell = re.search(r'<td class="cell fail failing" data-check="Instance Type" data-env="staging" '
                     r'data-status="fail"><a href="#([^"]+)"[^>]*>✗ fail</a></td>', dom)
    assert cell, "the failing cell is not marked"
    assert re.search(r'<td class="cell pass" data-check="Instance Type" data-env="production" '
                     r'data-status="pass">✓ pass</td>', dom)
    assert re.search(r'<td class="cell pass" data-check="Security Groups" data-env="staging~production"', dom)
    detail = dom[dom.index(f'id="{cell.group(1)}"'):]
    detail = detail[: detail.index("</td></tr>")]
    for text in ("aws_instance.blue[0]", "instance_type", "terraform/compute.tf:", "t3.micro", "t3.small"):
        assert text in detail, text


def test_chromium_screenshots_the_matrix_and_an_opened_difference(page, tmp_path):
    shot = tmp_path / "matrix.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1400,1000", page.as_uri())
    assert png_size(shot) == (1400, 1000) and shot.stat().st_size > 20_000
    dom = chromium(tmp_path, "--dump-dom", page.as_uri())
    anchor = re.search(r'data-check="Instance Type" data-env="staging" data-status="fail"><a href="#([^"]+)"',
                       dom).group(1)
    opened = tmp_path / "difference.png"
    chromium(tmp_path, f"--screenshot={opened}", "--window-size=1400,1000", f"{page.as_uri()}#{anchor}")
    assert png_size(opened) == (1400, 1000)
    assert opened.read_bytes() != shot.read_bytes()  # the difference row is shown (and scrolled to)
