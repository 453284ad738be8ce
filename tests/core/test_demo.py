"""The bundled demo project: copied intact, every scripted edit applies, results as documented."""

import asyncio

from testwatch.cli.demo_copy import AUTOPLAY_EDITS, DEMO_SOURCE, apply_edit, autoplay, copy_demo


def test_copy_is_complete_and_independent(tmp_path):
    root = copy_demo(tmp_path / "demo")
    copied = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    source = sorted(
        p.relative_to(DEMO_SOURCE) for p in DEMO_SOURCE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    assert copied == source
    assert len([p for p in copied if p.name.startswith("test_")]) >= 4


def test_autoplay_applies_every_edit_in_order(tmp_path):
    root = copy_demo(tmp_path / "demo")
    said = []
    asyncio.run(autoplay(root, said.append, pause_s=0))
    assert len(said) == len(AUTOPLAY_EDITS)
    # Every regression is reverted by a later edit; only the fix stays.
    assert "VAT_RATE = 0.20" in (root / "shop/pricing.py").read_text()
    assert "== 9.41" in (root / "tests/test_cart.py").read_text()


def test_an_edit_that_no_longer_applies_says_so(tmp_path):
    root = copy_demo(tmp_path / "demo")
    apply_edit(root, AUTOPLAY_EDITS[0])
    try:
        apply_edit(root, AUTOPLAY_EDITS[0])
    except ValueError as error:
        assert "tests/test_cart.py" in str(error)
    else:
        raise AssertionError("applying the same edit twice must fail")


def test_headless_demo_runs_the_suite_with_one_readable_failure(tmp_path, cli):
    result = cli("demo", "--headless", "--dir", str(tmp_path / "demo"), timeout=180)
    assert "copied the demo project to" in result.stdout
    assert result.returncode == 1, result.stdout[-2000:]
    assert "1 failed" in result.stdout
    assert "test_loyalty_discount_rounds_down" in result.stdout
    assert "assert 9.41 == 9.4" in result.stdout
    assert "as expected: the demo plants a failing test" in result.stdout
    assert (tmp_path / "demo" / "shop").is_dir()  # --dir: the user's folder stays


def test_the_demo_removes_its_temp_copy_unless_kept(tmp_path, cli):
    temp = tmp_path / "temp"
    temp.mkdir()
    result = cli("demo", "--headless", env={"TMPDIR": str(temp)}, timeout=180)
    assert result.returncode == 1, result.stdout[-2000:]
    assert "removed" in result.stdout
    assert not [p for p in temp.iterdir() if p.name.startswith("testwatch-demo-")]
    kept = cli("demo", "--headless", "--keep", env={"TMPDIR": str(temp)}, timeout=180)
    (copy,) = [p for p in temp.iterdir() if p.name.startswith("testwatch-demo-")]
    assert (copy / "shop-demo" / "shop").is_dir(), kept.stdout[-2000:]
