"""Every operation of the OpenAPI schema, fuzzed by schemathesis through the real WSGI stack (every
middleware) with the bearer token of a dispatcher and of a resident, valid and invalid data alike: no
input may end in a server error, and every response must be one the schema describes (status, content
type, body).

Bounded and reproducible for CI: a fixed number of examples per operation, derandomised, no deadline
(FUZZ_EXAMPLES=200 explores further). Half of the generated case references and attachment ids are
swapped for real ones, so the bodies reach the actions behind a found case rather than stopping at 404.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from taizhang.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def in_test_transaction():
    """Keep the test's database transaction across requests, as Django's test client does.

    A WSGI request ends by closing connections that are in a transaction; here that transaction is the
    test's own, rolled back at its end.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


# The case each persona fuzzes against: one the dispatcher may act on (立案 done, 交办 next: a unit
# lookup), and the resident's own report.
TARGET_CASE = {"dispatcher": "registered", "resident": "resident"}


@pytest.fixture
def targets(world, scenario, photo, persona) -> dict[str, str]:
    """Real path parameters for the persona: a case of theirs and the dispatcher's attachment."""
    return {"ref": scenario[TARGET_CASE[persona]].number, "attachment_id": str(photo(world.dispatcher))}


def with_real_targets(case, targets: dict[str, str]) -> None:
    """Point about half of the examples at real objects (deterministically, from the generated value)."""
    for name, value in targets.items():
        generated = (case.path_parameters or {}).get(name)
        if generated is not None and len(str(generated)) % 2 == 0:
            case.path_parameters[name] = value


@pytest.mark.parametrize("persona", list(TARGET_CASE))
@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "25")),
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_server_error_and_schema_conformance(case, persona, tokens, targets, in_test_transaction):
    with_real_targets(case, targets)
    case.call_and_validate(headers={"Authorization": f"Bearer {tokens[persona]}"}, checks=CHECKS)
