"""Bad input to every subcommand, each as its own process (tests/bad_inputs.py): one error line, the right
exit code, never a traceback. About ten minutes on two cores, so marked slow; tests/test_cli.py checks a
sample in process in the default run."""

import pytest

from tests.bad_inputs import CASES, check


@pytest.mark.slow
def test_every_subcommand_refuses_bad_input_in_one_line():
    lines: list[str] = []
    counts = check(CASES, report=lines.append)
    print("\n".join(lines))
    print(counts)
    assert counts.cases == len(CASES) > 80
    assert (counts.tracebacks, counts.wrong_exit, counts.not_one_line, counts.hangs) == (0, 0, 0, 0), \
        [l for l in lines if l.startswith("BAD")]
