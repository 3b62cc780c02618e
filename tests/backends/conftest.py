import pytest

from .available import backend_or_skip


class _Backends:
    def __getitem__(self, backend_id):
        return backend_or_skip(backend_id)


@pytest.fixture(scope="session")
def backends():
    """backends[id]: the backend object (skips where the machine cannot run it)."""
    return _Backends()
