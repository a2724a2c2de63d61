"""
Every window of days the figures and the pages count in, each defined once; the pages
import theirs from here. A window "in the last N days" as of a day A is (A - N, A]; the
figures count every window in whole days (``sql.EpochDay``) so that SQL and Python agree to
the day.
"""

# An active client with no attended session in the last 14 days needs contact: the home
# page's list, the client list's filter and the needs_contact figure.
NEEDS_CONTACT_DAYS = 14
ACTIVITY_DAYS = 28  # sessions, hours and engagement: attended sessions in (A - 28, A]
FOLLOW_UP_DAYS = 365  # an offence counts if committed within a year of the index date
WAITING_DAYS = 548  # ...and proven (convicted or cautioned) within 18 months of it
# Kaplan-Meier observation stops half a year before A, so that an offence has had time to
# reach court before the curve counts its absence.
KM_LAG_DAYS = 183
SIX_MONTHS_DAYS = 183  # "reached 6 months" = support lasted at least this many days
TWELVE_MONTHS_DAYS = 365
# Support areas covered and milestones achieved look back a year: a month of one borough's
# sessions is too few to show which needs the programme meets.
AREAS_AND_MILESTONES_DAYS = 365
MONTHS = 24  # monthly series: the last 24 calendar months, the last one ending on A
# The home page lists the sessions logged and the safeguarding concerns followed up lately.
HOME_RECENT_DAYS = 14
YEAR_EARLIER_DAYS = 365  # the dashboards' "A year earlier" link
# Sustained employment, as payment-by-results contracts count it: a job or apprenticeship
# held for 13 weeks, and for 26.
SUSTAINED_13W_DAYS = 91
SUSTAINED_26W_DAYS = 182
# Follow-up check-ins after a case closes as COMPLETED: at 3, 6 and 12 months, due this
# many days after it ended. The coordinator's queue shows those due in the last 30 days or
# the next 7 that are not yet recorded.
FOLLOWUP_DUE_DAYS = {3: 91, 6: 182, 12: 365}
FOLLOWUP_QUEUE_PAST_DAYS = 30
FOLLOWUP_QUEUE_AHEAD_DAYS = 7
