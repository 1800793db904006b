"""The grid-review widget: a page of faces that share a suggested label, drawn and driven in the browser.

Moving the cursor and marking exceptions happen in the browser (no round trip per key); one trigger, sent on
accept, carries the page's token and the marked rows. Keys: arrows move, Space or X marks, Enter or A accepts.
Images travel as 48x48 PNGs (about 2 KB each) and the browser scales them up.
"""
from __future__ import annotations

import base64
import html

import cv2
import numpy as np
import streamlit as st

from fer_core.relabel.suggest import NONE

CSS = """
.fg { font-family: var(--st-font); color: var(--st-text-color); }
.fg-grid { display: grid; gap: 6px; }
.fg-tile { position: relative; border: 3px solid transparent; border-radius: 6px; cursor: pointer;
           background: var(--st-secondary-background-color); padding: 2px; }
.fg-tile img { width: 100%; aspect-ratio: 1; display: block; image-rendering: auto; border-radius: 3px; }
.fg-tile .fg-cap { font-size: 11px; opacity: 0.75; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.fg-tile.fg-cursor { border-color: var(--st-primary-color); }
.fg-tile.fg-marked img { opacity: 0.35; }
.fg-tile .fg-x { display: none; position: absolute; top: 30%; left: 0; right: 0; text-align: center;
                 font-weight: 700; color: #fff; background: rgba(200, 30, 30, 0.85); padding: 2px 0; }
.fg-tile.fg-marked .fg-x { display: block; }
.fg-tile.fg-marked { border-color: rgba(200, 30, 30, 0.9); }
.fg-badge { position: absolute; top: 4px; right: 4px; font-size: 10px; background: rgba(0,0,0,0.65); color: #fff;
            padding: 1px 4px; border-radius: 3px; }
.fg-bar { display: flex; gap: 12px; align-items: center; margin: 8px 0; }
.fg-bar button { background: var(--st-primary-color); color: #fff; border: none; border-radius: 6px;
                 padding: 8px 14px; font-size: 15px; cursor: pointer; }
.fg-bar button:disabled { opacity: 0.5; cursor: default; }
"""

