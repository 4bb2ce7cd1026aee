from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="WorkerPass",
            fields=[
                (
                    "name",
                    models.CharField(max_length=200, primary_key=True, serialize=False, verbose_name="调度进程"),
                ),
                ("finished_at", models.DateTimeField(verbose_name="最近一次完成时间")),
                ("written", models.PositiveIntegerField(default=0, verbose_name="写入记录数")),
            ],
            options={"verbose_name": "调度运行记录", "verbose_name_plural": "调度运行记录"},
        ),
    ]
