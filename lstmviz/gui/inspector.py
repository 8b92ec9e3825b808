"""The Inspector dock: the selected component's equation, term shapes and worked arithmetic.

All numbers come from `lstmviz.core.explain.explain` (Qt-free, unit-tested); this module only
formats them as rich text. It writes to the Document through set_unit / set_option /
set_selection (links in the text select the component they name).
"""

from __future__ import annotations

import re
import time
from functools import lru_cache
from typing import NamedTuple

from PySide6.QtCore import QEvent, Qt, QTimer, QUrl
from PySide6.QtGui import QFont, QFontMetricsF, QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from lstmviz.components import COMPONENTS, to_html
from lstmviz.core.explain import (
    TERMS_ALL,
    CellPath,
    CellWork,
    Explanation,
    GateWork,
    HiddenWork,
    MatVec,
    ProjectionWork,
    VectorWork,
    activation_symbol,
    cell_reading,
    explain,
    format_number,
    format_short,
    gate_reading,
    squash_reading,
    term_count,
    term_limit,
)
from lstmviz.gui import style
from lstmviz.gui.binding import bind
from lstmviz.gui.spinbox import SpinBox

FORMS = (
    ("separate", "W·x + U·h  (PyTorch)"),
    ("h_first", "W·[h_{t-1}, x_t]  (Colah)"),
    ("x_first", "W·[x_t, h_{t-1}]"),
)
TABLE_ROWS_MAX = 16  # per-unit tables longer than this show the chosen unit only
BOLD = "font-weight:bold;"
LAYOUT_TRIES = 3  # a page is made at most this many times to fit the inspector's width
RELAYOUT_MS = 120  # after a resize of the dock, lay the equations out again this much later
THROTTLE = 3.0  # refresh at most every 3x the time the last refresh took ...
STREAM_GAP_S = 0.25  # ... and no more than 4 times a second while steps stream in (playback:
# a refresh costs most of a 60 fps frame on a slow machine; the last step is always shown) ...
MAX_GAP_S = 0.4  # ... but at least this often

CSS = f"""
body {{ font-family: '{style.FONT_FAMILY}'; font-size: 13px; color: #1a1a1a; }}
h2 {{ font-size: 17px; margin: 2px 0 2px 0; }}
h3 {{ font-size: 14px; margin: 12px 0 4px 0; color: #234; }}
.formula {{ font-family: '{style.MATH_FAMILY}'; font-size: 15px; margin: 4px 0 4px 0; }}
.muted {{ color: {style.HTML_MUTED}; }}
.note {{ color: #35506b; }}
td, th {{ white-space: nowrap; }}
td.wrap {{ white-space: normal; }}
td.num {{ text-align: right; font-family: '{style.FONT_FAMILY}'; }}
a {{ color: #1a5fb4; text-decoration: none; }}
.whatif {{ color: {style.HTML_WHATIF}; font-weight: bold; }}
"""


# -- formatting helpers ------------------------------------------------------------------------
def num(value: float, digits: int = 4) -> str:
    return format_number(value, digits)


def factor(value: float, digits: int = 4) -> str:
    """A number as the second factor of a product: negatives in parentheses."""
    text = num(value, digits)
    return f"({text})" if text.startswith("−") else text


def sym(text: str) -> str:
    return f"<span style=\"font-family:'{style.MATH_FAMILY}'\">{to_html(text)}</span>"


def link(component: str, text: str | None = None) -> str:
    label = sym(text if text is not None else COMPONENTS[component].symbol)
    return f"<a href='select:{component}'>{label}</a>"


def _bracket_cell(left: bool, first: bool, last: bool) -> str:
    side = "left" if left else "right"
    ticks = ("border-top:2px solid #333;" if first else "") + (
        "border-bottom:2px solid #333;" if last else ""
    )
    return f"<td width='4' style='border-{side}:2px solid #333;{ticks}'></td>"


# -- equations laid out to the inspector's width -----------------------------------------------
# Widths are measured with the page's own fonts (QFontMetricsF), so a row of matrices can be
# broken where the browser would otherwise scroll sideways.
CELL_PADDING_PX = 6  # a number cell's left and right padding
BRACKETS_PX = 14  # a matrix's two bracket columns, with their borders
PART_PADDING_PX = 2  # the cell each part of an equation row sits in
INDENT_PX = 24  # a continued row starts this far in
NORMAL = {"digits": 3, "size": None}  # (None: the page's cell font)
SMALL = {"digits": 2, "size": 11}  # the smaller matrices tried when the normal ones don't fit


class Part(NamedTuple):
    """One piece of an equation row: a matrix or an operator, its caption, its width in px."""

    body: str
    caption: str
    width: float
    breaks: bool = False  # a row may be broken before this part (an operator)


@lru_cache(maxsize=4096)
def text_px(text: str, size: int | None = None, family: str = style.FONT_FAMILY) -> float:
    """How wide `text` (plain, or HTML whose tags are dropped) is drawn at `size` px; None: in
    a table cell that sets no size (a rich-text cell does not inherit the body's size)."""
    plain = re.sub(r"<[^>]*>", "", text).replace("&nbsp;", "\u00a0")
    return _metrics(size, family).horizontalAdvance(plain)


@lru_cache(maxsize=16)
def _metrics(size: int | None, family: str) -> QFontMetricsF:
    font = QFont(_cell_font()) if size is None else QFont(family)
    font.setFamily(family)
    if size is not None:
        font.setPixelSize(size)
    return QFontMetricsF(font)


@lru_cache(maxsize=1)
def _cell_font() -> QFont:
    """The font a number cell of the page is drawn in, as laid out by Qt's rich text."""
    probe = QTextDocument()
    probe.setHtml(f"<style>{CSS}</style><table><tr><td class='num'>0</td></tr></table>")
    cursor = QTextCursor(probe)
    cursor.setPosition(2)
    return cursor.charFormat().font()


def matrix_part(rows, caption: str = "", highlight: int | None = None,
                tints: tuple[str, ...] | None = None, digits: int = 3, size: int | None = None) -> Part:
    """A matrix (or a column vector: rows of one) in brackets, row `highlight` shaded, `tints`
    the background of each column (of each row, for a column vector)."""
    count = len(rows)
    texts = [[num(value, digits) for value in row] for row in rows]
    font = "" if size is None else f"font-size:{size}px;"
    out = ["<table cellspacing='0' cellpadding='0' style='border-collapse:collapse'>"]
    for r, row in enumerate(texts):
        out.append("<tr>")
        out.append(_bracket_cell(True, r == 0, r == count - 1))
        for c, text in enumerate(row):
            bg = ""
            if r == highlight:
                bg = f"background:{style.HTML_UNIT_ROW};"
            elif tints is not None:
                bg = f"background:{tints[c if len(row) > 1 else r]};"
            out.append(f"<td class='num' style='padding:1px 3px;{font}{bg}'>{text}</td>")
        out.append(_bracket_cell(False, r == 0, r == count - 1))
        out.append("</tr>")
    out.append("</table>")
    width = BRACKETS_PX + sum(max(text_px(text, size) for text in col) + CELL_PADDING_PX
                              for col in zip(*texts))
    return Part("".join(out), caption, max(width, text_px(caption, 11)) + PART_PADDING_PX)


