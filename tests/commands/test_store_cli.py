"""``ahd leaderboard``, ``ahd show`` and ``ahd export`` on a real store (the exported module's
own checks are in ``tests/test_export.py``)."""

import importlib.util
import sqlite3

import pytest
from cli_apps import command_app
from typer.testing import CliRunner

from ahd.commands.store_cli import register
from ahd.store import SCHEMA_VERSION, STORE_FILENAME

runner = CliRunner()


@pytest.fixture
def app():
    return command_app(register)


@pytest.fixture
def run_dir(scored_run_dir):
    """Seed 1 (destroy) and its joint LLM child 2 (destroy + repair ``greedy``), scored."""
    return scored_run_dir


def test_leaderboard_lists_candidates_best_first(app, run_dir):
    res = runner.invoke(app, ["leaderboard", str(run_dir)])
    assert res.exit_code == 0, res.output
    lines = [line for line in res.output.splitlines() if "│" in line]
    assert len(lines) == 2
    assert "destroy,repair" in lines[0] and "0.625" in lines[0] and "llm" in lines[0]
    assert "1.5" in lines[1] and "seed" in lines[1] and "ok:2" in lines[1]


def test_leaderboard_filters_by_role_split_and_top(app, run_dir):
    res = runner.invoke(app, ["leaderboard", str(run_dir), "--role", "repair", "--top", "5"])
    assert res.exit_code == 0, res.output
    assert "seed" not in res.output and "llm" in res.output
    res = runner.invoke(app, ["leaderboard", str(run_dir), "--split", "validation"])
    assert res.exit_code == 0, res.output
    assert "timeout:1" in res.output
    res = runner.invoke(app, ["leaderboard", str(run_dir), "--split", "test"])
    assert res.exit_code == 0 and "no evaluations on the test split yet" in res.output
    res = runner.invoke(app, ["leaderboard", str(run_dir), "--top", "1"])
    assert "llm" in res.output and "seed" not in res.output


def test_show_prints_provenance_scores_lineage_and_code(app, run_dir):
    res = runner.invoke(app, ["show", str(run_dir), "2"])
    assert res.exit_code == 0, res.output
    out = res.output
    assert "candidate 2: destroy, repair for cvrp (run 1, generation 1)" in out
    assert "mutate_v1" in out and "some-model" in out
    assert "0.625" in out and "timeout:1" in out
    assert "1  gen 0  destroy  (seed)" in out  # the parent in the lineage tree
    assert "def greedy(inst, sol, removed, k, penalty):" in out


def test_export_writes_an_importable_module_with_provenance(app, run_dir, tmp_path):
    out_dir = tmp_path / "generated"
    res = runner.invoke(app, ["export", str(run_dir), "2", "--out-dir", str(out_dir)])
    assert res.exit_code == 0, res.output
    [path] = out_dir.glob("*.py")
    assert res.output.strip() == f"wrote {path}"
    assert path.name.startswith("cvrp_destroy_repair_2_") and len(path.stem.split("_")[-1]) == 8
    text = path.read_text()
    assert "# Problem: cvrp   Run: 1   Candidate: 2" in text
    assert "Parents: 1" in text and "some-model" in text
    assert "#   train       0.625 over 2 instances (ok 2)" in text
    assert "#   validation  - over 1 instances (timeout 1)" in text
    assert "from ahd.problems.engine.state import best_insertion, insert_customer" in text
    assert "repair = greedy" in text
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.repair is module.greedy and callable(module.destroy)


@pytest.mark.parametrize("command", [["leaderboard"], ["show", "1"], ["export", "1"]])
def test_missing_run_dir_is_a_one_line_error(app, tmp_path, command):
    missing = tmp_path / "nope"
    res = runner.invoke(app, [command[0], str(missing), *command[1:]])
    assert res.exit_code == 2
    assert res.output.strip() == f"error: {missing}: no such run directory"


def test_directory_without_store_is_a_one_line_error(app, tmp_path):
    res = runner.invoke(app, ["leaderboard", str(tmp_path)])
    assert res.exit_code == 2
    assert res.output.strip() == (
        f"error: {tmp_path}: no store ({STORE_FILENAME}) in this directory; is it an ahd run?"
    )


@pytest.mark.parametrize("command", ["show", "export"])
def test_unknown_candidate_is_a_one_line_error(app, run_dir, tmp_path, command):
    res = runner.invoke(app, [command, str(run_dir), "42"])
    assert res.exit_code == 2
    assert res.output.strip() == f"error: no candidate 42 in {run_dir}"


def test_newer_store_is_a_one_line_error(app, run_dir):
    raw = sqlite3.connect(run_dir / STORE_FILENAME)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.commit()
    raw.close()
    res = runner.invoke(app, ["leaderboard", str(run_dir)])
    assert res.exit_code == 2
    [line] = res.output.strip().splitlines()
    assert line.startswith("error: ") and "newer ahd" in line


def test_bad_options_are_one_line_errors(app, run_dir):
    res = runner.invoke(app, ["leaderboard", str(run_dir), "--split", "dev"])
    assert res.exit_code == 2
    assert res.output.strip() == "error: --split must be one of train, validation, test, got 'dev'"
    res = runner.invoke(app, ["leaderboard", str(run_dir), "--top", "0"])
    assert res.exit_code == 2
    assert res.output.strip() == "error: --top must be at least 1, got 0"
