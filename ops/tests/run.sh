#!/usr/bin/env bash
# End-to-end scenarios of issue 3, on the lab (ops/lab/lab.sh), with real
# ansible-playbook runs through the same make targets as the guide.
#
#   ops/tests/run.sh [SCENARIO...]      (default: 1 2 3 4 5 6 7)
#
#   1  provision + deploy from scratch: /datasets/ -> [], /health -> 200, /version = commit
#   2  second provision reports changed=0; redeploying the same commit changes nothing
#   3  deploy of a new commit under load: 0 failed requests
#   4  a release whose migration fails: deploy fails, old release serves, data intact
#   5  rollback-lab goes back one release; kill -9 of uvicorn: back (target 3 s, reported)
#   6  two web hosts + one database host: both serve the same data
#   7  backup-lab then restore-lab: data back after being deleted
#
# Scenarios 2-5 and 7 build on 1 (same host). Exits 0 with a SKIP message where the
# machine cannot run the lab (not root, no network namespaces).
#
# Environment: TEST_REF (git ref to deploy, default HEAD), KEEP_LAB=1 (leave the lab
# running), LOAD_THREADS (default 4), ARTIFACTS (logs, default ops/tests/.artifacts).
set -uo pipefail

OPS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT_DIR="$(cd "$OPS_DIR/.." && pwd)"
LAB="$OPS_DIR/lab/lab.sh"
ART="${ARTIFACTS:-$OPS_DIR/tests/.artifacts}"
LOAD_THREADS="${LOAD_THREADS:-4}"
SCENARIOS="${*:-1 2 3 4 5 6 7}"
WEB1=10.213.0.11 WEB2=10.213.0.12 WEB3=10.213.0.13
T_START=$SECONDS

say() { printf '[ops-test %(%H:%M:%S)T] %s\n' -1 "$*"; }

# ------------------------------------------------------------------ preconditions
if ! why="$("$LAB" check 2>&1)"; then
  echo "SKIP: ops end-to-end tests need root and network namespaces ($why)."
  exit 0
fi
for tool in debootstrap apt-cacher-ng zstd ssh curl git; do
  if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
    echo "ops-test: missing $tool (apt-get install debootstrap apt-cacher-ng zstd openssh-client curl git)" >&2
    exit 2
  fi
done
[ -x "$ROOT_DIR/.venv/bin/ansible-playbook" ] || make -C "$OPS_DIR" install-ops >/dev/null || exit 2
export PATH="$ROOT_DIR/.venv/bin:$PATH"

