import numpy as np
import pytest

from fer_core.data.schemes import UNMAPPED, get_scheme, map_labels, reachable_schemes
from fer_core.errors import DataError

pytestmark = pytest.mark.unit  # layer (the folder says the subject)


def test_schemes_have_the_documented_classes():
    assert get_scheme("fer2013").classes == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    assert get_scheme("ferplus").classes[-3:] == ("contempt", "unknown", "NF")
    assert get_scheme("fer2024").n_classes == 10
    assert get_scheme("ckplus").index("contempt") == 7


def test_mappings_are_explicit_and_keep_unmapped():
    # FERPlus neutral(0) happiness(1) contempt(7) NF(9) -> FER2013 neutral(6) happy(3) none none
    assert map_labels(np.array([0, 1, 7, 9]), "ferplus", "fer2013").tolist() == [6, 3, UNMAPPED, UNMAPPED]
    assert map_labels(np.array([0, 6, UNMAPPED]), "fer2013", "fer2024").tolist() == [0, 6, UNMAPPED]
    assert map_labels(np.array([7]), "ckplus", "fer2024").tolist() == [7]
    assert "fer2024" in reachable_schemes("fer2013")


def test_unknown_class_and_missing_mapping_raise_clear_errors():
    with pytest.raises(DataError, match="not in scheme"):
        get_scheme("fer2013").index("bored")
    with pytest.raises(DataError, match="no mapping"):
        map_labels(np.array([0]), "fer2024", "ckplus")
