"""Shared test set-up.

- The repository root goes on ``sys.path``, so tests can import ``go_engine`` and
  ``tests.reference`` however pytest is started.
- ``HYPOTHESIS_PROFILE=noshrink`` reports a property test's first failing example
  at once instead of spending minutes shrinking it.
"""

import os
import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent.parent)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

try:
    from hypothesis import Phase, settings
except ImportError:  # pragma: no cover - hypothesis is a test dependency
    pass
else:
    settings.register_profile("noshrink", phases=[Phase.explicit, Phase.reuse, Phase.generate])
    if os.environ.get("HYPOTHESIS_PROFILE"):
        settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])