def column(values) -> list[tuple[float]]:
    return [(v,) for v in values]


def op(text: str, size: int = 16) -> Part:
    """An operator between matrices: = + · or a few words (") =", ", ±1) =")."""
    html = f"&nbsp;{text}&nbsp;"
    return Part(f"<span style='font-size:{size}px'>{html}</span>", "",
                text_px(html, size) + PART_PADDING_PX, breaks=True)


def lead(html: str) -> Part:
    """The words an equation row starts with ("fₜ = σ(")."""
    return Part(f"<span style='font-size:15px'>{html}</span>", "", text_px(html, 15) + PART_PADDING_PX)


def equation_row(parts: list[Part]) -> str:
    """Matrices and operators side by side, with a caption under each matrix."""
    top = "".join(
        f"<td valign='middle' align='center' style='padding:0 1px'>{p.body}</td>" for p in parts
    )
    bottom = "".join(
        f"<td align='center' class='muted' style='font-size:11px'>{p.caption}</td>" for p in parts
    )
    return f"<table cellspacing='0' cellpadding='0'><tr>{top}</tr><tr>{bottom}</tr></table>"


def equation_lines(parts: list[Part], width: float) -> list[list[Part]] | None:
    """The parts in as few rows as fit `width`, broken before operators (a continued row is
    indented); None when one piece alone is wider than `width`."""
    pieces: list[list[Part]] = []
    for part in parts:
        if part.breaks or not pieces:
            pieces.append([part])
        else:
            pieces[-1].append(part)
    indent = Part("", "", INDENT_PX)
    lines: list[list[Part]] = [[]]
    used = 0.0
    for piece in pieces:
        need = sum(p.width for p in piece)
        if lines[-1] and used + need > width:
            lines.append([indent])
            used = INDENT_PX
        if used + need > width:
            return None
        lines[-1].extend(piece)
        used += need
    return lines


def equation_rows(parts: list[Part], width: float) -> str | None:
    """equation_row, broken into rows that fit `width`; None if it cannot be made to fit."""
    lines = equation_lines(parts, width)
    if lines is None:
        return None
    return "<div style='margin-top:2px'></div>".join(equation_row(line) for line in lines)


# -- sections ----------------------------------------------------------------------------------
def header_html(ex: Explanation) -> str:
    comp = ex.component
    title = comp.name[0].upper() + comp.name[1:]
    if comp.symbol not in comp.name and style.plain_math(comp.symbol) not in comp.name:
        title += f"  {comp.symbol}"
    formula, description = ex.formula or comp.formula, comp.description
    if ex.cell_activation != "tanh" and comp.id == "tanh_c":
        title = f"{ex.cell_activation} of the cell state"
    description = for_activation(to_html(description), ex.cell_activation)
    if ex.input_forget and comp.id == "f":
        description = ("Coupled to the input gate (ONNX input_forget = 1): f<sub>t</sub> = 1 − "
                       "i<sub>t</sub>, whatever its own weights give; what is written is what is forgotten.")
    if ex.p is not None and comp.id in ("h", "mul_o"):  # a projected (LSTMP) cell
        description = to_html(f"With the projection W_hr ({ex.p}×{ex.n}), h_t has p = {ex.p} entries and "
                              f"goes on to the next step as h_{{t-1}}; r_t and c_t have n = {ex.n}.")
    return (
        f"<h2>{to_html(title)}</h2>"
        f"<div class='formula'>{formula_html(formula)}</div>"
        f"<div class='muted'>{description}</div>"
        f"<div class='muted'>Step t = {ex.step} of 0…{ex.T - 1}; unit k = {ex.unit} of {ex.n}.</div>"
        f"{masked_html(ex)}"
    )


def formula_html(text: str) -> str:
    """to_html, keeping activation names such as hard_sigmoid whole (not hard with a subscript)."""
    names = ("hard_sigmoid_keras3", "hard_sigmoid")
    for j, name in enumerate(names):
        text = text.replace(name, f"\x00{j}\x00")
    html = to_html(text)
    for j, name in enumerate(names):
        html = html.replace(f"\x00{j}\x00", name)
    return html


def for_activation(text: str, cell_activation: str) -> str:
    """A sentence written for tanh, said of the cell's own activation (relu is not bounded)."""
    if cell_activation == "tanh":
        return text
    for bound in (", in (-1, 1)", " in (-1, 1)", " into (-1, 1)"):
        text = text.replace(bound, "")
    return text.replace("Squashes", "Passes").replace("tanh", cell_activation)


def masked_html(ex: Explanation) -> str:
    """The line that says this step is masked (Keras Masking), and what that means here."""
    if not ex.masked:
        return ""
    return (
        f"<div class='note'><b>Masked step</b>: x<sub>t</sub> equals the mask value "
        f"{num(ex.mask_value)} in every column, so the cell carries its state: "
        "c<sub>t</sub> = c<sub>t−1</sub> and h<sub>t</sub> = h<sub>t−1</sub>. The gates below are "
        "still computed (and recorded) from x<sub>t</sub>, as Keras does, but nothing they give is "
        "used.</div>"
    )


def shapes_html(ex: Explanation, concat: str = "separate") -> str:
    rows = "".join(
        f"<tr><td>{for_activation(sym(in_form(term, concat)), ex.cell_activation)}</td>"
        f"<td class='num' style='padding-left:14px'>{shape.replace('x', ' × ')}</td></tr>"
        for term, shape in ex.shapes
    )
    if ex.p is None:
        sizes = (
            f"x<sub>t</sub> has m = {ex.m} entries; h<sub>t</sub> and c<sub>t</sub> both have "
            f"n = {ex.n} (the cell state and the hidden state are the same size)."
        )
    else:
        sizes = (
            f"x<sub>t</sub> has m = {ex.m} entries; c<sub>t</sub> and r<sub>t</sub> = "
            f"o<sub>t</sub> ⊙ {ex.cell_activation}(c<sub>t</sub>) have n = {ex.n}; the projection "
            f"h<sub>t</sub> = W<sub>hr</sub>·r<sub>t</sub> has p = {ex.p} (proj_size), so "
            f"h<sub>t-1</sub> and U are n × p = {ex.n} × {ex.p}."
        )
    return (
        f"<h3>Shapes</h3><table cellspacing='0' cellpadding='1'>{rows}</table>"
        f"<div class='muted'>{sizes}</div>"
    )


def in_form(term: str, concat: str) -> str:
    """A shape's term as the chosen form writes it: W·[x_t, h_{t-1}] = [W | U] for x first."""
    if concat != "x_first":
        return term
    term = term.replace("[h_{t-1}, x_t]", "[x_t, h_{t-1}]")
    return re.sub(r"\[U_(\w) \| W_(\w)\]", r"[W_\2 | U_\1]", term)


def _term_rows(terms, limit: int | None = 12, layout: str = "beside") -> tuple[list[str], int, float]:
    """A sum's terms as table rows: "name | coef × value | = product" (`layout` "beside"), the
    name on a row of its own above the numbers ("below", for a narrow page), or above one line
    of numbers that may wrap ("wrapped", narrower still)."""
    shown, rest, rest_sum = terms.shown(len(terms.terms) if limit is None else limit)
    rows = [term_row(f"{sym(t.coef_name)} · {sym(t.var_name)}", f"{num(t.coef)} × {factor(t.value)}",
                     num(t.product), layout) for t in shown]
    return rows, rest, rest_sum


