"""The two steps of signing in: username and password, then a two-factor code."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator


class SignInForm(AuthenticationForm):
    """
    Django's sign-in form, with the username's length checked: the form sets the limit
    after the field is built, so no check runs and a username of 256 characters would
    reach django-axes, whose failed-attempt record holds 255 (a 500 on PostgreSQL).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
    )

    def clean_code(self):
        # People type codes with spaces or dashes ("123 456", "abcd-efgh").
        return "".join(ch for ch in self.cleaned_data["code"] if ch.isalnum()).lower()
