"""allauth's signup page, with the workspace a signup creates (see forms.SignupForm)."""

from __future__ import annotations

from allauth.account.views import SignupView as AllauthSignupView
from django.http import HttpResponse

from apps.accounts.forms import SignupFailed, SignupForm


class SignupView(AllauthSignupView):
    form_class = SignupForm

    def form_valid(self, form: SignupForm) -> HttpResponse:
        try:
            return super().form_valid(form)
        except SignupFailed as exc:
            # Everything was rolled back: show the reason in the form, never a 500.
            form.add_error(exc.field, exc.message)
            return self.form_invalid(form)


signup = SignupView.as_view()