def term_row(name: str, product: str, value: str, layout: str) -> str:
    if layout == "wrapped":
        return (f"<tr><td colspan='3'>{name}</td></tr><tr><td colspan='3' "
                f"style='white-space:normal; padding-left:12px'>{product} = {value}</td></tr>")
    padding = "4px" if layout == "below" else "12px"  # (below: the empty first cell indents)
    numbers = (f"<td class='num' style='padding-left:{padding}'>{product}</td>"
               f"<td class='num' style='padding-left:8px'>= {value}</td></tr>")
    if layout == "below":
        return f"<tr><td colspan='3'>{name}</td></tr><tr><td></td>{numbers}"
    return f"<tr><td>{name}</td>{numbers}"


TERM_PADDING_PX = 12 + 8 + 12  # the term table's paddings: 12 and 8 px, and cellpadding='2'


def term_layout(term_lists, width: float, limit: int | None = 12) -> str:
    """How a term table of these sums fits `width` px: "beside", "below" or "wrapped"."""
    names = products = values = 0.0
    for terms in term_lists:
        shown, _, _ = terms.shown(len(terms.terms) if limit is None else limit)
        for t in shown:
            names = max(names, text_px(f"{t.coef_name} · {t.var_name}", None, style.MATH_FAMILY))
            products = max(products, text_px(f"{num(t.coef)} × {factor(t.value)}"))
            values = max(values, text_px(f"= {num(t.product)}"))
    if names + products + values + TERM_PADDING_PX <= width:
        return "beside"
    return "below" if products + values + TERM_PADDING_PX - 8 + 4 <= width else "wrapped"


SHOW_ALL_TERMS = "terms:all"
SHOW_FEWER_TERMS = "terms:fewer"


def gate_unit_html(ex: Explanation, work: GateWork, concat: str, expanded: bool = False,
                   whatif: tuple = (), stale: bool = False, width: float = 350) -> str:
    u = work.unit
    g, k = u.gate, u.unit
    act = activation_symbol(u.activation)
    rows: list[str] = []
    sep = "<tr><td colspan='3' style='border-top:1px solid #999; font-size:2px'></td></tr>"
    limit = term_limit(u, expanded)
    sums = [u.input_terms, u.recurrent_terms]
    layout = term_layout(sums, width, limit)

    def block(terms, label):
        lines, rest, rest_sum = _term_rows(terms, limit, layout)
        rows.extend(lines)
        if rest:
            rows.append(
                f"<tr><td colspan='2' class='muted' style='white-space:normal'>… {rest} more terms, sum "
                f"(<a href='{SHOW_ALL_TERMS}'>show all</a>)</td>"
                f"<td class='num'>= {num(rest_sum)}</td></tr>"
            )
        rows.append(sep)
        rows.append(
            f"<tr><td colspan='2' style='white-space:normal'><b>{label}</b></td>"
            f"<td class='num'><b>= {num(terms.total)}</b></td></tr>"
        )

    block(u.input_terms, f"Σ<sub>j</sub> W<sub>{g}</sub>[{k},j] · x<sub>t</sub>[j]")
    block(u.recurrent_terms, f"Σ<sub>j</sub> U<sub>{g}</sub>[{k},j] · h<sub>t−1</sub>[j]")
    parts = [num(u.input_terms.total), num(u.recurrent_terms.total), num(u.bias)]
    if u.peephole is not None:
        p = u.peephole
        rows.append(term_row(f"{sym(p.coef_name)} · {sym(p.var_name)} (peephole)",
                             f"{num(p.coef)} × {factor(p.value)}", num(p.product), layout))
        parts.append(num(p.product))
    rows.append(f"<tr><td colspan='2'>+ bias {sym(f'b_{g}')}[{k}]</td>"
                f"<td class='num'>= {num(u.bias)}</td></tr>")
    rows.append(sep)
    sum_text = " + ".join(p if not p.startswith("−") else f"({p})" for p in parts)
    z_sum = u.z if u.z_sum is None else u.z_sum
    # the sum is a line across the table that may wrap: in a column of its own it widened the
    # table past the dock (the values column then sat beyond the right edge on every row)
    rows.append(
        f"<tr><td colspan='3' style='white-space:normal'><span style='font-size:15px'><b>z<sub>{g}</sub>[{k}]"
        f"</b></span> = {sum_text} <span style='font-size:15px'><b>= {num(z_sum)}</b></span></td></tr>"
    )
    if u.clip is not None:  # ONNX clip: the activation sees z bounded to [-clip, clip]
        bound = num(u.clip)
        held = "held at the bound" if u.z != z_sum else "inside, unchanged"
        rows.append(
            f"<tr><td colspan='3' style='white-space:normal'>clipped to [−{bound}, {bound}]: "
            f"clip({num(z_sum)}, ±{bound}) ({held}) <b>= {num(u.z)}</b></td></tr>"
        )
    value = num(u.value)
    if u.distance_to_bound is not None and u.value not in (0.0, 1.0):
        gap = num(u.distance_to_bound, 3)
        value = f"1 − {gap}" if u.value > 0.5 else gap
    # the gate's value is a line across the table that may wrap, as the sum above
    head = f"<span style='font-size:15px'><b>{g}<sub>t</sub>[{k}]</b></span>"

    def result(text: str, shown: str) -> str:
        return (f"<tr><td colspan='3' style='white-space:normal'>{head} = {text} "
                f"<span style='font-size:15px'><b>= {shown}</b></span></td></tr>")

    if u.coupled_i is not None:  # ONNX input_forget: f = 1 - i, z_f unused
        rows.append(result(f"1 − i<sub>t</sub>[{k}] = 1 − {num(u.coupled_i)}", value))
    elif whatif and abs(u.value - u.value_recorded) > 1e-12 * max(1.0, abs(u.value)):
        # the headline is the value the rerun uses (the diagram's and the traces'), not the
        # plain formula's: a learner reads this line first (found by a new-user helper)
        rows.append(
            result("<span class='whatif'>what-if</span>", num(u.value_recorded))
            + f"<tr><td colspan='3' class='muted'>without it: {act}({num(u.z)}) = {value}</td></tr>"
        )
    else:
        rows.append(result(f"{act}({num(u.z)})", value))
    peep = ""
    if u.peephole is not None:
        peep = f" + {to_html(u.peephole.coef_name)}·{to_html(u.peephole.var_name)}"
    html = [
        f"<h3>Unit k = {k}: z<sub>{g}</sub>[{k}] = W<sub>{g}</sub>[{k},:]·x<sub>t</sub> + "
        f"U<sub>{g}</sub>[{k},:]·h<sub>t−1</sub>{peep} + b<sub>{g}</sub>[{k}]</h3>",
        f"<table cellspacing='0' cellpadding='2'>{''.join(rows)}</table>",
    ]
    if u.coupled_i is not None:
        html.append(
            "<div class='note'>input_forget (ONNX): the forget gate is coupled to the input gate, "
            "f<sub>t</sub> = 1 − i<sub>t</sub>. z<sub>f</sub> above is computed and recorded but "
            "not used.</div>"
        )
    if limit is not None:
        html.append(
            f"<div class='muted'>The {limit} largest terms of each sum are listed "
            f"(of {term_count(u)} in all): <a href='{SHOW_ALL_TERMS}'>show all terms</a>.</div>"
        )
    elif term_count(u) > TERMS_ALL:
        html.append(
            f"<div class='muted'>All {term_count(u)} terms are listed: "
            f"<a href='{SHOW_FEWER_TERMS}'>show only the largest</a> (faster while stepping).</div>"
        )
    if u.distance_to_bound is not None:
        bound = "1 − " if u.value > 0.5 else ""
        exact = f"σ({num(u.z)}) = {bound}{num(u.distance_to_bound, 3)}"
        if u.value in (0.0, 1.0):
            html.append(
                f"<div class='note'>{exact}, which float64 rounds to exactly {num(u.value)}: "
                "the gate is saturated.</div>"
            )
        else:
            html.append(
                f"<div class='note'>{exact}: the gate is saturated (it shows as "
                f"{num(round(u.value))} when rounded).</div>"
            )
    z_gap = abs(u.z - u.z_recorded)
    if whatif:
        from html import escape  # (what-if only: not needed for the first page)

        what = "; ".join(iv.describe() for iv in whatif)
        html.append(
            f"<div class='whatif'>What-if {escape(what)}: the rerun uses z = {num(u.z_recorded, 6)} and "
            f"{g}<sub>t</sub>[{k}] = {num(u.value_recorded, 6)} here, and the diagram, the traces "
            "and the steps after this one show the rerun.</div>"
        )
    elif stale:
        pass  # the recorded row is the run before an edit: the banner on top says so
    elif z_gap > 1e-6 * max(1.0, abs(u.z)) or abs(u.value - u.value_recorded) > 1e-6:
        html.append(
            f"<div class='note'>The run recorded z = {num(u.z_recorded, 6)} and "
            f"{g}<sub>t</sub>[{k}] = {num(u.value_recorded, 6)}: something changed it "
            "(a what-if intervention?); the diagram shows the recorded values.</div>"
        )
    elif z_gap > 1e-12 * max(1.0, abs(u.z)):
        html.append(
            f"<div class='muted'>(The run recorded z = {num(u.z_recorded, 6)}; the difference is "
            "floating-point rounding.)</div>"
        )
    if concat != "separate":
        html.append(concat_sum_html(work, concat == "h_first", ex.n))
    return "".join(html)


