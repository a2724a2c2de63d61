"""Who is signed in, and in which session: what lets SOS end every session of a user."""

from django.conf import settings
from django.db import models


class SignedInSession(models.Model):
    """
    Which session belongs to which user, so that signing out, or being deactivated, can
    end every other session of that user too (Django's session table cannot be searched
    by user without decoding every row).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signed_in_sessions"
    )
    session_key = models.CharField(max_length=40, unique=True)
    signed_in_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The mentoring app's migrations created this table; it keeps its name and rows.
        db_table = "mentoring_signedinsession"
        ordering = ["-signed_in_at"]

    def __str__(self):
        return f"{self.user} since {self.signed_in_at:%d/%m/%Y %H:%M}"
