from django.apps import AppConfig


class MentoringConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "mentoring"
    verbose_name = "SOS mentoring programme"

    def ready(self):
        from . import sessions  # noqa: F401  (connects the sign-in and sign-out signals)
