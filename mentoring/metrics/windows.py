"""
The windows of days the figures count in, each defined once. A window "in the last N days"
as of a day A is (A - N, A]; every window is counted in whole days (``sql.EpochDay``) so
that SQL and Python agree to the day.
"""

FOLLOW_UP_DAYS = 365  # an offence counts if committed within a year of the index date
WAITING_DAYS = 548  # ...and proven (convicted or cautioned) within 18 months of it
# Kaplan-Meier observation stops half a year before A, so that an offence has had time to
# reach court before the curve counts its absence.
KM_LAG_DAYS = 183
ACTIVITY_DAYS = 28  # sessions, hours and engagement: attended sessions in (A - 28, A]
# Support areas covered and milestones achieved look back a year: a month of one borough's
# sessions is too few to show which needs the programme meets.
RECENT_DAYS = 365
MONTHS = 24  # monthly series: the last 24 calendar months, the last one ending on A
SIX_MONTHS_DAYS = 183  # "reached 6 months" = support lasted at least this many days
TWELVE_MONTHS_DAYS = 365
