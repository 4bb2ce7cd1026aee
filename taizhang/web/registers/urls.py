"""The registers' pages (台账): lists, the map, the export, an item with its history, its forms."""

from django.urls import path

from . import views

app_name = "registers"
urlpatterns = [
    path("", views.index, name="index"),
    path("items/<str:number>/", views.item_page, name="item"),
    path("items/<str:number>/change/", views.change, name="change"),
    path("items/<str:number>/assess/", views.assess, name="assess"),
    path("<slug:code>/", views.item_list, name="list"),
    path("<slug:code>/export.xlsx", views.export, name="export"),
    path("<slug:code>/map/", views.item_map, name="map"),
    path("<slug:code>/new/", views.new_item, name="new"),
]