rm -rf "$ART"; mkdir -p "$ART"
WORK="$(mktemp -d /tmp/catalogage-ops-test.XXXXXX)"
cleanup() {
  local rc=$?
  [ -n "${LOAD_PID:-}" ] && kill "$LOAD_PID" 2>/dev/null
  if [ "${KEEP_LAB:-0}" = 1 ]; then say "KEEP_LAB=1: lab left running (make -C ops lab-down)"; else "$LAB" down >/dev/null 2>&1; fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

TEST_REF="${TEST_REF:-HEAD}"
COMMIT="$(git -C "$ROOT_DIR" rev-parse --verify "${TEST_REF}^{commit}")" || { echo "ops-test: unknown ref $TEST_REF" >&2; exit 2; }

# ------------------------------------------------------------------ helpers
PASSED=() FAILED=() NOTES=()
note() { NOTES+=("$*"); say "$*"; }
fail() { say "FAIL: $*"; return 1; }

ops_make() { # ops_make LOGNAME TARGET [EXTRA_OPTS]
  local name="$1" target="$2" extra="${3:-}" t0=$SECONDS rc
  make -C "$OPS_DIR" "$target" EXTRA_OPTS="$extra" > "$ART/$name.log" 2>&1
  rc=$?
  LAST_SECONDS=$((SECONDS - t0))
  say "make $target${extra:+ ($extra)} -> exit $rc in ${LAST_SECONDS}s (log: $ART/$name.log)"
  return $rc
}
recap() { # recap LOG HOST FIELD -> the number in PLAY RECAP (summed over plays)
  grep -E "^$2 +:" "$1" | sed -E "s/.*$3=([0-9]+).*/\1/" | awk '{s+=$1} END {print s+0}'
}
get() { curl -s -m 10 "$@"; }
status() { curl -s -m 10 -o /dev/null -w '%{http_code}' "$1"; }
commit_of() { get "$1/version" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("commit") or "")' 2>/dev/null; }
on() { local h="$1"; shift; "$LAB" ssh "$h" "$@"; }
# A copy of the repository at $COMMIT with one more commit (made by $1, a function).
derived_repo() { # derived_repo DIR MESSAGE [FUNC]
  rm -rf "$1"
  git clone -q --no-hardlinks "$ROOT_DIR" "$1" && git -C "$1" checkout -q -B ops-test "$COMMIT" || return 1
  [ -n "${3:-}" ] && (cd "$1" && "$3")
  git -C "$1" add -A && git -C "$1" -c user.name=ops-test -c user.email=ops-test@lab.invalid commit -q --allow-empty -m "$2"
  git -C "$1" rev-parse HEAD
}
# Some data through the application itself: an organization and an admin (CLI on the
# host, in the release being served), then a public dataset created through the HTTP API.
SEED_SIRET=13002526500013
seed_data() { # seed_data HOST IP TITLE
  local token code
  token="$(on "$1" "cd ~/catalogage/current && { venv/bin/catalogage org create $SEED_SIRET 'Direction interministérielle du numérique' >/dev/null 2>&1; CATALOGAGE_PASSWORD=ops-test-password-2026 venv/bin/catalogage createuser ops-test@example.org --name 'Ops test' --admin >/dev/null 2>&1; venv/bin/catalogage token create ops-test@example.org; }" 2>"$ART/seed-$1.err")" \
    || { cat "$ART/seed-$1.err"; return 1; }
  code="$(curl -s -m 10 -o "$ART/seed-$1.json" -w '%{http_code}' -X POST "http://$2/datasets/" \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"organization_siret": "'$SEED_SIRET'", "title": "'"$3"'", "description": "Créé par les tests ops.",
         "keywords": ["ops"], "service": "DINUM", "contact_emails": ["ops-test@example.org"],
         "geographical_coverage": "France", "formats": ["CSV"], "visibility": "public"}')"
  [ "$code" = 201 ] || { echo "POST /datasets/ -> $code: $(cat "$ART/seed-$1.json")"; return 1; }
}
dataset_count() { curl -s -m 10 -D - -o /dev/null "$1/datasets/" | tr -d '\r' | sed -n 's/^x-total-count: //Ip'; }

db_dump_sum() { # db_dump_sum NAME: fingerprint of the lab database (schema + data); the
  # dump is kept in $ART/dump-NAME.sql (pg_dump's \restrict/\unrestrict lines carry a
  # random key: left out)
  # With a second argument "data": the data, and the tables' columns (a dump/restore
  # round trip rewrites CHECK expressions into an equivalent text).
  local n="$1" cmd="sudo -u postgres pg_dump --no-owner catalogage"
  [ "${2:-}" = data ] && cmd="sudo -u postgres pg_dump --data-only catalogage && sudo -u postgres psql -qtA catalogage -c \"SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2\""
  on web1 "$cmd" 2>/dev/null \
    | grep -v -e '^--' -e '^\\restrict' -e '^\\unrestrict' > "$ART/dump-$n.sql"
  echo "$(sha256sum < "$ART/dump-$n.sql" | cut -c1-16) (dump-$n.sql)"
}

# ------------------------------------------------------------------ scenarios
scenario_1() {
  ops_make s1-provision provision-lab || return 1
  T_PROVISION=$LAST_SECONDS
  ops_make s1-deploy deploy-lab "-e env_branch=$COMMIT" || return 1
  T_DEPLOY=$LAST_SECONDS
  local body code version
  body="$(get "http://$WEB1/datasets/")"
  code="$(status "http://$WEB1/health")"
  version="$(commit_of "http://$WEB1")"
  say "GET /datasets/ -> $body ; /health -> $code ; /version commit -> $version"
  [ "$body" = "[]" ] || fail "/datasets/ is not []" || return 1
  [ "$code" = 200 ] || fail "/health is $code" || return 1
  [ "$version" = "$COMMIT" ] || fail "/version shows $version, expected $COMMIT" || return 1
  # the guide's checks, on the host
  on web1 'curl -s localhost/datasets/ && systemctl is-active nginx supervisor postgresql && sudo supervisorctl status server' > "$ART/s1-host.txt" 2>&1 \
    || { cat "$ART/s1-host.txt"; fail "checks on the host"; return 1; }
  note "scenario 1: provision from scratch ${T_PROVISION}s, first deploy ${T_DEPLOY}s"
}

