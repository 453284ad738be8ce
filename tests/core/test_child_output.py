"""The child's output is drained whatever it prints, so crash reports keep their last lines."""

from tests.conftest import run_cli


def test_a_line_longer_than_the_stream_limit_does_not_lose_the_crash_report(make_project, tmp_path):
    root = make_project({"tests/test_noisy.py": """
        import ctypes
        import sys

        def test_one_huge_line_then_a_segfault():
            sys.__stdout__.write("x" * 300_000 + "\\n")
            sys.__stdout__.flush()
            ctypes.string_at(0)

        def test_after():
            pass
    """})
    # -s: without pytest's capture the huge line reaches testwatch's pipe from the child.
    result = run_cli("run", str(root), "--timeout", "30", "--", "-s", timeout=120)
    assert result.returncode == 1, result.stdout[-2000:]
    assert "1 passed, 1 crashed" in result.stdout
    # faulthandler's report comes after the huge line: it reaches the crash message only if the
    # drain survived that line.
    assert "Fatal Python error: Segmentation fault" in result.stdout
    assert "test_noisy.py" in result.stdout.split("Fatal Python error", 1)[1]
