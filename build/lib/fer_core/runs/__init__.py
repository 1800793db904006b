"""Saved runs: the folder layout, the Run type, listing, the cached model loader, bundles for transfer."""
