"""Training engine: TrainConfig -> a run folder under models/."""
from fer_core.training.config import TrainConfig  # noqa: F401
