#!/usr/bin/env bash
# Restore a backup made by deploy/backup.sh into an empty installation.
#
#   deploy/restore.sh [--env FILE] [--force] BACKUP_DIR
#
# Run it as the service user, with the service's settings (as for backup.sh), while the
# service is stopped.  PostgreSQL: the configured database must exist (createdb -O microblog
# microblog); it is filled with pg_restore.  SQLite: the file is put where the settings say.
# The data directory gets the archived files back.  A database that already holds tables,
# or a data directory that holds files, is refused; --force restores over them (the search
# index directory is then replaced as a whole).
set -euo pipefail

usage() {
    echo "usage: $0 [--env FILE] [--force] BACKUP_DIR" >&2
    exit 2
}
FORCE=no
while [ $# -gt 0 ]; do
    case $1 in
        --env) [ $# -ge 2 ] || usage; set -a; . "$(realpath "$2")"; set +a; shift 2 ;;
        --force) FORCE=yes; shift ;;
        -*) usage ;;
        *) break ;;
    esac
done
[ $# -eq 1 ] || usage
BACKUP=$1
[ -f "$BACKUP/MANIFEST" ] || { echo "$0: $BACKUP is not a microblog backup (no MANIFEST)" >&2; exit 1; }
manifest() { sed -n "s/^$1=//p" "$BACKUP/MANIFEST"; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${MICROBLOG_PYTHON:-$ROOT/.venv/bin/python}
DATA_DIR=${MICROBLOG_DATA_DIR:?MICROBLOG_DATA_DIR is not set: give --env FILE, or source the service environment}
DATA_DIR=$(realpath -m "$DATA_DIR")
DB_URL=${MICROBLOG_DATABASE_URL:-sqlite:///$DATA_DIR/microblog.db}
BACKEND=${MICROBLOG_SEARCH_BACKEND:-whoosh}

refuse() {
    [ "$FORCE" = yes ] && return
    echo "$0: $1; restore into an empty installation, or give --force to restore over it" >&2
    exit 1
}

DB_NAME=
case $DB_URL in
    postgresql*://* | postgres://*)
        DATABASE=postgresql
        PG_URL=postgresql://${DB_URL#*://} # libpq does not know SQLAlchemy's "+driver"
        tables=$(psql --dbname="$PG_URL" --no-psqlrc -Atc \
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")
        [ "$tables" = 0 ] || refuse "the database holds $tables tables"
        ;;
    sqlite:///*)
        DATABASE=sqlite
        DB_FILE=${DB_URL#sqlite:///}
        DB_FILE=${DB_FILE%%\?*}
        [ "${DB_FILE:0:1}" = / ] || { echo "$0: use an absolute path in $DB_URL" >&2; exit 1; }
        [ ! -s "$DB_FILE" ] || refuse "the database $DB_FILE exists"
        [ "$(dirname "$(realpath -m "$DB_FILE")")" != "$DATA_DIR" ] || DB_NAME=$(basename "$DB_FILE")
        ;;
    *) echo "$0: cannot restore into $DB_URL" >&2; exit 1 ;;
esac
[ "$(manifest database)" = "$DATABASE" ] ||
    { echo "$0: the backup holds a $(manifest database) database, the settings name $DATABASE" >&2; exit 1; }
mkdir -p "$DATA_DIR"
if [ -n "$(find "$DATA_DIR" -mindepth 1 -maxdepth 1 ${DB_NAME:+! -name "$DB_NAME*"} -print -quit)" ]; then
    refuse "the data directory $DATA_DIR is not empty"
fi

if [ "$DATABASE" = postgresql ]; then
    pg_restore --clean --if-exists --no-owner --single-transaction --dbname="$PG_URL" "$BACKUP/database.pgdump"
else
    mkdir -p "$(dirname "$DB_FILE")"
    rm -f "$DB_FILE-wal" "$DB_FILE-shm" "$DB_FILE-journal"
    cp "$BACKUP/database.sqlite3" "$DB_FILE.restoring"
    mv "$DB_FILE.restoring" "$DB_FILE"
fi
rm -rf "$DATA_DIR/search" # a newer generation of another index must not win over the restored one
tar --extract --gzip --preserve-permissions --file="$BACKUP/data.tar.gz" --directory="$DATA_DIR"

REVISION=$(manifest alembic_revision)
HEAD=$("$PYTHON" -c 'import sys; from alembic.script import ScriptDirectory
print(ScriptDirectory(sys.argv[1]).get_current_head())' "$ROOT/migrations")
STEPS=()
[ "$REVISION" = "$HEAD" ] || STEPS+=("db upgrade      # the backup is from an older version")
if [ "$BACKEND" != "$(manifest search_backend)" ] || [ "$REVISION" != "$HEAD" ] ||
    { [ "$BACKEND" = whoosh ] && [ "$(manifest search_index)" != included ]; }; then
    STEPS+=("search reindex  # the backup has no current $BACKEND search index")
fi
echo "Restored the backup of $(manifest created_at) from $(manifest host) (database revision $REVISION)."
if [ ${#STEPS[@]} -gt 0 ]; then
    echo "Next, as this user, run (deploy/manage runs flask --app wsgi with the settings file):"
    printf "  $ROOT/deploy/manage %s\n" "${STEPS[@]}"
fi
echo "Then start the service (systemctl start microblog.target)."
