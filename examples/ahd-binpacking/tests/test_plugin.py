"""The plugin is registered through the entry point and turns settings into a valid config."""

from __future__ import annotations

from importlib import metadata

import pytest

from ahd.plugins import TASKS_GROUP, task_plugin
from ahd_binpacking.config import BinPackingConfig
from ahd_binpacking.plugin import PLUGIN


def test_registered_through_the_entry_point():
    (ep,) = [e for e in metadata.entry_points(group=TASKS_GROUP) if e.name == "binpacking"]
    assert ep.value == "ahd_binpacking.plugin:PLUGIN"
    assert task_plugin("binpacking") is PLUGIN
    assert PLUGIN.cooperative is False and PLUGIN.team_picture(None, None, {}, 1.0) is None
    assert "joint" not in dict(PLUGIN.loop_defaults["weights"])
    fields = set(BinPackingConfig.__dataclass_fields__)
    assert set(PLUGIN.flags.values()) <= fields


def test_configure_converts_strings_and_names_bad_fields(tmp_path):
    config = PLUGIN.configure({"n_items": "500", "n_train": "3", "offer_new_bin": "false",
                               "sandbox_wall": "90s", "train_file": str(tmp_path / "t.txt")})
    assert (config.n_items, config.n_train, config.offer_new_bin) == (500, 3, False)
    assert config.sandbox_wall == 90.0 and config.train_file == tmp_path / "t.txt"
    assert PLUGIN.run_stem(config) == "binpacking-t"
    assert PLUGIN.run_stem(BinPackingConfig()) == "binpacking-weibull5000"
    for values, field in [({"n_items": "0"}, "n_items"), ({"seed": 100}, "seed"),
                          ({"n_train": "many"}, "n_train"), ({"sandbox_wall": "-1"}, "wall"),
                          ({"memory_mb": 100}, "memory_mb"), ({"colour": "red"}, "colour")]:
        with pytest.raises(ValueError, match=field):
            PLUGIN.configure(values)


def test_build_refuses_a_bad_instance_file(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("1\nname\n100 2 0\n5\n")
    config = PLUGIN.configure({"train_file": str(bad)})
    with pytest.raises(ValueError, match=r"bad.txt:4: file ends early"):
        PLUGIN.build(config, None)


def test_sandbox_options_and_export_texts(tmp_path):
    options = PLUGIN.sandbox_options(BinPackingConfig(sandbox_wall=7.0), tmp_path)
    assert options["warmup"] == "ahd_binpacking.child:warm_worker"
    assert options["limits"].wall_time == 7.0
    assert PLUGIN.export_imports() == {}
    assert any("load_priority" in line for line in PLUGIN.export_usage("m", {"priority": "p"}))
