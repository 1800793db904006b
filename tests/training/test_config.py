"""TrainConfig validation: types, ranges, choices and close-match suggestions, before any data loads."""
import pytest

from fer_core.errors import ConfigError, FerStudioError
from fer_core.training.config import DEMO_DEFAULTS, AugmentConfig, TrainConfig

pytestmark = pytest.mark.unit  # layer (the folder says the subject)


def test_defaults_validate_and_round_trip():
    cfg = TrainConfig().validate()
    again = TrainConfig.from_dict(cfg.to_dict())
    assert again == cfg and isinstance(again.augment, AugmentConfig)


@pytest.mark.parametrize("overrides, words", [
    ({"epochs": "abc"}, ["epochs", "wrong type", "integer"]),
    ({"epochs": 0}, ["epochs", "out of range"]),
    ({"label_smoothing": 1.5}, ["label_smoothing", "out of range"]),
    ({"augment.erasing": 2}, ["augment.erasing", "out of range"]),
    ({"augment.hflip": 1}, ["augment.hflip", "true/false"]),
    ({"optimizer": "adagrad"}, ["optimizer", "adam"]),
    ({"architecture": "fernett"}, ["did you mean 'fernet'"]),
    ({"epohcs": 3}, ["did you mean 'epochs'"]),
    ({"augment.rotaton": 3}, ["did you mean 'rotation'"]),
    ({"batch_size": True}, ["batch_size", "wrong type"]),
])
def test_bad_settings_raise_one_clear_config_error(overrides, words):
    with pytest.raises(ConfigError) as info:
        TrainConfig().with_overrides(overrides).validate()
    assert isinstance(info.value, FerStudioError) and info.value.kind == "config"
    assert all(w in info.value.message for w in words), info.value.message


def test_overrides_merge_augmentation_and_recipes_hold_only_overrides():
    cfg = TrainConfig.from_dict({"epochs": 5, "augment": {"cutmix": 1.0}})
    assert cfg.epochs == 5 and cfg.augment.cutmix == 1.0 and cfg.augment.rotation == AugmentConfig().rotation
    assert TrainConfig().with_overrides({"augment.mixup": 0.2}).augment.mixup == 0.2


def test_demo_has_its_own_defaults():
    demo = TrainConfig.for_data("demo")
    assert all(getattr(demo, k) == v for k, v in DEMO_DEFAULTS.items())
    assert TrainConfig.for_data("x.csv").epochs == TrainConfig().epochs


def test_model_options_set_the_architecture_shape_and_unknown_ones_are_refused():
    from fer_core.errors import ConfigError
    from fer_core.models.registry import check_model_options
    from fer_core.training.config import TrainConfig
    cfg = TrainConfig(architecture="cnn004").with_overrides({"model_options.stages": 3,
                                                             "model_options.dense_layers": 1}).validate()
    assert cfg.model_options == {"stages": 3, "dense_layers": 1}
    check_model_options("cnn004", cfg.model_options)
    with pytest.raises(ConfigError, match="no model option 'stagez'") as err:
        check_model_options("cnn004", {"stagez": 3})
    assert "stages" in err.value.fix
