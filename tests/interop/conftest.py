"""Fixtures for the Cirq bridge tests: a fake IonQ server on 127.0.0.1, seeded random circuits."""
import numpy as np
import pytest

pytest.importorskip("cirq")

from .fake_ionq import FakeIonQ


@pytest.fixture
def fake_ionq():
    server = FakeIonQ()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
