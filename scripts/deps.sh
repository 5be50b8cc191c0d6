#!/bin/sh
# Installs the Debian packages thaw needs when they are missing.
#   sh scripts/deps.sh build    what `make` needs (protobuf-c and ONNX's schema included)
#   sh scripts/deps.sh test     plus what the tests need (sanitizers, fuzzing, screen tests, python3-onnx);
#                               PyTorch and torchvision too, optional: the ONNX and export tests
#                               compare against them and skip, saying so, without them
#   sh scripts/deps.sh bench    plus PyTorch, the peer `make bench` measures against
# As root it runs apt-get; otherwise it prints the command to run and stops.
# Optional packages are installed as root and only mentioned otherwise:
# Fashion-MNIST (dataset-fashion-mnist, the default data set; without it
# thaw says where the files were looked for) and PyTorch (without it
# `make bench` reports thaw's figures alone).
set -eu
group=${1:-build}
need="libblis-dev libblis4-serial libcjson-dev libstb-dev libdeflate-dev libncurses-dev libreadline-dev zlib1g-dev protobuf-c-compiler libprotobuf-c-dev libonnx-dev pkg-config make gcc"
optional="dataset-fashion-mnist"
case "$group" in
build) ;;
test) need="$need clang libclang-rt-14-dev tmux python3-onnx"; optional="$optional python3-torch python3-torchvision" ;;
bench) optional="$optional python3-torch python3-torchvision" ;;
*) echo "deps.sh: unknown group '$group' (expected build, test or bench)" >&2; exit 2 ;;
esac

missing_from() {
    out=""
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || out="$out $p"
    done
    echo "$out"
}
# shellcheck disable=SC2086
missing=$(missing_from $need)
# shellcheck disable=SC2086
missing_optional=$(missing_from $optional)
[ -z "$missing$missing_optional" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    if [ -n "$missing" ]; then
        echo "thaw needs these Debian packages:$missing" >&2
        echo "install them with:  sudo apt-get install -y$missing" >&2
        exit 1
    fi
    echo "optional:$missing_optional is not installed (sudo apt-get install -y$missing_optional)" >&2
    exit 0
fi
echo "installing:$missing$missing_optional"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing $missing_optional
