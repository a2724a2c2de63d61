"""
Offences and milestones get a version, as clients and sessions have, so that a
coordinator's correction crossed by another person's save is refused.

SQLite adds a column with a default by rebuilding the table, which the figures' triggers
on offences and milestones would not survive: they go first and come back last (as in
0020). PostgreSQL adds the column in place; reinstalling there changes nothing.
"""

from django.db import migrations, models, transaction


def drop_triggers(apps, schema_editor):
    _execute(schema_editor, SQLITE_DROP, POSTGRESQL_DROP)


def install_triggers(apps, schema_editor):
    """
    Every trigger, replacing any of the same name; then the summaries filled afresh and
    every figures version raised, as the data may have changed with no trigger to see it.
    """
    _execute(schema_editor, SQLITE_DROP + SQLITE_TRIGGERS, POSTGRESQL_DROP + POSTGRESQL_TRIGGERS)
    with transaction.atomic(using=schema_editor.connection.alias):
        _execute(schema_editor, SQLITE_FILL, POSTGRESQL_FILL)


def _execute(schema_editor, sqlite, postgresql):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for sql in postgresql if connection.vendor == "postgresql" else sqlite:
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("mentoring", "0022_safeguarding_open_by_client"),
    ]

    operations = [
        migrations.RunPython(drop_triggers, install_triggers),
        migrations.AddField(
            model_name="milestone",
            name="version",
            field=models.PositiveIntegerField(default=1, editable=False),
        ),
        migrations.AddField(
            model_name="offence",
            name="version",
            field=models.PositiveIntegerField(default=1, editable=False),
        ),
        migrations.RunPython(install_triggers, drop_triggers),
    ]