def concat_sum_html(work: GateWork, h_first: bool, n: int) -> str:
    u = work.unit
    g, k = u.gate, u.unit
    blocks = [u.recurrent_terms.terms, u.input_terms.terms]
    if not h_first:
        blocks.reverse()
    terms = [t for block in blocks for t in block]
    if len(terms) > 16:  # too many to write out in one line: what the form means, in words
        joined = " | ".join(f"{name}<sub>{g}</sub>" for name in (("U", "W") if h_first else ("W", "U")))
        order = "h<sub>t−1</sub>; x<sub>t</sub>" if h_first else "x<sub>t</sub>; h<sub>t−1</sub>"
        return (
            f"<div class='note' style='margin-top:6px'>In the concatenated form z<sub>{g}</sub>[{k}] "
            f"is row {k} of [{joined}] ({n} × {len(terms)}) times [{order}] ({len(terms)} entries) "
            f"plus b<sub>{g}</sub>[{k}]: the same {len(terms)} products as the two sums above, in "
            "that order.</div>"
        )
    if u.peephole is not None:
        terms.append(u.peephole)
    products = " + ".join(f"{num(t.coef)}·{factor(t.value)}" for t in terms)
    order = "[h<sub>t−1</sub>, x<sub>t</sub>]" if h_first else "[x<sub>t</sub>, h<sub>t−1</sub>]"
    joined = " | ".join(f"{name}<sub>{g}</sub>" for name in (("U", "W") if h_first else ("W", "U")))
    clip_text = f", clipped to <b>{num(u.z)}</b>" if u.z_sum is not None and u.z_sum != u.z else ""
    return (
        f"<div style='margin-top:6px'>The same sum in the concatenated order, row {k} of "
        f"[{joined}] times {order} + b<sub>{g}</sub>[{k}]:<br>"
        f"&nbsp;&nbsp;{products} + {factor(u.bias)} = <b>{num(u.z if u.z_sum is None else u.z_sum)}</b>"
        f"{clip_text}</div>"
    )


def matvec_html(ex: Explanation, mv: MatVec, concat: str, width: float = 350) -> str:
    """The whole layer's product, laid out to `width` px: in smaller print when it does not fit,
    and in words (how wide the inspector must be) when even that does not."""
    g, k = mv.gate, ex.unit
    title = "The whole layer at once (all units)"
    if concat != "separate":
        names = ("U", "W") if concat == "h_first" else ("W", "U")
        blocks = " | ".join(f"{name}<sub>{g}</sub>" for name in names)
        order = "h<sub>t−1</sub>, x<sub>t</sub>" if concat == "h_first" else "x<sub>t</sub>, h<sub>t−1</sub>"
        title = f"Concatenated: [{blocks}]·[{order}]"
    needed = 0.0
    for print_size in (NORMAL, SMALL):
        lines, note = _matvec_lines(ex, mv, concat, **print_size)
        rows = [equation_rows(line, width) for line in lines]
        if all(row is not None for row in rows):
            body = "<div style='margin-top:5px'></div>".join(rows)
            return (
                f"<h3>{title}</h3>{body}"
                f"<div class='muted'>Row k = {k} is shaded: it is worked term by term below.</div>{note}"
            )
        needed = max(_narrowest(line) for line in lines)
    return (
        f"<h3>{title}</h3><div class='muted'>Laid out, the whole layer needs about "
        f"{int(needed - width) + 10} px more than the inspector has: widen it (drag its left edge)"
        + (" or pick the form W·x + U·h" if concat != "separate" else "")
        + " to see it. Unit k is worked term by term below.</div>"
    )


def _narrowest(parts: list[Part]) -> float:
    """The narrowest width equation_lines can fit `parts` into."""
    pieces: list[float] = []
    for part in parts:
        if part.breaks or not pieces:
            pieces.append(part.width)
        else:
            pieces[-1] += part.width
    return pieces[0] if len(pieces) == 1 else max(pieces[0], INDENT_PX + max(pieces[1:]))


