#!/bin/sh
# Installs the Debian packages thaw needs when they are missing.
#   sh scripts/deps.sh build    what `make` needs
#   sh scripts/deps.sh test     plus what the tests need (sanitizers, fuzzing, screen tests)
#   sh scripts/deps.sh bench    plus PyTorch, the peer `make bench` measures against
# As root it runs apt-get; otherwise it prints the command to run and stops.
set -eu
group=${1:-build}
pkgs="libblis-dev libcjson-dev libstb-dev libncurses-dev libreadline-dev zlib1g-dev pkg-config make gcc"
case "$group" in
build) ;;
test) pkgs="$pkgs clang libclang-rt-14-dev tmux" ;;
bench) pkgs="$pkgs python3-torch" ;;
*) echo "deps.sh: unknown group '$group' (expected build, test or bench)" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "thaw needs these Debian packages:$missing" >&2
    echo "install them with:  sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
