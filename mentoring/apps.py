from django.apps import AppConfig
from django.db.models.signals import post_save


class MentoringConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "mentoring"
    verbose_name = "SOS mentoring programme"

    def ready(self):
        from . import safeguarding
        from .models import SupportSession

        # Every single save of a session (the session forms, the admin, its inlines) is
        # seen; bulk loads (the demo data, imports of past records) are not, and alert
        # nobody about concerns long dealt with.
        post_save.connect(
            safeguarding.session_saved,
            sender=SupportSession,
            dispatch_uid="mentoring.safeguarding.session_saved",
        )
