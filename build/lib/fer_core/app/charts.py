"""Plotly figure builders shared by pages (pure functions: data in, figure out)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go


def balance_figure(balance: pd.DataFrame, value: str = "count") -> go.Figure:
    """Grouped bars per class, one colour per split; value = 'count' or 'percent'."""
    data = balance[balance["class"] != "(unmapped)"]
    fig = px.bar(data, x="class", y=value, color="split", barmode="group",
                 text=data[value].map(lambda v: f"{v:.1f}%" if value == "percent" else f"{int(v)}"),
                 labels={"count": "images", "percent": "% of split"})
    fig.update_layout(margin=dict(l=10, r=10, t=30, b=10), legend_title_text="split")
    return fig


def confusion_figure(matrix: np.ndarray, rows: list[str], cols: list[str], title: str,
                     row_title: str = "true", col_title: str = "predicted") -> go.Figure:
    fig = px.imshow(matrix, x=cols, y=rows, text_auto=True, color_continuous_scale="Blues", aspect="auto",
                    labels=dict(x=col_title, y=row_title, color="images"))
    fig.update_layout(title=title, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def history_figure(history: list[dict], metrics=("loss", "accuracy")) -> go.Figure:
    """Training curves: one subplot-free figure per call with train and validation lines for each metric."""
    from plotly.subplots import make_subplots
    fig = make_subplots(rows=1, cols=len(metrics), subplot_titles=list(metrics))
    epochs = [h.get("epoch", i + 1) for i, h in enumerate(history)]
    for col, metric in enumerate(metrics, start=1):
        for prefix, dash in (("", "solid"), ("val_", "dash")):
            key = prefix + metric
            if history and key in history[0]:
                fig.add_trace(go.Scatter(x=epochs, y=[h.get(key) for h in history], name=key, mode="lines+markers",
                                         line=dict(dash=dash)), row=1, col=col)
    fig.update_layout(margin=dict(l=10, r=10, t=30, b=10), height=320)
    fig.update_xaxes(title_text="epoch", tickformat="d", **_whole_epochs(len(epochs)))
    return fig


def _whole_epochs(n: int) -> dict:
    """Epoch axes tick at whole epochs only (no 1.5 / 2.5)."""
    return {"tick0": 1, "dtick": max(1, -(-n // 10))}


def per_class_f1_figure(frame: pd.DataFrame) -> go.Figure:
    fig = px.bar(frame, x="class", y="f1", color="model", barmode="group", range_y=[0, 1])
    fig.update_layout(margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.25))
    return fig


def curves_figure(histories: dict, metric: str) -> go.Figure:
    """One line per run for `metric` and dashed for val_`metric`."""
    fig = go.Figure()
    for name, h in histories.items():
        for key, dash in ((metric, "solid"), (f"val_{metric}", "dash")):
            if key in h:
                fig.add_trace(go.Scatter(x=h["epoch"], y=h[key], name=f"{name} {key}", mode="lines",
                                         line=dict(dash=dash)))
    fig.update_layout(title=metric, margin=dict(l=10, r=10, t=40, b=10), xaxis_title="epoch",
                      legend=dict(orientation="h", y=-0.3))
    longest = max((len(h["epoch"]) for h in histories.values()), default=1)
    fig.update_xaxes(tickformat="d", **_whole_epochs(longest))
    return fig


def short_names(names: list[str], width: int = 26) -> list[str]:
    """Run ids shortened for axis labels (their timestamp prefix dropped, the rest cut), kept unique."""
    out = []
    for name in names:
        parts = name.split("-")
        short = "-".join(parts[2:]) if len(parts) > 3 and parts[0].isdigit() else name
        short = short if len(short) <= width else short[:width - 1] + "…"
        while short in out:
            short += "'"
        out.append(short)
    return out


def p_text(p) -> str:
    """A p-value as people read it: never 'p = 0' (it is only below what the test resolves)."""
    if p is None or p != p:
        return "—"
    return "< 0.001" if p < 0.001 else f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


def p_phrase(p) -> str:
    """'p < 0.001' or 'p = 0.012', for sentences."""
    text = p_text(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def pvalue_figure(matrix: pd.DataFrame) -> go.Figure:
    names = short_names(list(matrix.columns))  # long run ids squashed the heat map into a sliver
    fig = px.imshow(matrix.values, x=names, y=names,
                    color_continuous_scale="RdBu", zmin=0, zmax=1, aspect="auto", labels=dict(color="p"))
    fig.update_traces(text=[[p_text(v) for v in row] for row in matrix.values], texttemplate="%{text}",
                      customdata=[[(a, b) for b in matrix.columns] for a in matrix.index],
                      hovertemplate="%{customdata[0]}<br>vs %{customdata[1]}<br>p = %{text}<extra></extra>")
    fig.update_layout(height=160 + 45 * len(names))
    fig.update_layout(title="McNemar p-values (paired, same test images)", margin=dict(l=10, r=10, t=40, b=10))
    return fig


def bar_figure(x, y, x_title: str, y_title: str, height: int | None = None, y_range=None) -> go.Figure:
    fig = px.bar(x=list(x), y=list(y), range_y=y_range, labels={"x": x_title, "y": y_title})
    fig.update_layout(margin=dict(l=10, r=10, t=10, b=10), **({"height": height} if height else {}))
    return fig


# FERPlus vote columns in the FER2013 vocabulary the Relabel buttons use
VOTE_NAMES = {"neutral": "neutral", "happiness": "happy", "surprise": "surprise", "sadness": "sad", "anger": "angry",
              "disgust": "disgust", "fear": "fear", "contempt": "contempt", "unknown": "unknown", "NF": "not a face"}


def votes_figure(votes, columns) -> go.Figure:
    return bar_figure([VOTE_NAMES.get(c, c) for c in columns], votes, "FERPlus votes", "votes", height=200)


def emotion_timeline_figure(table: pd.DataFrame, class_names) -> go.Figure:
    """Per-frame probabilities of the first face in a video, one line per emotion."""
    long = table.melt(id_vars=["time_s", "face"], value_vars=list(class_names), var_name="emotion",
                      value_name="probability")
    return px.line(long[long["face"] == long["face"].min()], x="time_s", y="probability", color="emotion")


def embedding_figure(xy: np.ndarray, groups: np.ndarray, title: str) -> go.Figure:
    """A WebGL scatter of a 2-D map, one trace per group (legend toggles them); each point carries its row index
    as customdata, so a box or lasso selection names dataset rows."""
    fig = go.Figure()
    for name in sorted(set(groups.tolist())):
        rows = np.flatnonzero(groups == name)
        fig.add_trace(go.Scattergl(x=xy[rows, 0], y=xy[rows, 1], mode="markers", name=str(name), customdata=rows,
                                   marker=dict(size=3, opacity=0.6), hovertemplate="row %{customdata}<extra></extra>"))
    fig.update_layout(title=title, height=620, margin=dict(l=10, r=10, t=40, b=10), dragmode="lasso",
                      legend=dict(itemsizing="constant"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig
