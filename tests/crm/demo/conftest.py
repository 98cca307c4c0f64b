from __future__ import annotations

import pytest

from tests.conftest import inside


@pytest.fixture
def acme(tenant_a):
    with inside(tenant_a):
        yield tenant_a
