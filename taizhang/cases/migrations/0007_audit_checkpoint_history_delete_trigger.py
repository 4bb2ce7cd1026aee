"""Signed audit checkpoints, and SQLite refuses DELETE of history rows too (PostgreSQL has since 0003).

Test databases on SQLite are still flushed: `taizhang flush` (taizhang/cases/management/commands/flush.py)
lifts the trigger for the length of its own transaction.
"""

import django.db.models.deletion
from django.db import migrations, models

SQLITE_UP = """
CREATE TRIGGER cases_transition_no_delete BEFORE DELETE ON cases_transition
BEGIN SELECT RAISE(ABORT, 'cases_transition is append-only'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS cases_transition_no_delete;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0006_attachment_uploader_quota'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditCheckpoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('serial', models.PositiveIntegerField(unique=True)),
                ('created_at', models.DateTimeField()),
                ('statement', models.TextField()),
                ('signature', models.CharField(max_length=128)),
                ('key_id', models.CharField(max_length=64)),
            ],
            options={
                'verbose_name': '审计检查点',
                'verbose_name_plural': '审计检查点',
                'ordering': ['serial'],
            },
        ),
        migrations.CreateModel(
            name='AuditCheckpointHeads',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('index', models.PositiveIntegerField()),
                ('data', models.BinaryField()),
                ('checkpoint', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='heads', to='cases.auditcheckpoint')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('checkpoint', 'index'), name='audit_checkpoint_heads_index')],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
