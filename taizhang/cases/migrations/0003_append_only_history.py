"""History is never edited: the database itself refuses UPDATE (and on PostgreSQL DELETE) of transitions.

SQLite keeps DELETE possible only so that test databases can be flushed; the ORM refuses it everywhere.
"""

from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION taizhang_transition_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'cases_transition is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER cases_transition_append_only BEFORE UPDATE OR DELETE ON cases_transition
  FOR EACH ROW EXECUTE FUNCTION taizhang_transition_append_only();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS cases_transition_append_only ON cases_transition;
DROP FUNCTION IF EXISTS taizhang_transition_append_only();
"""
SQLITE_UP = """
CREATE TRIGGER cases_transition_append_only BEFORE UPDATE ON cases_transition
BEGIN SELECT RAISE(ABORT, 'cases_transition is append-only'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS cases_transition_append_only;"


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
    dependencies = [("cases", "0002_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
