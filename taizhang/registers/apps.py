from django.apps import AppConfig


class RegistersConfig(AppConfig):
    name = "taizhang.registers"
    label = "registers"
    verbose_name = "台账登记"
