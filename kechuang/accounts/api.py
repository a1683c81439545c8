"""REST endpoints for users (administrators only) and API tokens."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from kechuang.accounts import services
from kechuang.accounts.models import User
from kechuang.core.api import ScopedModelViewSet, ScopedPrimaryKeyRelatedField
from kechuang.core.authorization import Action
from kechuang.regions.models import OrgUnit


class UserSerializer(serializers.ModelSerializer):
    org_unit = ScopedPrimaryKeyRelatedField(queryset=OrgUnit.objects.all())
    password = serializers.CharField(
        write_only=True, required=False, style={"input_type": "password"}
    )

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "display_name",
            "phone",
            "org_unit",
            "role",
            "is_active",
            "is_demo",
            "password",
            "last_login",
        ]
        read_only_fields = ["is_demo", "last_login"]
        extra_kwargs = {"username": {"validators": []}}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None and not attrs.get("password"):
            raise serializers.ValidationError({"password": "新建用户必须设置初始密码。"})
        if (
            self.instance is not None
            and "username" in attrs
            and (attrs["username"] != self.instance.username)
        ):
            raise serializers.ValidationError({"username": "用户名创建后不能修改。"})
        return attrs


class UserViewSet(ScopedModelViewSet):
    """Users of the caller's subtree; administrators only. DELETE deactivates."""

    queryset = User.objects.select_related("org_unit")
    serializer_class = UserSerializer
    filterset_fields = ["org_unit", "role", "is_active"]
    read_action = Action.MANAGE_USERS
    write_action = Action.MANAGE_USERS

    def create_object(self, data: dict[str, Any]) -> User:
        return services.create_user(
            actor=self.request.user,
            username=data["username"],
            password=data["password"],
            org_unit=data["org_unit"],
            role=data.get("role", "clerk"),
            display_name=data.get("display_name", ""),
            phone=data.get("phone", ""),
        )

    def update_object(self, instance: User, data: dict[str, Any]) -> User:
        with transaction.atomic():
            user = services.update_user(
                instance,
                actor=self.request.user,
                org_unit=data.get("org_unit"),
                role=data.get("role"),
                display_name=data.get("display_name"),
                phone=data.get("phone"),
                is_active=data.get("is_active"),
            )
            if data.get("password"):
                user = services.set_password(
                    user, actor=self.request.user, password=data["password"]
                )
        return user

    def delete_object(self, instance: User) -> User:
        return services.deactivate_user(instance, actor=self.request.user)


class ObtainTokenView(APIView):
    """Exchange a username and password for an API token (throttled like the login page)."""

    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=inline_serializer(
            "TokenRequest",
            {"username": serializers.CharField(), "password": serializers.CharField()},
        ),
        responses=inline_serializer("TokenResponse", {"token": serializers.CharField()}),
    )
    def post(self, request: Any) -> Response:
        user = services.log_in(
            request._request,
            str(request.data.get("username", "")),
            str(request.data.get("password", "")),
        )
        return Response({"token": services.issue_token(user, actor=user)})
