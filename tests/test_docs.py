"""The documentation: the site builds in strict mode, every page is in its nav, and the README
stays a short first page whose links lead somewhere.

`mkdocs build --strict` fails on a link to a page or file that is not there, an anchor a page
does not have, and a page left out of the nav (mkdocs.yml's `validation` makes each a warning);
the nav is checked here too, so a page that is not reachable fails even if that setting goes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
README_MAX_LINES = 300
# Markdown links and images: [text](target) and ![alt](target "title").
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def _nav_pages(nav) -> list[str]:
    pages = []
    for item in nav:
        if isinstance(item, str):
            pages.append(item)
        elif isinstance(item, dict):
            for value in item.values():
                pages.extend(_nav_pages(value) if isinstance(value, list) else [value])
    return pages


def test_site_builds_in_strict_mode(tmp_path):
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
         "--site-dir", str(site)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (
        "mkdocs build --strict failed (pip install -e '.[docs]' if mkdocs is missing):\n"
        + result.stdout + result.stderr)
    assert (site / "index.html").is_file()
    assert (site / "schemas" / "manifest.schema.json").is_file()


def test_every_page_is_in_the_nav():
    from mkdocs.config import load_config

    config = load_config(str(ROOT / "mkdocs.yml"))
    in_nav = _nav_pages(config["nav"])
    pages = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    assert sorted(set(in_nav)) == sorted(in_nav), f"a page is in the nav twice: {in_nav}"
    assert not set(pages) - set(in_nav), f"pages not in mkdocs.yml's nav: {sorted(set(pages) - set(in_nav))}"
    assert not set(in_nav) - set(pages), f"nav entries without a page: {sorted(set(in_nav) - set(pages))}"


def test_readme_is_a_short_first_page():
    lines = README.read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; at most {README_MAX_LINES}"
    # The two everyday commands come first: the first block of the README, before any prose.
    text = README.read_text()
    first_block = re.match(r"# [^\n]*\n\s*```\w*\n(.*?)```", text, re.S)
    assert first_block, "README.md should open with its title and then the block of commands"
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert commands == ["make demo", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    # CI runs the README's test command.
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_readme_links_lead_somewhere():
    missing = []
    for target in LINK.findall(README.read_text()):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        if not (ROOT / target.split("#")[0]).exists():
            missing.append(target)
    assert not missing, f"README.md links to files that are not there: {missing}"
