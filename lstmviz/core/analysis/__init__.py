"""Analyses of a recorded run (no Qt): gradient flow through time, gate saturation,
activation curves, what-if reruns, and comparing two runs.

Every function takes a recorded :class:`~lstmviz.core.trace.Trace` (and the
:class:`~lstmviz.core.params.LSTMParams` that produced it where the weights matter) and
returns plain NumPy arrays in small frozen dataclasses, ready for a view to draw.

The names below load their module on first use (PEP 562), so importing one analysis (the
window needs gradients for the inspector at start-up) does not import them all.
"""

from __future__ import annotations

import importlib

_WHERE = {
    "activation_curves": (
        "ActivationCurve", "ActivationPoint", "ZPath", "activation_at", "activation_curve",
        "activation_point", "gate_activation_name", "z_path",
    ),
    "compare": (
        "SpanMatch", "TraceDifference", "UnitMatching", "find_matching_spans", "linear_sum_assignment",
        "match_span", "match_units", "select_span_units", "trace_difference", "unit_correlation",
    ),
    "gradients": ("GradientFlow", "cell_path_factor", "forget_product", "gradient_flow"),
    "saturation": ("GateHistogram", "GateSaturation", "gate_histograms", "gate_saturation"),
    "whatif": ("BiasOffset", "ClampGate", "ZeroUnit", "difference", "intervention_from_dict", "rerun"),
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
