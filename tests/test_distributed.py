"""A hybrid model (Block in Functional, Functional in the Block) trains under MirroredStrategy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("distributed_check.py")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    # A fresh process: two logical CPUs can only be configured before TensorFlow sets up its
    # devices, which any test that ran earlier in this process has already made it do.
    out = tmp_path_factory.mktemp("distributed")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = subprocess.run(
        [sys.executable, str(SCRIPT), str(out)],
        capture_output=True, text=True, env=env, cwd=SCRIPT.parent, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_mirrored_training_matches_single_device(report):
    assert report["replicas"] == 2
    assert report["variables_mirrored"], "the model's variables were not created as mirrored"
    single, mirrored = report["single_losses"], report["mirrored_losses"]
    assert len(single) == len(mirrored) == 4  # 3 training steps, then the loss after them
    assert single[-1] < single[0]  # it did train
    for step, (a, b) in enumerate(zip(single, mirrored)):
        assert abs(a - b) <= 1e-5, f"step {step}: single-device loss {a}, mirrored {b}"


def test_saved_inside_strategy_scope_loads_outside(report):
    assert report["loaded_is_block"], report["loaded_block_class"]
    assert report["prediction_max_diff"] <= 1e-6
    # The loaded weights are those of the mirrored run, which equal the single-device run's.
    assert report["trained_max_diff"] <= 1e-5