def _matvec_lines(ex: Explanation, mv: MatVec, concat: str, digits: int, size: int | None
                  ) -> tuple[list[list[Part]], str]:
    g, k = mv.gate, ex.unit
    act = activation_symbol(mv.activation)
    n, m = ex.n, ex.m
    hp = n if ex.p is None else ex.p  # entries of h_{t-1}: p for a projected cell
    W, U, x, h, b = (
        f"W<sub>{g}</sub>",
        f"U<sub>{g}</sub>",
        "x<sub>t</sub>",
        "h<sub>t−1</sub>",
        f"b<sub>{g}</sub>",
    )
    z, a = f"z<sub>{g}</sub>", f"{g}<sub>t</sub>"

    def matrix(rows, caption="", highlight=None, tints=None):
        return matrix_part(rows, caption, highlight, tints, digits, size)

    def vec(values, caption):
        return matrix(column(values), caption, k)

    lines = []
    if concat == "separate":
        lines.append([matrix(mv.W, f"{W} ({n}×{m})", k), op("·"), matrix(column(mv.x), x),
                      op("="), vec(mv.Wx, f"{W}{x}")])
        lines.append([matrix(mv.U, f"{U} ({n}×{hp})", k), op("·"), matrix(column(mv.h), h),
                      op("="), vec(mv.Uh, f"{U}{h}")])
        total = [vec(mv.Wx, f"{W}{x}"), op("+"), vec(mv.Uh, f"{U}{h}")]
        note = ""
    else:
        h_first = concat == "h_first"
        rows, vector, names = mv.concatenated(h_first)
        sizes = {"U": hp, "W": m}
        tint_of = {"U": style.HTML_U_BLOCK, "W": style.HTML_W_BLOCK}
        tints = tuple(tint_of[names[0]] for _ in range(sizes[names[0]])) + tuple(
            tint_of[names[1]] for _ in range(sizes[names[1]])
        )
        blocks = " | ".join(f"{name}<sub>{g}</sub>" for name in names)
        order = f"{h}; {x}" if h_first else f"{x}; {h}"
        lines.append([matrix(rows, f"[{blocks}] ({n}×{hp + m})", k, tints), op("·"),
                      matrix(column(vector), f"[{order}]", None, tints), op("="),
                      vec(mv.Wx_plus_Uh, f"{W}·[{order.replace(';', ',')}]")])
        total = [vec(mv.Wx_plus_Uh, "")]
        note = (
            f"<div class='note'>Both orders give the same z: [{U} | {W}]·[{h}; {x}] "
            f"= [{W} | {U}]·[{x}; {h}] = {W} {x} + {U} {h}. "
            f"<span style='background:{style.HTML_U_BLOCK}'>&nbsp;{U}&nbsp;</span> multiplies {h}, "
            f"<span style='background:{style.HTML_W_BLOCK}'>&nbsp;{W}&nbsp;</span> multiplies {x}. "
            f"Which block comes first is only a convention. Colah's diagram writes {W}·[{h}, {x}]: "
            f"his {W} is the whole [{U} | {W}]; PyTorch stores W (weight_ih) and U (weight_hh) "
            "apart.</div>"
        )
    if mv.peephole is not None:
        total += [op("+"), vec(mv.peephole, "p ⊙ c")]
    if mv.z_sum is None:
        lines.append(total + [op("+"), vec(mv.b, b), op("="), vec(mv.z, z)])
    else:  # ONNX clip: the sum, then z = clip(sum, -clip, clip)
        lines.append(total + [op("+"), vec(mv.b, b), op("="), vec(mv.z_sum, "sum")])
        bound = num(mv.clip)
        lines.append([lead(f"{z} = clip("), vec(mv.z_sum, "sum"), op(f", ±{bound}) ="), vec(mv.z, z)])
    if mv.coupled_i is not None:  # ONNX input_forget: f = 1 - i (z_f unused)
        lines.append([lead(f"{a} = 1 −"), vec(mv.coupled_i, "i<sub>t</sub>"), op("="), vec(mv.a, a)])
    else:
        lines.append([lead(f"{a} = {act}("), vec(mv.z, z), op(") ="), vec(mv.a, a)])
    return lines, note


def _unit_table(headers: list[str], rows: list[list[float]], unit: int, marked: set[int],
                width: float = 350) -> str:
    """Every unit's row of these columns, the chosen unit shaded; split into tables of fewer
    columns (each with k) when one would be wider than `width`."""
    indices = list(range(len(rows))) if len(rows) <= TABLE_ROWS_MAX else [unit]
    texts = {j: [format_short(v) for v in rows[j]] for j in indices}
    k_width = max(text_px(str(j)) for j in indices) + 8 + 2 * CELL_PADDING_PX
    widths = [max([text_px(h, None, style.MATH_FAMILY) * 1.1]  # (headers are bold)
                  + [text_px(texts[j][c]) for j in indices]) + 4 for c, h in enumerate(headers)]
    chunks: list[list[int]] = [[]]
    used = k_width
    for c, w in enumerate(widths):
        if chunks[-1] and used + w > width:
            chunks.append([])
            used = k_width
        chunks[-1].append(c)
        used += w
    more = (
        "" if len(rows) <= TABLE_ROWS_MAX else
        f"<div class='muted'>(n = {len(rows)}: only unit {unit}'s row is listed; every unit's row is, "
        f"for n ≤ {TABLE_ROWS_MAX})</div>"
    )
    tables = []
    for columns in chunks:
        # tight padding: the cell update's eight columns fit a 440 px dock at n = 16
        head = "".join(f"<th style='padding:2px 2px'>{headers[c]}</th>" for c in columns)
        body = []
        for j in indices:
            shade = f" style='background:{style.HTML_UNIT_ROW}'" if j == unit else ""
            cells = "".join(
                f"<td class='num' style='padding:1px 2px;{BOLD if c in marked else ''}'>{texts[j][c]}</td>"
                for c in columns
            )
            body.append(f"<tr{shade}><td class='num' style='padding:1px 4px'><a href='unit:{j}'>{j}</a>"
                        f"</td>{cells}</tr>")
        tables.append(
            f"<table cellspacing='0' cellpadding='0' style='border-collapse:collapse'>"
            f"<tr><th style='padding:2px 4px'>k</th>{head}</tr>{''.join(body)}</table>"
        )
    return "<div style='margin-top:6px'></div>".join(tables) + more


def cell_html(ex: Explanation, work: CellWork, width: float = 350) -> str:
    u = work.units[work.unit]
    cid = ex.component.id
    k = u.unit
    marked = {"mul_f": {0, 1, 2}, "mul_i": {3, 4, 5}}.get(cid, {6})
    headers = [
        link("f"),
        link("c_prev"),
        link("mul_f", "f⊙c_{t-1}"),
        link("i"),
        link("g"),
        link("mul_i", "i⊙g"),
        link("c"),
    ]
    rows = [[w.f, w.c_prev, w.kept, w.i, w.g, w.written, w.c] for w in work.units]
    worked = (
        f"<h3>Unit k = {k}</h3>"
        f"<table cellspacing='0' cellpadding='2'>"
        f"<tr><td class='wrap'>{sym('c_t')}[{k}] = {sym('f_t')}[{k}] · {sym('c_{t-1}')}[{k}]"
        f" + {sym('i_t')}[{k}] · {sym('g_t')}[{k}]</td></tr>"
        f"<tr><td class='wrap'>= {num(u.f)} × {factor(u.c_prev)} + {num(u.i)} × {factor(u.g)}</td></tr>"
        f"<tr><td class='wrap'>= {num(u.kept)} + {factor(u.written)}</td></tr>"
        f"<tr><td style='font-size:15px'><b>= {num(u.kept + u.written)}</b></td></tr></table>"
    )
    if ex.input_forget:
        worked += (f"<div class='muted'>input_forget (ONNX): f<sub>t</sub> = 1 − i<sub>t</sub>, "
                   f"here 1 − {num(u.i)} = {num(u.f)}.</div>")
    if u.masked:
        worked += (
            f"<div class='note'><b>Masked step</b>: the cell keeps its memory, "
            f"{sym('c_t')}[{k}] = {sym('c_{t-1}')}[{k}] = <b>{num(u.c)}</b>; the update above is what "
            "an unmasked step would have written, and is not used.</div>"
        )
    else:
        worked += f"<div class='note'>{to_html(cell_reading(u))} {to_html(gate_reading('f', u.f))}</div>"
    carried = " (masked: c<sub>t</sub> = c<sub>t−1</sub>)" if u.masked else ""
    table = (
        f"<h3>Unit by unit: c<sub>t</sub> = f<sub>t</sub> ⊙ c<sub>t−1</sub> + i<sub>t</sub> ⊙ g<sub>t</sub> "
        f"(⊙: unit by unit){carried}</h3>{_unit_table(headers, rows, k, marked, width)}"
    )
    return worked + table


