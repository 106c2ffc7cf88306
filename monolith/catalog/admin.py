"""Catalog admin. Products get their stock level inline; the category tree cannot loop."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.forms import BaseInlineFormSet
from django.http import HttpRequest

from monolith.catalog.models import Category, Product
from monolith.catalog.selectors import category_parent_creates_cycle
from monolith.inventory.admin import StockLevelInline
from monolith.inventory.models import StockLevel

__all__ = ["CategoryAdmin", "CategoryForm", "ProductAdmin"]


class CategoryForm(forms.ModelForm[Category]):
    class Meta:
        model = Category
        fields = ["name", "slug", "description", "parent"]

    def clean_parent(self) -> Category | None:
        parent: Category | None = self.cleaned_data["parent"]
        if category_parent_creates_cycle(category=self.instance, parent=parent):
            raise forms.ValidationError(
                "A category cannot be its own parent or sit below one of its subcategories.",
                code="cycle",
            )
        return parent


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin[Category]):
    form = CategoryForm
    list_display = ["name", "slug", "parent", "updated_at"]
    list_select_related = ["parent"]
    list_filter = ["parent"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin[Product]):
    list_display = ["name", "sku", "price", "currency", "is_active", "category"]
    list_editable = ["is_active"]
    list_filter = ["is_active", "category", "currency"]
    list_select_related = ["category"]
    search_fields = ["name", "sku"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [StockLevelInline]

    def save_related(
        self,
        request: HttpRequest,
        form: Any,
        formsets: list[BaseInlineFormSet[Any, Product, Any]],
        change: bool,
    ) -> None:
        super().save_related(request, form, formsets, change)
        # Every product has a stock level, even one saved with the inline left untouched.
        StockLevel.objects.get_or_create(product=form.instance)
