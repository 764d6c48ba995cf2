"""Test setup shared by every module: quiet TensorFlow, seeded randomness."""

import os

# Before TensorFlow is imported anywhere: keep its start-up noise out of test output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import pytest


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same random state, so failures reproduce."""
    keras.utils.set_random_seed(0)
    yield