JS = """
export default function(component) {
  const { data, setTriggerValue, parentElement } = component;
  let root = parentElement.querySelector('.fg');
  if (!root) { root = document.createElement('div'); root.className = 'fg'; parentElement.appendChild(root); }
  if (root.dataset.token !== data.token) {
    root.dataset.token = data.token;
    root._cursor = 0;
    root._marked = new Set();
    const tiles = data.tiles.map((t, i) =>
      `<div class="fg-tile" data-i="${i}" data-row="${t.row}" data-id="${t.id}" data-suggested="${t.suggested}">` +
      `<img alt="#${t.id}" src="data:image/png;base64,${t.png}"><div class="fg-x">exception</div>` +
      (t.badge ? `<div class="fg-badge">${t.badge}</div>` : '') +
      `<div class="fg-cap">#${t.id} · ${t.strength}</div></div>`).join('');
    root.innerHTML =
      `<div class="fg-bar"><button class="fg-accept">Accept ${data.tiles.length} as ${data.label} (Enter)</button>` +
      `<span class="fg-count"></span></div>` +
      `<div class="fg-grid" style="grid-template-columns: repeat(${data.cols}, minmax(0, ${data.tile_px}px))">` +
      `${tiles}</div>`;
    root.querySelectorAll('.fg-tile').forEach((el) => {
      el.onclick = () => { root._cursor = Number(el.dataset.i); toggle(root._cursor); };
    });
    root.querySelector('.fg-accept').onclick = () => accept();
  }
  if (root._render !== data.render) {  // a new script run: an accept the server refused may be sent again
    root._render = data.render;
    delete root.dataset.sent;
    const button = root.querySelector('.fg-accept');
    if (button) button.disabled = false;
  }
  const n = data.tiles.length;
  function draw() {
    root.querySelectorAll('.fg-tile').forEach((el, i) => {
      el.classList.toggle('fg-cursor', i === root._cursor);
      el.classList.toggle('fg-marked', root._marked.has(i));
    });
    const m = root._marked.size;
    root.querySelector('.fg-count').textContent =
      `${m} exception${m === 1 ? '' : 's'} marked · ${n - m} will be labelled ${data.label}`;
    root.querySelector('.fg-accept').textContent = `Accept ${n - m} as ${data.label} (Enter)`;
  }
  function toggle(i) {
    if (root._marked.has(i)) root._marked.delete(i); else root._marked.add(i);
    draw();
  }
  function accept() {
    if (root.dataset.sent === data.token || n === 0) return;  // one accept per page, however fast the keys
    root.dataset.sent = data.token;
    root.querySelector('.fg-accept').disabled = true;
    root.querySelector('.fg-count').textContent = 'Saving…';
    const rows = [...root._marked].map((i) => data.tiles[i].row);
    setTriggerValue('accept', { token: data.token, exceptions: rows });
  }
  const onKey = (e) => {
    if (!root.isConnected) return;
    const t = e.target;
    const typing = t && (t.isContentEditable || ['TEXTAREA', 'SELECT'].includes(t.tagName) ||
      (t.tagName === 'INPUT' && !['radio', 'checkbox', 'button', 'range'].includes(t.type)));
    if (typing) return;  // keys typed into a text box or a select's search stay there
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: data.cols, ArrowUp: -data.cols };
    if (e.key in moves) {
      root._cursor = Math.min(n - 1, Math.max(0, root._cursor + moves[e.key]));
      draw();
    } else if (e.key === ' ' || e.key === 'x' || e.key === 'X') {
      toggle(root._cursor);
    } else if (e.key === 'Enter' || e.key === 'a' || e.key === 'A') {
      accept();
    } else {
      return;
    }
    e.preventDefault();
    e.stopPropagation();
  };
  if (root._onKey) document.removeEventListener('keydown', root._onKey, true);
  root._onKey = onKey;
  document.addEventListener('keydown', onKey, true);
  draw();
  return () => { document.removeEventListener('keydown', onKey, true); if (root._onKey === onKey) root._onKey = null; };
}
"""

# In the page DOM, not a shadow root: tests and the throughput bench read the tiles with plain selectors
_component = st.components.v2.component("fer_review_grid", css=CSS, js=JS, isolate_styles=False)


def png_b64(image: np.ndarray) -> str:
    ok, buf = cv2.imencode(".png", image)
    return base64.b64encode(buf.tobytes()).decode("ascii") if ok else ""


def review_grid(key: str, page, ds, suggestions, names, on_accept, render: int = 0, cols: int = 8,
                tile_px: int = 128):
    """Mount the grid for a GridPage (fer_core.relabel.review). Each face shows its id and the suggestion's
    strength, and a badge where the model names another class. `on_accept` runs before the next script run; the
    trigger ({token, exceptions}) is in st.session_state[key]['accept']; `render` changes with every script run, so
    that a page whose accept was refused can be accepted again. Ids and names are escaped: an image folder's file
    names reach this HTML."""
    s = suggestions
    label = html.escape(names[page.label])
    tiles = []
    for r in page.rows.tolist():
        other = s.model_label[r]
        tiles.append({"row": r, "id": html.escape(str(ds.ids[r])), "png": png_b64(ds.images[r]), "suggested": label,
                      "strength": f"votes {s.votes_share[r]:.0%}" if s.votes_label[r] != NONE else f"model {s.model_prob[r]:.0%}",
                      "badge": html.escape(f"model: {names[other]}") if other not in (NONE, page.label) else ""})
    return _component(key=key, data={"token": page.token, "label": label, "tiles": tiles, "cols": cols,
                                     "tile_px": tile_px, "render": render}, on_accept_change=on_accept)
