"""Schemathesis over the served /api/v1/openapi.json with every check it has: the document is true to the code.

Run as the admin over real HTTP with a fixed seed and a few examples per operation and phase
(examples, coverage, fuzzing), so it stays a test: no 5xx; every status, content type and response
body documented; every schema-valid request accepted (or refused only as tests/fuzzing.py's
STATE_DEPENDENT table says it may be) and every schema-violating one refused. A new operation whose
documentation is wrong fails it. bench/fuzz_api.py runs the same with many more examples and stateful
sequences.
"""

import pytest

from tests.fuzzing import fuzz, fuzz_config, serving
from workspace.web.api.openapi import DOCUMENT

# Examples per operation and phase, and the seed: the same cases on every run.
EXAMPLES = 5
SEED = 13


def documented_operations() -> set[str]:
    """Every operation of the document, as Schemathesis labels them ('GET /api/v1/queues')."""
    return {f"{method.upper()} {path}" for path, item in DOCUMENT["paths"].items() for method in item}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_every_operation_answers_as_its_documentation_says(app, token, channel):
    """All checks over all operations find nothing: no server error, no undocumented status or body, the
    document's valid requests accepted and its invalid ones refused."""
    with serving(app) as base_url:
        report = fuzz(base_url, fuzz_config(token, examples=EXAMPLES, seed=SEED,
                                            phases=("examples", "coverage", "fuzzing")))
    assert (report.errors, report.lines()) == ([], [])
    # Schemathesis calls every operation but the document it was loaded from.
    assert report.operations == documented_operations() - {"GET /api/v1/openapi.json"}
