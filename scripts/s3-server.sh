#!/usr/bin/env bash
# An S3-compatible server for the object-store tests: Ceph's RADOS Gateway (Debian's ceph-mon,
# ceph-osd and radosgw packages) with one monitor and one OSD on memstore, beast on 127.0.0.1,
# cephx off, everything under its own directory. Signatures are checked (a bad secret, an expired
# presigned URL and an anonymous GET get 403).
#
#   scripts/s3-server.sh start   # prints export lines: endpoint, keys, region (reuses a running one)
#   scripts/s3-server.sh stop    # stops it and removes its directory
#   scripts/s3-server.sh env     # the export lines of the running one (exit 1 when none runs)
#
# OMNIPREP_S3_DIR (default /tmp/omniprep-s3) and OMNIPREP_S3_PORT (default 7480) move it.
# Pitfalls: `ceph-osd --mkfs` needs --osd-uuid (else the OSD stays "booting"); radosgw needs
# `ms mon client mode = crc secure` with auth none (else it hangs on "get_monmap_and_config
# failed"); the first bucket operation takes 2-3 s while the gateway creates its pools.
set -euo pipefail
W=${OMNIPREP_S3_DIR:-/tmp/omniprep-s3}
PORT=${OMNIPREP_S3_PORT:-7480}
KEY=omniprep-test-key
SECRET=omniprep-test-secret
C=(-c "$W/ceph.conf")

print_env() {
  echo "export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$PORT"
  echo "export AWS_ACCESS_KEY_ID=$KEY"
  echo "export AWS_SECRET_ACCESS_KEY=$SECRET"
  echo "export AWS_REGION=us-east-1"
}

running() { [ -f "$W/ready" ] && curl -s -o /dev/null --max-time 3 "http://127.0.0.1:$PORT/"; }

stop() {
  for f in "$W"/rgw.pid "$W"/run/*.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    # only a Ceph process of this directory (its command line names our ceph.conf)
    if [ -n "$pid" ] && grep -qs "$W/ceph.conf" "/proc/$pid/cmdline"; then kill "$pid" 2>/dev/null || true; fi
  done
  for _ in $(seq 1 50); do
    pgrep -f -- "-c $W/ceph.conf" >/dev/null 2>&1 || break
    sleep 0.2
  done
  rm -rf "$W"
}

write_conf() {
  local fsid=$1
  cat >"$W/ceph.conf" <<CONF
[global]
fsid = $fsid
mon host = 127.0.0.1:6789
mon initial members = a
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
ms mon client mode = crc secure
ms bind ipv4 = true
public network = 127.0.0.0/8
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
log file = $W/log/\$name.log
run dir = $W/run
admin socket = $W/run/\$name.asok
pid file = $W/run/\$name.pid
[mon.a]
mon data = $W/mon
[osd.0]
osd data = $W/osd0
osd objectstore = memstore
memstore device bytes = 1073741824
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$PORT
rgw data = $W/rgw
CONF
}

start() {
  if running; then
    print_env
    return 0
  fi
  for b in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph; do
    command -v "$b" >/dev/null || { echo "s3-server: $b is missing (apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw)" >&2; exit 1; }
  done
  stop
  mkdir -p "$W/mon" "$W/osd0" "$W/rgw" "$W/log" "$W/run"
  local fsid osduuid osdid
  fsid=$(cat /proc/sys/kernel/random/uuid)
  write_conf "$fsid"
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:3300,v1:127.0.0.1:6789]" "$W/monmap" >/dev/null
  ceph-mon "${C[@]}" --mkfs -i a --monmap "$W/monmap"
  ceph-mon "${C[@]}" -i a
  for _ in $(seq 1 30); do ceph "${C[@]}" --connect-timeout 2 mon stat >/dev/null 2>&1 && break; sleep 1; done
  osduuid=$(cat /proc/sys/kernel/random/uuid)
  osdid=$(ceph "${C[@]}" osd new "$osduuid")
  ceph-osd "${C[@]}" -i "$osdid" --mkfs --osd-uuid "$osduuid" >/dev/null 2>&1
  ceph-osd "${C[@]}" -i "$osdid" >/dev/null 2>&1
  for _ in $(seq 1 60); do ceph "${C[@]}" osd stat 2>/dev/null | grep -q "1 up" && break; sleep 1; done
  (radosgw "${C[@]}" -n client.rgw -f >"$W/log/rgw.stdout" 2>&1 & echo $! >"$W/rgw.pid")
  for _ in $(seq 1 90); do curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/" && break; sleep 1; done
  curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/" || { echo "s3-server: radosgw did not answer on 127.0.0.1:$PORT (see $W/log)" >&2; exit 1; }
  radosgw-admin "${C[@]}" user create --uid=omniprep --display-name=omniprep --access-key="$KEY" --secret-key="$SECRET" >/dev/null
  touch "$W/ready"
  print_env
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  env) running && print_env ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
