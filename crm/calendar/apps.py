from django.apps import AppConfig


class CalendarConfig(AppConfig):
    name = "crm.calendar"
    label = "calendar"
