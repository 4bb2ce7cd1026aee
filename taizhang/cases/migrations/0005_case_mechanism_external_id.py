"""One case per (mechanism, external id): makes imports of other systems' records idempotent."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_case_co_units_merged_into")]

    operations = [
        migrations.AddConstraint(
            model_name="case",
            constraint=models.UniqueConstraint(
                condition=models.Q(("external_id", ""), _negated=True),
                fields=("mechanism", "external_id"),
                name="case_mechanism_external_id",
            ),
        ),
    ]
