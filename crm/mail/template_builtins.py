"""The only tags and filters an email template may use (crm.mail.templating's engine).

No `load`, `include`, `extends`, `url`, `debug`, loops or anything that reaches outside
the context or makes output grow without bound (`center`, `ljust`, `rjust`).
"""

from django.template import Library, defaultfilters, defaulttags

register = Library()

TAGS = ("if", "with", "firstof", "now", "comment", "spaceless", "verbatim", "templatetag", "filter")
FILTERS = (
    "add", "capfirst", "cut", "date", "default", "default_if_none", "first", "floatformat", "join", "last",
    "length", "linebreaksbr", "lower", "pluralize", "slice", "striptags", "time", "title", "truncatechars",
    "truncatewords", "upper", "urlencode", "wordcount", "yesno",
)  # fmt: skip

for _name in TAGS:
    register.tags[_name] = defaulttags.register.tags[_name]
for _name in FILTERS:
    register.filters[_name] = defaultfilters.register.filters[_name]
