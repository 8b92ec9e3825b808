"""Where everything sits on the cell diagram, in scene units. Plain Python, no Qt.

The classic layout: the cell-state line runs along the top (c_{t-1} -> x -> + -> c_t),
h_{t-1} enters at the bottom left and x_t from below, they merge into one line that feeds
the four layers (forget σ, input σ, candidate tanh, output σ); h_t leaves to the right and
upward. Each vector is drawn as a column of colored cells beside its wire; the diagram grows
taller with the number of units (up to 8 cells per column, then the cells get thinner).
"""

from __future__ import annotations

from dataclasses import dataclass

CELL_W = 54.0  # one colored cell of a vector column
CELL_H = 24.0  # up to 4 units; 20 for more
CELL_H_MANY = 20.0
MAX_CELLS = 8  # columns longer than this keep their length and thin the cells
LABEL_H = 20.0  # a column's label above it
NODE_R = 17.0  # radius of a pointwise-operation circle
BOX_W, BOX_H = 92.0, 58.0  # a gate layer

Point = tuple[float, float]
Rect = tuple[float, float, float, float]  # x, y, w, h


@dataclass
class Wire:
    component: str
    points: list[Point]
    arrow: bool = True
    width: float = 2.6
    casing: bool = False  # drawn over a white band, so a wire it crosses looks interrupted


@dataclass
class Column:
    component: str
    x: float
    y: float  # top of the first cell
    count: int
    label: str | None  # e.g. "f_t", drawn above the column
    horizontal: bool = False  # cells left to right (x_t, under the input line)


@dataclass
class Geometry:
    width: float
    height: float
    cell_body: Rect
    boxes: dict[str, tuple[Point, str, str]]  # gate -> (center, symbol, caption)
    nodes: dict[str, tuple[Point, str]]  # op -> (center, symbol)
    wires: list[Wire]
    columns: list[Column]
    labels: list[tuple[str, str, Point, str, float]]  # (component, math text, anchor, alignment, size)
    title_pos: Point
    legend_pos: Point  # top right corner of the color scale
    # how wide the title and the notes under it (what-if, stale) may be: they end before the
    # h_t wire that rises to the top edge (and its label), so they never cross it or c_t
    title_width: float | None = None
    # an LSTMP cell's W_hr box (center, width, height) between o⊙tanh(c_t) = r_t and h_t
    projection: tuple[Point, float, float] | None = None


def column_length(count: int) -> float:
    return min(count, MAX_CELLS) * (CELL_H if count <= 4 else CELL_H_MANY)


def cell_height(count: int) -> float:
    return column_length(count) / max(count, 1)


def row_length(count: int) -> float:
    return min(count, MAX_CELLS) * CELL_W


def cell_width(count: int) -> float:
    return row_length(count) / max(count, 1)


PROJ_W, PROJ_H = 64.0, 40.0  # the W_hr box of a projected cell
PROJ_SHIFT = 108.0  # how much further right h_t leaves when the W_hr box sits before it


