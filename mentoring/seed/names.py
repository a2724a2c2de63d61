"""
The fictional names and words both data sets are made of: people's names, what a mentor
notes after a session, what a coordinator records after a safeguarding concern, and the
funders. Every name is invented; any likeness to a real person is chance.
"""

from mentoring import models as m

FIRST_NAMES_MALE = [
    "Jamal", "Tyrone", "Kyle", "Reece", "Daniel", "Kwame", "Liam", "Mohammed", "Jordan",
    "Callum", "Dwayne", "Elijah", "Marcus", "Tariq", "Connor", "Jermaine", "Ryan", "Ahmed",
    "Nathan", "Kofi", "Josh", "Isaac", "Leon", "Samir", "Ashley", "Bradley", "Femi", "Troy",
]  # fmt: skip
FIRST_NAMES_FEMALE = [
    "Chantelle", "Aaliyah", "Jade", "Shannon", "Amara", "Keisha", "Leah", "Nadia", "Chloe",
    "Tia", "Zara", "Precious", "Megan", "Stacey",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Taylor", "Davies", "Okafor", "Mensah", "Ali",
    "Campbell", "Thompson", "Robinson", "Walker", "Clarke", "Hussain", "Adeyemi", "Evans",
    "Green", "Hall", "Wright", "Osei", "Patel", "Khan", "Murphy", "O'Brien", "Reid", "Bailey",
    "Francis", "Grant", "Edwards", "Boateng", "Lewis", "Scott", "Hughes", "Mahmoud", "Ward",
]  # fmt: skip
MENTOR_FIRST_NAMES = [
    "Junior", "Andre", "Winston", "Delroy", "Paul", "Sean", "Michelle", "Darren", "Errol",
    "Kevin", "Yusuf", "Carl", "Marlon", "Lee", "Sonia", "Gary", "Trevor", "Nicola", "Omar",
    "Wayne", "Curtis", "Natalie", "Clive", "Ray", "Jason", "Lloyd", "Denise", "Tony", "Barry",
    "Everton", "Simone", "Rick",
]  # fmt: skip

# What a mentor notes after a session, by the support area it covered (the scale data set
# writes a generic note for an area not listed).
SESSION_NOTES = {
    "accommodation": "Went with {name} to the housing office to chase the tenancy application.",
    "education-training-employment": "Worked on {name}'s CV and applied for two jobs together.",
    "finance-benefits-debt": "Helped {name} sort out a Universal Credit claim and a debt letter.",
    "dependency-recovery": "Talked through cutting down; {name} agreed to see the drugs worker.",
    "lifestyle-associates": "Talked about staying away from old associates; plan for weekends.",
    "family-relationships": "Met {name} and their mum together; things calmer at home.",
    "emotional-wellbeing": "Long talk about how {name} is coping; mood better than last week.",
    "health": "Booked a GP appointment with {name} and went along.",
    "id-documents": "Filled in the provisional licence form with {name} for photo ID.",
    "legal-court": "Went to court with {name}; explained the order and what happens next.",
}
# What a coordinator did about a safeguarding concern. The demo records one at random; the
# scale data set, which does not draw for it, records the first.
SAFEGUARDING_ACTIONS = [
    "Discussed with the mentor and the youth offending team's safeguarding lead; plan agreed.",
    "Referred to children's social care; the mentor checks in twice a week meanwhile.",
    "Spoke to the young person and their family; no further action needed.",
    "Police informed; the mentor and the young person's caseworker agreed a safety plan.",
]

# Milestones' evidence: seen by the mentor, or confirmed by letter.
SEEN_BY_MENTOR = "Seen by mentor"
CONFIRMED_BY_LETTER = "Confirmed by letter"
GOAL_DESCRIPTION = "Make progress on {area}"  # the support area's name, in lower case
PHONE_FORMAT = "07700 900{:03d}"  # Ofcom's range of mobile numbers for drama

# The funders besides each area's council ("<area> Council").
FUNDER_NAMES = {
    m.Funder.Kind.RESIDENTS_GROUP: "North Kensington Residents' Group",
    m.Funder.Kind.POLICE: "Safer Neighbourhoods Police Fund",
    m.Funder.Kind.TRUST: "Riverside Youth Trust",
    m.Funder.Kind.CORPORATE: "Bankside Builders Ltd (CSR)",
}
