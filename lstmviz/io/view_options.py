"""The view options a .lstmviz document carries (view.options in document.json), with the
values each may take: the one list of them. The Document's ViewOptions keeps its values within
it and the window's controls take their ranges from it, so whatever the window can be set to is
saved and opens again; lstmviz.io.document_file reads a document with it. Kept apart (and
light) because the Document imports it at start-up."""

from __future__ import annotations

import math

# (type,) or (type, low, high) or (str, allowed...). Unknown keys in a document (from a newer
# lstmviz) are dropped, never taken in.
OPTION_RULES: dict[str, tuple] = {
    "concat_h_first": (bool,),
    "show_concat": (bool,),
    "trace_follow": (bool,),
    "trace_show_x": (bool,),
    "trace_show_z": (bool,),
    "playback_fps": (float, 1.0, 5000.0),  # steps per second (above 60 a frame skips steps)
    "trace_window": (int, 10, 10_000_000),
    "trace_animation": (str, "cursor", "grow"),
    "trace_display": (str, "auto", "lines", "heatmap"),
}


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_option(key: str, value, where: str) -> str | None:
    """What is wrong with `value` for view option `key` (None: nothing)."""
    rule = OPTION_RULES[key]
    kind = rule[0]
    if kind is bool:
        return None if isinstance(value, bool) else f"{where} is {value!r}, expected true or false"
    if kind is str:
        allowed = rule[1:]
        return None if value in allowed else f"{where} is {value!r}, expected one of {', '.join(allowed)}"
    low, high = rule[1], rule[2]
    ok = is_int(value) if kind is int else is_number(value)
    if not ok or not low <= value <= high:
        what = "a whole number" if kind is int else "a number"
        return f"{where} is {value!r}, expected {what} in {low:g}..{high:g}"
    return None
