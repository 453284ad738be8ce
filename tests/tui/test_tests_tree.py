"""The tests tree under Pilot: failures first, the first failure chosen when a run ends, files opened
lazily, and reruns that change the tree node by node instead of building it again."""

from __future__ import annotations

import pytest

from testwatch.tui.panes.tests_tree import OPEN_TESTS, TestsTree

from .conftest import detail_text, play, result, run_events, until

PASSING = [result(f"tests/test_{f}.py::test_{n}") for f in "ab" for n in range(3)]


def failing_late(nodeid: str = "tests/test_b.py::test_2") -> list:
    """The passing run, but ``nodeid`` (in the last file, at its end) fails."""
    return [result(r.nodeid, "failed", "E   assert 1 == 2") if r.nodeid == nodeid else r for r in PASSING]


def tree_of(app) -> TestsTree:
    return app.query_one("#tests-tree", TestsTree)


def shown(app) -> list[tuple[str, list[str]]]:
    """Files top to bottom, each with the node ids of its opened tests."""
    return [(file.data, [leaf.data for leaf in file.children]) for file in tree_of(app).root.children]


async def test_a_run_ending_with_failures_selects_the_first_failure(build_app):
    app = build_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await play(pilot, app, run_events(PASSING, run_id=1))
        tree = tree_of(app)
        tree.move_cursor(tree.leaves["tests/test_a.py::test_1"])  # the user looks at a passing test
        await pilot.pause()
        await play(pilot, app, run_events(failing_late(), run_id=2))
        await until(pilot, lambda: app.tests_pane.selected_row.nodeid == "tests/test_b.py::test_2")
        assert shown(app)[0] == ("tests/test_b.py", ["tests/test_b.py::test_2", "tests/test_b.py::test_0",
                                                     "tests/test_b.py::test_1"])
        assert tree.cursor_line == 1  # right under its file, the top of the tree
        assert "✗ failed" in detail_text(app)
        assert "o" in app.screen.active_bindings  # the failure is selected, so the editor key applies


async def test_a_run_that_ended_while_the_pane_was_hidden_selects_its_failure_when_shown(build_app):
    app = build_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await play(pilot, app, run_events(PASSING, run_id=1))
        await pilot.press("2")
        await play(pilot, app, run_events(failing_late("tests/test_a.py::test_2"), run_id=2))
        await pilot.press("1")
        await until(pilot, lambda: app.tests_pane.selected_row.nodeid == "tests/test_a.py::test_2")


async def test_a_run_with_no_failure_leaves_the_cursor_on_its_test(build_app):
    app = build_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await play(pilot, app, run_events(PASSING, run_id=1))
        tree = tree_of(app)
        tree.move_cursor(tree.leaves["tests/test_b.py::test_1"])
        await pilot.pause()
        await play(pilot, app, run_events(PASSING, run_id=2))
        assert app.tests_pane.selected_row.nodeid == "tests/test_b.py::test_1"


async def test_a_run_with_no_failure_leaves_the_cursor_on_its_file(build_app):
    app = build_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await play(pilot, app, run_events(PASSING, run_id=1))
        tree = tree_of(app)
        file_b = tree.file_nodes["tests/test_b.py"][0]
        tree.move_cursor(file_b)
        await pilot.pause()
        await play(pilot, app, run_events(PASSING, run_id=2))
        assert tree.cursor_node is file_b


