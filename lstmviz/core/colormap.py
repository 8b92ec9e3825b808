"""A diverging colormap for per-unit values, and cell-label formatting. No Qt.

One fixed scale everywhere on the diagram: -1 is deep blue, 0 is white, +1 is deep red;
values beyond +-1 saturate (the number written in the cell tells the rest). So a gate at 0
is white (nothing passes), a gate at 1 is full red, and tanh-range values (g, c, h) use
both halves.
"""

from __future__ import annotations

import numpy as np

# ColorBrewer RdBu (11 classes), blue for negative, red for positive, light grey-white at 0.
_ANCHORS = np.array(
    [
        (5, 48, 97),
        (33, 102, 172),
        (67, 147, 195),
        (146, 197, 222),
        (209, 229, 240),
        (247, 247, 247),
        (253, 219, 199),
        (244, 165, 130),
        (214, 96, 77),
        (178, 24, 43),
        (103, 0, 31),
    ],
    dtype=np.float64,
)


def _make_lut(size: int = 256) -> np.ndarray:
    positions = np.linspace(0.0, 1.0, len(_ANCHORS))
    t = np.linspace(0.0, 1.0, size)
    lut = np.stack([np.interp(t, positions, _ANCHORS[:, k]) for k in range(3)], axis=1)
    return np.round(lut).astype(np.uint8)


LUT = _make_lut()
LUT_SIZE = len(LUT)


def _make_dark_ink(lut: np.ndarray) -> np.ndarray:
    luminance = lut.astype(np.float64) @ np.array([0.2126, 0.7152, 0.0722])
    return luminance > 120


DARK_INK = _make_dark_ink(LUT)  # per LUT entry: True where black text reads better than white
INK_DARK = (20, 20, 20)
INK_LIGHT = (255, 255, 255)


def color_indices(values, vmax: float = 1.0, out: np.ndarray | None = None) -> np.ndarray:
    """uint8 indices into LUT (0 = -vmax, 255 = +vmax, NaN -> the middle), vectorised.

    The same colors as `diverging_rgb`: LUT[color_indices(v)] == diverging_rgb(v). A view keeps
    one prebuilt color per LUT entry and paints with these indices (no per-cell color math).
    """
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    t = (v / float(vmax) + 1.0) * (0.5 * (LUT_SIZE - 1))
    np.clip(t, 0.0, LUT_SIZE - 1, out=t)
    t[np.isnan(t)] = 0.5 * (LUT_SIZE - 1)
    np.rint(t, out=t)
    if out is None:
        return t.astype(np.uint8)
    out[...] = t
    return out


def diverging_rgb(values, vmax: float = 1.0) -> np.ndarray:
    """(N, 3) uint8 colors for values on the symmetric scale [-vmax, vmax]."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    t = np.clip((v / float(vmax) + 1.0) * 0.5, 0.0, 1.0)
    t = np.nan_to_num(t, nan=0.5)
    return LUT[np.round(t * (len(LUT) - 1)).astype(np.intp)]


def text_rgb(rgb) -> tuple[int, int, int]:
    """Black or white, whichever reads better on a cell of this color."""
    r, g, b = (float(c) for c in rgb)
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return (20, 20, 20) if luminance > 120 else (255, 255, 255)


def cell_colors(values, vmax: float = 1.0) -> list[tuple[tuple[int, int, int], tuple[int, int, int]]]:
    """(fill, text) color pairs as plain tuples, ready for a view to paint."""
    fills = diverging_rgb(values, vmax)
    return [(tuple(int(c) for c in rgb), text_rgb(rgb)) for rgb in fills]


def ink_rgb(index: int) -> tuple[int, int, int]:
    """The text color for a cell painted with LUT[index] (same as text_rgb(LUT[index]))."""
    return INK_DARK if DARK_INK[int(index)] else INK_LIGHT


def format_cell(value: float) -> str:
    """A short label for a colored cell (at most 5 characters): 0.98, −0.60, 12.3, 92."""
    v = float(value)
    if not np.isfinite(v):
        return "nan" if np.isnan(v) else ("+inf" if v > 0 else "−inf")
    if v == int(v) and abs(v) < 1000:
        text = f"{int(v)}"
    elif abs(v) >= 99.95:
        text = f"{v:.0f}"
    elif abs(v) >= 9.995:
        text = f"{v:.1f}"
    else:
        text = f"{v:.2f}"
        if text in ("-0.00", "0.00") and v != 0:
            text = "0.00" if v > 0 else "-0.00"
    return text.replace("-", "−")


def gradient_stops(count: int = 11) -> list[tuple[float, tuple[int, int, int]]]:
    """(position in [0, 1], rgb) stops for drawing the scale as a gradient."""
    stops = []
    for k in range(count):
        t = k / (count - 1)
        rgb = LUT[int(round(t * (len(LUT) - 1)))]
        stops.append((t, tuple(int(c) for c in rgb)))
    return stops
