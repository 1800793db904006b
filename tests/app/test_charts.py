"""Chart helpers: numbers as people read them."""

import pytest

pytestmark = pytest.mark.unit  # layer (the folder says the subject)
def test_p_values_never_read_zero():
    from fer_core.app.charts import p_phrase, p_text
    assert p_text(0.0) == "< 0.001" and p_text(1e-12) == "< 0.001" and p_text(0.0123) == "0.012"
    assert p_text(0.5) == "0.50" and p_phrase(0.0) == "p < 0.001" and p_phrase(0.04) == "p = 0.040"


def test_short_names_drop_the_timestamp_and_stay_unique():
    from fer_core.app.charts import short_names
    names = ["20261123-002251-default-cnn004-cpu-cosine50-1367", "20261123-002251-default-cnn004-cpu-cosine50-1368",
             "ensemble(a,b)"]
    short = short_names(names)
    assert short[0].startswith("default-cnn004") and len(set(short)) == 3 and all(len(s) <= 27 for s in short)