# The statements as mentoring/summaries.py generated them for this migration, frozen: a
# migration never runs the app's code, whose triggers may change (a change is a new
# migration with its own copy). The fill is what summaries.rebuild() ran.
SQLITE_TRIGGERS = [
    """CREATE TRIGGER mentoring_summary_session_insert AFTER INSERT ON mentoring_supportsession FOR EACH ROW WHEN NEW.attendance IN ('ATTENDED', 'LATE')
BEGIN
INSERT INTO mentoring_sessionday (borough_id, date, sessions, minutes)
SELECT c.borough_id, NEW.date, 1, NEW.duration_minutes
FROM mentoring_client c WHERE c.id = NEW.client_id
ON CONFLICT (borough_id, date) DO UPDATE
SET sessions = mentoring_sessionday.sessions + excluded.sessions, minutes = mentoring_sessionday.minutes + excluded.minutes;
INSERT INTO mentoring_sessionareaday (borough_id, date, support_area_id, sessions)
SELECT c.borough_id, NEW.date, link.supportarea_id, 1
FROM mentoring_supportsession_support_areas link JOIN mentoring_client c ON c.id = NEW.client_id
WHERE link.supportsession_id = NEW.id
ON CONFLICT (borough_id, date, support_area_id) DO UPDATE
SET sessions = mentoring_sessionareaday.sessions + excluded.sessions;
END""",
    """CREATE TRIGGER mentoring_summary_session_delete AFTER DELETE ON mentoring_supportsession FOR EACH ROW WHEN OLD.attendance IN ('ATTENDED', 'LATE')
BEGIN
UPDATE mentoring_sessionday SET sessions = sessions - 1, minutes = minutes - OLD.duration_minutes
WHERE date = OLD.date AND borough_id = (SELECT c.borough_id FROM mentoring_client c WHERE c.id = OLD.client_id);
UPDATE mentoring_sessionareaday SET sessions = sessions - 1
WHERE date = OLD.date AND borough_id = (SELECT c.borough_id FROM mentoring_client c WHERE c.id = OLD.client_id)
AND support_area_id IN (SELECT supportarea_id FROM mentoring_supportsession_support_areas WHERE supportsession_id = OLD.id);
DELETE FROM mentoring_sessionday WHERE date = OLD.date AND sessions = 0;
DELETE FROM mentoring_sessionareaday WHERE date = OLD.date AND sessions = 0;
END""",
    """CREATE TRIGGER mentoring_summary_session_update_old AFTER UPDATE ON mentoring_supportsession FOR EACH ROW WHEN OLD.attendance IN ('ATTENDED', 'LATE') AND (OLD.client_id IS NOT NEW.client_id OR OLD.date IS NOT NEW.date OR OLD.attendance IS NOT NEW.attendance OR OLD.duration_minutes IS NOT NEW.duration_minutes)
BEGIN
UPDATE mentoring_sessionday SET sessions = sessions - 1, minutes = minutes - OLD.duration_minutes
WHERE date = OLD.date AND borough_id = (SELECT c.borough_id FROM mentoring_client c WHERE c.id = OLD.client_id);
UPDATE mentoring_sessionareaday SET sessions = sessions - 1
WHERE date = OLD.date AND borough_id = (SELECT c.borough_id FROM mentoring_client c WHERE c.id = OLD.client_id)
AND support_area_id IN (SELECT supportarea_id FROM mentoring_supportsession_support_areas WHERE supportsession_id = OLD.id);
DELETE FROM mentoring_sessionday WHERE date = OLD.date AND sessions = 0;
DELETE FROM mentoring_sessionareaday WHERE date = OLD.date AND sessions = 0;
END""",
    """CREATE TRIGGER mentoring_summary_session_update_new AFTER UPDATE ON mentoring_supportsession FOR EACH ROW WHEN NEW.attendance IN ('ATTENDED', 'LATE') AND (OLD.client_id IS NOT NEW.client_id OR OLD.date IS NOT NEW.date OR OLD.attendance IS NOT NEW.attendance OR OLD.duration_minutes IS NOT NEW.duration_minutes)
BEGIN
INSERT INTO mentoring_sessionday (borough_id, date, sessions, minutes)
SELECT c.borough_id, NEW.date, 1, NEW.duration_minutes
FROM mentoring_client c WHERE c.id = NEW.client_id
ON CONFLICT (borough_id, date) DO UPDATE
SET sessions = mentoring_sessionday.sessions + excluded.sessions, minutes = mentoring_sessionday.minutes + excluded.minutes;
INSERT INTO mentoring_sessionareaday (borough_id, date, support_area_id, sessions)
SELECT c.borough_id, NEW.date, link.supportarea_id, 1
FROM mentoring_supportsession_support_areas link JOIN mentoring_client c ON c.id = NEW.client_id
WHERE link.supportsession_id = NEW.id
ON CONFLICT (borough_id, date, support_area_id) DO UPDATE
SET sessions = mentoring_sessionareaday.sessions + excluded.sessions;
END""",
    """CREATE TRIGGER mentoring_summary_link_insert AFTER INSERT ON mentoring_supportsession_support_areas FOR EACH ROW
BEGIN
INSERT INTO mentoring_sessionareaday (borough_id, date, support_area_id, sessions)
SELECT c.borough_id, s.date, NEW.supportarea_id, 1
FROM mentoring_supportsession s JOIN mentoring_client c ON c.id = s.client_id
WHERE s.id = NEW.supportsession_id AND s.attendance IN ('ATTENDED', 'LATE')
ON CONFLICT (borough_id, date, support_area_id) DO UPDATE
SET sessions = mentoring_sessionareaday.sessions + excluded.sessions;
END""",
    """CREATE TRIGGER mentoring_summary_link_delete AFTER DELETE ON mentoring_supportsession_support_areas FOR EACH ROW
BEGIN
UPDATE mentoring_sessionareaday SET sessions = sessions - 1
WHERE support_area_id = OLD.supportarea_id
AND date = (SELECT s.date FROM mentoring_supportsession s WHERE s.id = OLD.supportsession_id)
AND borough_id = (
    SELECT c.borough_id FROM mentoring_supportsession s JOIN mentoring_client c ON c.id = s.client_id
    WHERE s.id = OLD.supportsession_id AND s.attendance IN ('ATTENDED', 'LATE')
);
DELETE FROM mentoring_sessionareaday WHERE support_area_id = OLD.supportarea_id AND sessions = 0;
END""",
    """CREATE TRIGGER mentoring_summary_link_update AFTER UPDATE ON mentoring_supportsession_support_areas FOR EACH ROW
BEGIN
UPDATE mentoring_sessionareaday SET sessions = sessions - 1
WHERE support_area_id = OLD.supportarea_id
AND date = (SELECT s.date FROM mentoring_supportsession s WHERE s.id = OLD.supportsession_id)
AND borough_id = (
    SELECT c.borough_id FROM mentoring_supportsession s JOIN mentoring_client c ON c.id = s.client_id
    WHERE s.id = OLD.supportsession_id AND s.attendance IN ('ATTENDED', 'LATE')
);
INSERT INTO mentoring_sessionareaday (borough_id, date, support_area_id, sessions)
SELECT c.borough_id, s.date, NEW.supportarea_id, 1
FROM mentoring_supportsession s JOIN mentoring_client c ON c.id = s.client_id
WHERE s.id = NEW.supportsession_id AND s.attendance IN ('ATTENDED', 'LATE')
ON CONFLICT (borough_id, date, support_area_id) DO UPDATE
SET sessions = mentoring_sessionareaday.sessions + excluded.sessions;
DELETE FROM mentoring_sessionareaday WHERE support_area_id = OLD.supportarea_id AND sessions = 0;
END""",
    """CREATE TRIGGER mentoring_summary_client_moved AFTER UPDATE ON mentoring_client FOR EACH ROW WHEN OLD.borough_id IS NOT NEW.borough_id
BEGIN
INSERT INTO mentoring_sessionday (borough_id, date, sessions, minutes)
SELECT OLD.borough_id, s.date, -1 * COUNT(*), -1 * SUM(s.duration_minutes)
FROM mentoring_supportsession s WHERE s.client_id = NEW.id AND s.attendance IN ('ATTENDED', 'LATE')
GROUP BY s.date
ON CONFLICT (borough_id, date) DO UPDATE
SET sessions = mentoring_sessionday.sessions + excluded.sessions, minutes = mentoring_sessionday.minutes + excluded.minutes;
INSERT INTO mentoring_sessionareaday (borough_id, date, support_area_id, sessions)
SELECT OLD.borough_id, s.date, link.supportarea_id, -1 * COUNT(*)
FROM mentoring_supportsession s JOIN mentoring_supportsession_support_areas link ON link.supportsession_id = s.id
WHERE s.client_id = NEW.id AND s.attendance IN ('ATTENDED', 'LATE')
GROUP BY s.date, link.supportarea_id
ON CONFLICT (borough_id, date, support_area_id) DO UPDATE
SET sessions = mentoring_sessionareaday.sessions + excluded.sessions;
INSERT INTO mentoring_sessionday (borough_id, date, sessions, minutes)
SELECT NEW.borough_id, s.date, 1 * COUNT(*), 1 * SUM(s.duration_minutes)
FROM mentoring_supportsession s WHERE s.client_id = NEW.id AND s.attendance IN ('ATTENDED', 'LATE')
GROUP BY s.date
ON CONFLICT (borough_id, date) DO UPDATE
SET sessions = mentoring_sessionday.sessions + excluded.sessions, minutes = mentoring_sessionday.minutes + excluded.minutes;
INSERT INTO mentoring_sessionareaday (borough_id, date, support_area_id, sessions)
SELECT NEW.borough_id, s.date, link.supportarea_id, 1 * COUNT(*)
FROM mentoring_supportsession s JOIN mentoring_supportsession_support_areas link ON link.supportsession_id = s.id
WHERE s.client_id = NEW.id AND s.attendance IN ('ATTENDED', 'LATE')
GROUP BY s.date, link.supportarea_id
ON CONFLICT (borough_id, date, support_area_id) DO UPDATE
SET sessions = mentoring_sessionareaday.sessions + excluded.sessions;
DELETE FROM mentoring_sessionday WHERE borough_id = OLD.borough_id AND sessions = 0;
DELETE FROM mentoring_sessionareaday WHERE borough_id = OLD.borough_id AND sessions = 0;
END""",
    """CREATE TRIGGER mentoring_version_client_insert AFTER INSERT ON mentoring_client FOR EACH ROW
BEGIN
INSERT INTO mentoring_caseshardversion (borough_id, year, version, milestones_version)
SELECT NEW.borough_id, CAST(strftime('%Y', NEW.referred_on) AS INTEGER), 1 + (random() & 1073741823), 1 + (random() & 1073741823) WHERE NEW.borough_id IS NOT NULL
ON CONFLICT (borough_id, year) DO UPDATE SET version = mentoring_caseshardversion.version + 1 + (random() & 1073741823), milestones_version = mentoring_caseshardversion.milestones_version + 1 + (random() & 1073741823);
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT NEW.borough_id, 0, 1 + (random() & 1073741823) WHERE NEW.borough_id IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET sessions_version = mentoring_boroughversion.sessions_version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_client_delete AFTER DELETE ON mentoring_client FOR EACH ROW
BEGIN
INSERT INTO mentoring_caseshardversion (borough_id, year, version, milestones_version)
SELECT OLD.borough_id, CAST(strftime('%Y', OLD.referred_on) AS INTEGER), 1 + (random() & 1073741823), 1 + (random() & 1073741823) WHERE OLD.borough_id IS NOT NULL
ON CONFLICT (borough_id, year) DO UPDATE SET version = mentoring_caseshardversion.version + 1 + (random() & 1073741823), milestones_version = mentoring_caseshardversion.milestones_version + 1 + (random() & 1073741823);
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT OLD.borough_id, 0, 1 + (random() & 1073741823) WHERE OLD.borough_id IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET sessions_version = mentoring_boroughversion.sessions_version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_client_update AFTER UPDATE ON mentoring_client FOR EACH ROW
BEGIN
INSERT INTO mentoring_caseshardversion (borough_id, year, version, milestones_version)
SELECT OLD.borough_id, CAST(strftime('%Y', OLD.referred_on) AS INTEGER), 1 + (random() & 1073741823), 1 + (random() & 1073741823) WHERE OLD.borough_id IS NOT NULL
ON CONFLICT (borough_id, year) DO UPDATE SET version = mentoring_caseshardversion.version + 1 + (random() & 1073741823), milestones_version = mentoring_caseshardversion.milestones_version + 1 + (random() & 1073741823);
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT OLD.borough_id, 0, 1 + (random() & 1073741823) WHERE OLD.borough_id IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET sessions_version = mentoring_boroughversion.sessions_version + 1 + (random() & 1073741823);
INSERT INTO mentoring_caseshardversion (borough_id, year, version, milestones_version)
SELECT NEW.borough_id, CAST(strftime('%Y', NEW.referred_on) AS INTEGER), 1 + (random() & 1073741823), 1 + (random() & 1073741823) WHERE NEW.borough_id IS NOT NULL
ON CONFLICT (borough_id, year) DO UPDATE SET version = mentoring_caseshardversion.version + 1 + (random() & 1073741823), milestones_version = mentoring_caseshardversion.milestones_version + 1 + (random() & 1073741823);
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT NEW.borough_id, 0, 1 + (random() & 1073741823) WHERE NEW.borough_id IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET sessions_version = mentoring_boroughversion.sessions_version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_supportsession_insert AFTER INSERT ON mentoring_supportsession FOR EACH ROW
BEGIN
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT c.borough_id, 0, 1 + (random() & 1073741823) FROM mentoring_client c WHERE c.id = NEW.client_id
ON CONFLICT (borough_id) DO UPDATE SET sessions_version = mentoring_boroughversion.sessions_version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_supportsession_delete AFTER DELETE ON mentoring_supportsession FOR EACH ROW
BEGIN
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT c.borough_id, 0, 1 + (random() & 1073741823) FROM mentoring_client c WHERE c.id = OLD.client_id
ON CONFLICT (borough_id) DO UPDATE SET sessions_version = mentoring_boroughversion.sessions_version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_supportsession_update AFTER UPDATE ON mentoring_supportsession FOR EACH ROW
BEGIN
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT c.borough_id, 0, 1 + (random() & 1073741823) FROM mentoring_client c WHERE c.id = OLD.client_id
ON CONFLICT (borough_id) DO UPDATE SET sessions_version = mentoring_boroughversion.sessions_version + 1 + (random() & 1073741823);
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT c.borough_id, 0, 1 + (random() & 1073741823) FROM mentoring_client c WHERE c.id = NEW.client_id
ON CONFLICT (borough_id) DO UPDATE SET sessions_version = mentoring_boroughversion.sessions_version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_supportsession_support_areas_insert AFTER INSERT ON mentoring_supportsession_support_areas FOR EACH ROW
BEGIN
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT c.borough_id, 0, 1 + (random() & 1073741823) FROM mentoring_supportsession s JOIN mentoring_client c ON c.id = s.client_id WHERE s.id = NEW.supportsession_id
ON CONFLICT (borough_id) DO UPDATE SET sessions_version = mentoring_boroughversion.sessions_version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_supportsession_support_areas_delete AFTER DELETE ON mentoring_supportsession_support_areas FOR EACH ROW
BEGIN
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT c.borough_id, 0, 1 + (random() & 1073741823) FROM mentoring_supportsession s JOIN mentoring_client c ON c.id = s.client_id WHERE s.id = OLD.supportsession_id
ON CONFLICT (borough_id) DO UPDATE SET sessions_version = mentoring_boroughversion.sessions_version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_supportsession_support_areas_update AFTER UPDATE ON mentoring_supportsession_support_areas FOR EACH ROW
BEGIN
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT c.borough_id, 0, 1 + (random() & 1073741823) FROM mentoring_supportsession s JOIN mentoring_client c ON c.id = s.client_id WHERE s.id = OLD.supportsession_id
ON CONFLICT (borough_id) DO UPDATE SET sessions_version = mentoring_boroughversion.sessions_version + 1 + (random() & 1073741823);
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT c.borough_id, 0, 1 + (random() & 1073741823) FROM mentoring_supportsession s JOIN mentoring_client c ON c.id = s.client_id WHERE s.id = NEW.supportsession_id
ON CONFLICT (borough_id) DO UPDATE SET sessions_version = mentoring_boroughversion.sessions_version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_offence_insert AFTER INSERT ON mentoring_offence FOR EACH ROW
BEGIN
INSERT INTO mentoring_caseshardversion (borough_id, year, version, milestones_version)
SELECT c.borough_id, CAST(strftime('%Y', c.referred_on) AS INTEGER), 1 + (random() & 1073741823), 0 FROM mentoring_client c WHERE c.id = NEW.client_id
ON CONFLICT (borough_id, year) DO UPDATE SET version = mentoring_caseshardversion.version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_offence_delete AFTER DELETE ON mentoring_offence FOR EACH ROW
BEGIN
INSERT INTO mentoring_caseshardversion (borough_id, year, version, milestones_version)
SELECT c.borough_id, CAST(strftime('%Y', c.referred_on) AS INTEGER), 1 + (random() & 1073741823), 0 FROM mentoring_client c WHERE c.id = OLD.client_id
ON CONFLICT (borough_id, year) DO UPDATE SET version = mentoring_caseshardversion.version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_offence_update AFTER UPDATE ON mentoring_offence FOR EACH ROW
BEGIN
INSERT INTO mentoring_caseshardversion (borough_id, year, version, milestones_version)
SELECT c.borough_id, CAST(strftime('%Y', c.referred_on) AS INTEGER), 1 + (random() & 1073741823), 0 FROM mentoring_client c WHERE c.id = OLD.client_id
ON CONFLICT (borough_id, year) DO UPDATE SET version = mentoring_caseshardversion.version + 1 + (random() & 1073741823);
INSERT INTO mentoring_caseshardversion (borough_id, year, version, milestones_version)
SELECT c.borough_id, CAST(strftime('%Y', c.referred_on) AS INTEGER), 1 + (random() & 1073741823), 0 FROM mentoring_client c WHERE c.id = NEW.client_id
ON CONFLICT (borough_id, year) DO UPDATE SET version = mentoring_caseshardversion.version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_milestone_insert AFTER INSERT ON mentoring_milestone FOR EACH ROW
BEGIN
INSERT INTO mentoring_caseshardversion (borough_id, year, version, milestones_version)
SELECT c.borough_id, CAST(strftime('%Y', c.referred_on) AS INTEGER), 0, 1 + (random() & 1073741823) FROM mentoring_client c WHERE c.id = NEW.client_id
ON CONFLICT (borough_id, year) DO UPDATE SET milestones_version = mentoring_caseshardversion.milestones_version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_milestone_delete AFTER DELETE ON mentoring_milestone FOR EACH ROW
BEGIN
INSERT INTO mentoring_caseshardversion (borough_id, year, version, milestones_version)
SELECT c.borough_id, CAST(strftime('%Y', c.referred_on) AS INTEGER), 0, 1 + (random() & 1073741823) FROM mentoring_client c WHERE c.id = OLD.client_id
ON CONFLICT (borough_id, year) DO UPDATE SET milestones_version = mentoring_caseshardversion.milestones_version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_milestone_update AFTER UPDATE ON mentoring_milestone FOR EACH ROW
BEGIN
INSERT INTO mentoring_caseshardversion (borough_id, year, version, milestones_version)
SELECT c.borough_id, CAST(strftime('%Y', c.referred_on) AS INTEGER), 0, 1 + (random() & 1073741823) FROM mentoring_client c WHERE c.id = OLD.client_id
ON CONFLICT (borough_id, year) DO UPDATE SET milestones_version = mentoring_caseshardversion.milestones_version + 1 + (random() & 1073741823);
INSERT INTO mentoring_caseshardversion (borough_id, year, version, milestones_version)
SELECT c.borough_id, CAST(strftime('%Y', c.referred_on) AS INTEGER), 0, 1 + (random() & 1073741823) FROM mentoring_client c WHERE c.id = NEW.client_id
ON CONFLICT (borough_id, year) DO UPDATE SET milestones_version = mentoring_caseshardversion.milestones_version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_grant_insert AFTER INSERT ON mentoring_grant FOR EACH ROW
BEGIN
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT NEW.borough_id, 1 + (random() & 1073741823), 0 WHERE NEW.borough_id IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_grant_delete AFTER DELETE ON mentoring_grant FOR EACH ROW
BEGIN
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT OLD.borough_id, 1 + (random() & 1073741823), 0 WHERE OLD.borough_id IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_grant_update AFTER UPDATE ON mentoring_grant FOR EACH ROW
BEGIN
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT OLD.borough_id, 1 + (random() & 1073741823), 0 WHERE OLD.borough_id IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + (random() & 1073741823);
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT NEW.borough_id, 1 + (random() & 1073741823), 0 WHERE NEW.borough_id IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_borough_insert AFTER INSERT ON mentoring_borough FOR EACH ROW
BEGIN
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT NEW.id, 1 + (random() & 1073741823), 0 WHERE NEW.id IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + (random() & 1073741823);
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT 0, 1 + (random() & 1073741823), 0 WHERE 0 IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_borough_delete AFTER DELETE ON mentoring_borough FOR EACH ROW
BEGIN
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT OLD.id, 1 + (random() & 1073741823), 0 WHERE OLD.id IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + (random() & 1073741823);
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT 0, 1 + (random() & 1073741823), 0 WHERE 0 IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_borough_update AFTER UPDATE ON mentoring_borough FOR EACH ROW
BEGIN
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT OLD.id, 1 + (random() & 1073741823), 0 WHERE OLD.id IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + (random() & 1073741823);
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT 0, 1 + (random() & 1073741823), 0 WHERE 0 IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + (random() & 1073741823);
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT NEW.id, 1 + (random() & 1073741823), 0 WHERE NEW.id IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_mentor_insert AFTER INSERT ON mentoring_mentor FOR EACH ROW
BEGIN
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT 0, 1 + (random() & 1073741823), 0 WHERE 0 IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_mentor_delete AFTER DELETE ON mentoring_mentor FOR EACH ROW
BEGIN
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT 0, 1 + (random() & 1073741823), 0 WHERE 0 IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_mentor_update AFTER UPDATE ON mentoring_mentor FOR EACH ROW
BEGIN
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT 0, 1 + (random() & 1073741823), 0 WHERE 0 IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_assignment_insert AFTER INSERT ON mentoring_assignment FOR EACH ROW
BEGIN
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT 0, 1 + (random() & 1073741823), 0 WHERE 0 IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_assignment_delete AFTER DELETE ON mentoring_assignment FOR EACH ROW
BEGIN
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT 0, 1 + (random() & 1073741823), 0 WHERE 0 IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_assignment_update AFTER UPDATE ON mentoring_assignment FOR EACH ROW
BEGIN
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT 0, 1 + (random() & 1073741823), 0 WHERE 0 IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_mentor_other_boroughs_insert AFTER INSERT ON mentoring_mentor_other_boroughs FOR EACH ROW
BEGIN
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT 0, 1 + (random() & 1073741823), 0 WHERE 0 IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_mentor_other_boroughs_delete AFTER DELETE ON mentoring_mentor_other_boroughs FOR EACH ROW
BEGIN
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT 0, 1 + (random() & 1073741823), 0 WHERE 0 IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + (random() & 1073741823);
END""",
    """CREATE TRIGGER mentoring_version_mentor_other_boroughs_update AFTER UPDATE ON mentoring_mentor_other_boroughs FOR EACH ROW
BEGIN
INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT 0, 1 + (random() & 1073741823), 0 WHERE 0 IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + (random() & 1073741823);
END""",
]

