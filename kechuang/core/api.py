"""API infrastructure every app's ``api.py`` builds on (the router lives in kechuang/api).

- ``ScopedModelViewSet`` reads only through ``visible_to(request.user)``, so
  an id outside the caller's subtree is a 404 exactly like a missing one;
- it never writes itself: ``perform_create``/``update``/``destroy`` hand the
  validated data to the app's services, which check roles and audit;
- ``exception_handler`` turns a ``DomainError`` into its HTTP status and a
  body ``{"code", "detail", "fields"}``.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from kechuang.core.authorization import has_action
from kechuang.core.errors import DomainError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.http_status)
    return drf_exception_handler(exc, context)


class ActionPermission(permissions.BasePermission):
    """Require the view's ``read_action`` / ``write_action`` from the caller's role.

    Rows are narrowed separately (``visible_to``); this only answers "may this
    role use the endpoint at all". Services repeat the write check per row.
    """

    def has_permission(self, request: Any, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        safe = request.method in permissions.SAFE_METHODS
        action = getattr(view, "read_action" if safe else "write_action", None)
        return action is None or has_action(request.user, action)


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key the caller may only point at rows they can see."""

    def get_queryset(self) -> models.QuerySet:
        request = self.context.get("request")
        queryset = super().get_queryset()
        if request is None:
            return queryset.none()
        return queryset.visible_to(request.user)


class ScopedModelViewSet(viewsets.ModelViewSet):
    """Base for every endpoint over org-unit-owned rows."""

    permission_classes = [permissions.IsAuthenticated, ActionPermission]
    read_action: str | None = None
    write_action: str | None = None

    def get_queryset(self) -> models.QuerySet:
        return self.queryset.visible_to(self.request.user)  # type: ignore[union-attr]

    def perform_create(self, serializer: serializers.Serializer) -> None:
        serializer.instance = self.create_object(serializer.validated_data)

    def perform_update(self, serializer: serializers.Serializer) -> None:
        serializer.instance = self.update_object(serializer.instance, serializer.validated_data)

    def perform_destroy(self, instance: models.Model) -> None:
        self.delete_object(instance)

    def destroy(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        result = self.delete_object(self.get_object())
        if result is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(self.get_serializer(result).data)

    # Subclasses call their app's services here.
    def create_object(self, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def update_object(self, instance: models.Model, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def delete_object(self, instance: models.Model) -> models.Model | None:
        raise NotImplementedError


class ScopedReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [permissions.IsAuthenticated, ActionPermission]
    read_action: str | None = None

    def get_queryset(self) -> models.QuerySet:
        return self.queryset.visible_to(self.request.user)  # type: ignore[union-attr]
