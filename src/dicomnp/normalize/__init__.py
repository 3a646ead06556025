"""The normalize layer: stored values to the rendered array and its header (docs/rendering.rst).

It knows the rendering rules and nothing of bytes or codecs: it works from
what the decode layer reports (stored values in their natural dtype and the
colour model of the decoded samples) and from the header.
"""

from .header import MEDIA_TYPE, RenderingDescription, build_header, describe_rendering
from .image import HasArray, Image, array_for_numpy, to_npy
from .lossy import LossyAssessment, assess_lossy, refuse_lossy
from .options import (
    Padding,
    PaddingLike,
    RenderOptions,
    Values,
    ValuesLike,
    Voi,
    VoiLike,
    check_workers,
)
from .plan import Kind, RenderPlan, plan_rendering
from .renderer import FrameRenderer
from .reuse import PlanCache, Planned
from .series import SliceOutput, series_dtype, slice_output
from .transform import FrameTransform

__all__ = [
    "MEDIA_TYPE",
    "FrameRenderer",
    "FrameTransform",
    "HasArray",
    "Image",
    "Kind",
    "LossyAssessment",
    "Padding",
    "PaddingLike",
    "PlanCache",
    "Planned",
    "RenderOptions",
    "RenderPlan",
    "RenderingDescription",
    "SliceOutput",
    "Values",
    "ValuesLike",
    "Voi",
    "VoiLike",
    "array_for_numpy",
    "assess_lossy",
    "build_header",
    "check_workers",
    "describe_rendering",
    "plan_rendering",
    "refuse_lossy",
    "series_dtype",
    "slice_output",
    "to_npy",
]