def cell_path_html(path: CellPath) -> str:
    """The gradient along the cell-state line: dc_t/dc_{t-1} = f_t, with this step's numbers."""
    k = path.unit
    slope = f"<tr><td class='wrap'>∂{sym('c_t')}[{k}] / ∂{sym('c_{t-1}')}[{k}] = "
    rows = [f"{slope}{sym('f_t')}[{k}] (direct path)</td><td class='num'>= {num(path.f)}</td></tr>"]
    if path.masked:
        rows = [f"{slope}1 (a masked step carries c)</td><td class='num'>= {num(path.factor)}</td></tr>"]
    elif path.peephole != 0.0:
        terms = ("p<sub>i</sub>(g − c<sub>t−1</sub>) σ′(i) (input_forget: f = 1 − i)" if path.input_forget
                 else "p<sub>i</sub>g σ′(i) + p<sub>f</sub>c<sub>t−1</sub>σ′(f)")
        rows.append(f"<tr><td class='wrap'>+ peepholes {terms}</td>"
                    f"<td class='num'>= {num(path.peephole)}</td></tr>")
        rows.append("<tr><td><b>along the line</b></td>"
                    f"<td class='num'><b>= {num(path.factor)}</b></td></tr>")
    note = (
        f"A gradient arriving at c<sub>t</sub>[{k}] reaches c<sub>t−1</sub>[{k}] multiplied by "
        f"{num(path.factor)}: near 1 it flows back unchanged, near 0 the connection is cut. Since the "
        f"start, ∏<sub>s=1..{path.step}</sub> f<sub>s</sub>[{k}] = {num(path.survives_from_start)} of "
        "c<sub>0</sub> has survived on this line (h<sub>t−1</sub> held fixed; Analysis ▸ Memory and "
        "gradient flow shows every step)."
    )
    return (f"<h3>The gradient along the cell-state line</h3>"
            f"<table cellspacing='0' cellpadding='2'>{''.join(rows)}</table><div class='note'>{note}</div>")


def hidden_html(ex: Explanation, work: HiddenWork, width: float = 350) -> str:
    u = work.units[work.unit]
    k = u.unit
    act = work.activation
    headers = [link("o"), link("c"), link("tanh_c", f"{act}(c_t)"),
               link("h") if work.projection is None else link("mul_o", "r_t")]
    rows = [[w.o, w.c, w.tanh_c, w.h] for w in work.units]
    marked = {"tanh_c": {2}}.get(ex.component.id, {3})
    worked = (
        f"<h3>Unit k = {k}</h3><table cellspacing='0' cellpadding='2'>"
        f"<tr><td class='wrap'>{sym('h_t')}[{k}] = {sym('o_t')}[{k}] · {act}({sym('c_t')}[{k}])</td></tr>"
        f"<tr><td class='wrap'>= {num(u.o)} × {act}({num(u.c)})</td></tr>"
        f"<tr><td class='wrap'>= {num(u.o)} × {factor(u.tanh_c)}</td></tr>"
        f"<tr><td style='font-size:15px'><b>= {num(u.h)}</b></td></tr></table>"
    )
    if work.masked:
        kept = work.carried[min(k, len(work.carried) - 1)] if work.carried else 0.0
        j = min(k, len(work.carried) - 1)
        worked += (
            f"<div class='note'><b>Masked step</b>: the cell carries its output, "
            f"{sym('h_t')} = {sym('h_{t-1}')} (entry {j}: <b>{num(kept)}</b>); the product above "
            f"(of the carried c<sub>t</sub> = c<sub>t−1</sub>) is not what goes on.</div>"
        )
    else:
        reading = gate_reading("o", u.o, ex.p is not None)
        worked += f"<div class='note'>{for_activation(to_html(reading), act)}</div>"
    table = (
        f"<h3>Unit by unit: h<sub>t</sub> = o<sub>t</sub> ⊙ {act}(c<sub>t</sub>)</h3>"
        f"{_unit_table(headers, rows, k, marked, width)}"
    )
    if work.projection is not None:
        table = table.replace("<h3>Unit by unit: h<sub>t</sub>", "<h3>Unit by unit: r<sub>t</sub>", 1)
        worked = worked.replace(f"{sym('h_t')}[{k}] =", f"{sym('r_t')}[{k}] =", 1)
        return projection_html(work.projection, act, work.masked, width) + worked + table
    return worked + table


def projection_html(pw: ProjectionWork, act: str = "tanh", masked: bool = False,
                    width: float = 350) -> str:
    """h_t[j] = Σ_k W_hr[j, k]·r_t[k] of a projected cell, every term with its numbers (the
    largest 12 of a wide cell, and the rest summed)."""
    j = pw.row
    rows, rest, rest_sum = _term_rows(pw.terms, layout=term_layout([pw.terms], width))
    if rest:
        rows.append(f"<tr><td class='muted'>… {rest} more</td><td></td>"
                    f"<td class='num' style='padding-left:8px'>= {num(rest_sum)}</td></tr>")
    n = len(pw.terms.terms)
    return (
        f"<h3>Projection: h<sub>t</sub>[{j}] = Σ<sub>q</sub> W<sub>hr</sub>[{j}, q]·r<sub>t</sub>[q]</h3>"
        f"<div class='muted'>An LSTMP cell (proj_size p = {pw.h_size}): r<sub>t</sub> = "
        f"o<sub>t</sub> ⊙ {act}(c<sub>t</sub>) has n = {n} entries and h<sub>t</sub> = "
        f"W<sub>hr</sub>·r<sub>t</sub> has p = {pw.h_size}; entry j = {j} is worked here.</div>"
        f"<table cellspacing='0' cellpadding='2'>{''.join(rows)}</table>"
        + (f"<div style='font-size:15px'><b>h<sub>t</sub>[{j}] = Σ = {num(pw.h)}</b></div>" if not masked else
           f"<div>Σ = {num(pw.h)}, not used: at this masked step <b>h<sub>t</sub>[{j}] = "
           f"h<sub>t−1</sub>[{j}] = {num(pw.h_recorded)}</b>.</div>")
    )


