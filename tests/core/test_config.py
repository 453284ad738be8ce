"""[tool.testwatch] parsing: every documented key, and clear errors naming key and file."""

import pytest

from testwatch.config.settings import KEYS, Config, ConfigError, load_config
from testwatch.select.recording_mode import recording_requested


def test_defaults_without_pyproject(tmp_path):
    config = load_config(tmp_path)
    assert config.timeout == 120.0
    assert config.history_path == tmp_path.resolve() / ".testwatch" / "history.db"
    assert config.source is None


def test_values_are_parsed_with_units(make_project):
    root = make_project({"pyproject.toml": """
        [tool.testwatch]
        timeout = "2 min"
        max_output = "1 KiB"
        debounce = "50 ms"
        on_change = "wait"
        pytest_args = ["-x"]
        history = "var/h.db"
        [tool.testwatch.thresholds]
        peak_memory = "150 MB"
    """})
    config = load_config(root)
    assert config.timeout == 120.0
    assert config.max_output == 1024
    assert config.debounce == pytest.approx(0.05)
    assert config.on_change == "wait"
    assert config.pytest_args == ["-x"]
    assert config.history_path == root / "var" / "h.db"


def test_every_key_is_a_config_field():
    fields = set(Config.__dataclass_fields__)
    assert set(KEYS) <= fields


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("colour = 'red'", "'colour'"),
        ("timeout = 'soon'", "timeout"),
        ("timeout = -1", "timeout"),
        ("timeout = '5m'", "timeout: the unit 'm' in '5m' is ambiguous"),
        ("max_output = '64m'", "max_output: the unit 'm' in '64m' is ambiguous"),
        ("on_change = 'sometimes'", "on_change"),
        ("pytest_args = '-x'", "pytest_args"),
        ("max_restarts = true", "max_restarts"),
        ("[tool.testwatch.thresholds]\npeak_memory = '-5 MB'", "peak_memory"),
        ("[tool.testwatch.thresholds]\ncoverage = 120", "coverage"),
        ("[tool.testwatch.thresholds]\nretained_memory = '20m'", "retained_memory: the unit 'm'"),
        ("[tool.testwatch.thresholds]\nlatency = 3", "latency"),
        ("[tool.testwatch.thresholds.markers.slow]\ncall_duration = 'x'", "markers.slow.call_duration"),
    ],
)
def test_bad_values_name_the_key_and_file(make_project, body, named):
    root = make_project({"pyproject.toml": f"[tool.testwatch]\n{body}\n"})
    with pytest.raises(ConfigError) as error:
        load_config(root)
    assert named in str(error.value)
    assert "pyproject.toml" in str(error.value)


def test_invalid_toml_is_a_config_error(make_project):
    root = make_project({"pyproject.toml": "[tool.testwatch\n"})
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(root)


def test_command_line_overrides_win(make_project):
    root = make_project({"pyproject.toml": "[tool.testwatch]\ntimeout = 5\n"})
    assert load_config(root, {"timeout": "0"}).timeout == 0
    with pytest.raises(ConfigError, match="command line: timeout"):
        load_config(root, {"timeout": "never"})


def test_cli_reports_config_error_with_exit_4(make_project, cli):
    root = make_project({
        "pyproject.toml": "[tool.testwatch]\ntimout = 3\n",
        "tests/test_a.py": "def test_a(): pass\n",
    })
    result = cli("run", str(root))
    assert result.returncode == 4
    assert "unknown key 'timout'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("body", "records"),
    [("", False), ("[tool.testwatch]\ncoverage = false", False), ("[tool.testwatch]\ncoverage = true", True),
     ("[tool.testwatch]\ntimeout = 5", False)],
)
def test_a_plain_run_records_only_when_the_project_asks_for_coverage(make_project, body, records):
    root = make_project({"pyproject.toml": body + "\n"})
    assert recording_requested(load_config(root)) is records
