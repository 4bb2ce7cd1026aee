"""What upload quotas and the removal of unused uploads need: the sender's address hash, when a row took it."""

from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def claimed_when_recorded(apps, schema_editor):
    """Uploads already used were claimed when the history row that names them was written."""
    Attachment = apps.get_model("cases", "Attachment")
    Transition = apps.get_model("cases", "Transition")
    when = Transition.objects.filter(pk=OuterRef("transition_id")).values("created_at")[:1]
    Attachment.objects.filter(transition__isnull=False).update(claimed_at=Subquery(when))


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0005_case_mechanism_external_id'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='attachment',
            name='claimed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='attachment',
            name='client',
            field=models.CharField(blank=True, default='', max_length=64),
        ),
        migrations.AddIndex(
            model_name='attachment',
            index=models.Index(fields=['uploaded_by', 'created_at'], name='attachment_quota_user'),
        ),
        migrations.AddIndex(
            model_name='attachment',
            index=models.Index(fields=['client', 'created_at'], name='attachment_quota_client'),
        ),
        migrations.AddIndex(
            model_name='attachment',
            index=models.Index(fields=['sha256'], name='attachment_sha256'),
        ),
        migrations.AddIndex(
            model_name='attachment',
            index=models.Index(condition=models.Q(('transition__isnull', True)), fields=['created_at'], name='attachment_unclaimed'),
        ),
        migrations.RunPython(claimed_when_recorded, migrations.RunPython.noop),
    ]