def vector_html(ex: Explanation, work: VectorWork, expanded: bool = False) -> str:
    names = list(work.names)
    rows = []
    offset = 0
    tint = {}
    if work.blocks:
        colors = (style.HTML_U_BLOCK, style.HTML_W_BLOCK)
        for b, (name, size) in enumerate(work.blocks):
            for j in range(size):
                tint[offset + j] = colors[b % 2]
                names.append(f"{to_html(name)}[{j}]")
            offset += size
    shown, rest = work.shown(expanded)
    for j in shown:
        value = work.values[j]
        label = names[j] if j < len(names) else ""
        bg = f" style='background:{tint[j]}'" if j in tint else ""
        rows.append(
            f"<tr{bg}><td class='num' style='padding:1px 7px'>{j}</td>"
            f"<td style='padding:1px 7px'>{label}</td>"
            f"<td class='num' style='padding:1px 7px'>{num(value, 6)}</td></tr>"
        )
    extra = ""
    if rest:
        extra += (
            f"<div class='muted'>The {len(shown)} entries largest in size are listed; {rest} more "
            f"(<a href='{SHOW_ALL_TERMS}'>show all {len(work.values)}</a>).</div>"
        )
    elif len(work.values) > TERMS_ALL:
        extra += (
            f"<div class='muted'>All {len(work.values)} entries are listed: "
            f"<a href='{SHOW_FEWER_TERMS}'>show only the largest</a> (faster while stepping).</div>"
        )
    if ex.component.id == "concat":
        extra += (
            "<div class='note'>Every gate reads this same vector with its own weights. "
            "W·[h<sub>t−1</sub>, x<sub>t</sub>] is U·h<sub>t−1</sub> + W·x<sub>t</sub>: pick a gate and "
            "switch the form above to see the blocks.</div>"
        )
    return (
        f"<h3>{sym(work.symbol)} at t = {ex.step}: {to_html(work.origin)}</h3>"
        "<table cellspacing='0' cellpadding='0'><tr><th>j</th><th></th><th>value</th></tr>"
        f"{''.join(rows)}</table>{extra}"
    )


def whatif_banner_html(interventions, acting) -> str:
    """The line at the top of the page while what-if interventions are on."""
    if not interventions:
        return ""
    from html import escape  # (what-if only: not needed for the first page)

    what = "; ".join(escape(iv.describe()) for iv in interventions)
    here = (" It changes what is shown here." if acting
            else " It does not act on this part, unit and step directly; the numbers come from the rerun.")
    return (f"<div class='whatif'>What-if is on: {what}.{here} "
            "(Analysis › What-if turns it off.)</div>")


def explanation_html(ex: Explanation, concat: str = "separate", expanded: bool = False,
                     interventions: tuple = (), acting: tuple = (), stale: bool = False,
                     width: float = 350) -> str:
    """The inspector's page. `expanded`: list every term of a large unit's sum (and every entry
    of a long vector) instead of the largest ones and a "… k more" row. `interventions`: the
    Document's what-if interventions; `acting`: those that change this part at this unit and
    step (lstmviz.gui.analysis.interventions.acting_at). `stale`: the step's row of the trace
    is still the run before an edit (a rerun in steps has not reached it). `width`: the px the
    page has, for the equations of the whole layer."""
    work = ex.work
    parts = [f"<style>{CSS}</style>", whatif_banner_html(interventions, acting),
             stale_banner(ex.step) if stale else "", header_html(ex)]
    if isinstance(work, GateWork):
        if work.matvec is not None:
            parts.append(matvec_html(ex, work.matvec, concat, width))
        parts.append(gate_unit_html(ex, work, concat, expanded, acting, stale, width))
        u = work.unit
        reading = for_activation(to_html(gate_reading(u.gate, u.value, ex.p is not None)), ex.cell_activation)
        parts.append(f"<div class='note'>{reading}</div>")
        if u.coupled_i is None:
            parts.append(f"<div class='muted'>{to_html(squash_reading(u.activation))}</div>")
        if work.matvec is None:
            parts.append(
                f"<div class='muted'>The whole matrix-vector product is laid out for n ≤ 8 "
                f"and n + m ≤ 12; this cell has n = {ex.n}, m = {ex.m}.</div>"
            )
    elif isinstance(work, CellWork):
        parts.append(cell_html(ex, work, width))
        if getattr(ex, "cell_path", None) is not None:
            parts.append(cell_path_html(ex.cell_path))
    elif isinstance(work, HiddenWork):
        parts.append(hidden_html(ex, work, width))
    elif isinstance(work, VectorWork):
        parts.append(vector_html(ex, work, expanded))
    parts.append(shapes_html(ex, concat))
    return "".join(parts)


# -- the widget --------------------------------------------------------------------------------
def stale_banner(step: int) -> str:
    return (f"<p style='color:{style.HTML_STALE}'><b>Rerunning the edited cell:</b> step {step} "
            "is not reached yet. The weights below are the edited ones; the inputs, states and "
            "gates are still the run before the edit. The page updates when the rerun passes "
            "this step.</p>")


