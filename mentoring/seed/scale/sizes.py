"""How big the scale data set is: its default sizes, and the sizes for a number of clients."""

from dataclasses import dataclass
from datetime import date

from .. import weights
from ..areas import AREAS

DEFAULT_BOROUGHS = 40
DEFAULT_MENTORS = 1_000
DEFAULT_CLIENTS = 100_000
DEFAULT_SESSIONS = 2_000_000
DEFAULT_OFFENCES = 60_000
# What the other sizes are per client when only --clients is given.
SESSIONS_PER_CLIENT = DEFAULT_SESSIONS / DEFAULT_CLIENTS  # 20
OFFENCES_PER_CLIENT = DEFAULT_OFFENCES / DEFAULT_CLIENTS  # 0.6
CLIENTS_PER_MENTOR = DEFAULT_CLIENTS / DEFAULT_MENTORS  # 100
MIN_MENTORS_PER_BOROUGH = weights.FOUNDING_MENTORS
EARLIEST_TODAY = date(2015, 1, 1)
MAX_BOROUGHS = len(AREAS)


@dataclass(frozen=True)
class Sizes:
    boroughs: int = DEFAULT_BOROUGHS
    mentors: int = DEFAULT_MENTORS
    clients: int = DEFAULT_CLIENTS
    sessions: int = DEFAULT_SESSIONS
    offences: int = DEFAULT_OFFENCES

    @classmethod
    def for_clients(
        cls, clients=DEFAULT_CLIENTS, *, boroughs=None, mentors=None, sessions=None, offences=None
    ):
        """The sizes for ``clients``, the others in the default proportions unless given."""
        boroughs = DEFAULT_BOROUGHS if boroughs is None else boroughs
        if mentors is None:
            mentors = max(MIN_MENTORS_PER_BOROUGH * boroughs, round(clients / CLIENTS_PER_MENTOR))
        return cls(
            boroughs=boroughs,
            mentors=mentors,
            clients=clients,
            sessions=round(clients * SESSIONS_PER_CLIENT) if sessions is None else sessions,
            offences=round(clients * OFFENCES_PER_CLIENT) if offences is None else offences,
        )

    def problems(self):
        """What is wrong with these sizes, as messages naming the option."""
        found = []
        if not 1 <= self.boroughs <= MAX_BOROUGHS:
            found.append(f"--boroughs must be between 1 and {MAX_BOROUGHS}, not {self.boroughs}.")
        elif self.mentors < MIN_MENTORS_PER_BOROUGH * self.boroughs:
            found.append(
                f"--mentors must be at least {MIN_MENTORS_PER_BOROUGH} per borough "
                f"({MIN_MENTORS_PER_BOROUGH * self.boroughs} for {self.boroughs}), "
                f"not {self.mentors}."
            )
        if self.clients < 1:
            found.append(f"--clients must be at least 1, not {self.clients}.")
        for name in ("sessions", "offences"):
            if getattr(self, name) < 0:
                found.append(f"--{name} cannot be negative.")
        return found
