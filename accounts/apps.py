from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "SOS sign-in"

    def ready(self):
        from . import signed_in  # noqa: F401  (connects the sign-in and sign-out signals)
