"""The README stays true: its YAML examples validate and every command it names exists."""

import re
import subprocess
import sys
from pathlib import Path

import yaml

from segsearch.config import load_config_text

from helpers import tiny_doc

README = (Path(__file__).parents[1] / "README.md").read_text()


def yaml_blocks() -> list[dict]:
    return [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", README, re.S)]


def test_yaml_examples_validate_as_sections_of_a_search_space():
    blocks = yaml_blocks()
    assert any("search" in b for b in blocks)
    for block in blocks:
        doc = tiny_doc(**{k: v for k, v in block.items() if k != "search"})
        if "search" in block:
            doc["search"] = block["search"]
        load_config_text(yaml.safe_dump(doc), "README example")


def test_every_command_the_readme_names_exists():
    code = re.findall(r"```(?:bash)?\n(.*?)```", README, re.S) + re.findall(r"`([^`\n]+)`", README)
    named = {m for c in code for m in re.findall(r"(?:^|&& |\| )segsearch ([a-z][a-z-]+)", c, re.M)}
    out = subprocess.run([sys.executable, "-m", "segsearch", "--help"], capture_output=True, text=True, check=True)
    listed = set(re.findall(r"^\s{2}([a-z][a-z-]+)\s", out.stdout, re.M))
    assert {"launch", "worker", "finalize"} <= named
    assert named <= listed, named - listed
