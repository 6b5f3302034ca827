"""The node client's server runs terminals with bash without profile or rc files (else sh).

A login shell reads the machine's start-up files, whose run time (and prompt) this
test has no business depending on.
"""

from __future__ import annotations

import shutil

import pytest
from traitlets.config import Config

_BASH = shutil.which("bash")
TEST_SHELL = [_BASH, "--noprofile", "--norc"] if _BASH else ["/bin/sh"]


@pytest.fixture
def jcs_config(jcs_config: Config) -> Config:
    jcs_config.TerminalManager.shell_command = TEST_SHELL
    return jcs_config
