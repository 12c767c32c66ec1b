#!/usr/bin/env bash
# Lab of real Debian 12 hosts for catalogage's Ansible code.
#
# Each host is a debootstrapped Debian bookworm root filesystem (cached once as a
# zstd tarball outside the repository), unpacked on /dev/shm and booted with real
# systemd as PID 1 inside its own network, mount, PID, UTS and cgroup namespaces.
# The hosts sit on a private bridge (10.213.0.0/24 by default) and have no route
# out: apt goes through an apt-cacher-ng proxy listening on the bridge.
#
# Usage: lab.sh image | up [HOST...] | down | status | ssh HOST [CMD...] | hosts
#
# Environment (all optional):
#   LAB_CACHE   where the image, the SSH key and the apt cache live   (/var/cache/catalogage-lab)
#   LAB_RUN     where running hosts' root filesystems live             (/dev/shm/catalogage-lab)
#   LAB_HOSTS   hosts started by "up" without arguments                (all hosts below)
#   LAB_MIRROR  Debian mirror used by debootstrap and apt-cacher-ng    (http://deb.debian.org/debian)
#   LAB_BOOT_TIMEOUT  seconds to wait for SSH on each host             (60)
set -euo pipefail

SELF="$(readlink -f "${BASH_SOURCE[0]}")"
LAB_CACHE="${LAB_CACHE:-/var/cache/catalogage-lab}"
LAB_RUN="${LAB_RUN:-/dev/shm/catalogage-lab}"
LAB_MIRROR="${LAB_MIRROR:-http://deb.debian.org/debian}"
LAB_BOOT_TIMEOUT="${LAB_BOOT_TIMEOUT:-60}"
BRIDGE=catlab0
NET_PREFIX=10.213.0
GATEWAY="${NET_PREFIX}.1"
ACNG_PORT=3149   # not 3142: a system apt-cacher-ng may already use it
SUITE=bookworm

# name -> last octet. Keep in sync with ops/ansible/inventories/lab*.
declare -A HOST_IP=(
  [web1]=11   # lab: single host (web + local PostgreSQL)
  [web2]=12   # lab-multi: web host
  [web3]=13   # lab-multi: web host
  [db1]=21    # lab-multi: database host
)
ALL_HOSTS="web1 web2 web3 db1"
LAB_HOSTS="${LAB_HOSTS:-$ALL_HOSTS}"

# Packages baked into the image: what a cloud provider's minimal Debian 12 image has
# (systemd, SSH, sudo, python3). Everything else is installed by the Ansible roles.
IMAGE_PACKAGES="systemd,systemd-sysv,dbus,libpam-systemd,openssh-server,sudo,python3,iproute2,iputils-ping,ca-certificates,procps,curl,less"
IMAGE_RECIPE_VERSION=3
IMAGE_KEY="$(printf '%s|%s|%s|%s' "$SUITE" "$IMAGE_PACKAGES" "$IMAGE_RECIPE_VERSION" "$LAB_MIRROR" | sha256sum | cut -c1-12)"
IMAGE="$LAB_CACHE/debian-$SUITE-systemd-$IMAGE_KEY.tar.zst"
SSH_KEY="$LAB_CACHE/ssh/id_ed25519"

