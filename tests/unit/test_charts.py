"""Chart helpers: numbers as people read them."""
def test_p_values_never_read_zero():
    from fer_core.app.charts import p_phrase, p_text
    assert p_text(0.0) == "< 0.001" and p_text(1e-12) == "< 0.001" and p_text(0.0123) == "0.012"
    assert p_text(0.5) == "0.50" and p_phrase(0.0) == "p < 0.001" and p_phrase(0.04) == "p = 0.040"
