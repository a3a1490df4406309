# Sourced by scripts/check-contrib-build.sh and scripts/build-opencv-cuda.sh: phase timing, Debian build
# dependencies, and a private apt configuration for Debian's OpenCV source package. The caller defines
# fail() (its own VERDICT line), sets $logs and starts $t_script before calling these.

declare -a phase_names=() phase_secs=()
phase_start() { phase=$1; t_phase=$(date +%s); echo "== $phase"; }
phase_end() {
  local s=$(( $(date +%s) - t_phase ))
  phase_names+=("$phase"); phase_secs+=("$s")
  printf '== %s: %d s\n' "$phase" "$s"
}
summary() {
  local i
  for i in "${!phase_names[@]}"; do printf '   %-10s %6d s\n' "${phase_names[$i]}" "${phase_secs[$i]}"; done
}

# One run at a time per work folder (two checkouts sharing it would fight over the build tree).
lock_work_folder() {
  exec 9>"$1/.lock"
  flock -n 9 || { echo "waiting for another run on $1"; flock 9; }
}

# Installs the given Debian packages that are missing, with the system's apt.
install_missing_packages() {
  local p missing=() sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  echo "installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >"$logs/apt-install.log" 2>&1 || fail "apt-get install failed, see $logs/apt-install.log"
}

# private_apt_update <apt folder> <suite>: a deb-src list for OpenCV's source package in its own lists and
# caches (the system's apt state is neither read for sources nor written), updated; sets apt_private, the
# apt-get options that use it. The mirror: $DMAD_DEBIAN_MIRROR, else the first Debian (non-security) URI of
# the system's apt sources, deb822 *.sources or one-line *.list.
private_apt_update() {
  local aptdir=$1 suite=$2 mirror=${DMAD_DEBIAN_MIRROR:-}
  if [ -z "$mirror" ]; then
    mirror=$( { cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk 'tolower($1)=="uris:" {print $2}'
                cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
                  | awk '$1=="deb" || $1=="deb-src" {for (i=2;i<=NF;i++) if ($i ~ /:\/\//) {print $i; break}}'
              } | grep -i 'debian' | grep -vi 'security' | head -n1 || true)
  fi
  [ -n "$mirror" ] || fail "no Debian mirror found in /etc/apt/sources.list{,.d}; set DMAD_DEBIAN_MIRROR"
  echo "source package from $mirror $suite"
  mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial"
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg opts=""
  [ -f "$keyring" ] && opts="[signed-by=$keyring] "
  echo "deb-src ${opts}$mirror $suite main" >"$aptdir/src.list"
  apt_private=(-o "Dir::Etc::SourceList=$aptdir/src.list" -o Dir::Etc::SourceParts=/dev/null
               -o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache=$aptdir/cache")
  apt-get "${apt_private[@]}" -qq update >"$logs/apt-update.log" 2>&1 \
    || fail "private apt-get update failed, see $logs/apt-update.log"
}
