from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("strangler_sync", "0003_row_integer_key_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="cursor",
            name="source_enabled",
            field=models.BooleanField(default=True),
        ),
        migrations.AddField(
            model_name="stream",
            name="peer_told_enabled",
            field=models.BooleanField(blank=True, default=None, null=True),
        ),
    ]
