"""
A London-wide data set for benchmarks and load tests (``manage.py seed_scale``).

By default: 40 areas (the 32 London boroughs and the City of London, then Bristol, Dorset
and five more areas), 1,000 mentors, 100,000 clients, 2,000,000 support sessions and
60,000 offences, with the shape of the demo data (it draws from the same names, areas and
weights: ``seed/names.py``, ``seed/areas.py``, ``seed/weights.py``): referrals growing
over the years since each area launched, about 8% declined, about 80% of closed cases
completed, one mentor at a time serving the client's borough, sessions spread over each
case with the demo's attendance mix, and offences before and after the index date so that
the 12-month proven reoffending rate lands in the case study's 15-20% band.

Counts of areas, mentors, clients, sessions and offences are exact; assignments,
milestones, goals, placements and grants follow from them. The same seed, sizes and
``today`` always give the same data (primary keys aside). Where the sizes differ from the
demo's proportions, the generator keeps what the dashboards read:

- sessions are shared out in proportion to each case's length (intensive cases, 4%, three
  times as many), about 20 per started client and 100 to 250 for the longest;
- each session covers one or two of the client's needs (1.5 on average);
- offences after the index date come first, as in the demo (so the reoffending rate is
  right); the rest of the --offences budget is offence histories of one to four offences
  for clients picked at random (the demo gives every client one, which 0.6 offences per
  client cannot pay for);
- mentors' caseload limits (6-10 in the demo) grow with the clients per mentor, up to 30.

How it writes: everything is planned in memory, then written in one transaction. On
PostgreSQL every large table is loaded with COPY, streamed from the generated rows through
an in-memory buffer in chunks, with the table's secondary indexes, unique and foreign-key
constraints dropped for the load and recreated (so re-validated) at the end, and the
tables are VACUUM ANALYZEd afterwards (only ANALYZEd when the build runs inside a caller's
transaction, as in the tests). Small tables (boroughs, employers, funders, grants, users)
go through the ORM. On other databases (SQLite, for the tests) rows go through
``bulk_create`` in batches. Primary keys are taken from the tables' sequences, so they
never reuse an id that the change history may still mention.

Not written: the change-history tables (``Historical*``), the access log and Django
sessions. No history is recorded for the generated rows.

Logins for benchmarks and load tests are created or kept: ``scale.coordinator.<code>`` for
the ten busiest areas, ``scale.manager`` (every area), ``scale.manager.london`` and
``scale.mentor``, with the demo password in development mode.
"""

from ..areas import AREAS
from ..logins import SCALE_USERS_PREFIX
from .builder import DataPresent, ScaleBuilder
from .sizes import (
    EARLIEST_TODAY,
    MAX_BOROUGHS,
    MIN_MENTORS_PER_BOROUGH,
    OFFENCES_PER_CLIENT,
    SESSIONS_PER_CLIENT,
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
