"""Every executable's --help lists exactly the settings it reads, and README.md's configuration table says the
same (its "Read by" column), for every setting of Sources/Configuration/Setting.swift (SPEC §3)."""

import os
import re
import subprocess

import pytest

from xomify_rig import REPO, bin_dir

EXECUTABLES = ["xomify-api", "xomify-wrapped", "xomify-release-radar"]
READ_BY = {"all": set(EXECUTABLES), "api": {"xomify-api"}, "jobs": {"xomify-wrapped", "xomify-release-radar"}}


def help_settings(executable):
    result = subprocess.run([os.path.join(bin_dir(), executable), "--help"], capture_output=True, text=True,
                            timeout=30, env={"PATH": os.environ.get("PATH", "")})
    assert result.returncode == 0, result.stderr
    return set(re.findall(r"(?m)^\s+(XOMIFY_[A-Z0-9_]+): ", result.stdout)), result.stdout


def declared_settings():
    source = open(os.path.join(REPO, "Sources", "Configuration", "Setting.swift")).read()
    return set(re.findall(r'Setting\(\s*"(XOMIFY_[A-Z0-9_]+)"', source))


def readme_table():
    """{setting: set of executables} from README.md's configuration table."""
    text = open(os.path.join(REPO, "README.md")).read()
    section = text[text.index("| Setting | Meaning | Default | Read by |"):]
    table = {}
    for line in section.splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split(" | ")]
        assert len(cells) == 4, line
        assert cells[3] in READ_BY, f"README: unknown 'Read by' {cells[3]!r} in {line}"
        for name in re.findall(r"`(XOMIFY_[A-Z0-9_]+)`", cells[0]):
            table[name] = READ_BY[cells[3]]
    return table


def test_readme_table_covers_every_setting():
    assert set(readme_table()) == declared_settings()


@pytest.mark.parametrize("executable", EXECUTABLES)
def test_help_lists_exactly_the_settings_the_readme_says_it_reads(executable):
    listed, text = help_settings(executable)
    expected = {name for name, readers in readme_table().items() if executable in readers}
    assert listed == expected, (sorted(listed - expected), sorted(expected - listed))
    # And it says that the shared file may hold the others' settings.
    assert "accepted and ignored" in text
