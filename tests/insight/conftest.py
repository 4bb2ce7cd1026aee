"""Insight tests run at the API tests' frozen working-day moment (deadlines need a known holiday year)."""

from __future__ import annotations

import pytest

from tests.api.conftest import frozen  # noqa: F401  (the fixture, re-exported)


@pytest.fixture(autouse=True)
def _frozen_clock(frozen):  # noqa: F811
    yield frozen
