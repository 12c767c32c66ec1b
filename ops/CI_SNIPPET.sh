# --- ops: ansible-lint + end-to-end scenarios on the lab (docs/fr/ops.md, issue 3) ---
# Paste into .ci/run (bash, run from the repository root). Needs root and network
# namespaces; skips with a message (and goes on) where they are missing. Budget: about
# 6 minutes with a warm cache, under 15 on a new machine (debootstrap image included).
ops_ci() {
  if [ "$(id -u)" != 0 ]; then
    echo "SKIP ops end-to-end tests: not root (the lab needs network namespaces, mounts, cgroups)"
    return 0
  fi
  if ! ip netns add catlab-ci-probe 2>/dev/null; then
    echo "SKIP ops end-to-end tests: network namespaces unavailable on this machine"
    return 0
  fi
  ip netns del catlab-ci-probe
  local missing=""
  for pkg in debootstrap apt-cacher-ng zstd openssh-client curl; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
  done
  if [ -n "$missing" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null || return 1
  fi
  make install-ops || return 1
  make lint-ops || return 1
  timeout 900 make test-ops
}
ops_ci || exit 1
