"""Colors every view shares: one color per unit (panels, diagram, inspector), heatmap tables.

No Qt here: colors are (r, g, b) tuples of ints in 0..255, lookup tables NumPy arrays, so the
diagram, the inspector, the panels and the CLI's screenshots all draw unit k in the same color.
"""

from __future__ import annotations

import colorsys
from functools import cache

import numpy as np

RGB = tuple[int, int, int]

# The first twenty units: Tableau's ten (with its grey swapped for a teal, so no unit looks
# disabled), then ten more mid-tone colors that read on white and on dark backgrounds.
UNIT_PALETTE: tuple[RGB, ...] = (
    (31, 119, 180),  # blue
    (255, 127, 14),  # orange
    (44, 160, 44),  # green
    (214, 39, 40),  # red
    (148, 103, 189),  # purple
    (140, 86, 75),  # brown
    (227, 119, 194),  # pink
    (0, 128, 128),  # teal
    (188, 189, 34),  # olive
    (23, 190, 207),  # cyan
    (128, 0, 64),  # wine
    (90, 90, 200),  # indigo
    (200, 120, 0),  # ochre
    (0, 100, 0),  # dark green
    (200, 0, 160),  # magenta
    (100, 60, 20),  # dark brown
    (0, 150, 255),  # azure
    (150, 150, 0),  # mustard
    (70, 70, 70),  # charcoal
    (255, 80, 120),  # coral
)

# Inputs x_t[j] are not units: a separate, muted palette keeps "x 0" from looking like unit 0.
INPUT_PALETTE: tuple[RGB, ...] = (
    (60, 60, 60),
    (0, 110, 160),
    (170, 90, 0),
    (110, 60, 150),
    (0, 130, 90),
    (160, 40, 80),
    (120, 120, 40),
    (60, 100, 180),
)

_GOLDEN = 0.618033988749895


def unit_color(k: int) -> RGB:
    """The color of hidden/cell unit k, the same in every view."""
    k = int(k)
    if k < 0:
        raise ValueError(f"unit index must be >= 0, got {k}")
    if k < len(UNIT_PALETTE):
        return UNIT_PALETTE[k]
    # Beyond the table: golden-ratio steps around the hue circle, alternating two tones.
    hue = (0.1 + k * _GOLDEN) % 1.0
    value = 0.80 if k % 2 else 0.62
    r, g, b = colorsys.hsv_to_rgb(hue, 0.75, value)
    return (round(r * 255), round(g * 255), round(b * 255))


def input_color(j: int) -> RGB:
    """The color of input component x_t[j]."""
    j = int(j)
    if j < len(INPUT_PALETTE):
        return INPUT_PALETTE[j]
    hue = (0.55 + j * _GOLDEN) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.55, 0.55)
    return (round(r * 255), round(g * 255), round(b * 255))


def hex_color(rgb: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def unit_color_hex(k: int) -> str:
    return hex_color(unit_color(k))


# Heatmap color tables, as (position, rgb) stops. "sequential" (viridis) for values in [0, 1]
# such as the sigmoid gates; "diverging" (blue - white - red) for signed values (g, c, h, z, x).
_STOPS: dict[str, tuple[tuple[float, RGB], ...]] = {
    "sequential": (
        (0.000, (68, 1, 84)),
        (0.125, (71, 44, 122)),
        (0.250, (59, 81, 139)),
        (0.375, (44, 113, 142)),
        (0.500, (33, 144, 141)),
        (0.625, (39, 173, 129)),
        (0.750, (92, 200, 99)),
        (0.875, (170, 220, 50)),
        (1.000, (253, 231, 37)),
    ),
    "diverging": (
        (0.00, (5, 48, 97)),
        (0.15, (33, 102, 172)),
        (0.30, (103, 169, 207)),
        (0.42, (209, 229, 240)),
        (0.50, (247, 247, 247)),
        (0.58, (253, 219, 199)),
        (0.70, (239, 138, 98)),
        (0.85, (178, 24, 43)),
        (1.00, (103, 0, 31)),
    ),
}
COLORMAPS = tuple(_STOPS)


def colormap_stops(name: str) -> tuple[tuple[float, RGB], ...]:
    return _STOPS[name]


@cache
def _lut(name: str) -> np.ndarray:
    pos = np.array([p for p, _ in _STOPS[name]])
    rgb = np.array([c for _, c in _STOPS[name]], dtype=float)
    x = np.linspace(0.0, 1.0, 256)
    table = np.stack([np.interp(x, pos, rgb[:, k]) for k in range(3)], axis=1)
    table = np.round(table).astype(np.uint8)
    table.setflags(write=False)
    return table


def colormap_lut(name: str) -> np.ndarray:
    """A (256, 3) uint8 lookup table: entry 0 is the low end of the range, 255 the high end."""
    if name not in _STOPS:
        raise KeyError(f"unknown colormap {name!r} (known: {', '.join(_STOPS)})")
    return _lut(name)
