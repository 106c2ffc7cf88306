"""The categories API, /api/v1/categories/, as both sides answer it."""

from __future__ import annotations

CATEGORY_FIELDS = {"id", "name", "slug", "description", "parent", "created_at", "updated_at"}


def test_anyone_can_list_categories_as_a_page(side, anon_api):
    side.make_category(name="Shoes")

    response = anon_api.get("/api/v1/categories/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [c["name"] for c in body["results"]] == ["Shoes"]


def test_a_category_has_exactly_the_contract_fields(side, anon_api):
    parent = side.make_category(name="Clothing", slug="clothing")
    child = side.make_category(name="Shirts", slug="shirts", parent=parent, description="Cotton")

    body = anon_api.get(f"/api/v1/categories/{child.pk}/").json()

    assert set(body) == CATEGORY_FIELDS
    assert body["id"] == child.pk
    assert body["slug"] == "shirts"
    assert body["description"] == "Cotton"
    assert body["parent"] == parent.pk


def test_a_root_category_has_a_null_parent(side, anon_api):
    root = side.make_category()

    assert anon_api.get(f"/api/v1/categories/{root.pk}/").json()["parent"] is None


def test_categories_are_listed_by_name(side, customer_api):
    for name in ["Toys", "Books", "Music"]:
        side.make_category(name=name)

    results = customer_api.get("/api/v1/categories/").json()["results"]

    assert [c["name"] for c in results] == ["Books", "Music", "Toys"]


def test_an_unknown_category_is_not_found(anon_api):
    response = anon_api.get("/api/v1/categories/999999/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_staff_create_a_category(side, staff_api):
    parent = side.make_category()

    response = staff_api.post(
        "/api/v1/categories/",
        {"name": "Running shoes", "slug": "running", "description": "Fast", "parent": parent.pk},
    )

    assert response.status_code == 201
    body = response.json()
    assert set(body) == CATEGORY_FIELDS
    assert (body["name"], body["slug"], body["parent"]) == ("Running shoes", "running", parent.pk)
    assert side.Category.objects.filter(pk=body["id"], parent=parent).exists()


def test_a_category_created_without_a_slug_gets_one_from_its_name(staff_api):
    response = staff_api.post("/api/v1/categories/", {"name": "Garden Tools"})

    assert response.json()["slug"] == "garden-tools"


def test_a_generated_category_slug_is_suffixed_to_stay_unique(side, staff_api):
    side.make_category(name="Garden", slug="garden")

    response = staff_api.post("/api/v1/categories/", {"name": "Garden"})

    assert response.json()["slug"] == "garden-2"


def test_a_category_without_a_name_is_a_validation_error(staff_api):
    response = staff_api.post("/api/v1/categories/", {"slug": "nameless"})

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "name" in response.json()["fields"]


def test_a_taken_category_slug_is_a_validation_error(side, staff_api):
    side.make_category(slug="taken")

    response = staff_api.post("/api/v1/categories/", {"name": "Other", "slug": "taken"})

    assert response.status_code == 400
    assert "slug" in response.json()["fields"]


def test_an_unknown_parent_is_a_validation_error(staff_api):
    response = staff_api.post("/api/v1/categories/", {"name": "Orphan", "parent": 999999})

    assert response.status_code == 400
    assert "parent" in response.json()["fields"]


def test_non_staff_cannot_create_a_category(side, refused_writer):
    client, status, code = refused_writer

    response = client.post("/api/v1/categories/", {"name": "Nope"})

    assert response.status_code == status
    assert response.json()["code"] == code
    assert not side.Category.objects.filter(name="Nope").exists()


def test_non_staff_cannot_change_a_category(side, refused_writer):
    client, status, code = refused_writer
    category = side.make_category(name="Before")

    response = client.patch(f"/api/v1/categories/{category.pk}/", {"name": "After"})

    assert (response.status_code, response.json()["code"]) == (status, code)
    category.refresh_from_db()
    assert category.name == "Before"


def test_non_staff_cannot_delete_a_category(side, refused_writer):
    client, status, code = refused_writer
    category = side.make_category()

    response = client.delete(f"/api/v1/categories/{category.pk}/")

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert side.Category.objects.filter(pk=category.pk).exists()


def test_staff_rename_a_category(side, staff_api):
    category = side.make_category(name="Shose", slug="shoes")

    response = staff_api.patch(f"/api/v1/categories/{category.pk}/", {"name": "Shoes"})

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["slug"]) == ("Shoes", "shoes")


def test_staff_replace_a_category(side, staff_api):
    category = side.make_category(name="Old", slug="old", description="old text")
    parent = side.make_category()

    response = staff_api.put(
        f"/api/v1/categories/{category.pk}/",
        {"name": "New", "slug": "new", "description": "new text", "parent": parent.pk},
    )

    assert response.status_code == 200
    category.refresh_from_db()
    assert (category.name, category.slug, category.description) == ("New", "new", "new text")
    assert category.parent == parent


def test_staff_move_a_category_to_the_root(side, staff_api):
    child = side.make_category(parent=side.make_category())

    response = staff_api.patch(f"/api/v1/categories/{child.pk}/", {"parent": None})

    assert response.status_code == 200
    assert response.json()["parent"] is None


def test_a_category_cannot_be_its_own_parent(side, staff_api):
    category = side.make_category()

    response = staff_api.patch(f"/api/v1/categories/{category.pk}/", {"parent": category.pk})

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "parent" in response.json()["fields"]


def test_a_category_cannot_move_below_its_own_descendant(side, staff_api):
    top = side.make_category()
    middle = side.make_category(parent=top)
    bottom = side.make_category(parent=middle)

    response = staff_api.patch(f"/api/v1/categories/{top.pk}/", {"parent": bottom.pk})

    assert response.status_code == 400
    assert "parent" in response.json()["fields"]
    top.refresh_from_db()
    assert top.parent is None


def test_staff_delete_an_empty_category(side, staff_api):
    category = side.make_category()

    response = staff_api.delete(f"/api/v1/categories/{category.pk}/")

    assert response.status_code == 204
    assert staff_api.get(f"/api/v1/categories/{category.pk}/").status_code == 404


def test_a_category_with_products_cannot_be_deleted(side, staff_api):
    category = side.make_category()
    side.make_product(category=category, is_active=False)

    response = staff_api.delete(f"/api/v1/categories/{category.pk}/")

    assert response.status_code == 409
    assert response.json()["code"] == "category_in_use"
    assert side.Category.objects.filter(pk=category.pk).exists()


def test_a_category_with_subcategories_cannot_be_deleted(side, staff_api):
    category = side.make_category()
    side.make_category(parent=category)

    response = staff_api.delete(f"/api/v1/categories/{category.pk}/")

    assert response.status_code == 409
    assert response.json()["code"] == "category_in_use"


def test_categories_page_with_the_monoliths_links(side, anon_api):
    for name in ["A", "B", "C"]:
        side.make_category(name=name)

    first = anon_api.get("/api/v1/categories/?page_size=2").json()
    second = anon_api.get(first["next"]).json()

    assert first["next"] == "http://testserver/api/v1/categories/?page=2&page_size=2"
    assert [c["name"] for c in second["results"]] == ["C"]
    assert second["previous"] == "http://testserver/api/v1/categories/?page_size=2"


def test_a_cycle_is_refused_with_the_monoliths_message(side, staff_api):
    category = side.make_category()

    response = staff_api.patch(f"/api/v1/categories/{category.pk}/", {"parent": category.pk})

    assert response.json()["fields"] == {
        "parent": ["A category cannot be its own parent or sit below one of its subcategories."]
    }


def test_a_category_in_use_says_what_uses_it(side, staff_api):
    category = side.make_category(name="Busy")
    side.make_product(category=category)

    response = staff_api.delete(f"/api/v1/categories/{category.pk}/")

    assert response.json() == {
        "code": "category_in_use",
        "message": "Category Busy still has products or subcategories; move or remove them first.",
        "details": {"product_count": 1, "child_count": 0},
    }
