"""The blog, included under ``blog/`` with the namespace ``blog``."""

from django.urls import URLPattern, URLResolver, path, re_path

from tests.strangler.urlconf_project import views

app_name = "blog"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.article_list, name="list"),
    path("<int:pk>/", views.article_detail, name="detail"),
    # Listed after <slug:slug>/, which takes "new/" first: Django never reaches it.
    path("<slug:slug>/", views.article_by_slug, name="by-slug"),
    path("new/", views.article_new, name="new"),
    # A plain regex: anchored literals and a converter-shaped group.
    re_path(r"^archive/(?P<year>[0-9]+)/$", views.archive_year, name="archive-year"),
    # An optional group: the proxy has no syntax for it.
    re_path(r"^pages/(?:page-(?P<page>[0-9]+)/)?$", views.archive_page, name="pages"),
]