log() { printf '[lab %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

need_root() {
  [ "$(id -u)" = 0 ] || die "the lab needs root (network namespaces, mounts, cgroups)"
}

# ---------------------------------------------------------------------------- image
cmd_image() {
  need_root
  if [ -f "$IMAGE" ]; then log "image cached: $IMAGE"; return 0; fi
  command -v debootstrap >/dev/null || die "debootstrap missing (apt-get install debootstrap)"
  mkdir -p "$LAB_CACHE"
  local build="$LAB_CACHE/build.$$"
  rm -rf "$build"; mkdir -p "$build"

  log "debootstrap $SUITE (minbase + systemd) into $build ..."
  local t0=$SECONDS
  debootstrap --variant=minbase --include="$IMAGE_PACKAGES" "$SUITE" "$build/root" "$LAB_MIRROR" \
    > "$build/debootstrap.log" 2>&1 || { tail -30 "$build/debootstrap.log" >&2; die "debootstrap failed"; }
  local r="$build/root"
  # Units that make no sense in a container, or that would touch the real machine's
  # terminals, or run apt behind Ansible's back.
  local u
  for u in getty@.service serial-getty@.service console-getty.service getty.target \
           e2scrub_reap.service e2scrub_all.timer apt-daily.timer apt-daily-upgrade.timer \
           fstrim.timer systemd-timesyncd.service systemd-networkd-wait-online.service \
           sys-kernel-debug.mount sys-kernel-tracing.mount sys-fs-fuse-connections.mount \
           proc-sys-fs-binfmt_misc.automount dev-hugepages.mount systemd-udevd.service \
           systemd-udev-trigger.service systemd-modules-load.service; do
    ln -sf /dev/null "$r/etc/systemd/system/$u"
  done
  cat > "$r/etc/apt/sources.list" <<EOF
deb http://deb.debian.org/debian $SUITE main
deb http://deb.debian.org/debian $SUITE-updates main
deb http://deb.debian.org/debian-security $SUITE-security main
EOF
  # Host keys are generated per host at boot; the machine id too.
  rm -f "$r"/etc/ssh/ssh_host_* "$r/etc/machine-id" "$r/var/lib/dbus/machine-id"
  : > "$r/etc/machine-id"
  rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/*
  # The provider's default user, as cloud-init would create it: "deploy", sudo without password.
  chroot "$r" useradd --create-home --shell /bin/bash --groups sudo deploy
  echo 'deploy ALL=(ALL) NOPASSWD:ALL' > "$r/etc/sudoers.d/90-cloud-init-users"
  chmod 0440 "$r/etc/sudoers.d/90-cloud-init-users"
  tar -C "$r" --zstd -cf "$IMAGE.tmp" .
  mv "$IMAGE.tmp" "$IMAGE"
  rm -rf "$build"
  log "image built in $((SECONDS - t0)) s: $IMAGE ($(du -h "$IMAGE" | cut -f1))"
}

# ---------------------------------------------------------------------------- network
net_up() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add "$GATEWAY/24" dev "$BRIDGE"
  fi
  ip link set "$BRIDGE" up
}

acng_up() {
  local conf="$LAB_RUN/acng"
  if [ -f "$conf/pid" ] && kill -0 "$(cat "$conf/pid")" 2>/dev/null; then return 0; fi
  command -v apt-cacher-ng >/dev/null || [ -x /usr/sbin/apt-cacher-ng ] || die "apt-cacher-ng missing"
  mkdir -p "$conf" "$LAB_CACHE/apt-cacher-ng"
  chown -R apt-cacher-ng: "$LAB_CACHE/apt-cacher-ng" 2>/dev/null || true
  # Minimal configuration: no Remap lines (their backends point to mirrors that do not
  # resolve here); plain proxying of deb.debian.org, with caching.
  cat > "$conf/acng.conf" <<EOF
CacheDir: $LAB_CACHE/apt-cacher-ng
LogDir: $conf
SupportDir: /usr/lib/apt-cacher-ng
BindAddress: $GATEWAY
Port: $ACNG_PORT
PidFile: $conf/pid
ExThreshold: 4
PassThroughPattern: ^(files\.pythonhosted\.org|pypi\.org):443$
EOF
  chown -R apt-cacher-ng: "$conf" 2>/dev/null || true
  /usr/sbin/apt-cacher-ng -c "$conf" ForeGround=0 >"$conf/stdout.log" 2>&1 || true
  local i
  for i in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/$GATEWAY/$ACNG_PORT") 2>/dev/null; then log "apt-cacher-ng on $GATEWAY:$ACNG_PORT"; return 0; fi
    sleep 0.1
  done
  cat "$conf"/*.log >&2 || true
  die "apt-cacher-ng did not start"
}

# ---------------------------------------------------------------------------- cgroups
# Give every host its own cgroup subtree (below the one we run in) in each hierarchy
# before creating its cgroup namespace, so that systemd manages only that subtree.
cg_dirs() { # print "<mountpoint>/<our path>/catlab/<name>" for each hierarchy
  local name="$1" id ctrls path mnt
  while IFS=: read -r id ctrls path; do
    if [ "$id" = 0 ]; then
      if [ -e /sys/fs/cgroup/unified/cgroup.procs ]; then mnt=/sys/fs/cgroup/unified
      elif [ -e /sys/fs/cgroup/cgroup.procs ]; then mnt=/sys/fs/cgroup
      else continue; fi
    else
      mnt="/sys/fs/cgroup/${ctrls#name=}"
      [ -d "$mnt" ] || continue
    fi
    printf '%s\n' "${mnt}${path%/}/catlab/$name"
  done < /proc/self/cgroup
}

cg_enter() { # move the calling shell ($BASHPID) into the host's cgroups
  local name="$1" d parent f
  while read -r d; do
    parent="$(dirname "$d")"
    mkdir -p "$d" 2>/dev/null || continue
    for f in cpuset.cpus cpuset.mems; do
      if [ -f "$parent/$f" ] && [ -z "$(cat "$parent/$f")" ]; then cat "$(dirname "$parent")/$f" > "$parent/$f"; fi
      if [ -f "$d/$f" ] && [ -z "$(cat "$d/$f")" ]; then cat "$parent/$f" > "$d/$f"; fi
    done
    echo "$BASHPID" > "$d/cgroup.procs" 2>/dev/null || log "warning: cannot join $d"
  done < <(cg_dirs "$name")
}

cg_remove() {
  local name="$1" d
  while read -r d; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done < <(cg_dirs "$name")
}

# ---------------------------------------------------------------------------- hosts
host_ip() { [ -n "${HOST_IP[$1]:-}" ] || die "unknown host $1 (known: $ALL_HOSTS)"; echo "$NET_PREFIX.${HOST_IP[$1]}"; }

ssh_key() {
  if [ ! -f "$SSH_KEY" ]; then
    mkdir -p "$(dirname "$SSH_KEY")"; chmod 700 "$(dirname "$SSH_KEY")"
    ssh-keygen -q -t ed25519 -N '' -C catalogage-lab -f "$SSH_KEY"
  fi
}

SSH_OPTS=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes -o ConnectTimeout=3)

host_prepare() {
  local name="$1" ip="$2" dir="$LAB_RUN/hosts/$1" r h
  r="$dir/rootfs"
  rm -rf "$dir"; mkdir -p "$r"
  tar -C "$r" --zstd -xf "$IMAGE"
  echo "lab-$name" > "$r/etc/hostname"
  {
    echo "127.0.0.1 localhost"
    echo "127.0.1.1 lab-$name"
    echo "$GATEWAY lab-gateway"
    for h in $ALL_HOSTS; do echo "$NET_PREFIX.${HOST_IP[$h]} lab-$h"; done
  } > "$r/etc/hosts"
  : > "$r/etc/resolv.conf"
  echo "Acquire::http::Proxy \"http://$GATEWAY:$ACNG_PORT\";" > "$r/etc/apt/apt.conf.d/01lab-proxy"
  # The only network configuration: a static address on eth0, set by the harness
  # (ip netns) before boot; nothing inside the host changes it.
  systemd-machine-id-setup --root="$r" >/dev/null 2>&1 || cat /proc/sys/kernel/random/uuid | tr -d - > "$r/etc/machine-id"
  chroot "$r" ssh-keygen -A >/dev/null
  install -d -m 0700 -o 1000 -g 1000 "$r/home/deploy/.ssh"
  install -m 0600 -o 1000 -g 1000 "$SSH_KEY.pub" "$r/home/deploy/.ssh/authorized_keys"
}

host_net() {
  local name="$1" ip="$2" ns="catlab-$1" veth="cl-$1"
  ip netns del "$ns" 2>/dev/null || true
  ip link del "$veth" 2>/dev/null || true
  ip netns add "$ns"
  ip link add "$veth" type veth peer name eth0 netns "$ns"
  ip link set "$veth" master "$BRIDGE" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$ip/24" dev eth0
  ip -n "$ns" link set eth0 up
  # No default route: the hosts reach only the lab network (apt goes through the proxy).
}

host_boot() {
  local name="$1" dir="$LAB_RUN/hosts/$1"
  (
    cg_enter "$name"
    exec ip netns exec "catlab-$name" unshare --mount --pid --uts --cgroup --fork --kill-child=SIGKILL \
      "$SELF" _init "$dir/rootfs"
  ) > "$dir/console.log" 2>&1 < /dev/null &
  echo $! > "$dir/pid"
}

# Runs as PID 1 of the host's PID namespace, in its own mount namespace: prepare the
# root filesystem's mounts, pivot into it and exec systemd.
cmd__init() {
  local r="$1" n
  mount --make-rprivate /
  mount --bind "$r" "$r"
  mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$r/sys"
  mount -t tmpfs -o mode=755,nosuid,size=16m tmpfs "$r/dev"
  for n in null zero full random urandom tty; do
    touch "$r/dev/$n"; mount --bind "/dev/$n" "$r/dev/$n"
  done
  touch "$r/dev/console"; mount --bind /dev/null "$r/dev/console"
  mkdir -p "$r/dev/pts" "$r/dev/shm"
  mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts "$r/dev/pts"
  ln -s pts/ptmx "$r/dev/ptmx"
  ln -s /proc/self/fd "$r/dev/fd"
  ln -s /proc/self/fd/0 "$r/dev/stdin"; ln -s /proc/self/fd/1 "$r/dev/stdout"; ln -s /proc/self/fd/2 "$r/dev/stderr"
  cd "$r"
  mkdir -p .oldroot
  pivot_root . .oldroot
  exec /bin/sh -c 'umount -l /.oldroot && rmdir /.oldroot; exec /usr/bin/env -i container=catalogage-lab TERM=dumb /lib/systemd/systemd --log-target=console --show-status=no'
}

host_wait_ssh() {
  local name="$1" ip="$2" deadline=$((SECONDS + LAB_BOOT_TIMEOUT))
  while [ $SECONDS -lt $deadline ]; do
    if ssh "${SSH_OPTS[@]}" -i "$SSH_KEY" "deploy@$ip" 'sudo -n true && systemctl is-system-running --wait >/dev/null 2>&1; systemctl is-system-running' > "$LAB_RUN/hosts/$name/state" 2>/dev/null \
       || [ -s "$LAB_RUN/hosts/$name/state" ]; then
      log "lab-$name ($ip) up: $(cat "$LAB_RUN/hosts/$name/state")"
      return 0
    fi
    sleep 0.5
  done
  tail -40 "$LAB_RUN/hosts/$name/console.log" >&2 || true
  die "lab-$name ($ip): no SSH after ${LAB_BOOT_TIMEOUT}s"
}

host_stop() {
  local name="$1" dir="$LAB_RUN/hosts/$1" pid i
  if [ -f "$dir/pid" ]; then
    pid="$(cat "$dir/pid")"
    kill -KILL "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  ip netns del "catlab-$name" 2>/dev/null || true
  ip link del "cl-$name" 2>/dev/null || true
  for i in $(seq 1 30); do cg_remove "$name"; [ -z "$(cg_dirs "$name" | xargs -r -I{} sh -c 'test -d {} && echo {}')" ] && break; sleep 0.1; done
  rm -rf "$dir"
}

cmd_up() {
  need_root
  local hosts="${*:-$LAB_HOSTS}" h t0=$SECONDS
  cmd_image
  ssh_key
  mkdir -p "$LAB_RUN/hosts"
  net_up
  acng_up
  for h in $hosts; do
    host_stop "$h"
    host_prepare "$h" "$(host_ip "$h")"
    host_net "$h" "$(host_ip "$h")"
    host_boot "$h"
  done
  for h in $hosts; do host_wait_ssh "$h" "$(host_ip "$h")"; done
  log "lab up in $((SECONDS - t0)) s: $hosts"
}

cmd_down() {
  need_root
  local h
  for h in $ALL_HOSTS; do
    if [ -d "$LAB_RUN/hosts/$h" ] || ip netns list | grep -qw "catlab-$h"; then host_stop "$h"; log "lab-$h stopped"; fi
  done
  if [ -f "$LAB_RUN/acng/pid" ]; then kill "$(cat "$LAB_RUN/acng/pid")" 2>/dev/null || true; fi
  rm -rf "$LAB_RUN/acng"
  ip link del "$BRIDGE" 2>/dev/null || true
  rmdir "$LAB_RUN/hosts" "$LAB_RUN" 2>/dev/null || true
  while read -r d; do rmdir "$(dirname "$d")" 2>/dev/null || true; done < <(cg_dirs x)
}

cmd_status() {
  local h ip
  for h in $ALL_HOSTS; do
    ip="$NET_PREFIX.${HOST_IP[$h]}"
    if [ -f "$LAB_RUN/hosts/$h/pid" ] && kill -0 "$(cat "$LAB_RUN/hosts/$h/pid")" 2>/dev/null; then
      echo "lab-$h $ip running"
    else
      echo "lab-$h $ip stopped"
    fi
  done
}

cmd_ssh() {
  local h="$1"; shift
  exec ssh "${SSH_OPTS[@]}" -i "$SSH_KEY" "deploy@$(host_ip "$h")" "$@"
}

cmd_check() { # exit 0 if this machine can run the lab, else print why and exit 3
  local why=""
  [ "$(id -u)" = 0 ] || why="not root"
  if [ -z "$why" ]; then
    ip netns add catlab-probe 2>/dev/null && ip netns del catlab-probe || why="network namespaces unavailable"
  fi
  if [ -z "$why" ]; then
    unshare --mount --pid --uts --cgroup --fork true 2>/dev/null || why="mount/pid/uts/cgroup namespaces unavailable"
  fi
  if [ -n "$why" ]; then echo "lab unavailable: $why"; exit 3; fi
  echo "lab available"
}

case "${1:-}" in
  image) cmd_image ;;
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  ssh) shift; cmd_ssh "$@" ;;
  check) cmd_check ;;
  key) echo "$SSH_KEY" ;;
  _init) shift; cmd__init "$@" ;;
  *) sed -n '2,20p' "$SELF" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
