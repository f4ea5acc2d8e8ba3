"""The GP proposer: trees round-trip through source, proposals pass the check and compile,
compiled trees score exactly as the trees say, and every strategy respects its parents."""

from __future__ import annotations

import numpy as np
import pytest

from ahd.candidate import Candidate
from ahd.proposers.base import Parent, ProposalRequest
from ahd_binpacking import gp
from ahd_binpacking.config import BinPackingConfig
from ahd_binpacking.engine import compile_priority, load_namespace
from ahd_binpacking.proposer import LIBRARY, GPConfig, GPProposer
from ahd_binpacking.seeds import BEST_FIT_SOURCE
from ahd_binpacking.task import BinPackingTask

TASK = BinPackingTask(BinPackingConfig(n_items=100, n_train=1, n_validation=1), None)


def parent(source: str, cid: int) -> Parent:
    return Parent(Candidate(source, ("priority",), "binpacking", id=cid))


def test_tree_text_round_trips():
    tree = ("lte", "g", 0.0, 9287.0, ("neg", ("log", ("div", "f", ("add", "item", -2.5)))))
    assert gp.parse_sexpr(gp.to_sexpr(tree)) == tree
    assert gp.tree_of_source(gp.render(tree)) == tree
    assert gp.size(tree) == 11 and gp.depth(tree) == 6
    for bad in ("(add g)", "(foo g g)", "(add g g) g", "(add g inf)", "bins"):
        with pytest.raises(ValueError):
            gp.parse_sexpr(bad)


def test_foreign_or_edited_sources_are_not_trees():
    assert gp.tree_of_source(BEST_FIT_SOURCE) is None
    source = gp.render(("neg", "g"))
    assert gp.tree_of_source(source.replace("v = (-g)", "v = g")) is None  # edited code
    assert gp.tree_of_source(source.replace("(neg g)", "(neg f)")) is None  # edited constant
    assert gp.tree_of_source("def priority(:") is None


def test_compiled_trees_score_as_the_tree_says():
    rng = np.random.default_rng(1)
    bins = np.array([3.0, 17.0, 40.0, 62.5, 100.0])
    for _ in range(8):
        tree = gp.fold(gp.random_tree(rng, 4, full=True))
        compiled = compile_priority(gp.render(tree))
        got = compiled.jitted(12.0, bins.copy())
        want = [gp.evaluate(tree, 12.0, r, 100.0, float(j)) for j, r in enumerate(bins)]
        want = [-np.inf if np.isnan(w) else w for w in want]
        assert np.allclose(got, want, rtol=1e-12, equal_nan=False), gp.to_sexpr(tree)


@pytest.mark.parametrize("strategy", ["init", "mutate_params", "mutate_logic", "crossover",
                                      "joint"])
def test_every_strategy_gives_checked_new_trees(strategy):
    proposer = GPProposer()
    rng = np.random.default_rng(4)
    sources = [gp.render(tree) for tree in LIBRARY.values()]
    parents = tuple(parent(s, i) for i, s in enumerate(sources[:2]))
    count = 0 if strategy == "init" else (2 if strategy in ("crossover", "joint") else 1)
    roles = ("priority",)
    for _ in range(15):
        (prop,) = proposer([ProposalRequest(strategy, roles, parents[:count])], rng)
        assert prop.source is not None, prop.error
        assert TASK.check(prop.source, roles) == []
        tree = gp.tree_of_source(prop.source)
        assert tree is not None and gp.depth(tree) <= 8 and gp.size(tree) <= 40
        assert all(gp.to_sexpr(tree) != gp.to_sexpr(gp.tree_of_source(p.candidate.source))
                   for p in parents[:count])
        assert prop.origin.proposer == "gp" and prop.origin.strategy.startswith(strategy)
    load_namespace(prop.source)  # plain Python too


def test_proposals_compile_and_depend_only_on_the_rng():
    requests = [ProposalRequest("init", ("priority",)) for _ in range(6)]
    a = GPProposer()(requests, np.random.default_rng(9))
    b = GPProposer()(requests, np.random.default_rng(9))
    assert [p.source for p in a] == [p.source for p in b]
    for prop in a:
        compile_priority(prop.source)


def test_a_parent_that_is_not_a_tree_is_replaced_by_a_library_tree():
    (prop,) = GPProposer()([ProposalRequest("mutate_params", ("priority",),
                                            (parent(BEST_FIT_SOURCE, 1),))],
                           np.random.default_rng(0))
    assert "library" in prop.origin.strategy and gp.tree_of_source(prop.source) is not None


def test_guards_add_a_lexicographic_tier():
    proposer = GPProposer()
    rng = np.random.default_rng(2)
    trees = [proposer.guard(("neg", "g"), rng) for _ in range(50)]
    assert all(any(n[0] == "lte" for _, n in gp.nodes(t) if gp.is_op(n)) for t in trees)
    assert any(t[0] == "lte" and t[1] == "g" and t[2] == 0.0 for t in trees)
    with pytest.raises(ValueError, match="max_depth"):
        GPConfig(max_depth=1)
    with pytest.raises(ValueError, match="guard_share"):
        GPConfig(guard_share=1.5)
