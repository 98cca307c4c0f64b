"""Texts of the seeded plans, marked for translation.

Plan rows keep English descriptions (staff edit them in the admin); the pricing page
translates them when a translation exists, so the seeded ones are listed here for
makemessages.
"""

from django.utils.translation import gettext_noop

SEEDED_PLAN_DESCRIPTIONS = [
    gettext_noop("For a founder and a first sales person."),
    gettext_noop("For a sales team with people in the field."),
    gettext_noop("For companies with several teams and processes."),
]
