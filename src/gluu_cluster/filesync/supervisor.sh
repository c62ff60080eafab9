#!/bin/bash
# gluu-csync2d: managed by gluu-cluster; 'gluu-cluster apply' rewrites this file.
#
# One supervised process per node, inside the Gluu container:
#  - the csync2 server on this node's cluster address (restarted if it exits);
#  - a change trigger: inotify events on the synced directories, gathered for DEBOUNCE
#    seconds, then the changed paths are marked dirty (csync2 -m: an edit that keeps
#    size and mtime second is not missed) and sent to every peer;
#  - a full run every INTERVAL seconds, or every RETRY seconds while files stay dirty
#    (a peer is down: the change goes out when it returns).
# Every csync2 call runs under `timeout`, so a stalled peer cannot hang the node. Nothing is sent before the first sync marked this
# node initialised (until then the server only receives).
set -u
here=$(dirname "$(readlink -f "$0")")
. "$here/gluu-csync2d.env"
export CSYNC2_SYSTEM_DIR
state="$DB_DIR/gluu"
mkdir -p "$state"
echo $$ > "$state/gluu-csync2d.pid"
trap 'trap - TERM EXIT; kill -- -$$ 2>/dev/null; exit 0' TERM INT EXIT

cs() { timeout -k 2 "$TIMEOUT" csync2 -N "$NODE" -p "$PORT" -D "$DB_DIR" "$@"; }

serve() {
  while true; do
    csync2 -ii -N "$NODE" -p "$PORT" -D "$DB_DIR" >> "$state/server.log" 2>&1
    sleep 1
  done
}

# One run: mark the given paths dirty, check everything, update each peer in parallel.
run_once() {
  local started log rc=0
  started=$(date +%s)
  log="$state/run.log"
  {
    flock -w "$TIMEOUT" 9 || return 1
    : > "$log.new"
    if [ $# -gt 0 ]; then cs -m "$@" >> "$log.new" 2>&1; fi
    cs -cr / >> "$log.new" 2>&1 || rc=1
    # One process updates every peer: parallel processes on one SQLite database wait
    # on each other's locks (about a second each time). A stalled peer costs at most
    # TIMEOUT; what is left dirty goes out on the next run.
    cs -uv > "$state/update.log" 2>&1 || rc=1
    cat "$state/update.log" >> "$log.new"
    # A conflict line does not name the file: the "Updating FILE on PEER" line before it does.
    awk -v t="$started" '/^Updating .* on [^ ]+ \.\.\.$/ {
        line = $0; sub(/^Updating /, "", line); sub(/ \.\.\.$/, "", line)
        n = split(line, part, " on "); peer = part[n]
        file = substr(line, 1, length(line) - length(peer) - 4)
      }
      /conflict/ {print t "\t" peer "\t" file "\t" $0}' "$log.new" >> "$state/conflicts.log"
    if [ "$rc" = 0 ] && ! dirty; then settle_metadata >> "$log.new" 2>&1 || rc=1; fi
    mv -f "$log.new" "$log"
    if [ "$rc" = 0 ]; then echo "$started" > "$state/last-ok"; fi
    echo "$started $rc" > "$state/last-run"
  } 9> "$state/lock"
  return "$rc"
}

# Files whose content is the same on a peer but whose metadata is not (a receive whose
# own inotify event raced it, or a run cut by a fault, leaves a whole-second mtime on one
# side): nothing is dirty, so csync2 never sends them again and -T shows them differing
# for ever. Of each such pair, the node first by name makes its version win (-f): the
# content is equal, so no edit is lost, and only one side acts.
settle_metadata() {
  local peer path same=()
  while IFS=$'\t' read -r peer path; do
    if [[ "$NODE" < "$peer" ]]; then same+=("$path"); fi
  done < <(cs -TT 2>/dev/null | sed -n 's/^Files \([^:]*\):\(.*\) and [^:]*:.* are identical$/\1\t\2/p')
  [ "${#same[@]}" -gt 0 ] || return 0
  mapfile -t same < <(printf '%s\n' "${same[@]}" | sort -u)
  echo "settling metadata of ${#same[@]} file(s) whose content peers already have"
  cs -m "${same[@]}" && cs -f "${same[@]}" && cs -u
}

# Paths written here, not by the csync2 server: a local write leaves mtime equal to ctime,
# a received file gets the sender's mtime (whole seconds) after it is written. Only local
# edits are marked dirty by hand, so a received file is not sent back around the cluster.
local_edits() {
  local p
  for p in "$@"; do
    if [ -f "$p" ] && [ "$(stat -c %y -- "$p")" = "$(stat -c %z -- "$p")" ]; then
      printf '%s\n' "$p"
    fi
  done | sort -u
}

dirty() { cs -M > /dev/null 2>&1; [ "$?" = 0 ]; }

watch_dirs() {
  local IFS=$'\n' dir
  for dir in $WATCH; do [ -e "$dir" ] && printf '%s\n' "$dir"; done
}

trigger() {
  local wait_for paths path status edits
  while true; do
    while [ ! -e "$state/initialised" ]; do sleep 1; done
    mapfile -t dirs < <(watch_dirs)
    [ "${#dirs[@]}" -gt 0 ] || { sleep "$RETRY"; continue; }
    exec 3< <(exec inotifywait -m -r -q --format '%w%f' \
      -e close_write -e create -e delete -e moved_to -e moved_from -e attrib \
      "${dirs[@]}" 2>> "$state/trigger.log")
    wait_for=0  # a full run first: changes made while nothing watched
    while true; do
      paths=()
      if [ "$wait_for" != 0 ]; then
        read -r -t "$wait_for" -u 3 path
        status=$?
        if [ "$status" = 0 ]; then
          paths+=("$path")
          while read -r -t "$DEBOUNCE" -u 3 path; do paths+=("$path"); done
        elif [ "$status" -le 128 ]; then
          break  # inotifywait ended: start it again
        fi
      fi
      mapfile -t edits < <(local_edits ${paths[@]+"${paths[@]}"})
      run_once ${edits[@]+"${edits[@]}"}
      if dirty; then wait_for=$RETRY; else wait_for=$INTERVAL; fi
    done
    exec 3<&-
    sleep 1
  done
}

serve &
trigger