scenario_2() {
  ops_make s2-provision provision-lab || return 1
  local changed; changed="$(recap "$ART/s2-provision.log" web1-lab changed)"
  note "scenario 2: second provision changed=$changed in ${LAST_SECONDS}s"
  [ "$changed" = 0 ] || { grep -B2 -E '^changed' "$ART/s2-provision.log" | grep TASK; fail "second provision changed=$changed"; return 1; }
  ops_make s2-deploy deploy-lab "-e env_branch=$COMMIT" || return 1
  grep -q "is already current" "$ART/s2-deploy.log" || fail "redeploying the same commit did something" || return 1
  note "scenario 2: redeploy of the same commit: nothing to do (${LAST_SECONDS}s)"
}

scenario_3() {
  local repo="$WORK/repo-next" new load
  new="$(derived_repo "$repo" "ops-test: next release")" || return 1
  rm -f "$WORK/stop-load"
  python3 "$OPS_DIR/tests/loadgen.py" "http://$WEB1/datasets/" --threads "$LOAD_THREADS" \
    --max-seconds 600 --stop-file "$WORK/stop-load" > "$ART/s3-load.json" &
  LOAD_PID=$!
  sleep 2
  ops_make s3-deploy deploy-lab "-e app_repo_dir=$repo -e env_branch=$new"; local rc=$?
  sleep 2
  touch "$WORK/stop-load"; wait "$LOAD_PID"; LOAD_PID=""
  load="$(cat "$ART/s3-load.json")"
  [ $rc = 0 ] || fail "deploy failed" || return 1
  local failed; failed="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["failed"])' <<< "$load")"
  note "scenario 3: deploy under load ${LAST_SECONDS}s; load: $load"
  DEPLOY_LOAD="$load"
  [ "$(commit_of "http://$WEB1")" = "$new" ] || fail "/version does not show $new" || return 1
  [ "$failed" = 0 ] || fail "$failed failed requests during the deploy" || return 1
  NEXT_COMMIT="$new"
}

add_failing_migration() {
  python3 - <<'EOF'
import pathlib, re
versions = pathlib.Path("catalogage/db/migrations/versions")
revs, downs = set(), set()
for f in versions.glob("*.py"):
    text = f.read_text()
    revs.update(re.findall(r'^revision(?:: str)? = "([^"]+)"', text, re.M))
    downs.update(re.findall(r'^down_revision(?:: [^=]+)? = "([^"]+)"', text, re.M))
(head,) = revs - downs
(versions / "9999_ops_test_failing.py").write_text(f'''"""ops test: a migration that fails half-way (scenario 4)."""

import sqlalchemy as sa
from alembic import op

revision = "9999_ops_test"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("ops_test_half_done", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("DELETE FROM alembic_version")
    raise RuntimeError("deliberately failing migration (ops scenario 4)")


def downgrade() -> None:
    pass
''')
EOF
}

scenario_4() {
  # some data first, and its fingerprint
  seed_data web1 "$WEB1" "Jeu de données avant la migration ratée" || { fail "could not create data"; return 1; }
  local before after served_before served_after repo bad
  before="$(db_dump_sum s4-before)"
  served_before="$(commit_of "http://$WEB1")"
  local count; count="$(dataset_count "http://$WEB1")"
  repo="$WORK/repo-badmig"
  bad="$(derived_repo "$repo" "ops-test: failing migration" add_failing_migration)" || return 1
  if ops_make s4-deploy deploy-lab "-e app_repo_dir=$repo -e env_branch=$bad"; then
    fail "the deploy of a failing migration succeeded"; return 1
  fi
  grep -q "DEPLOY FAILED" "$ART/s4-deploy.log" || fail "no loud DEPLOY FAILED message" || return 1
  grep -o "DEPLOY FAILED[^\"]*" "$ART/s4-deploy.log" | head -1 | cut -c1-300
  after="$(db_dump_sum s4-after)"
  served_after="$(commit_of "http://$WEB1")"
  say "database fingerprint before=$before after=$after; served before=$served_before after=$served_after; datasets=$count"
  [ "$(status "http://$WEB1/health")" = 200 ] || fail "/health not 200 after the failed deploy" || return 1
  [ "$served_after" = "$served_before" ] || fail "the served commit changed" || return 1
  [ "${before%% *}" = "${after%% *}" ] || fail "database changed by the failed migration" || return 1
  [ "${count:-0}" -gt 0 ] || fail "no data to check" || return 1
  on web1 "ls ~/catalogage/releases | grep -q ${bad:0:12}" && { fail "failed release left on disk"; return 1; }
  note "scenario 4: failing migration: deploy failed in ${LAST_SECONDS}s, still serving ${served_after:0:12}, $count datasets, database unchanged"
}

scenario_5() {
  ops_make s5-rollback rollback-lab || return 1
  local served; served="$(commit_of "http://$WEB1")"
  note "scenario 5: rollback-lab in ${LAST_SECONDS}s: now serving ${served:0:12} (expected ${COMMIT:0:12})"
  [ "$served" = "$COMMIT" ] || fail "rollback did not go back to $COMMIT" || return 1
  [ "$(status "http://$WEB1/health")" = 200 ] || fail "/health after rollback" || return 1
  # kill -9 of uvicorn (the `server` program's master process), time until it serves again
  local out
  out="$(on web1 'bash -s' <<'EOF'
set -u
pid=$(sudo supervisorctl pid server)
[ "$pid" -gt 0 ] || { echo "no pid"; exit 1; }
t0=$(date +%s.%N)
sudo kill -9 "$pid"
# Bounded by time (30 s): on a loaded machine workers take seconds to import the app.
while python3 -c "import sys; sys.exit(0 if $(date +%s.%N) - $t0 < 30 else 1)"; do
  new=$(sudo supervisorctl pid server)
  # back = a new master (supervisor's pid, run-server execs uvicorn) owns the
  # listening socket, and /health answers through Nginx
  if [ "$new" != "$pid" ] && [ "$new" -gt 0 ] 2>/dev/null && \
     sudo ss -Hltnp 'sport = :3579' | grep -q "pid=$new," && \
     [ "$(curl -s -m 1 -o /dev/null -w '%{http_code}' http://127.0.0.1/health)" = 200 ]; then
    echo "killed $pid; new pid $new serving after $(python3 -c "print(round($(date +%s.%N) - $t0, 2))") s"
    sudo supervisorctl status server
    exit 0
  fi
  sleep 0.05
done
echo "not back after 30 s"; sudo supervisorctl status server; exit 1
EOF
)" || { echo "$out"; fail "uvicorn did not come back"; return 1; }
  echo "$out"
  local secs; secs="$(sed -n 's/.*serving after \([0-9.]*\) s/\1/p' <<< "$out")"
  note "scenario 5: kill -9 of uvicorn: serving again after ${secs}s"
  # The 3 s recovery target is a measured figure, reported as met or missed (it depends
  # on the machine's load: workers import the app before /health answers); failing to
  # come back at all fails the scenario.
  if python3 -c "import sys; sys.exit(0 if float('$secs') <= 3.0 else 1)"; then
    note "scenario 5: recovery target (<= 3 s): met (${secs}s, load $(cut -d' ' -f1 /proc/loadavg))"
  else
    note "scenario 5: recovery target (<= 3 s): MISSED (${secs}s, load $(cut -d' ' -f1 /proc/loadavg))"
  fi
  [ "$(status "http://$WEB1/datasets/")" = 200 ] || fail "nginx does not serve after the restart" || return 1
}

scenario_6() {
  ops_make s6-provision provision-lab-multi || return 1
  local tp=$LAST_SECONDS
  ops_make s6-deploy deploy-lab-multi "-e env_branch=$COMMIT" || return 1
  local td=$LAST_SECONDS a b
  seed_data web2 "$WEB2" "Jeu de données écrit via web2" || { fail "could not create data via web2"; return 1; }
  a="$(get "http://$WEB2/datasets/?page_size=100")"
  b="$(get "http://$WEB3/datasets/?page_size=100")"
  local n; n="$(python3 -c 'import json,sys; print(len(json.loads(sys.stdin.read())))' <<< "$a" 2>/dev/null || echo 0)"
  say "web2 and web3 serve $n datasets; identical: $([ "$a" = "$b" ] && echo yes || echo no)"
  [ "$n" -gt 0 ] || fail "no data" || return 1
  [ "$a" = "$b" ] || fail "web2 and web3 serve different data" || return 1
  on db1 'systemctl is-active postgresql' >/dev/null || fail "postgresql not running on db1" || return 1
  if on web2 'systemctl is-active --quiet postgresql'; then fail "postgresql installed on a web host"; return 1; fi
  note "scenario 6: 2 web + 1 db: provision ${tp}s, deploy ${td}s, both serve the same $n datasets"
}

scenario_7() {
  seed_data web1 "$WEB1" "Jeu de données à sauvegarder" || { fail "could not create data"; return 1; }
  local n_before n_after; n_before="$(dataset_count "http://$WEB1")"
  ops_make s7-backup backup-lab || return 1
  local dump; dump="$(grep -o 'web1-lab:/var/backups/catalogage/catalogage-[0-9TZ]*\.dump' "$ART/s7-backup.log" | head -1 | cut -d/ -f5)"
  [ -n "$dump" ] || fail "no backup file reported" || return 1
  local before after deleted
  before="$(db_dump_sum s7-before data)"
  on web1 'sudo -u postgres psql -qtA catalogage -c "SELECT count(*) FROM dataset"' > "$ART/s7-count-before.txt"
  on web1 'sudo -u postgres psql -qtA catalogage -c "TRUNCATE dataset CASCADE"' >/dev/null || return 1
  deleted="$(get "http://$WEB1/datasets/")"
  make -C "$OPS_DIR" restore-lab BACKUP="$dump" > "$ART/s7-restore.log" 2>&1 || { tail -20 "$ART/s7-restore.log"; fail "restore-lab"; return 1; }
  after="$(db_dump_sum s7-after-restore data)"
  say "backup $dump; after TRUNCATE /datasets/ -> ${deleted:0:20}; fingerprint before=$before after restore=$after"
  n_after="$(dataset_count "http://$WEB1")"
  say "datasets before the backup: $n_before; after TRUNCATE + restore: $n_after"
  [ "${before%% *}" = "${after%% *}" ] || fail "restored database differs" || return 1
  [ "${n_before:-0}" -gt 0 ] && [ "$n_after" = "$n_before" ] || fail "datasets not back" || return 1
  on web1 'sudo systemctl list-timers catalogage-backup.timer --no-pager' | head -2
  note "scenario 7: backup-lab + restore-lab: $n_after datasets back, data identical after restore ($dump)"
}

# ------------------------------------------------------------------ main
say "deploying $TEST_REF = $COMMIT; scenarios: $SCENARIOS"
hosts="web1"
case " $SCENARIOS " in *" 6 "*) hosts="web1 web2 web3 db1" ;; esac
t0=$SECONDS
"$LAB" up $hosts > "$ART/lab-up.log" 2>&1; rc=$?
grep -E 'image|lab up|ERROR' "$ART/lab-up.log"
[ $rc = 0 ] || { tail -30 "$ART/lab-up.log"; echo "ops-test: the lab did not start"; exit 1; }
note "lab up (image cached or built, $hosts booted): $((SECONDS - t0))s"

for s in $SCENARIOS; do
  say "=== scenario $s"
  ts=$SECONDS
  if "scenario_$s"; then PASSED+=("$s"); say "=== scenario $s passed ($((SECONDS - ts))s)"
  else FAILED+=("$s"); say "=== scenario $s FAILED ($((SECONDS - ts))s)"; fi
done

echo
echo "================ ops end-to-end summary ================"
for n in "${NOTES[@]}"; do echo "  $n"; done
[ -n "${DEPLOY_LOAD:-}" ] && echo "  failed requests during the deploy under load: $(python3 -c 'import json,sys; print(json.load(sys.stdin)["failed"])' <<< "$DEPLOY_LOAD")"
echo "  total: $((SECONDS - T_START))s; logs in $ART"
echo "${#PASSED[@]} passed, ${#FAILED[@]} failed"
[ ${#FAILED[@]} = 0 ]
