"""pytest setup: the mailrig binary under test.

The Makefile passes it in $MAILRIG (build/mailrig for the plain build,
build/asan/mailrig for the ASan+UBSan build); run by hand, the default is
build/mailrig.
"""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
# Its helpers assert (objects, stderr_of, ...): show the values on failure.
pytest.register_assert_rewrite("mailrig_cases")

import mailrig_cases as mc  # noqa: E402


@pytest.fixture(scope="session")
def mailrig():
    path = os.environ.get("MAILRIG") or str(mc.TOP / "build" / "mailrig")
    if not os.access(path, os.X_OK):
        pytest.fail(f"no mailrig binary at {path}: run make, or set MAILRIG")
    return path
