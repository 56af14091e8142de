"""A standard API fuzzer finds no fault in the contract: Schemathesis, every check, against the
reference platform over real HTTP, for a bounded time with a fixed seed and with a random one
(printed, so a failure can be replayed with ``st run … --seed N``).

``schemathesis.toml`` beside this file lists the only allowance: operations whose schema-valid
requests may still be refused with 422 for rules no JSON Schema can say (a check digit, the content
digest, an attachment's hash, a reason required for a bad rating, a follow-up about a case the platform
does not have, a letter not uploaded yet or a case not finished yet; for an upload also 413 when the
declared total is over the limit).
"""
from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sync.helpers import CREDENTIAL, SUPERVISOR_CREDENTIAL, TOKEN

HERE = Path(__file__).resolve().parent
DOC = HERE.parents[1] / "docs" / "openapi.yaml"
ST = Path(sys.executable).with_name("st")
SECONDS = 40
FIXED_SEED = 20261207


@pytest.fixture(scope="module")
def fuzzed_platform(tmp_path_factory):
    from refplatform.server import start_in_thread

    handle = start_in_thread(tmp_path_factory.mktemp("fuzzed") / "platform", [CREDENTIAL, SUPERVISOR_CREDENTIAL],
                             clock_seconds=3600)
    yield handle
    handle.stop()


@pytest.mark.timeout(SECONDS * 4)
@pytest.mark.parametrize("seed", [FIXED_SEED, random.SystemRandom().randrange(1, 2**31)],
                         ids=["fixed-seed", "random-seed"])
def test_schemathesis_all_checks_find_no_failure(fuzzed_platform, seed, tmp_path):
    proc = subprocess.run(
        [str(ST), "--config-file", str(HERE / "schemathesis.toml"), "run", str(DOC), "--url", fuzzed_platform.url,
         "-H", f"Authorization: Bearer {TOKEN}", "--checks", "all", "--max-time", str(SECONDS), "--seed", str(seed),
         "--workers", "1", "--generation-database", "none", "--no-color", "--request-timeout", "20"],
        capture_output=True, text=True, timeout=SECONDS * 3, cwd=tmp_path)
    out = proc.stdout
    assert proc.returncode == 0, f"seed {seed}:\n{out[-12000:]}\n{proc.stderr[-2000:]}"
    counts = re.search(r"(\d+) generated, (\d+) passed", out)
    assert counts, out[-3000:]
    assert int(counts.group(1)) >= 100  # it really ran (most of the time budget), not an empty pass
    assert not re.search(r"unique failures?", out) and "failure" not in out.strip().splitlines()[-1], out[-6000:]
