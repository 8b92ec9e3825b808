"""Analyses of a recorded run (no Qt): gradient flow through time, gate saturation,
activation curves, what-if reruns, and comparing two runs.

Every function takes a recorded :class:`~lstmviz.core.trace.Trace` (and the
:class:`~lstmviz.core.params.LSTMParams` that produced it where the weights matter) and
returns plain NumPy arrays in small frozen dataclasses, ready for a view to draw.
"""

from lstmviz.core.analysis.activation_curves import (
    ActivationCurve,
    ActivationPoint,
    ZPath,
    activation_at,
    activation_curve,
    activation_point,
    gate_activation_name,
    z_path,
)
from lstmviz.core.analysis.compare import (
    SpanMatch,
    TraceDifference,
    UnitMatching,
    find_matching_spans,
    linear_sum_assignment,
    match_span,
    match_units,
    select_span_units,
    trace_difference,
    unit_correlation,
)
from lstmviz.core.analysis.gradients import GradientFlow, cell_path_factor, forget_product, gradient_flow
from lstmviz.core.analysis.saturation import GateHistogram, GateSaturation, gate_histograms, gate_saturation
from lstmviz.core.analysis.whatif import (
    BiasOffset,
    ClampGate,
    ZeroUnit,
    difference,
    intervention_from_dict,
    rerun,
)

__all__ = [
    "ActivationCurve", "ActivationPoint", "BiasOffset", "ClampGate", "GateHistogram", "GateSaturation",
    "GradientFlow", "SpanMatch", "TraceDifference", "UnitMatching", "ZPath", "ZeroUnit",
    "activation_at", "activation_curve", "activation_point", "cell_path_factor", "difference",
    "find_matching_spans", "forget_product", "gate_activation_name", "gate_histograms",
    "gate_saturation", "gradient_flow", "intervention_from_dict", "linear_sum_assignment", "match_span",
    "match_units", "rerun", "select_span_units", "trace_difference", "unit_correlation", "z_path",
]
