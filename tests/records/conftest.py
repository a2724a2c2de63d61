"""Records the tests of the programme's records share, besides the cast in tests/conftest.py."""

import pytest

from .. import factories


@pytest.fixture
def southwark_client(borough_a):
    """An active client of borough A (Southwark)."""
    return factories.ClientFactory(borough=borough_a, active=True)