def layout(n: int, m: int, p: int | None = None) -> Geometry:
    """p: the size of h_t for a projected (LSTMP) cell, drawn with its W_hr box; None: h is n."""
    L = column_length(n)
    projected = p is not None
    P = p if projected else n  # entries of h_t and h_{t-1}
    LP = column_length(P)
    r = NODE_R

    # -- rows (y) ---------------------------------------------------------------------------
    y_c = 76.0  # the cell-state line
    y_tanh = y_c + 46.0  # the tanh node hanging from the c line
    # mul_i / mul_o row: room for the tanh(c_t) column between the tanh node and it
    y_mul = y_tanh + 16 + LABEL_H + L + 12 + r
    box_top = y_mul + r + 14 + LABEL_H + L + 12
    y_box = box_top + BOX_H / 2
    y_bus = box_top + BOX_H + 38
    y_bottom = y_bus + 18 + CELL_H + 28  # x_t's row of cells sits under the input line
    height = y_bottom + 34

    # -- columns (x) --------------------------------------------------------------------------
    x_in = 14.0  # where c_{t-1} and h_{t-1} enter
    x_body0 = 140.0
    x_x = 180.0  # x_t comes up here
    x_f, x_i, x_g, x_o = 270.0, 448.0, 580.0, 744.0
    x_mo = 872.0  # tanh and mul_o
    shift = PROJ_SHIFT if projected else 0.0
    x_proj = x_mo + 120.0  # the W_hr box, when projected
    x_hup = 946.0 + shift  # h_t goes up and down here
    x_body1 = 970.0 + shift
    x_out = 1070.0 + shift
    width = x_out + 12

    body = (x_body0, y_c - 40, x_body1 - x_body0, y_bus + 10 - (y_c - 40))

    boxes = {
        "f": ((x_f, y_box), "σ", "forget"),
        "i": ((x_i, y_box), "σ", "input"),
        "g": ((x_g, y_box), "tanh", "candidate"),
        "o": ((x_o, y_box), "σ", "output"),
    }
    nodes = {
        "mul_f": ((x_f, y_c), "×"),
        "add_c": ((x_g, y_c), "+"),
        "mul_i": ((x_g, y_mul), "×"),
        "tanh_c": ((x_mo, y_tanh), "tanh"),
        "mul_o": ((x_mo, y_mul), "×"),
    }
    box_bottom = box_top + BOX_H
    wires = [
        # memory line
        Wire("c_prev", [(x_in, y_c), (x_f - r, y_c)], width=3.6),
        Wire("mul_f", [(x_f + r, y_c), (x_g - r, y_c)], width=3.6),
        Wire("c", [(x_g + r, y_c), (x_out, y_c)], width=3.6),
        Wire("c", [(x_mo, y_c), (x_mo, y_tanh - 14)], arrow=True),
        Wire("tanh_c", [(x_mo, y_tanh + 14), (x_mo, y_mul - r)]),
        # inputs
        Wire("h_prev", [(x_in, y_bus), (x_x, y_bus)], arrow=False),
        Wire("x", [(x_x, y_bottom), (x_x, y_bus)], arrow=False),
        Wire("concat", [(x_x, y_bus), (x_o, y_bus)], arrow=False),
        *[Wire("concat", [(x, y_bus), (x, box_bottom)]) for x in (x_f, x_i, x_g, x_o)],
        # gate outputs
        Wire("f", [(x_f, box_top), (x_f, y_c + r)]),
        Wire("i", [(x_i, box_top), (x_i, y_mul), (x_g - r, y_mul)]),
        Wire("g", [(x_g, box_top), (x_g, y_mul + r)]),
        Wire("mul_i", [(x_g, y_mul - r), (x_g, y_c + r)]),
        Wire("o", [(x_o, box_top), (x_o, y_mul), (x_mo - r, y_mul)]),
        # outputs
        *([Wire("mul_o", [(x_mo + r, y_mul), (x_proj - PROJ_W / 2, y_mul)]),
           Wire("h", [(x_proj + PROJ_W / 2, y_mul), (x_hup, y_mul), (x_hup, y_bus), (x_out, y_bus)])]
          if projected else
          [Wire("h", [(x_mo + r, y_mul), (x_hup, y_mul), (x_hup, y_bus), (x_out, y_bus)])]),
        Wire("h", [(x_hup, y_mul), (x_hup, 6.0)], casing=True),
    ]

    def col_below_line(x: float, y_line: float) -> float:
        return y_line + 14 + LABEL_H

    pad = 10.0
    columns = [
        Column("c_prev", x_in + 44, col_below_line(0, y_c), n, None),
        Column("h_prev", x_in + 44, y_bus - 12 - LP, P, None),
        Column("x", x_x + 14, y_bus + 18, m, None, horizontal=True),
        Column("mul_f", (x_f + x_g) / 2 - CELL_W / 2 - 12, col_below_line(0, y_c), n, "f⊙c_{t-1}"),
        Column("f", x_f + pad, box_top - 12 - L, n, "f_t"),
        Column("i", x_i - pad - CELL_W, box_top - 12 - L, n, "i_t"),
        Column("g", x_g + pad, box_top - 12 - L, n, "g_t"),
        Column("mul_i", x_g + pad, y_c + r + 12 + LABEL_H, n, "i⊙g"),
        Column("o", x_o + pad, box_top - 12 - L, n, "o_t"),
        Column("tanh_c", x_mo + pad, y_tanh + 16 + LABEL_H, n, "tanh c_t"),
        Column("c", x_out - 12 - CELL_W, col_below_line(0, y_c), n, None),
        Column("h", x_out - 12 - CELL_W, y_bus - 12 - LP, P, None),
    ]
    if projected:  # r_t = o_t ⊙ tanh(c_t), n values, under the wire into W_hr
        columns.append(Column("mul_o", x_mo + 22, y_mul + r + 4 + LABEL_H, n, "r_t"))
    labels = [
        ("c_prev", "c_{t-1}", (x_in, y_c - 12), "bottom-left", 24.0),
        ("h_prev", "h_{t-1}", (x_in, y_bus + 12), "top-left", 24.0),
        ("x", "x_t", (x_x, y_bottom + 4), "top-center", 24.0),
        ("c", "c_t", (x_out, y_c - 12), "bottom-right", 24.0),
        ("h", "h_t", (x_out, y_bus + 12), "top-right", 24.0),
        ("h", "h_t", (x_hup + 12, 4.0), "top-left", 24.0),
        ("concat", "[h_{t-1}, x_t]", (x_x + 8, y_bus - 3), "bottom-left", 13.0),
    ]
    return Geometry(
        width=width,
        height=height,
        cell_body=body,
        boxes=boxes,
        nodes=nodes,
        wires=wires,
        columns=columns,
        labels=labels,
        title_pos=(x_body0 + 4, 6.0),
        legend_pos=(x_out, y_bottom - 6),
        title_width=x_hup - 10 - (x_body0 + 4),
        projection=((x_proj, y_mul), PROJ_W, PROJ_H) if projected else None,
    )
