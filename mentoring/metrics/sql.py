"""
What every figure's query is built on: the boroughs a scope covers (``borough_scope``),
whose cases a query reads (``Cases``: a scope's clients, any clients, or the shards of a
borough's cases the figures cache keeps), days as whole numbers (``EpochDay``), and grouped
rows read as the database gives them (``_rows``).
"""

from dataclasses import dataclass
from datetime import date

from django.db import connections
from django.db.models import Func, IntegerField, Q, QuerySet, Value
from django.db.models.functions import Cast, ExtractYear

from ..models import Borough, Client

EPOCH = date(1970, 1, 1)


def epoch_day(day):
    return (day - EPOCH).days


class EpochDay(Func):
    """Whole days since 1970-01-01 of a date column, as an integer, on both backends."""

    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        raise NotImplementedError(f"EpochDay is not implemented for {connection.vendor}")

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql_template(
            compiler, connection, "CAST(julianday(%(expressions)s) - 2440587.5 AS INTEGER)"
        )

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql_template(compiler, connection, "(%(expressions)s - DATE '1970-01-01')")

    def as_sql_template(self, compiler, connection, template):
        return super().as_sql(compiler, connection, template=template)


# Scope ---------------------------------------------------------------------------------


def borough_scope(scope):
    """
    The boroughs a set of figures covers, as a Borough queryset. ``scope`` is a Borough
    queryset (e.g. ``Borough.objects.for_user(user)``), a Borough, an iterable of borough
    ids, or None for every borough.
    """
    if scope is None:
        return Borough.objects.all()
    if isinstance(scope, Borough):
        return Borough.objects.filter(pk=scope.pk)
    if isinstance(scope, QuerySet):
        if scope.model is not Borough:
            raise TypeError(f"A scope is a Borough queryset, not a {scope.model.__name__} one.")
        return scope
    return Borough.objects.filter(pk__in=list(scope))


def _clients_in(boroughs):
    return Client.objects.filter(borough__in=boroughs)


# Cases and shards ------------------------------------------------------------------------


@dataclass(frozen=True)
class Cases:
    """
    Whose cases a computation reads: ``clients`` (a Client queryset) and ``related``, the
    same clients as a filter of a model with a ``client`` (offences, milestones).
    """

    clients: QuerySet
    related: Q
    by_year: bool = False  # grouped by shard (borough and year), or by borough alone

    def year(self, prefix=""):
        """The year of each row's shard; 0 for every row when grouped by borough alone."""
        return _year(prefix) if self.by_year else Value(0, output_field=IntegerField())

    @classmethod
    def of(cls, clients):
        """Any set of clients."""
        return cls(clients, Q(client__in=clients))

    @classmethod
    def of_boroughs(cls, boroughs):
        """Every client of ``boroughs`` (a queryset)."""
        return cls(_clients_in(boroughs), Q(client__borough__in=boroughs))

    @classmethod
    def of_shards(cls, shards, by_year=True):
        """
        The clients of ``shards``, {borough id: years or None for all}: a borough's clients
        referred in one calendar year are a shard of its cases (``CaseShardVersion``).
        Selected by borough and referral date, which the client list's index covers, and
        joined from offences and milestones rather than through a subquery of the clients.
        """
        whole = [pk for pk, years in shards.items() if years is None]

        def where(prefix):
            q = Q(**{f"{prefix}borough__in": whole}) if whole else Q(pk__in=[])
            for pk, years in shards.items():
                for year in years or ():
                    q |= Q(
                        **{
                            f"{prefix}borough": pk,
                            f"{prefix}referred_on__gte": date(year, 1, 1),
                            f"{prefix}referred_on__lte": date(year, 12, 31),
                        }
                    )
            return q

        return cls(Client.objects.filter(where("")), where("client__"), by_year)


SHARD = ("borough", "year")  # the fields of a grouped row that name its shard


def _year(prefix=""):
    """
    The calendar year a client was referred in: their case shard. An integer on both
    databases (PostgreSQL's EXTRACT gives a numeric), so rows read by ``_rows`` key alike.
    """
    return Cast(ExtractYear(f"{prefix}referred_on"), IntegerField())


def _rows(queryset):
    """
    The rows of a ``values_list`` queryset as the database gives them, without Django's
    per-value converters: a cold network dashboard reads many rows of whole numbers
    (programme lengths), and converting each value costs more than the query. Read from
    the database the queryset's own reads are routed to (the replica, for a dashboard).
    """
    alias = queryset.db
    sql, params = queryset.query.get_compiler(alias).as_sql()
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
