"""Schemathesis over the served OpenAPI document: no operation answers a 5xx, to valid or invalid requests.

A fixed seed (derandomize) and a few examples per operation keep this a test; a
longer run with more examples is a matter of raising EXAMPLES.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

# Examples per operation and generation mode (schema-valid, then schema-violating).
EXAMPLES = 5


def _server_errors(operation, mode: GenerationMode, headers: dict) -> list[str]:
    """Run one operation's examples; return each 5xx as 'METHOD path -> status: body'."""
    found = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def run(case):
        response = case.call(headers=headers)
        if response.status_code >= 500:
            found.append(f"{case.method} {case.formatted_path} ({mode.value}) -> {response.status_code}: "
                         f"{response.text[:200]}")

    try:
        run()
    except Unsatisfiable:  # an operation without inputs (GET /healthz) has no invalid request to make
        pass
    return found


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_no_operation_answers_a_server_error(app, token, channel):
    """Every operation of /api/v1/openapi.json, called as the admin with generated requests: never a 5xx."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 70
    headers = {"Authorization": f"Bearer {token}"}
    errors = [error for operation in operations for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
              for error in _server_errors(operation, mode, headers)]
    assert errors == []
