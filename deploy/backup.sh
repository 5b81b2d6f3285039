#!/usr/bin/env bash
# Back up a microblog installation: its database and its data directory.
#
#   deploy/backup.sh [--env FILE] DEST_DIR
#
# Run it as the service user, with the service's settings (MICROBLOG_DATABASE_URL,
# MICROBLOG_DATA_DIR, MICROBLOG_SEARCH_BACKEND): either --env /etc/microblog/microblog.env,
# or `set -a; . /etc/microblog/microblog.env; set +a` first.  It writes
# DEST_DIR/microblog-<UTC time>/ with
#   database.pgdump    pg_dump --format=custom (PostgreSQL), or
#   database.sqlite3   a consistent copy made with SQLite's backup API (SQLite)
#   data.tar.gz        the data directory (generated secret key, Whoosh index, ...), without the SQLite file
#   MANIFEST           time, database kind, alembic revision, search backend
# The service may keep running.  The Whoosh index is archived, and the database copied, while
# this script holds the index's writer lock: the copy's search outbox then names every post
# the copied index lacks, and the restored site indexes them.  Search lags new posts meanwhile.
set -euo pipefail

usage() {
    echo "usage: $0 [--env FILE] DEST_DIR" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case $1 in
        --env) [ $# -ge 2 ] || usage; set -a; . "$(realpath "$2")"; set +a; shift 2 ;;
        -*) usage ;;
        *) break ;;
    esac
done
[ $# -eq 1 ] || usage

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${MICROBLOG_PYTHON:-$ROOT/.venv/bin/python}
DATA_DIR=${MICROBLOG_DATA_DIR:?MICROBLOG_DATA_DIR is not set: give --env FILE, or source the service environment}
DATA_DIR=$(realpath "$DATA_DIR")
DB_URL=${MICROBLOG_DATABASE_URL:-sqlite:///$DATA_DIR/microblog.db}
BACKEND=${MICROBLOG_SEARCH_BACKEND:-whoosh}

umask 077 # a backup holds password hashes and the secret key
mkdir -p "$1"
OUT=$(realpath "$1")/microblog-$(date -u +%Y%m%dT%H%M%SZ)
WORK=$OUT.partial
mkdir "$WORK"
trap 'rm -rf "$WORK"' EXIT

EXCLUDE=()
case $DB_URL in
    postgresql*://* | postgres://*)
        DATABASE=postgresql
        PG_URL=postgresql://${DB_URL#*://} # libpq does not know SQLAlchemy's "+driver"
        ;;
    sqlite:///*)
        DATABASE=sqlite
        DB_FILE=${DB_URL#sqlite:///}
        DB_FILE=${DB_FILE%%\?*}
        [ "${DB_FILE:0:1}" = / ] || { echo "$0: use an absolute path in $DB_URL" >&2; exit 1; }
        [ -f "$DB_FILE" ] || { echo "$0: no database at $DB_FILE" >&2; exit 1; }
        if [ "$(dirname "$(realpath "$DB_FILE")")" = "$DATA_DIR" ]; then
            name=$(basename "$DB_FILE")
            EXCLUDE=("--exclude=./$name" "--exclude=./$name-wal" "--exclude=./$name-shm" "--exclude=./$name-journal")
        fi
        ;;
    *) echo "$0: cannot back up $DB_URL" >&2; exit 1 ;;
esac

copy_database() {
    if [ "$DATABASE" = postgresql ]; then
        REVISION=$(psql --dbname="$PG_URL" --no-psqlrc -Atc "SELECT version_num FROM alembic_version")
        pg_dump --format=custom --file="$WORK/database.pgdump" --dbname="$PG_URL"
    else
        REVISION=$("$PYTHON" - "$DB_FILE" "$WORK/database.sqlite3" <<'EOF'
import sqlite3, sys
from urllib.parse import quote

source = sqlite3.connect(f"file:{quote(sys.argv[1])}?mode=rw", uri=True)
copy = sqlite3.connect(sys.argv[2])
source.backup(copy)  # one consistent state, even while the service writes
print(copy.execute("SELECT version_num FROM alembic_version").fetchone()[0])
copy.close()
source.close()
EOF
        )
    fi
}

archive_data_dir() {
    # Status 1: a file (a log, say) changed while it was read; the index cannot, it is locked.
    tar --create --gzip --file="$WORK/data.tar.gz" --directory="$DATA_DIR" "${EXCLUDE[@]}" . || [ $? -eq 1 ]
}

INDEX=none
[ "$BACKEND" != postgres ] || INDEX=database # the post_search table
if [ -d "$DATA_DIR/search" ]; then
    INDEX=included
    exec 9>>"$DATA_DIR/search/MAIN_WRITELOCK" # the lock every Whoosh writer of the site takes
    flock --timeout 600 9 || { echo "$0: the search index stayed busy (a rebuild?); try later" >&2; exit 1; }
    [ ! -e "$DATA_DIR/search/REBUILDING" ] || INDEX=unfinished # an interrupted rebuild
fi
archive_data_dir
copy_database
exec 9>&-

cat >"$WORK/MANIFEST" <<EOF
created_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
host=$(hostname)
database=$DATABASE
alembic_revision=$REVISION
search_backend=$BACKEND
search_index=$INDEX
EOF
mv "$WORK" "$OUT"
echo "$OUT"
