from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse

from tests.monolith.factories import make_user

STOREFRONT_APPS = ["accounts", "catalog", "inventory", "cart", "orders", "payments"]


def _storefront_models():
    return [model for label in STOREFRONT_APPS for model in apps.get_app_config(label).get_models()]


def test_every_storefront_model_is_in_the_admin() -> None:
    missing = [m._meta.label for m in _storefront_models() if not admin.site.is_registered(m)]

    assert missing == []


@pytest.mark.django_db
@pytest.mark.parametrize("model", _storefront_models(), ids=lambda m: m._meta.label)
def test_each_admin_list_and_add_page_renders_for_a_superuser(model) -> None:
    root = make_user(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(root)
    request = RequestFactory().get("/admin/")
    request.user = root
    info = (model._meta.app_label, model._meta.model_name)

    assert client.get(reverse("admin:{}_{}_changelist".format(*info))).status_code == 200
    if admin.site._registry[model].has_add_permission(request):
        assert client.get(reverse("admin:{}_{}_add".format(*info))).status_code == 200
