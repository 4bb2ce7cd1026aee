"""The parties of the cases written before parties existed, rebuilt from their history."""

from django.db import migrations


def forwards(apps, schema_editor):
    from taizhang.cases.party_rebuild import rebuild_parties

    names = {
        "Case": ("cases", "Case"),
        "Transition": ("cases", "Transition"),
        "CaseParty": ("cases", "CaseParty"),
        "Membership": ("org", "Membership"),
        "Division": ("org", "Division"),
        "Unit": ("org", "Unit"),
    }
    rebuild_parties({name: apps.get_model(*where) for name, where in names.items()})


def backwards(apps, schema_editor):
    apps.get_model("cases", "CaseParty").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0008_caseparty"),
        ("org", "0002_alter_membership_role"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