POSTGRESQL_TRIGGERS = [
    """CREATE FUNCTION mentoring_summary_session_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_sessionday (borough_id, date, sessions, minutes)
SELECT c.borough_id, NEW.date, 1, NEW.duration_minutes
FROM mentoring_client c WHERE c.id = NEW.client_id
ON CONFLICT (borough_id, date) DO UPDATE
SET sessions = mentoring_sessionday.sessions + excluded.sessions, minutes = mentoring_sessionday.minutes + excluded.minutes;
  INSERT INTO mentoring_sessionareaday (borough_id, date, support_area_id, sessions)
SELECT c.borough_id, NEW.date, link.supportarea_id, 1
FROM mentoring_supportsession_support_areas link JOIN mentoring_client c ON c.id = NEW.client_id
WHERE link.supportsession_id = NEW.id
ON CONFLICT (borough_id, date, support_area_id) DO UPDATE
SET sessions = mentoring_sessionareaday.sessions + excluded.sessions;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_summary_session_insert AFTER INSERT ON mentoring_supportsession FOR EACH ROW WHEN (NEW.attendance IN ('ATTENDED', 'LATE')) EXECUTE FUNCTION mentoring_summary_session_insert()",
    """CREATE FUNCTION mentoring_summary_session_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE mentoring_sessionday SET sessions = sessions - 1, minutes = minutes - OLD.duration_minutes
WHERE date = OLD.date AND borough_id = (SELECT c.borough_id FROM mentoring_client c WHERE c.id = OLD.client_id);
  UPDATE mentoring_sessionareaday SET sessions = sessions - 1
WHERE date = OLD.date AND borough_id = (SELECT c.borough_id FROM mentoring_client c WHERE c.id = OLD.client_id)
AND support_area_id IN (SELECT supportarea_id FROM mentoring_supportsession_support_areas WHERE supportsession_id = OLD.id);
  DELETE FROM mentoring_sessionday WHERE date = OLD.date AND sessions = 0;
  DELETE FROM mentoring_sessionareaday WHERE date = OLD.date AND sessions = 0;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_summary_session_delete AFTER DELETE ON mentoring_supportsession FOR EACH ROW WHEN (OLD.attendance IN ('ATTENDED', 'LATE')) EXECUTE FUNCTION mentoring_summary_session_delete()",
    """CREATE FUNCTION mentoring_summary_session_update_old() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE mentoring_sessionday SET sessions = sessions - 1, minutes = minutes - OLD.duration_minutes
WHERE date = OLD.date AND borough_id = (SELECT c.borough_id FROM mentoring_client c WHERE c.id = OLD.client_id);
  UPDATE mentoring_sessionareaday SET sessions = sessions - 1
WHERE date = OLD.date AND borough_id = (SELECT c.borough_id FROM mentoring_client c WHERE c.id = OLD.client_id)
AND support_area_id IN (SELECT supportarea_id FROM mentoring_supportsession_support_areas WHERE supportsession_id = OLD.id);
  DELETE FROM mentoring_sessionday WHERE date = OLD.date AND sessions = 0;
  DELETE FROM mentoring_sessionareaday WHERE date = OLD.date AND sessions = 0;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_summary_session_update_old AFTER UPDATE ON mentoring_supportsession FOR EACH ROW WHEN (OLD.attendance IN ('ATTENDED', 'LATE') AND (OLD.client_id IS DISTINCT FROM NEW.client_id OR OLD.date IS DISTINCT FROM NEW.date OR OLD.attendance IS DISTINCT FROM NEW.attendance OR OLD.duration_minutes IS DISTINCT FROM NEW.duration_minutes)) EXECUTE FUNCTION mentoring_summary_session_update_old()",
    """CREATE FUNCTION mentoring_summary_session_update_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_sessionday (borough_id, date, sessions, minutes)
SELECT c.borough_id, NEW.date, 1, NEW.duration_minutes
FROM mentoring_client c WHERE c.id = NEW.client_id
ON CONFLICT (borough_id, date) DO UPDATE
SET sessions = mentoring_sessionday.sessions + excluded.sessions, minutes = mentoring_sessionday.minutes + excluded.minutes;
  INSERT INTO mentoring_sessionareaday (borough_id, date, support_area_id, sessions)
SELECT c.borough_id, NEW.date, link.supportarea_id, 1
FROM mentoring_supportsession_support_areas link JOIN mentoring_client c ON c.id = NEW.client_id
WHERE link.supportsession_id = NEW.id
ON CONFLICT (borough_id, date, support_area_id) DO UPDATE
SET sessions = mentoring_sessionareaday.sessions + excluded.sessions;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_summary_session_update_new AFTER UPDATE ON mentoring_supportsession FOR EACH ROW WHEN (NEW.attendance IN ('ATTENDED', 'LATE') AND (OLD.client_id IS DISTINCT FROM NEW.client_id OR OLD.date IS DISTINCT FROM NEW.date OR OLD.attendance IS DISTINCT FROM NEW.attendance OR OLD.duration_minutes IS DISTINCT FROM NEW.duration_minutes)) EXECUTE FUNCTION mentoring_summary_session_update_new()",
    """CREATE FUNCTION mentoring_summary_link_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_sessionareaday (borough_id, date, support_area_id, sessions)
SELECT c.borough_id, s.date, NEW.supportarea_id, 1
FROM mentoring_supportsession s JOIN mentoring_client c ON c.id = s.client_id
WHERE s.id = NEW.supportsession_id AND s.attendance IN ('ATTENDED', 'LATE')
ON CONFLICT (borough_id, date, support_area_id) DO UPDATE
SET sessions = mentoring_sessionareaday.sessions + excluded.sessions;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_summary_link_insert AFTER INSERT ON mentoring_supportsession_support_areas FOR EACH ROW EXECUTE FUNCTION mentoring_summary_link_insert()",
    """CREATE FUNCTION mentoring_summary_link_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE mentoring_sessionareaday SET sessions = sessions - 1
WHERE support_area_id = OLD.supportarea_id
AND date = (SELECT s.date FROM mentoring_supportsession s WHERE s.id = OLD.supportsession_id)
AND borough_id = (
    SELECT c.borough_id FROM mentoring_supportsession s JOIN mentoring_client c ON c.id = s.client_id
    WHERE s.id = OLD.supportsession_id AND s.attendance IN ('ATTENDED', 'LATE')
);
  DELETE FROM mentoring_sessionareaday WHERE support_area_id = OLD.supportarea_id AND sessions = 0;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_summary_link_delete AFTER DELETE ON mentoring_supportsession_support_areas FOR EACH ROW EXECUTE FUNCTION mentoring_summary_link_delete()",
    """CREATE FUNCTION mentoring_summary_link_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE mentoring_sessionareaday SET sessions = sessions - 1
WHERE support_area_id = OLD.supportarea_id
AND date = (SELECT s.date FROM mentoring_supportsession s WHERE s.id = OLD.supportsession_id)
AND borough_id = (
    SELECT c.borough_id FROM mentoring_supportsession s JOIN mentoring_client c ON c.id = s.client_id
    WHERE s.id = OLD.supportsession_id AND s.attendance IN ('ATTENDED', 'LATE')
);
  INSERT INTO mentoring_sessionareaday (borough_id, date, support_area_id, sessions)
SELECT c.borough_id, s.date, NEW.supportarea_id, 1
FROM mentoring_supportsession s JOIN mentoring_client c ON c.id = s.client_id
WHERE s.id = NEW.supportsession_id AND s.attendance IN ('ATTENDED', 'LATE')
ON CONFLICT (borough_id, date, support_area_id) DO UPDATE
SET sessions = mentoring_sessionareaday.sessions + excluded.sessions;
  DELETE FROM mentoring_sessionareaday WHERE support_area_id = OLD.supportarea_id AND sessions = 0;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_summary_link_update AFTER UPDATE ON mentoring_supportsession_support_areas FOR EACH ROW EXECUTE FUNCTION mentoring_summary_link_update()",
    """CREATE FUNCTION mentoring_summary_client_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_sessionday (borough_id, date, sessions, minutes)
SELECT OLD.borough_id, s.date, -1 * COUNT(*), -1 * SUM(s.duration_minutes)
FROM mentoring_supportsession s WHERE s.client_id = NEW.id AND s.attendance IN ('ATTENDED', 'LATE')
GROUP BY s.date
ON CONFLICT (borough_id, date) DO UPDATE
SET sessions = mentoring_sessionday.sessions + excluded.sessions, minutes = mentoring_sessionday.minutes + excluded.minutes;
  INSERT INTO mentoring_sessionareaday (borough_id, date, support_area_id, sessions)
SELECT OLD.borough_id, s.date, link.supportarea_id, -1 * COUNT(*)
FROM mentoring_supportsession s JOIN mentoring_supportsession_support_areas link ON link.supportsession_id = s.id
WHERE s.client_id = NEW.id AND s.attendance IN ('ATTENDED', 'LATE')
GROUP BY s.date, link.supportarea_id
ON CONFLICT (borough_id, date, support_area_id) DO UPDATE
SET sessions = mentoring_sessionareaday.sessions + excluded.sessions;
  INSERT INTO mentoring_sessionday (borough_id, date, sessions, minutes)
SELECT NEW.borough_id, s.date, 1 * COUNT(*), 1 * SUM(s.duration_minutes)
FROM mentoring_supportsession s WHERE s.client_id = NEW.id AND s.attendance IN ('ATTENDED', 'LATE')
GROUP BY s.date
ON CONFLICT (borough_id, date) DO UPDATE
SET sessions = mentoring_sessionday.sessions + excluded.sessions, minutes = mentoring_sessionday.minutes + excluded.minutes;
  INSERT INTO mentoring_sessionareaday (borough_id, date, support_area_id, sessions)
SELECT NEW.borough_id, s.date, link.supportarea_id, 1 * COUNT(*)
FROM mentoring_supportsession s JOIN mentoring_supportsession_support_areas link ON link.supportsession_id = s.id
WHERE s.client_id = NEW.id AND s.attendance IN ('ATTENDED', 'LATE')
GROUP BY s.date, link.supportarea_id
ON CONFLICT (borough_id, date, support_area_id) DO UPDATE
SET sessions = mentoring_sessionareaday.sessions + excluded.sessions;
  DELETE FROM mentoring_sessionday WHERE borough_id = OLD.borough_id AND sessions = 0;
  DELETE FROM mentoring_sessionareaday WHERE borough_id = OLD.borough_id AND sessions = 0;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_summary_client_moved AFTER UPDATE ON mentoring_client FOR EACH ROW WHEN (OLD.borough_id IS DISTINCT FROM NEW.borough_id) EXECUTE FUNCTION mentoring_summary_client_moved()",
    """CREATE FUNCTION mentoring_version_client_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_caseshardversion (borough_id, year, version, milestones_version)
SELECT NEW.borough_id, CAST(EXTRACT(YEAR FROM NEW.referred_on) AS INTEGER), 1 + floor(random() * 1073741824)::bigint, 1 + floor(random() * 1073741824)::bigint WHERE NEW.borough_id IS NOT NULL
ON CONFLICT (borough_id, year) DO UPDATE SET version = mentoring_caseshardversion.version + 1 + floor(random() * 1073741824)::bigint, milestones_version = mentoring_caseshardversion.milestones_version + 1 + floor(random() * 1073741824)::bigint;
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT NEW.borough_id, 0, 1 + floor(random() * 1073741824)::bigint WHERE NEW.borough_id IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET sessions_version = mentoring_boroughversion.sessions_version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_client_insert AFTER INSERT ON mentoring_client FOR EACH ROW EXECUTE FUNCTION mentoring_version_client_insert()",
    """CREATE FUNCTION mentoring_version_client_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_caseshardversion (borough_id, year, version, milestones_version)
SELECT OLD.borough_id, CAST(EXTRACT(YEAR FROM OLD.referred_on) AS INTEGER), 1 + floor(random() * 1073741824)::bigint, 1 + floor(random() * 1073741824)::bigint WHERE OLD.borough_id IS NOT NULL
ON CONFLICT (borough_id, year) DO UPDATE SET version = mentoring_caseshardversion.version + 1 + floor(random() * 1073741824)::bigint, milestones_version = mentoring_caseshardversion.milestones_version + 1 + floor(random() * 1073741824)::bigint;
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT OLD.borough_id, 0, 1 + floor(random() * 1073741824)::bigint WHERE OLD.borough_id IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET sessions_version = mentoring_boroughversion.sessions_version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_client_delete AFTER DELETE ON mentoring_client FOR EACH ROW EXECUTE FUNCTION mentoring_version_client_delete()",
    """CREATE FUNCTION mentoring_version_client_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_caseshardversion (borough_id, year, version, milestones_version)
SELECT OLD.borough_id, CAST(EXTRACT(YEAR FROM OLD.referred_on) AS INTEGER), 1 + floor(random() * 1073741824)::bigint, 1 + floor(random() * 1073741824)::bigint WHERE OLD.borough_id IS NOT NULL
ON CONFLICT (borough_id, year) DO UPDATE SET version = mentoring_caseshardversion.version + 1 + floor(random() * 1073741824)::bigint, milestones_version = mentoring_caseshardversion.milestones_version + 1 + floor(random() * 1073741824)::bigint;
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT OLD.borough_id, 0, 1 + floor(random() * 1073741824)::bigint WHERE OLD.borough_id IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET sessions_version = mentoring_boroughversion.sessions_version + 1 + floor(random() * 1073741824)::bigint;
  INSERT INTO mentoring_caseshardversion (borough_id, year, version, milestones_version)
SELECT NEW.borough_id, CAST(EXTRACT(YEAR FROM NEW.referred_on) AS INTEGER), 1 + floor(random() * 1073741824)::bigint, 1 + floor(random() * 1073741824)::bigint WHERE NEW.borough_id IS NOT NULL
ON CONFLICT (borough_id, year) DO UPDATE SET version = mentoring_caseshardversion.version + 1 + floor(random() * 1073741824)::bigint, milestones_version = mentoring_caseshardversion.milestones_version + 1 + floor(random() * 1073741824)::bigint;
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT NEW.borough_id, 0, 1 + floor(random() * 1073741824)::bigint WHERE NEW.borough_id IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET sessions_version = mentoring_boroughversion.sessions_version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_client_update AFTER UPDATE ON mentoring_client FOR EACH ROW EXECUTE FUNCTION mentoring_version_client_update()",
    """CREATE FUNCTION mentoring_version_supportsession_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT c.borough_id, 0, 1 + floor(random() * 1073741824)::bigint FROM mentoring_client c WHERE c.id = NEW.client_id
ON CONFLICT (borough_id) DO UPDATE SET sessions_version = mentoring_boroughversion.sessions_version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_supportsession_insert AFTER INSERT ON mentoring_supportsession FOR EACH ROW EXECUTE FUNCTION mentoring_version_supportsession_insert()",
    """CREATE FUNCTION mentoring_version_supportsession_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT c.borough_id, 0, 1 + floor(random() * 1073741824)::bigint FROM mentoring_client c WHERE c.id = OLD.client_id
ON CONFLICT (borough_id) DO UPDATE SET sessions_version = mentoring_boroughversion.sessions_version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_supportsession_delete AFTER DELETE ON mentoring_supportsession FOR EACH ROW EXECUTE FUNCTION mentoring_version_supportsession_delete()",
    """CREATE FUNCTION mentoring_version_supportsession_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT c.borough_id, 0, 1 + floor(random() * 1073741824)::bigint FROM mentoring_client c WHERE c.id = OLD.client_id
ON CONFLICT (borough_id) DO UPDATE SET sessions_version = mentoring_boroughversion.sessions_version + 1 + floor(random() * 1073741824)::bigint;
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT c.borough_id, 0, 1 + floor(random() * 1073741824)::bigint FROM mentoring_client c WHERE c.id = NEW.client_id
ON CONFLICT (borough_id) DO UPDATE SET sessions_version = mentoring_boroughversion.sessions_version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_supportsession_update AFTER UPDATE ON mentoring_supportsession FOR EACH ROW EXECUTE FUNCTION mentoring_version_supportsession_update()",
    """CREATE FUNCTION mentoring_version_supportsession_support_areas_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT c.borough_id, 0, 1 + floor(random() * 1073741824)::bigint FROM mentoring_supportsession s JOIN mentoring_client c ON c.id = s.client_id WHERE s.id = NEW.supportsession_id
ON CONFLICT (borough_id) DO UPDATE SET sessions_version = mentoring_boroughversion.sessions_version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_supportsession_support_areas_insert AFTER INSERT ON mentoring_supportsession_support_areas FOR EACH ROW EXECUTE FUNCTION mentoring_version_supportsession_support_areas_insert()",
    """CREATE FUNCTION mentoring_version_supportsession_support_areas_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT c.borough_id, 0, 1 + floor(random() * 1073741824)::bigint FROM mentoring_supportsession s JOIN mentoring_client c ON c.id = s.client_id WHERE s.id = OLD.supportsession_id
ON CONFLICT (borough_id) DO UPDATE SET sessions_version = mentoring_boroughversion.sessions_version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_supportsession_support_areas_delete AFTER DELETE ON mentoring_supportsession_support_areas FOR EACH ROW EXECUTE FUNCTION mentoring_version_supportsession_support_areas_delete()",
    """CREATE FUNCTION mentoring_version_supportsession_support_areas_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT c.borough_id, 0, 1 + floor(random() * 1073741824)::bigint FROM mentoring_supportsession s JOIN mentoring_client c ON c.id = s.client_id WHERE s.id = OLD.supportsession_id
ON CONFLICT (borough_id) DO UPDATE SET sessions_version = mentoring_boroughversion.sessions_version + 1 + floor(random() * 1073741824)::bigint;
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT c.borough_id, 0, 1 + floor(random() * 1073741824)::bigint FROM mentoring_supportsession s JOIN mentoring_client c ON c.id = s.client_id WHERE s.id = NEW.supportsession_id
ON CONFLICT (borough_id) DO UPDATE SET sessions_version = mentoring_boroughversion.sessions_version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_supportsession_support_areas_update AFTER UPDATE ON mentoring_supportsession_support_areas FOR EACH ROW EXECUTE FUNCTION mentoring_version_supportsession_support_areas_update()",
    """CREATE FUNCTION mentoring_version_offence_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_caseshardversion (borough_id, year, version, milestones_version)
SELECT c.borough_id, CAST(EXTRACT(YEAR FROM c.referred_on) AS INTEGER), 1 + floor(random() * 1073741824)::bigint, 0 FROM mentoring_client c WHERE c.id = NEW.client_id
ON CONFLICT (borough_id, year) DO UPDATE SET version = mentoring_caseshardversion.version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_offence_insert AFTER INSERT ON mentoring_offence FOR EACH ROW EXECUTE FUNCTION mentoring_version_offence_insert()",
    """CREATE FUNCTION mentoring_version_offence_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_caseshardversion (borough_id, year, version, milestones_version)
SELECT c.borough_id, CAST(EXTRACT(YEAR FROM c.referred_on) AS INTEGER), 1 + floor(random() * 1073741824)::bigint, 0 FROM mentoring_client c WHERE c.id = OLD.client_id
ON CONFLICT (borough_id, year) DO UPDATE SET version = mentoring_caseshardversion.version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_offence_delete AFTER DELETE ON mentoring_offence FOR EACH ROW EXECUTE FUNCTION mentoring_version_offence_delete()",
    """CREATE FUNCTION mentoring_version_offence_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_caseshardversion (borough_id, year, version, milestones_version)
SELECT c.borough_id, CAST(EXTRACT(YEAR FROM c.referred_on) AS INTEGER), 1 + floor(random() * 1073741824)::bigint, 0 FROM mentoring_client c WHERE c.id = OLD.client_id
ON CONFLICT (borough_id, year) DO UPDATE SET version = mentoring_caseshardversion.version + 1 + floor(random() * 1073741824)::bigint;
  INSERT INTO mentoring_caseshardversion (borough_id, year, version, milestones_version)
SELECT c.borough_id, CAST(EXTRACT(YEAR FROM c.referred_on) AS INTEGER), 1 + floor(random() * 1073741824)::bigint, 0 FROM mentoring_client c WHERE c.id = NEW.client_id
ON CONFLICT (borough_id, year) DO UPDATE SET version = mentoring_caseshardversion.version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_offence_update AFTER UPDATE ON mentoring_offence FOR EACH ROW EXECUTE FUNCTION mentoring_version_offence_update()",
    """CREATE FUNCTION mentoring_version_milestone_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_caseshardversion (borough_id, year, version, milestones_version)
SELECT c.borough_id, CAST(EXTRACT(YEAR FROM c.referred_on) AS INTEGER), 0, 1 + floor(random() * 1073741824)::bigint FROM mentoring_client c WHERE c.id = NEW.client_id
ON CONFLICT (borough_id, year) DO UPDATE SET milestones_version = mentoring_caseshardversion.milestones_version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_milestone_insert AFTER INSERT ON mentoring_milestone FOR EACH ROW EXECUTE FUNCTION mentoring_version_milestone_insert()",
    """CREATE FUNCTION mentoring_version_milestone_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_caseshardversion (borough_id, year, version, milestones_version)
SELECT c.borough_id, CAST(EXTRACT(YEAR FROM c.referred_on) AS INTEGER), 0, 1 + floor(random() * 1073741824)::bigint FROM mentoring_client c WHERE c.id = OLD.client_id
ON CONFLICT (borough_id, year) DO UPDATE SET milestones_version = mentoring_caseshardversion.milestones_version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_milestone_delete AFTER DELETE ON mentoring_milestone FOR EACH ROW EXECUTE FUNCTION mentoring_version_milestone_delete()",
    """CREATE FUNCTION mentoring_version_milestone_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_caseshardversion (borough_id, year, version, milestones_version)
SELECT c.borough_id, CAST(EXTRACT(YEAR FROM c.referred_on) AS INTEGER), 0, 1 + floor(random() * 1073741824)::bigint FROM mentoring_client c WHERE c.id = OLD.client_id
ON CONFLICT (borough_id, year) DO UPDATE SET milestones_version = mentoring_caseshardversion.milestones_version + 1 + floor(random() * 1073741824)::bigint;
  INSERT INTO mentoring_caseshardversion (borough_id, year, version, milestones_version)
SELECT c.borough_id, CAST(EXTRACT(YEAR FROM c.referred_on) AS INTEGER), 0, 1 + floor(random() * 1073741824)::bigint FROM mentoring_client c WHERE c.id = NEW.client_id
ON CONFLICT (borough_id, year) DO UPDATE SET milestones_version = mentoring_caseshardversion.milestones_version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_milestone_update AFTER UPDATE ON mentoring_milestone FOR EACH ROW EXECUTE FUNCTION mentoring_version_milestone_update()",
    """CREATE FUNCTION mentoring_version_grant_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT NEW.borough_id, 1 + floor(random() * 1073741824)::bigint, 0 WHERE NEW.borough_id IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_grant_insert AFTER INSERT ON mentoring_grant FOR EACH ROW EXECUTE FUNCTION mentoring_version_grant_insert()",
    """CREATE FUNCTION mentoring_version_grant_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT OLD.borough_id, 1 + floor(random() * 1073741824)::bigint, 0 WHERE OLD.borough_id IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_grant_delete AFTER DELETE ON mentoring_grant FOR EACH ROW EXECUTE FUNCTION mentoring_version_grant_delete()",
    """CREATE FUNCTION mentoring_version_grant_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT OLD.borough_id, 1 + floor(random() * 1073741824)::bigint, 0 WHERE OLD.borough_id IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + floor(random() * 1073741824)::bigint;
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT NEW.borough_id, 1 + floor(random() * 1073741824)::bigint, 0 WHERE NEW.borough_id IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_grant_update AFTER UPDATE ON mentoring_grant FOR EACH ROW EXECUTE FUNCTION mentoring_version_grant_update()",
    """CREATE FUNCTION mentoring_version_borough_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT NEW.id, 1 + floor(random() * 1073741824)::bigint, 0 WHERE NEW.id IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + floor(random() * 1073741824)::bigint;
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT 0, 1 + floor(random() * 1073741824)::bigint, 0 WHERE 0 IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_borough_insert AFTER INSERT ON mentoring_borough FOR EACH ROW EXECUTE FUNCTION mentoring_version_borough_insert()",
    """CREATE FUNCTION mentoring_version_borough_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT OLD.id, 1 + floor(random() * 1073741824)::bigint, 0 WHERE OLD.id IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + floor(random() * 1073741824)::bigint;
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT 0, 1 + floor(random() * 1073741824)::bigint, 0 WHERE 0 IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_borough_delete AFTER DELETE ON mentoring_borough FOR EACH ROW EXECUTE FUNCTION mentoring_version_borough_delete()",
    """CREATE FUNCTION mentoring_version_borough_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT OLD.id, 1 + floor(random() * 1073741824)::bigint, 0 WHERE OLD.id IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + floor(random() * 1073741824)::bigint;
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT 0, 1 + floor(random() * 1073741824)::bigint, 0 WHERE 0 IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + floor(random() * 1073741824)::bigint;
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT NEW.id, 1 + floor(random() * 1073741824)::bigint, 0 WHERE NEW.id IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_borough_update AFTER UPDATE ON mentoring_borough FOR EACH ROW EXECUTE FUNCTION mentoring_version_borough_update()",
    """CREATE FUNCTION mentoring_version_mentor_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT 0, 1 + floor(random() * 1073741824)::bigint, 0 WHERE 0 IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_mentor_insert AFTER INSERT ON mentoring_mentor FOR EACH ROW EXECUTE FUNCTION mentoring_version_mentor_insert()",
    """CREATE FUNCTION mentoring_version_mentor_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT 0, 1 + floor(random() * 1073741824)::bigint, 0 WHERE 0 IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_mentor_delete AFTER DELETE ON mentoring_mentor FOR EACH ROW EXECUTE FUNCTION mentoring_version_mentor_delete()",
    """CREATE FUNCTION mentoring_version_mentor_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT 0, 1 + floor(random() * 1073741824)::bigint, 0 WHERE 0 IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_mentor_update AFTER UPDATE ON mentoring_mentor FOR EACH ROW EXECUTE FUNCTION mentoring_version_mentor_update()",
    """CREATE FUNCTION mentoring_version_assignment_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT 0, 1 + floor(random() * 1073741824)::bigint, 0 WHERE 0 IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_assignment_insert AFTER INSERT ON mentoring_assignment FOR EACH ROW EXECUTE FUNCTION mentoring_version_assignment_insert()",
    """CREATE FUNCTION mentoring_version_assignment_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT 0, 1 + floor(random() * 1073741824)::bigint, 0 WHERE 0 IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_assignment_delete AFTER DELETE ON mentoring_assignment FOR EACH ROW EXECUTE FUNCTION mentoring_version_assignment_delete()",
    """CREATE FUNCTION mentoring_version_assignment_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT 0, 1 + floor(random() * 1073741824)::bigint, 0 WHERE 0 IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_assignment_update AFTER UPDATE ON mentoring_assignment FOR EACH ROW EXECUTE FUNCTION mentoring_version_assignment_update()",
    """CREATE FUNCTION mentoring_version_mentor_other_boroughs_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT 0, 1 + floor(random() * 1073741824)::bigint, 0 WHERE 0 IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_mentor_other_boroughs_insert AFTER INSERT ON mentoring_mentor_other_boroughs FOR EACH ROW EXECUTE FUNCTION mentoring_version_mentor_other_boroughs_insert()",
    """CREATE FUNCTION mentoring_version_mentor_other_boroughs_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT 0, 1 + floor(random() * 1073741824)::bigint, 0 WHERE 0 IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_mentor_other_boroughs_delete AFTER DELETE ON mentoring_mentor_other_boroughs FOR EACH ROW EXECUTE FUNCTION mentoring_version_mentor_other_boroughs_delete()",
    """CREATE FUNCTION mentoring_version_mentor_other_boroughs_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT 0, 1 + floor(random() * 1073741824)::bigint, 0 WHERE 0 IS NOT NULL
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_mentor_other_boroughs_update AFTER UPDATE ON mentoring_mentor_other_boroughs FOR EACH ROW EXECUTE FUNCTION mentoring_version_mentor_other_boroughs_update()",
    """CREATE FUNCTION mentoring_summary_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM mentoring_sessionareaday;
  IF TG_TABLE_NAME <> 'mentoring_supportsession_support_areas' THEN DELETE FROM mentoring_sessionday; END IF;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_summary_truncate AFTER TRUNCATE ON mentoring_supportsession FOR EACH STATEMENT EXECUTE FUNCTION mentoring_summary_truncate()",
    "CREATE TRIGGER mentoring_summary_truncate AFTER TRUNCATE ON mentoring_supportsession_support_areas FOR EACH STATEMENT EXECUTE FUNCTION mentoring_summary_truncate()",
    "CREATE TRIGGER mentoring_summary_truncate AFTER TRUNCATE ON mentoring_client FOR EACH STATEMENT EXECUTE FUNCTION mentoring_summary_truncate()",
    """CREATE FUNCTION mentoring_version_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT id, 1 + floor(random() * 1073741824)::bigint, 1 + floor(random() * 1073741824)::bigint FROM mentoring_borough WHERE true UNION ALL SELECT 0, 1 + floor(random() * 1073741824)::bigint, 1 + floor(random() * 1073741824)::bigint WHERE true
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + floor(random() * 1073741824)::bigint, sessions_version = mentoring_boroughversion.sessions_version + 1 + floor(random() * 1073741824)::bigint;
  UPDATE mentoring_caseshardversion SET version = version + 1 + floor(random() * 1073741824)::bigint, milestones_version = milestones_version + 1 + floor(random() * 1073741824)::bigint;
  RETURN NULL;
END
$$""",
    "CREATE TRIGGER mentoring_version_truncate AFTER TRUNCATE ON mentoring_assignment FOR EACH STATEMENT EXECUTE FUNCTION mentoring_version_truncate()",
    "CREATE TRIGGER mentoring_version_truncate AFTER TRUNCATE ON mentoring_borough FOR EACH STATEMENT EXECUTE FUNCTION mentoring_version_truncate()",
    "CREATE TRIGGER mentoring_version_truncate AFTER TRUNCATE ON mentoring_client FOR EACH STATEMENT EXECUTE FUNCTION mentoring_version_truncate()",
    "CREATE TRIGGER mentoring_version_truncate AFTER TRUNCATE ON mentoring_grant FOR EACH STATEMENT EXECUTE FUNCTION mentoring_version_truncate()",
    "CREATE TRIGGER mentoring_version_truncate AFTER TRUNCATE ON mentoring_mentor FOR EACH STATEMENT EXECUTE FUNCTION mentoring_version_truncate()",
    "CREATE TRIGGER mentoring_version_truncate AFTER TRUNCATE ON mentoring_mentor_other_boroughs FOR EACH STATEMENT EXECUTE FUNCTION mentoring_version_truncate()",
    "CREATE TRIGGER mentoring_version_truncate AFTER TRUNCATE ON mentoring_milestone FOR EACH STATEMENT EXECUTE FUNCTION mentoring_version_truncate()",
    "CREATE TRIGGER mentoring_version_truncate AFTER TRUNCATE ON mentoring_offence FOR EACH STATEMENT EXECUTE FUNCTION mentoring_version_truncate()",
    "CREATE TRIGGER mentoring_version_truncate AFTER TRUNCATE ON mentoring_supportsession FOR EACH STATEMENT EXECUTE FUNCTION mentoring_version_truncate()",
    "CREATE TRIGGER mentoring_version_truncate AFTER TRUNCATE ON mentoring_supportsession_support_areas FOR EACH STATEMENT EXECUTE FUNCTION mentoring_version_truncate()",
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS mentoring_summary_session_insert",
    "DROP TRIGGER IF EXISTS mentoring_summary_session_delete",
    "DROP TRIGGER IF EXISTS mentoring_summary_session_update_old",
    "DROP TRIGGER IF EXISTS mentoring_summary_session_update_new",
    "DROP TRIGGER IF EXISTS mentoring_summary_link_insert",
    "DROP TRIGGER IF EXISTS mentoring_summary_link_delete",
    "DROP TRIGGER IF EXISTS mentoring_summary_link_update",
    "DROP TRIGGER IF EXISTS mentoring_summary_client_moved",
    "DROP TRIGGER IF EXISTS mentoring_version_client_insert",
    "DROP TRIGGER IF EXISTS mentoring_version_client_delete",
    "DROP TRIGGER IF EXISTS mentoring_version_client_update",
    "DROP TRIGGER IF EXISTS mentoring_version_supportsession_insert",
    "DROP TRIGGER IF EXISTS mentoring_version_supportsession_delete",
    "DROP TRIGGER IF EXISTS mentoring_version_supportsession_update",
    "DROP TRIGGER IF EXISTS mentoring_version_supportsession_support_areas_insert",
    "DROP TRIGGER IF EXISTS mentoring_version_supportsession_support_areas_delete",
    "DROP TRIGGER IF EXISTS mentoring_version_supportsession_support_areas_update",
    "DROP TRIGGER IF EXISTS mentoring_version_offence_insert",
    "DROP TRIGGER IF EXISTS mentoring_version_offence_delete",
    "DROP TRIGGER IF EXISTS mentoring_version_offence_update",
    "DROP TRIGGER IF EXISTS mentoring_version_milestone_insert",
    "DROP TRIGGER IF EXISTS mentoring_version_milestone_delete",
    "DROP TRIGGER IF EXISTS mentoring_version_milestone_update",
    "DROP TRIGGER IF EXISTS mentoring_version_grant_insert",
    "DROP TRIGGER IF EXISTS mentoring_version_grant_delete",
    "DROP TRIGGER IF EXISTS mentoring_version_grant_update",
    "DROP TRIGGER IF EXISTS mentoring_version_borough_insert",
    "DROP TRIGGER IF EXISTS mentoring_version_borough_delete",
    "DROP TRIGGER IF EXISTS mentoring_version_borough_update",
    "DROP TRIGGER IF EXISTS mentoring_version_mentor_insert",
    "DROP TRIGGER IF EXISTS mentoring_version_mentor_delete",
    "DROP TRIGGER IF EXISTS mentoring_version_mentor_update",
    "DROP TRIGGER IF EXISTS mentoring_version_assignment_insert",
    "DROP TRIGGER IF EXISTS mentoring_version_assignment_delete",
    "DROP TRIGGER IF EXISTS mentoring_version_assignment_update",
    "DROP TRIGGER IF EXISTS mentoring_version_mentor_other_boroughs_insert",
    "DROP TRIGGER IF EXISTS mentoring_version_mentor_other_boroughs_delete",
    "DROP TRIGGER IF EXISTS mentoring_version_mentor_other_boroughs_update",
]

POSTGRESQL_DROP = [
    "DROP FUNCTION IF EXISTS mentoring_summary_session_insert() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_summary_session_delete() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_summary_session_update_old() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_summary_session_update_new() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_summary_link_insert() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_summary_link_delete() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_summary_link_update() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_summary_client_moved() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_client_insert() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_client_delete() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_client_update() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_supportsession_insert() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_supportsession_delete() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_supportsession_update() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_supportsession_support_areas_insert() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_supportsession_support_areas_delete() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_supportsession_support_areas_update() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_offence_insert() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_offence_delete() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_offence_update() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_milestone_insert() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_milestone_delete() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_milestone_update() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_grant_insert() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_grant_delete() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_grant_update() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_borough_insert() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_borough_delete() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_borough_update() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_mentor_insert() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_mentor_delete() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_mentor_update() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_assignment_insert() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_assignment_delete() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_assignment_update() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_mentor_other_boroughs_insert() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_mentor_other_boroughs_delete() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_mentor_other_boroughs_update() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_summary_truncate() CASCADE",
    "DROP FUNCTION IF EXISTS mentoring_version_truncate() CASCADE",
]

SQLITE_FILL = [
    "DELETE FROM mentoring_sessionday",
    """INSERT INTO mentoring_sessionday (borough_id, date, sessions, minutes)
SELECT c.borough_id, s.date, COUNT(*), SUM(s.duration_minutes)
FROM mentoring_supportsession s JOIN mentoring_client c ON c.id = s.client_id
WHERE s.attendance IN ('ATTENDED', 'LATE')
GROUP BY c.borough_id, s.date""",
    "DELETE FROM mentoring_sessionareaday",
    """INSERT INTO mentoring_sessionareaday (borough_id, date, support_area_id, sessions)
SELECT c.borough_id, s.date, link.supportarea_id, COUNT(*)
FROM mentoring_supportsession_support_areas link
JOIN mentoring_supportsession s ON s.id = link.supportsession_id
JOIN mentoring_client c ON c.id = s.client_id
WHERE s.attendance IN ('ATTENDED', 'LATE')
GROUP BY c.borough_id, s.date, link.supportarea_id""",
    """INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT id, 1 + (random() & 1073741823), 1 + (random() & 1073741823) FROM mentoring_borough WHERE true UNION ALL SELECT 0, 1 + (random() & 1073741823), 1 + (random() & 1073741823) WHERE true
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + (random() & 1073741823), sessions_version = mentoring_boroughversion.sessions_version + 1 + (random() & 1073741823)""",
    "UPDATE mentoring_caseshardversion SET version = version + 1 + (random() & 1073741823), milestones_version = milestones_version + 1 + (random() & 1073741823)",
    """INSERT INTO mentoring_caseshardversion (borough_id, year, version, milestones_version)
SELECT borough_id, year, 1 + (random() & 1073741823), 1 + (random() & 1073741823) FROM (SELECT DISTINCT borough_id, CAST(strftime('%Y', referred_on) AS INTEGER) AS year FROM mentoring_client) shards WHERE true
ON CONFLICT (borough_id, year) DO UPDATE SET version = mentoring_caseshardversion.version + 1 + (random() & 1073741823), milestones_version = mentoring_caseshardversion.milestones_version + 1 + (random() & 1073741823)""",
]

POSTGRESQL_FILL = [
    "DELETE FROM mentoring_sessionday",
    """INSERT INTO mentoring_sessionday (borough_id, date, sessions, minutes)
SELECT c.borough_id, s.date, COUNT(*), SUM(s.duration_minutes)
FROM mentoring_supportsession s JOIN mentoring_client c ON c.id = s.client_id
WHERE s.attendance IN ('ATTENDED', 'LATE')
GROUP BY c.borough_id, s.date""",
    "DELETE FROM mentoring_sessionareaday",
    """INSERT INTO mentoring_sessionareaday (borough_id, date, support_area_id, sessions)
SELECT c.borough_id, s.date, link.supportarea_id, COUNT(*)
FROM mentoring_supportsession_support_areas link
JOIN mentoring_supportsession s ON s.id = link.supportsession_id
JOIN mentoring_client c ON c.id = s.client_id
WHERE s.attendance IN ('ATTENDED', 'LATE')
GROUP BY c.borough_id, s.date, link.supportarea_id""",
    """INSERT INTO mentoring_boroughversion (borough_id, version, sessions_version)
SELECT id, 1 + floor(random() * 1073741824)::bigint, 1 + floor(random() * 1073741824)::bigint FROM mentoring_borough WHERE true UNION ALL SELECT 0, 1 + floor(random() * 1073741824)::bigint, 1 + floor(random() * 1073741824)::bigint WHERE true
ON CONFLICT (borough_id) DO UPDATE SET version = mentoring_boroughversion.version + 1 + floor(random() * 1073741824)::bigint, sessions_version = mentoring_boroughversion.sessions_version + 1 + floor(random() * 1073741824)::bigint""",
    "UPDATE mentoring_caseshardversion SET version = version + 1 + floor(random() * 1073741824)::bigint, milestones_version = milestones_version + 1 + floor(random() * 1073741824)::bigint",
    """INSERT INTO mentoring_caseshardversion (borough_id, year, version, milestones_version)
SELECT borough_id, year, 1 + floor(random() * 1073741824)::bigint, 1 + floor(random() * 1073741824)::bigint FROM (SELECT DISTINCT borough_id, CAST(EXTRACT(YEAR FROM referred_on) AS INTEGER) AS year FROM mentoring_client) shards WHERE true
ON CONFLICT (borough_id, year) DO UPDATE SET version = mentoring_caseshardversion.version + 1 + floor(random() * 1073741824)::bigint, milestones_version = mentoring_caseshardversion.milestones_version + 1 + floor(random() * 1073741824)::bigint""",
]
