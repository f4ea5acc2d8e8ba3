"""Shared fixtures: one real sandbox pool for the whole session (workers compile the engine
once, about 3 s), and small configs so each test packs a few hundred items."""

from __future__ import annotations

import pytest

from ahd.sandbox import SandboxPool
from ahd_binpacking.config import BinPackingConfig
from ahd_binpacking.plugin import PLUGIN


@pytest.fixture(scope="session")
def pool(tmp_path_factory):
    config = BinPackingConfig()
    options = PLUGIN.sandbox_options(config, tmp_path_factory.mktemp("run"))
    with SandboxPool(2, **options) as p:
        yield p


@pytest.fixture
def small_config() -> BinPackingConfig:
    return BinPackingConfig(n_items=300, n_train=2, n_validation=2, smoke_items=50,
                            sandbox_wall=20.0)
