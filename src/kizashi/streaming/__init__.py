"""Streaming building blocks shared by detectors, vectorised over many series.

Each block is a small *stateless* object that knows how to create and advance a
state made of plain arrays; the arrays live inside the owning detector's state
dict, so copying and saving a detector's state copies and saves theirs too.
"""

from kizashi.streaming.discounted import DiscountedMoments, decay_factor
from kizashi.streaming.hankel import HankelHistory
from kizashi.streaming.moving_sum import MovingSum
from kizashi.streaming.rolling import RollingWindow
from kizashi.streaming.sdar import SDAR, levinson_durbin

__all__ = ["SDAR", "DiscountedMoments", "HankelHistory", "MovingSum", "RollingWindow",
           "decay_factor", "levinson_durbin"]
