"""An item's history is never edited: the database refuses UPDATE (and on PostgreSQL DELETE) of its rows,
as for the cases' history (cases 0003). SQLite keeps DELETE possible so test databases can be flushed;
the ORM refuses it everywhere."""

from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION taizhang_itemevent_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'registers_itemevent is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER registers_itemevent_append_only BEFORE UPDATE OR DELETE ON registers_itemevent
  FOR EACH ROW EXECUTE FUNCTION taizhang_itemevent_append_only();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS registers_itemevent_append_only ON registers_itemevent;
DROP FUNCTION IF EXISTS taizhang_itemevent_append_only();
"""
SQLITE_UP = """
CREATE TRIGGER registers_itemevent_append_only BEFORE UPDATE ON registers_itemevent
BEGIN SELECT RAISE(ABORT, 'registers_itemevent is append-only'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS registers_itemevent_append_only;"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_UP)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DOWN)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("registers", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
