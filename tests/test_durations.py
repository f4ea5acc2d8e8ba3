import pytest

from ahd.durations import parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90), ("5m", 300), ("1h", 3600), ("1h30m", 5400), ("2.5", 2.5), (7, 7),
        ("250ms", 0.25),
    ],
)
def test_accepted_forms(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "x", "5q", "-1", "0", "1h x", "inf", "nan", "m5"])
def test_rejected_forms_say_what_is_accepted(text):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)
