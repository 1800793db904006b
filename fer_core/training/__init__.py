"""Training engine: TrainConfig -> a run folder under models/."""
from .config import TrainConfig  # noqa: F401
