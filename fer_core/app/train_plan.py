"""What the Train page offers for the chosen dataset: the recipes that fit it (best measured first) or the plain
TrainConfig defaults, each with its configuration, a description, the time it takes here and what follows training."""
from __future__ import annotations

from dataclasses import dataclass, field

from fer_core.errors import FerStudioError
from fer_core.training.config import TrainConfig
from fer_core.training.recipes import DataFacts, Recipe, describe_time, estimate_seconds, ranked

CUSTOM = "custom"


@dataclass
class TrainingPlan:
    data: str                      # the dataset path ("demo", or "other" before one is known)
    facts: DataFacts | None
    recipes: list[Recipe] = field(default_factory=list)

    @property
    def key(self) -> str:
        """Changes with the dataset, so the recipe choice starts again at the best one for a new dataset."""
        return f"{self.data}:{self.facts.scheme if self.facts else ''}"

    @property
    def titles(self) -> dict:
        return {**{r.name: r.title for r in self.recipes},
                CUSTOM: "Custom: TrainConfig's defaults" + ("" if self.recipes else " (no recipe fits this dataset)")}

    def recipe(self, name: str) -> Recipe | None:
        return next((r for r in self.recipes if r.name == name), None)

    def config(self, name: str) -> TrainConfig:
        recipe = self.recipe(name)
        scheme = {"scheme": self.facts.scheme} if self.facts else {}
        if recipe is None:
            return TrainConfig.for_data(self.data, **scheme)
        return recipe.train_config(self.data, **({} if "scheme" in recipe.config else scheme))

    def describe(self, name: str) -> str:
        recipe = self.recipe(name)
        if recipe is None:
            return "Every setting at TrainConfig's default (seed 004's setup), for you to change."
        parts = [recipe.about]
        measured = recipe.measured()
        if measured:
            parts.append(f"Measured here by run `{measured['run']}`: {measured['val_accuracy']:.1%} on "
                         f"{measured['val_split']}" + (f", {measured['test_accuracy']:.1%} on {measured['test_split']}"
                                                       if measured.get("test_accuracy") is not None else "") + ".")
        if self.facts:
            parts.append(describe_time(*estimate_seconds(recipe, self.facts)).capitalize() + ".")
        if recipe.adjust:
            parts.append("Then logit adjustment on the validation split "
                         f"({recipe.adjust['criterion']}" + (f", every class's recall ≥ {recipe.adjust['min_recall']}"
                                                             if recipe.adjust.get("min_recall") else "") + ").")
        return " ".join(parts)

    def teacher_ids(self, name: str) -> list[str]:
        recipe = self.recipe(name)
        return [t.rsplit("/", 1)[-1] for t in recipe.teachers] if recipe else []

    def adjust(self, name: str) -> dict | None:
        recipe = self.recipe(name)
        return dict(recipe.adjust) if recipe and recipe.adjust else None


def training_plan(chosen: str | None, typed, typed_path: str = "") -> TrainingPlan:
    """The plan for a listed dataset (`chosen`, a path or "demo") or a typed one (`typed`, already loaded)."""
    from fer_core.app.ui import load
    ds, data = typed, typed_path if typed is not None else (chosen or "other")
    if ds is None and chosen:
        try:
            ds = load(chosen)  # cached per file version: a second visit costs a lookup
        except FerStudioError:
            ds = None  # the form still opens; submitting says what is wrong with the dataset
    facts = DataFacts.of(ds, data) if ds is not None else None
    fitting = [r for r, reason in ranked(facts) if reason is None] if facts else []
    return TrainingPlan(data, facts, fitting)
