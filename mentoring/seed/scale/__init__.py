"""The London-wide data set for benchmarks and load tests (``manage.py seed_scale``)."""

from ..logins import SCALE_USERS_PREFIX
from .builder import (
    AREAS,
    EARLIEST_TODAY,
    MAX_BOROUGHS,
    MIN_MENTORS_PER_BOROUGH,
    OFFENCES_PER_CLIENT,
    SESSIONS_PER_CLIENT,
    DataPresent,
    ScaleBuilder,
    Sizes,
)

__all__ = [
    "AREAS",
    "EARLIEST_TODAY",
    "MAX_BOROUGHS",
    "MIN_MENTORS_PER_BOROUGH",
    "OFFENCES_PER_CLIENT",
    "SCALE_USERS_PREFIX",
    "SESSIONS_PER_CLIENT",
    "DataPresent",
    "ScaleBuilder",
    "Sizes",
]
