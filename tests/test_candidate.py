"""Candidates: identity by normalized code, canonical roles, validation, pickling."""

import pickle

import pytest

from ahd.candidate import Candidate, Origin, canonical_roles, code_hash, normalize_code

SOURCE = '''
def destroy(inst, sol, n_remove, removed):
    """Remove nothing."""
    k = 0  # nothing removed
    return k
'''

REFORMATTED = """# a header comment
def destroy(inst,sol,n_remove,removed):
    '''Another docstring entirely.'''

    k=0
    return (k)
"""


def test_normalize_drops_comments_docstrings_and_formatting():
    assert normalize_code(SOURCE) == normalize_code(REFORMATTED)
    assert "Remove nothing" not in normalize_code(SOURCE)
    assert "#" not in normalize_code(SOURCE)


def test_docstring_only_body_stays_valid_code():
    normalized = normalize_code('def f():\n    """Only a docstring."""\n')
    compile(normalized, "<normalized>", "exec")
    assert "pass" in normalized


def test_normalize_raises_on_syntax_errors_including_null_bytes():
    with pytest.raises(SyntaxError):
        normalize_code("def f(:\n")
    with pytest.raises(SyntaxError):
        normalize_code("x = 1\x00")


def test_code_hash_dedupes_formatting_but_not_behaviour():
    assert code_hash(SOURCE) == code_hash(REFORMATTED)
    assert code_hash(SOURCE) != code_hash(SOURCE.replace("k = 0", "k = 1"))
    assert len(code_hash(SOURCE)) == 64


def test_unparsable_code_still_has_a_stable_identity():
    broken = "def destroy(inst, sol:\n    return 0\n"
    assert code_hash(broken) == code_hash(broken.replace("\n", "   \n") + "\n\n")
    assert code_hash(broken) != code_hash(SOURCE)


def test_candidate_computes_hash_and_default_entry_points():
    c = Candidate(SOURCE, ("destroy",), "cvrp")
    assert c.code_hash == code_hash(SOURCE)
    assert c.entry_points == {"destroy": "destroy"}
    assert c.id is None and c.parents == () and c.generation == 0
    assert c.origin.proposer == "unknown"


def test_roles_are_canonical_so_order_does_not_matter():
    a = Candidate(SOURCE, ("repair", "destroy"), "cvrp")
    b = Candidate(SOURCE, ("destroy", "repair"), "cvrp")
    assert a.roles == b.roles == ("destroy", "repair")
    assert a == b
    assert canonical_roles(["plan", "improve", "destroy"]) == ("destroy", "improve", "plan")


def test_a_single_role_string_is_accepted():
    assert Candidate(SOURCE, "destroy", "cvrp").roles == ("destroy",)


def test_custom_entry_points():
    c = Candidate(SOURCE, ("destroy",), "cvrp", entry_points={"destroy": "my_destroy"})
    assert c.entry_points == {"destroy": "my_destroy"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"source": "  "}, "source"),
        ({"roles": ()}, "at least one role"),
        ({"roles": ("destroy", "destroy")}, "duplicates"),
        ({"roles": ("not a name",)}, "identifiers"),
        ({"problem": ""}, "problem"),
        ({"parents": (-1,)}, "parent"),
        ({"generation": -1}, "generation"),
        ({"id": -3}, "id"),
        ({"entry_points": {"repair": "r"}}, "lacks"),
        ({"entry_points": {"destroy": "1bad"}}, "identifier"),
    ],
)
def test_invalid_candidates_are_refused(kwargs, message):
    args = {"source": SOURCE, "roles": ("destroy",), "problem": "cvrp", **kwargs}
    with pytest.raises(ValueError, match=message):
        Candidate(**args)


def test_with_id_keeps_identity_and_candidates_pickle_and_hash():
    c = Candidate(SOURCE, ("destroy",), "cvrp", parents=(3, 4), generation=2,
                  origin=Origin("llm", "mutation", "mutate", "m", 10, 20, 0.5))
    stored = c.with_id(7)
    assert stored.id == 7 and stored.code_hash == c.code_hash and stored.parents == (3, 4)
    assert pickle.loads(pickle.dumps(stored)) == stored
    assert hash(stored) == hash(pickle.loads(pickle.dumps(stored)))


def test_origin_round_trip_ignores_unknown_keys_and_validates():
    origin = Origin("llm", model="gpt", tokens_in=5, tokens_out=6, cost_usd=0.01)
    assert Origin.from_dict({**origin.to_dict(), "from_the_future": 1}) == origin
    with pytest.raises(ValueError):
        Origin("")
    with pytest.raises(ValueError):
        Origin("llm", tokens_in=-1)
    with pytest.raises(ValueError):
        Origin("llm", cost_usd=float("nan"))