async def test_reruns_keep_the_nodes_and_move_only_what_changed_order(build_app):
    app = build_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await play(pilot, app, run_events(PASSING, run_id=1))
        tree = tree_of(app)
        file_a, file_b = tree.root.children
        leaves_a = list(file_a.children)
        await play(pilot, app, run_events(failing_late("tests/test_a.py::test_2"), run_id=2))
        assert list(tree.root.children) == [file_a, file_b]  # the same nodes: nothing was built again
        assert list(file_a.children) == leaves_a  # its leaves relabelled in the new order
        assert tree.cursor_node is leaves_a[0] and app.tests_pane.selected_row.nodeid.endswith("a.py::test_2")
        await until(pilot, lambda: "tests/test_a.py::test_2" in detail_text(app))
        assert shown(app)[0] == ("tests/test_a.py", ["tests/test_a.py::test_2", "tests/test_a.py::test_0",
                                                     "tests/test_a.py::test_1"])
        assert "1 failing" in file_a.label.plain
        assert list(file_b.children) == [tree.leaves[r.nodeid] for r in PASSING[3:]]
        assert all(leaf.label.plain.startswith("✓") for leaf in file_b.children)
        await play(pilot, app, run_events(failing_late("tests/test_b.py::test_0"), run_id=3))
        assert shown(app) == [  # b failing now comes first; a's tests are back in collection order
            ("tests/test_b.py", [r.nodeid for r in PASSING[3:]]),
            ("tests/test_a.py", [r.nodeid for r in PASSING[:3]]),
        ]
        assert leaves_a[0] not in tree.leaves.values()  # that order change did build the tree anew


async def test_a_files_failing_count_follows_its_results_and_the_filter(build_app):
    app = build_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await play(pilot, app, run_events(failing_late(), run_id=1))
        file_b = tree_of(app).root.children[0]
        assert file_b.label.plain.endswith("test_b.py  3  1 failing")
        await pilot.press("slash", *"test_1")  # shows b's test_1, which passed: none failing in view
        await until(pilot, lambda: tree_of(app).root.children[-1].label.plain.endswith("test_b.py  1"))
        await pilot.press("escape")
        await play(pilot, app, run_events(PASSING, run_id=2))
        file_b = next(node for node in tree_of(app).root.children if node.data == "tests/test_b.py")
        assert file_b.label.plain.endswith("test_b.py  3")


async def test_big_runs_open_only_the_first_files_and_the_rest_on_demand(build_app):
    many = [result(f"tests/test_{n // 100:02d}.py::test_{n}") for n in range(2_000)]
    app = build_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await play(pilot, app, run_events(many, run_id=1))
        tree = tree_of(app)
        opened = [file for file, tests in shown(app) if tests]
        assert len(tree.root.children) == 20 and len(opened) == OPEN_TESTS // 100
        assert len(tree.leaves) == OPEN_TESTS  # closed files hold no nodes for their tests
        last = tree.root.children[-1]
        last.expand()
        await until(pilot, lambda: len(last.children) == 100)
        assert last.children[0].label.plain.startswith("✓ test_1900")
        await play(pilot, app, run_events(many, run_id=2))
        assert len(tree.leaves) == OPEN_TESTS + 100  # a rerun keeps what the user opened


async def test_a_rerun_that_moves_an_older_failure_under_the_cursor_shows_that_failure(build_app):
    first, second = (result(f"tests/test_a.py::test_{n}", "failed", f"E   assert {n}") for n in range(2))
    app = build_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await play(pilot, app, run_events([first, second], run_id=1))
        await until(pilot, lambda: app.tests_pane.selected_row.nodeid == first.nodeid)
        await play(pilot, app, run_events([result(first.nodeid)], run_id=2))  # only the first reruns: fixed
        await until(pilot, lambda: app.tests_pane.selected_row.nodeid == second.nodeid)
        await until(pilot, lambda: "E   assert 1" in detail_text(app))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_the_details_follow_the_cursor_to_each_new_first_failure(size, build_app):
    def failing(*nodeids: str) -> list:
        return [result(r.nodeid, "failed", f"E   assert {r.nodeid[-6:]} == 99") if r.nodeid in nodeids else r
                for r in PASSING]

    app = build_app()
    async with app.run_test(size=size) as pilot:
        for run_id, bad in enumerate([("tests/test_a.py::test_1",), ("tests/test_b.py::test_2",),
                                      ("tests/test_b.py::test_1", "tests/test_b.py::test_2")], start=1):
            await play(pilot, app, run_events(failing(*bad), run_id=run_id))
            await until(pilot, lambda bad=bad: app.tests_pane.selected_row.nodeid == min(bad))
            await until(pilot, lambda bad=bad: detail_text(app).startswith(min(bad)))  # no key pressed
            assert f"assert {min(bad)[-6:]} == 99" in detail_text(app)
