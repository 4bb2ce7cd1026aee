"""The reference rows of the cases written before they existed, from their history (reference_rebuild)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from taizhang.registers.reference_rebuild import rebuild_references, reference_fields

    names = {
        "Case": ("cases", "Case"),
        "Transition": ("cases", "Transition"),
        "ItemReference": ("registers", "ItemReference"),
        "RegisterItem": ("registers", "RegisterItem"),
    }
    rebuild_references({name: apps.get_model(*where) for name, where in names.items()}, reference_fields())


def backwards(apps, schema_editor):
    apps.get_model("registers", "ItemReference").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("registers", "0003_item_reference")]

    operations = [migrations.RunPython(forwards, backwards)]
