"""`python -m fer_core recipes | train-batch` and `train --recipe`: named recipes and time-boxed batches."""
from __future__ import annotations

from fer_core.errors import ConfigError


def train_by_recipe(args, overrides: dict) -> dict:
    """`train --recipe NAME`: the recipe's config with --data, --epochs, --set ... on top, then its adjustment."""
    from fer_core.runs.run import Run
    from fer_core.training.recipes import get_recipe, train_recipe
    if args.config or args.oof_folds:
        raise ConfigError("--recipe names the whole configuration", fix="drop --config / --oof-folds, or --recipe")
    recipe = get_recipe(args.recipe)
    data = overrides.pop("data", None) or recipe.config.get("data") or (
        "demo" if recipe.fits.get("data") == "demo" else None)
    if not data:
        raise ConfigError(f"recipe '{recipe.name}' needs a dataset", fix="add --data PATH (e.g. fer2013.csv.gz)")
    run_dir = train_recipe(recipe, data, overrides, out_root=args.out)
    return {"recipe": recipe.name, "run_dir": str(run_dir), **Run.load(run_dir).record.to_dict()}


def _recipes(args) -> dict:
    from fer_core.training.recipes import DataFacts, all_recipes, describe_time, estimate_seconds, ranked
    if not args.data:
        return {name: r.title for name, r in all_recipes().items()}
    from fer_core.data.loading import load_dataset
    facts = DataFacts.of(load_dataset(args.data), args.data)
    out = {}
    for recipe, reason in ranked(facts):
        measured = recipe.measured()
        out[recipe.name] = {"title": recipe.title, "fits": reason is None, "why_not": reason,
                            "time": describe_time(*estimate_seconds(recipe, facts)),
                            "validation_accuracy": measured and measured["val_accuracy"]}
    return out


def _train_batch(args) -> dict:
    from fer_core.training.time_boxed import run_batch
    return {"recipes": run_batch(args.recipes, args.budget, args.out)}


def add_training_commands(sub) -> None:
    rec = sub.add_parser("recipes", help="the named training recipes; with --data, which fit it, best first")
    rec.add_argument("--data", help="a dataset: says which recipes fit and how long each takes here")
    rec.add_argument("--json", action="store_true")
    rec.set_defaults(func=_recipes)
    batch = sub.add_parser("train-batch", help="train recipes within a time budget; call again to resume the rest")
    batch.add_argument("recipes", nargs="+", metavar="RECIPE_JSON", help="recipe files (fer_core/recipes format) or TrainConfig files, each with a run_name")
    batch.add_argument("--budget", type=float, default=540, help="seconds for this call (default 540)")
    batch.add_argument("--out", help="folder for runs (default: models/)")
    batch.add_argument("--json", action="store_true")
    batch.set_defaults(func=_train_batch)
