"""The child's output is drained whatever it prints, so a noisy test never blocks pytest."""


def test_a_line_longer_than_the_stream_limit_does_not_stall_the_run(make_project, cli):
    root = make_project({"tests/test_noisy.py": """
        import sys

        def test_one_huge_line():
            sys.__stdout__.write("x" * 300_000 + "\\n")
            sys.__stdout__.flush()
            sys.__stderr__.write("y" * 5_000_000)
            sys.__stderr__.flush()

        def test_after():
            pass
    """})
    result = cli("run", str(root), "--timeout", "30", timeout=120)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "2 passed" in result.stdout