class Inspector(QWidget):
    """Shows the Document's selected component at its current step, for its chosen unit."""

    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.document = document
        self.setObjectName("inspector")
        self._stale = True
        self.all_terms = False  # list every term of a large sum (view state: a link toggles it)
        # Laying out the rich text can take tens of ms: while steps arrive faster than that
        # (playback, scrubbing) refresh at most every THROTTLE x the last refresh's cost.
        self._last_end = 0.0
        self._min_gap = 0.0
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.timeout.connect(self._refresh_if_stale)

        self.unit_box = SpinBox()
        self.unit_box.setObjectName("inspectorUnit")
        self.unit_box.setToolTip(
            "The unit k whose arithmetic is worked through (or click a colored cell on the diagram)."
        )
        self.unit_box.setPrefix("unit k = ")
        self.unit_box.setMinimumWidth(110)
        self.unit_box.valueChanged.connect(self._unit_edited)

        self.form_box = QComboBox()
        self.form_box.setObjectName("inspectorForm")
        for key, label in FORMS:
            self.form_box.addItem(style.plain_math(label), key)
        self.form_box.setToolTip(
            "How to write a gate's product: W xₜ + U hₜ₋₁ (two matrices, as PyTorch stores them), "
            "or one matrix times the concatenation [hₜ₋₁, xₜ] as in Colah's diagram "
            "(or [xₜ, hₜ₋₁]). All three give the same numbers."
        )
        self.form_box.currentIndexChanged.connect(self._form_edited)

        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(self.unit_box)
        form_label = QLabel("form:")
        form_label.setBuddy(self.form_box)
        controls.addWidget(form_label)
        controls.addWidget(self.form_box, 1)

        self.browser = QTextBrowser()
        self.browser.setObjectName("inspectorText")
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._link)
        self.browser.setToolTip("")
        # The page is rebuilt at every step: a scroll bar that comes and goes would resize the
        # viewport (a second layout pass) each time the page crosses the height; keep it.
        self.browser.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        # A scroll bar whose range moves is repainted; filling its own background keeps that
        # repaint from reaching the dock and the main window behind it.
        for bar in (self.browser.verticalScrollBar(), self.browser.horizontalScrollBar()):
            bar.setAutoFillBackground(True)
        # The equations are laid out to the page's width: when the dock is resized, lay them
        # out again once the drag rests (the browser reflows the words by itself meanwhile).
        self._laid_out_width = 0
        self._relayout = QTimer(self)
        self._relayout.setSingleShot(True)
        self._relayout.timeout.connect(self._relayout_if_needed)
        self.browser.viewport().installEventFilter(self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(controls)
        layout.addWidget(self.browser, 1)

        doc = document
        # (not params_changed: the new trace arrives after it, with trace_changed)
        # Steps come in streams (playback, scrubbing): those refreshes are throttled. A change
        # made once (a file opened, a part or unit picked, an option) is shown at once.
        bind(self, doc.step_changed, self._changed)
        for signal in (doc.selection_changed, doc.unit_changed, doc.option_changed, doc.source_changed):
            bind(self, signal, self._changed_at_once)
        from lstmviz.gui.rerun import StaleStep

        self._stale_step = StaleStep(self, doc, self._changed)
        bind(self, doc.trace_changed, self._trace_changed)
        # The page is laid out when the inspector is first shown (showEvent), at its real
        # width: laying it out now, at a default width, would cost a second layout at start-up.

    # -- Document -> view ----------------------------------------------------------------------
    def _trace_changed(self, trace) -> None:
        if not self._stale_step.caught_up(trace):  # (the end of a rerun in steps: shown already)
            self._changed_at_once()

    def _changed_at_once(self, *args) -> None:
        self._changed(throttled=False)

    def _changed(self, *args, throttled: bool = True) -> None:
        self._stale = True
        self._sync_controls()
        if not self.isVisible() or (throttled and self._pending.isActive()):
            return
        wait = self._min_gap - (time.perf_counter() - self._last_end) if throttled else 0.0
        if wait <= 0 and not self.document.rerunning:
            self.refresh()
        elif wait <= 0:  # not in the frame of the edit or of the tick that announced it
            from lstmviz.gui.rerun import before_a_tick

            if not before_a_tick(self.document, self._refresh_if_stale):
                self.refresh()
        else:
            self._pending.start(int(wait * 1000) + 1)

    def _refresh_if_stale(self) -> None:
        if self._stale and self.isVisible():
            self.refresh()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def form(self) -> str:
        doc = self.document
        if not doc.option("show_concat"):
            return "separate"
        return "h_first" if doc.option("concat_h_first") else "x_first"

    def refresh(self) -> None:
        start = time.perf_counter()
        doc = self.document
        self._stale = False
        self._pending.stop()
        self._sync_controls()
        selection = doc.selection if doc.selection in COMPONENTS else "f"
        ex = explain(doc.params, doc.trace, doc.step, selection, doc.unit, doc.input_names)
        bar = self.browser.verticalScrollBar()
        scroll = bar.value()
        interventions = tuple(doc.interventions)
        acting = ()
        if interventions:  # (what-if only: its module is not needed for the first page)
            from lstmviz.gui.analysis.interventions import acting_at

            acting = acting_at(interventions, selection, doc.unit, doc.step, doc.T)
        self._laid_out_width = viewport = self.browser.viewport().width()
        width = self.page_width()
        for attempt in range(LAYOUT_TRIES):
            page = self._laid_out(explanation_html(ex, self.form(), self.all_terms, interventions,
                                                   acting, stale=doc.stale(), width=width))
            # the widths are estimates: a page that still comes out wider than the viewport
            # is made again for a budget narrower by what it overflowed (rare: a second layout)
            overflow = page.size().width() - viewport
            if overflow <= 0.5 or attempt == LAYOUT_TRIES - 1:
                break
            page.deleteLater()
            width -= 2 * overflow + 8
        self._show_page(page)
        if bar.value() != scroll:
            bar.setValue(scroll)
        title = f"Inspector: {ex.component.name}"
        if self.windowTitle() != title:
            self.setWindowTitle(title)
        self._last_end = time.perf_counter()
        self._min_gap = min(max(THROTTLE * (self._last_end - start), STREAM_GAP_S), MAX_GAP_S)

    def page_width(self) -> float:
        """The px the page's content has: the viewport less the page's margins."""
        return self.browser.viewport().width() - 2 * self.browser.document().documentMargin() - 2

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self.browser.viewport():
            width = event.size().width()
            if width != self._laid_out_width:
                # narrower than the page: it would scroll sideways, so at once (coalesced)
                overflows = self.browser.document().idealWidth() > width
                self._relayout.start(0 if overflows else RELAYOUT_MS)
        return super().eventFilter(watched, event)

    def _relayout_if_needed(self) -> None:
        if self.isVisible() and self.browser.viewport().width() != self._laid_out_width:
            self.refresh()

    def _laid_out(self, html: str) -> QTextDocument:
        """The page built in a new document and laid out at the viewport's width, to be swapped
        in by _show_page (the browser then keeps this layout instead of laying the page out
        twice, ~1/3 of a refresh)."""
        browser = self.browser
        old = browser.document()
        page = QTextDocument(browser)
        page.setDefaultFont(old.defaultFont())
        page.setDocumentMargin(old.documentMargin())
        page.setHtml(html)
        page.setTextWidth(browser.viewport().width())
        page.size()
        return page

    def _show_page(self, page: QTextDocument) -> None:
        """Swap the page in, rather than setHtml on the shown one: setHtml empties the page
        first, so the scroll bars' ranges drop to 0 and come back, which repaints them and (they
        are not opaque) the dock and window behind them. A swapped document is laid out once,
        and a scroll bar whose range ends the same is not touched."""
        browser = self.browser
        old = browser.document()
        ours = old.parent() is browser  # (the first one belongs to the editor, which deletes it)
        browser.setDocument(page)
        if ours:
            old.deleteLater()

    def _sync_controls(self) -> None:
        # Only touch what changed: QSpinBox.setRange always drops its size hint and asks its
        # parents for a new layout (and a repaint), even with the same range.
        doc = self.document
        box = self.unit_box
        if box.maximum() != doc.n - 1 or box.minimum() != 0 or box.value() != doc.unit:
            box.blockSignals(True)
            if box.maximum() != doc.n - 1 or box.minimum() != 0:
                box.setRange(0, doc.n - 1)
            box.setValue(doc.unit)
            box.blockSignals(False)
        index = [key for key, _ in FORMS].index(self.form())
        if self.form_box.currentIndex() != index:
            self.form_box.blockSignals(True)
            self.form_box.setCurrentIndex(index)
            self.form_box.blockSignals(False)

    def plain_text(self) -> str:
        if self._stale:
            self.refresh()
        return self.browser.toPlainText()

    # -- view -> Document ----------------------------------------------------------------------
    def _unit_edited(self, value: int) -> None:
        self.document.set_unit(value)

    def _form_edited(self, index: int) -> None:
        key = self.form_box.itemData(index)
        doc = self.document
        if key == "separate":
            doc.set_option("show_concat", False)
        else:
            doc.set_option("concat_h_first", key == "h_first")
            doc.set_option("show_concat", True)

    def _link(self, url: QUrl) -> None:
        scheme, _, value = url.toString().partition(":")
        if scheme == "select" and value in COMPONENTS:
            self.document.set_selection(value)
        elif scheme == "unit" and value.isdigit():
            self.document.set_unit(int(value))
        elif scheme == "terms":
            self.set_all_terms(value == "all")

    def set_all_terms(self, on: bool) -> None:
        """List every term of a large unit's sums (True) or only the largest ones (False)."""
        if bool(on) != self.all_terms:
            self.all_terms = bool(on)
            self.refresh()

    def sizeHint(self):
        hint = super().sizeHint()
        hint.setWidth(420)
        return hint
