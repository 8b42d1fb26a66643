"""The config file: one more layer of ``config.resolve``, below the variables and the flags.

A team keeps ``canvas-conformance.toml`` (or ``[tool.canvas-conformance]`` in pyproject.toml)
beside its pipeline: one key per option, named as the option's field. Secrets never come from
it; unknown keys are refused; every refusal is one line that never quotes a secret.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from canvas_conformance import cli, config
from canvas_conformance.config import ConfigError

SECRET = "planted-secret-in-a-file-4d2a"


def resolved(cwd: Path, argv=(), env=None) -> config.RunConfig:
    return config.from_command_line(cli.build_parser().parse_args(["run", *argv]), env or {}, cwd=cwd)


def refusal(cwd: Path, argv=(), env=None) -> str:
    with pytest.raises(ConfigError) as caught:
        resolved(cwd, argv, env)
    text = str(caught.value)
    assert "\n" not in text
    return text


def test_the_file_in_the_working_folder_is_the_lowest_layer(tmp_path):
    (tmp_path / "canvas-conformance.toml").write_text(
        'timeout = 3\nretries = 0\ntags = "SENT-2"\nstrict = true\npatients = ["p1", "p2"]\n'
        'report_dir = "out/reports"\n')
    cfg = resolved(tmp_path)
    assert (cfg.timeout, cfg.retries, cfg.tags, cfg.strict, cfg.patients) == (3.0, 0, "SENT-2", True, ("p1", "p2"))
    assert cfg.report_dir == tmp_path / "out" / "reports"  # relative to the file's folder
    cfg = resolved(tmp_path, ["--timeout", "7"], {"CANVAS_TIMEOUT": "5", "CANVAS_TAGS": "PAY-1"})
    assert (cfg.timeout, cfg.tags, cfg.retries) == (7.0, "PAY-1", 0)  # flags > variables > file


def test_a_pyproject_table_is_read_and_the_own_file_wins_over_it(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.canvas-conformance]\ntimeout = 4\n')
    assert resolved(tmp_path).timeout == 4.0
    (tmp_path / "canvas-conformance.toml").write_text("timeout = 6\n")
    assert resolved(tmp_path).timeout == 6.0


def test_a_pyproject_without_the_table_is_no_layer(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.other]\ntimeout = "nonsense"\n')
    assert resolved(tmp_path).timeout == 10.0


def test_config_or_its_variable_names_the_file(tmp_path):
    team = tmp_path / "ci" / "conformance.toml"
    team.parent.mkdir()
    team.write_text("max_retry_wait = 2\n")
    assert resolved(tmp_path, ["--config", str(team)]).max_retry_wait == 2.0
    assert resolved(tmp_path, env={"CANVAS_CONFIG": str(team)}).max_retry_wait == 2.0
    assert "does not exist" in refusal(tmp_path, ["--config", str(tmp_path / "missing.toml")])


@pytest.mark.parametrize("key", ["client_secret", "token"])
def test_secrets_are_refused_in_the_file_without_quoting_them(tmp_path, key):
    (tmp_path / "canvas-conformance.toml").write_text(f'{key} = "{SECRET}"\n')
    text = refusal(tmp_path)
    assert f"{key} is a secret and is not read from a config file" in text and SECRET not in text


def test_unknown_keys_and_wrong_values_are_one_line(tmp_path):
    path = tmp_path / "canvas-conformance.toml"
    path.write_text("timout = 3\n")
    text = refusal(tmp_path)
    assert "unknown key 'timout'" in text and "timeout" in text and "client_secret," not in text
    path.write_text('timeout = "soon"\n')
    assert "timeout 'soon' is not a number of seconds" in refusal(tmp_path)
    path.write_text("tags = [1, 2]\n")
    assert "tags must be a string, number or true/false" in refusal(tmp_path)
    path.write_text("config_file = 'other.toml'\n")
    assert "unknown key 'config_file'" in refusal(tmp_path)
    path.write_text("timeout = [\n")
    assert "is not TOML" in refusal(tmp_path)


def test_the_client_secret_comes_from_its_own_file(tmp_path):
    (tmp_path / "secret.txt").write_text(f"{SECRET}\n")
    (tmp_path / "canvas-conformance.toml").write_text(
        'base_url = "http://127.0.0.1:5998"\nclient_id = "me"\nclient_secret_file = "secret.txt"\n')
    cfg = resolved(tmp_path)
    assert cfg.client_secret == SECRET and SECRET in cfg.secrets()
    twice = refusal(tmp_path, env={"CANVAS_CLIENT_SECRET": "other"})
    assert "given twice" in twice and SECRET not in twice and "other" not in twice
    (tmp_path / "secret.txt").write_text("\n")
    assert "is empty" in refusal(tmp_path)


def test_the_command_refuses_a_bad_file_in_one_line_with_exit_2(tmp_path, monkeypatch, run_command):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "canvas-conformance.toml").write_text(f'client_secret = "{SECRET}"\n')
    outcome = run_command(["run", "--list"])
    assert outcome.code == 2 and len(outcome.err_lines) == 1 and SECRET not in outcome.err + outcome.out
    (tmp_path / "canvas-conformance.toml").write_text('tags = "SENT-2"\n')
    outcome = run_command(["run", "--list"])
    assert outcome.code == 0 and "selected by --tags 'SENT-2'" in outcome.out
