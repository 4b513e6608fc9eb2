"""Login pages for staff and residents, registration with an SMS code, logout (thin)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhucheng.core.masking import mask_phone

from . import services
from .forms import ResidentLoginForm, ResidentRegisterForm, StaffLoginForm


class StaffLoginView(LoginView):
    template_name = "registration/login.html"
    authentication_form = StaffLoginForm
    redirect_authenticated_user = True


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("您已安全退出。"))
    return redirect("accounts:login")


def resident_login(request: HttpRequest) -> HttpResponse:
    form = ResidentLoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        found = services.resident_find_by_phone(form.cleaned_data["phone"])
        # Unknown phones still go through authenticate() so that lock-out counts them too.
        username = found.username if found else services.resident_username(form.cleaned_data["phone"])
        user = authenticate(request, username=username, password=form.cleaned_data["password"])
        if user is not None:
            login(request, user)
            return redirect("accounts:resident_home")
        form.add_error(None, _("手机号或密码不正确。"))
    return render(request, "registration/resident_login.html", {"form": form})


@require_POST
def resident_send_code(request: HttpRequest) -> HttpResponse:
    phone = request.POST.get("phone", "")
    try:
        services.otp_send(phone=phone, purpose="register")
        text, ok = _("验证码已发送到 %(phone)s。") % {"phone": mask_phone(phone)}, True
    except services.AccountError as exc:
        text, ok = exc.message, False
    return render(request, "registration/_code_status.html", {"text": text, "ok": ok})


def resident_register(request: HttpRequest) -> HttpResponse:
    form = ResidentRegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.resident_register(**form.cleaned_data)
        except services.AccountError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("注册成功。"))
            return redirect("accounts:resident_home")
    return render(request, "registration/resident_register.html", {"form": form})


@login_required
def resident_home(request: HttpRequest) -> HttpResponse:
    if not getattr(request.user, "is_resident", False):
        return redirect("core:home")
    return render(request, "accounts/resident_home.html", {"phone_masked": mask_phone(request.user.phone)})  # type: ignore[union-attr]
