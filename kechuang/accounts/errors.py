from django.utils.translation import gettext_lazy as _

from kechuang.core.errors import DomainError


class LoginThrottled(DomainError):
    code = "login_throttled"
    http_status = 429
    default_message = _("登录失败次数过多，请稍后再试。")


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    http_status = 400
    default_message = _("用户名或密码不正确。")
