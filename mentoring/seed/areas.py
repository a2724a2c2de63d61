"""
The programme's areas as the generated data sets build them: the case study's seven, with
their launch dates, then the rest of London, then other regions. The demo has the seven;
the scale data set takes as many of the list as it is asked for, in this order.
"""

from datetime import date

from django.utils.text import slugify

# name, slug, code, region, launched_on, relative size, cost per client
CASE_STUDY_AREAS = [
    ("Southwark", "southwark", "SWK", "London", date(2006, 4, 3), 3.0, "2000.00"),
    (
        "Kensington & Chelsea",
        "kensington-chelsea",
        "KNC",
        "London",
        date(2010, 9, 6),
        1.5,
        "2000.00",
    ),
    ("Ealing", "ealing", "EAL", "London", date(2011, 4, 4), 1.2, "2000.00"),
    ("Greenwich", "greenwich", "GRE", "London", date(2011, 9, 5), 1.2, "2000.00"),
    ("Croydon", "croydon", "CRO", "London", date(2012, 4, 2), 1.2, "2000.00"),
    ("Bristol", "bristol", "BRS", "South West", date(2012, 6, 4), 1.0, "2100.00"),
    ("Dorset", "dorset", "DOR", "South West", date(2012, 10, 1), 0.8, "2300.00"),
]
# The rest of London: name, code, relative size (the cost is London's).
MORE_LONDON = [
    ("Barking & Dagenham", "BKD", 1.1),
    ("Barnet", "BNT", 0.9),
    ("Bexley", "BEX", 0.7),
    ("Brent", "BRT", 1.2),
    ("Bromley", "BRM", 0.8),
    ("Camden", "CMD", 1.1),
    ("City of London", "CTY", 0.15),
    ("Enfield", "ENF", 1.1),
    ("Hackney", "HCK", 1.4),
    ("Hammersmith & Fulham", "HMF", 1.0),
    ("Haringey", "HGY", 1.3),
    ("Harrow", "HRW", 0.7),
    ("Havering", "HAV", 0.7),
    ("Hillingdon", "HIL", 0.9),
    ("Hounslow", "HNS", 0.9),
    ("Islington", "ISL", 1.2),
    ("Kingston upon Thames", "KTT", 0.6),
    ("Lambeth", "LBH", 1.5),
    ("Lewisham", "LEW", 1.3),
    ("Merton", "MRT", 0.7),
    ("Newham", "NWM", 1.4),
    ("Redbridge", "RDB", 0.9),
    ("Richmond upon Thames", "RIC", 0.5),
    ("Sutton", "STN", 0.6),
    ("Tower Hamlets", "TWH", 1.4),
    ("Waltham Forest", "WFR", 1.1),
    ("Wandsworth", "WND", 1.1),
    ("Westminster", "WSM", 1.2),
]
# Other regions: name, code, region, relative size, cost per client.
MORE_AREAS = [
    ("Birmingham", "BHM", "West Midlands", 1.6, "2050.00"),
    ("Manchester", "MCR", "North West", 1.4, "2050.00"),
    ("Leeds", "LDS", "Yorkshire and the Humber", 1.2, "2000.00"),
    ("Liverpool", "LPL", "North West", 1.2, "2000.00"),
    ("Kent", "KNT", "South East", 1.0, "2200.00"),
    # Only with --boroughs above 40.
    ("Essex", "ESX", "East of England", 1.0, "2200.00"),
    ("Hertfordshire", "HRT", "East of England", 0.8, "2200.00"),
    ("Surrey", "SRY", "South East", 0.7, "2250.00"),
    ("Nottingham", "NGM", "East Midlands", 1.1, "2000.00"),
    ("Sheffield", "SHF", "Yorkshire and the Humber", 1.0, "2000.00"),
    ("Cardiff", "CDF", "Wales", 0.9, "2050.00"),
    ("Brighton & Hove", "BRH", "South East", 0.8, "2150.00"),
    ("Leicester", "LCR", "East Midlands", 0.9, "2000.00"),
    ("Newcastle upon Tyne", "NCL", "North East", 1.0, "2000.00"),
    ("Oxfordshire", "OXF", "South East", 0.6, "2300.00"),
]
# Every area as (name, slug, code, region, launched_on or None, relative size, cost per
# client); only the case study's have a launch date.
AREAS = [
    *CASE_STUDY_AREAS,
    *(
        (name, slugify(name), code, "London", None, size, "2000.00")
        for name, code, size in MORE_LONDON
    ),
    *((name, slugify(name), code, *rest[:1], None, *rest[1:]) for name, code, *rest in MORE_AREAS),
]
# The other areas launched between these dates (the last no later than 18 months before
# today, so that every area has a reoffending cohort).
LATER_LAUNCHES = (date(2013, 1, 7), date(2023, 6, 5))
