"""Colors, fonts and sizes shared by the Qt views (the classic diagram's palette)."""

from __future__ import annotations

from PySide6.QtGui import QBrush, QColor, QFont

from lstmviz.core.colormap import LUT, ink_rgb

# The classic diagram: a pale green cell, yellow network layers, pink pointwise operations.
CELL_FILL = QColor(226, 240, 226)
CELL_BORDER = QColor(126, 170, 128)
GATE_FILL = QColor(255, 224, 120)
GATE_BORDER = QColor(170, 130, 20)
OP_FILL = QColor(248, 196, 212)
OP_BORDER = QColor(176, 84, 116)
WIRE = QColor(40, 40, 40)
MEMORY_WIRE = QColor(20, 20, 20)
LABEL = QColor(25, 25, 25)
CAPTION = QColor(90, 90, 90)
HOVER = QColor(255, 140, 0, 150)
SELECTED = QColor(30, 110, 230, 150)
SELECTED_SOLID = QColor(30, 110, 230)
CELL_OUTLINE = QColor(110, 110, 110)
BACKGROUND = QColor(255, 255, 255)
WHATIF = QColor(196, 0, 140)  # a part a what-if intervention changes (dashed outline, tag)
HTML_WHATIF = "#c4008c"
STALE = QColor(176, 96, 0)  # the note that the values shown are from before an edit (a rerun runs)
HTML_STALE = "#b06000"

# Inspector highlights (HTML).
HTML_UNIT_ROW = "#dbe8ff"
HTML_U_BLOCK = "#fff3d6"
HTML_W_BLOCK = "#e3f4e3"
HTML_MUTED = "#666666"

FONT_FAMILY = "DejaVu Sans"
MATH_FAMILY = "DejaVu Serif"


def font(pixel_size: int, *, bold: bool = False, italic: bool = False, family: str = FONT_FAMILY) -> QFont:
    f = QFont(family)
    f.setPixelSize(pixel_size)
    f.setBold(bold)
    f.setItalic(italic)
    f.setHintingPreference(QFont.HintingPreference.PreferNoHinting)  # scales smoothly
    return f


def math_font(pixel_size: int, *, italic: bool = True, bold: bool = False) -> QFont:
    return font(pixel_size, italic=italic, bold=bold, family=MATH_FAMILY)


def rgb(color: tuple[int, int, int]) -> QColor:
    return QColor(int(color[0]), int(color[1]), int(color[2]))


# The diagram's cell colors, built once: entry k paints a cell whose color index is k
# (lstmviz.core.colormap.color_indices), with its text in CELL_INKS[k].
CELL_COLORS: tuple[QColor, ...] = tuple(QColor(int(r), int(g), int(b)) for r, g, b in LUT)
CELL_BRUSHES: tuple[QBrush, ...] = tuple(QBrush(color) for color in CELL_COLORS)
CELL_INKS: tuple[QColor, ...] = tuple(rgb(ink_rgb(k)) for k in range(len(LUT)))
CELL_COLOR_TABLE: list[int] = [color.rgb() for color in CELL_COLORS]  # 0xffRRGGBB (column images)


_PLAIN, _SUBSCRIPT = "0123456789+-−=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"
_SUBSCRIPTS = str.maketrans(_PLAIN, _SUBSCRIPT)


def plain_math(text: str) -> str:
    """Formula notation as plain text for menus, tool tips and titles (which show no rich
    text): x_t -> xₜ, h_{t-1} -> hₜ₋₁. A subscript with a letter Unicode lacks stays as _{…}."""
    import re

    def sub(match: re.Match) -> str:
        body = match.group(1).strip("{}")
        if not all(ch in _PLAIN for ch in body):
            return match.group(0)
        return body.translate(_SUBSCRIPTS)

    return re.sub(r"_(\{[^}]*\}|[A-Za-z0-9]+)", sub, text)
