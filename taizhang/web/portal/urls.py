"""群众服务: submit, tracking code, progress, rating, the public ledger and 我也遇到."""

from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.new, name="new"),
    path("submitted/", views.submitted, name="submitted"),
    path("track/", views.track_page, name="track"),
    path("rate/", views.rate, name="rate"),
    path("mine/<str:number>/", views.mine, name="mine"),
    path("ledger/", views.ledger, name="ledger"),
    path("ledger/<str:number>/", views.ledger_detail, name="ledger_case"),
    path("ledger/<str:number>/metoo/", views.metoo, name="metoo"),
]
