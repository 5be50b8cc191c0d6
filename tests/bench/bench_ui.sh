#!/usr/bin/env bash
# tests/bench/bench_ui.sh — `make bench`: what the curses workbench costs.
#
# Drives ./thaw in a 200×50 tmux pane (a private tmux socket) with
# THAW_FRAME_STATS, which makes thaw write its frame figures when it exits:
#
#   1. start-up: `./thaw` as a user starts it (fashion-resnet on Fashion-MNIST
#      5-9; the synthetic shapes when Fashion-MNIST is not installed), quit
#      at the first frame; thaw's time from the start of the workbench to its
#      first frame (model and data loading included), median of 5 runs, and
#      the same seen from outside (tmux session created to the frame on the
#      screen, process start and dynamic linking included);
#   2. while training: the same model and data, `t`, 40 navigation keys
#      about 100 ms apart (→ and ← opening and closing the first group of the
#      tree), training kept running for 15 s, quit. thaw's figures: the mean
#      and worst time to draw a frame, and key-to-frame latency (a key read
#      to the end of the frame that shows it) over every key of the run, `t`
#      included. Seen from outside, through tmux: each navigation key from
#      send-keys to the screen showing its effect, and `t` to the run's
#      folder on the status line. The UI thread's CPU time over the training
#      window, read from /proc (so loading does not count), as a share of
#      one core.
#
# Prints a short summary, then one JSON line {"ui_frame_ms_mean": ...}.
# Without tmux it says so and exits 0. Targets: frame < 2 ms, key < 50 ms,
# UI CPU < 3% of a core, first frame < 0.5 s.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
COLS=200 ROWS=50
TRAIN_S=${THAW_BENCH_UI_SECONDS:-15}
NKEYS=40

if ! command -v tmux >/dev/null 2>&1; then
    echo "bench_ui: skipped: tmux is not installed (apt-get install tmux)"
    exit 0
fi
[ -x "$ROOT/thaw" ] || { echo "bench_ui: $ROOT/thaw is missing; run make" >&2; exit 1; }
unset TMUX TMUX_PANE

SOCK=thaw-bench-$$
TMP=$(mktemp -d "${TMPDIR:-/tmp}/thaw-bench-ui.XXXXXX") || exit 1
cleanup() {
    tmux -L "$SOCK" kill-server >/dev/null 2>&1
    rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$SOCK"     # the server leaves its socket behind
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
printf 'set -g status off\nset -g remain-on-exit on\nset -g history-limit 200\n' >"$TMP/tmux.conf"
tm() { tmux -L "$SOCK" -f "$TMP/tmux.conf" "$@"; }
mkdir -p "$TMP/home" "$TMP/state" "$TMP/work"

if [ -d /usr/share/datasets/fashion-mnist ]; then
    DATASET=fashion MODEL=models/fashion-resnet.json DATA=fashion:classes=5-9,shots=20,val=50
    START_ARGS=()                                    # ./thaw alone: the default model and data
else
    DATASET=shapes MODEL=models/shapes-resnet.json DATA=shapes:classes=0-4,shots=20,val=50
    START_ARGS=("$MODEL" --data "$DATA")
fi

# stamp VAR: microseconds since the epoch into VAR, without a fork where bash can.
if [ -n "${EPOCHREALTIME:-}" ]; then
    stamp() { printf -v "$1" '%s' "${EPOCHREALTIME/[.,]/}"; }
else
    stamp() { printf -v "$1" '%s' "$(date +%s%6N)"; }
fi
tk0=0 tk1=0 k0=0 c0=0 c1=0   # set by stamp
now() { local t; stamp t; echo "${t:0:-6}.${t: -6}"; }
has() { tm capture-pane -p -t "$1" 2>/dev/null | grep -qF -- "$2"; }
# wait_for SESSION TEXT SECONDS
wait_for() {
    local t0=$SECONDS
    until has "$1" "$2"; do
        [ $((SECONDS - t0)) -ge "$3" ] && return 1
        sleep 0.01
    done
}
wait_file() {
    local t0=$SECONDS
    until [ -s "$1" ]; do
        [ $((SECONDS - t0)) -ge "$2" ] && return 1
        sleep 0.05
    done
}
# launch SESSION CWD STATS-FILE thaw-arguments...: thaw is the pane's process.
launch() {
    local s=$1 cwd=$2 stats=$3
    shift 3
    tm new-session -d -s "$s" -x $COLS -y $ROWS "cd $(printf %q "$cwd") && exec $(printf '%q ' \
        env -i PATH="$PATH" TERM=xterm-256color LANG=C.UTF-8 HOME="$TMP/home" XDG_STATE_HOME="$TMP/state" \
        THAW_FRAME_STATS="$stats" "$ROOT/thaw" "$@")"
}
field() { sed -n "s/.*\"$2\": *\([-0-9.eE+]*\).*/\1/p" "$1"; }
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }
median() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }
# The main (UI) thread's CPU time in seconds: ns from schedstat, else clock ticks.
ui_cpu() {
    local pid=$1 f=/proc/$1/task/$1
    if [ -r "$f/schedstat" ]; then
        awk '{ printf "%.6f", $1 / 1e9 }' "$f/schedstat"
    else
        sed 's/.*) //' "$f/stat" | awk -v hz="$(getconf CLK_TCK)" '{ printf "%.6f", ($12 + $13) / hz }'
    fi
}
die() { echo "bench_ui: $*" >&2; exit 1; }

# ---- 1. start-up -----------------------------------------------------------------

starts=() outside=()
for i in 1 2 3 4 5; do
    stats=$TMP/start$i.json
    t0=$(now)
    launch start$i "$ROOT" "$stats" "${START_ARGS[@]}"
    wait_for start$i "F1 help" 60 || die "start-up run $i: no first frame within 60 s"
    t1=$(now)
    tm send-keys -t start$i q
    wait_file "$stats" 30 || die "start-up run $i: thaw wrote no frame statistics"
    starts+=("$(field "$stats" first_frame_s)")
    outside+=("$(calc "$t1 - $t0" 4)")
    tm kill-session -t start$i
done
start_s=$(median "${starts[@]}")
start_outside_s=$(median "${outside[@]}")

# ---- 2. keys while training -----------------------------------------------------------

stats=$TMP/train.json
launch trn "$TMP/work" "$stats" "$ROOT/$MODEL" --data "$DATA"   # runs/ goes to the temporary folder
wait_for trn "F1 help" 60 || die "no first frame within 60 s"
pid=$(tm display-message -p -t trn '#{pane_pid}')
tm send-keys -t trn : && tm send-keys -t trn -l 'set epochs 1000' && tm send-keys -t trn Enter
wait_for trn "set epochs 1000" 20 || die "the command line did not take 'set epochs 1000'"
stamp tk0
tm send-keys -t trn t
wait_for trn "runs/" 60 || die "training did not start within 60 s"
stamp tk1
train_key_ms=$(calc "($tk1 - $tk0) / 1000" 0)
cpu0=$(ui_cpu "$pid") w0=$(now)
# The navigation keys: → and ← open and close the first group of the tree, so
# each key's frame is the first output after it that holds ▾ or ▸ (nothing
# else redraws those glyphs). A tmux control-mode client timestamps the pane's
# output as tmux reads it; a key's time is taken before send-keys, so the
# figure includes starting the tmux client that sends it.
mkfifo "$TMP/ctl"
exec 3<>"$TMP/ctl"
tm -C attach -t trn <"$TMP/ctl" 2>/dev/null | while IFS= read -r line; do
    case $line in
    "%output "*)
        stamp t; o=0 c=0
        [[ $line == *▾* ]] && o=1
        [[ $line == *▸* ]] && c=1
        echo "$t $o $c" ;;
    esac
done >"$TMP/output.log" &
until [ -e "$TMP/output.log" ] && [ "$(tm list-clients -t trn 2>/dev/null | wc -l)" -ge 1 ]; do sleep 0.05; done
: >"$TMP/keys.log"
for ((i = 0; i < NKEYS; i++)); do
    if ((i % 2 == 0)); then key=Right col=2; else key=Left col=3; fi
    stamp k0
    echo "$k0 $col" >>"$TMP/keys.log"
    tm send-keys -t trn $key
    sleep 0.1
done
sleep 0.5
# client cost: a tmux command that does nothing
stamp c0
for i in 1 2 3 4 5; do tm display-message -p -t trn '' >/dev/null; done
stamp c1
client_ms=$(awk -v d=$((c1 - c0)) 'BEGIN { printf "%.1f", d / 5000 }')
# key i -> the first output after it with its glyph
read -r nav_n nav_mean nav_max < <(awk '
    NR == FNR { t[NR] = $1; o[NR] = $2; c[NR] = $3; n = NR; next }
    { k[++nk] = $1; col[nk] = $2 }
    END {
        j = 1
        for (i = 1; i <= nk; i++) {
            end = i + 1 < nk ? k[i + 2] : 1e30      # key i+2 draws the same glyph again
            while (j <= n && t[j] <= k[i]) j++
            for (m = j; m <= n && t[m] < end; m++)
                if ((col[i] == 2 && o[m]) || (col[i] == 3 && c[m])) {
                    d = (t[m] - k[i]) / 1000; s += d; got++
                    if (d > max) max = d
                    break
                }
        }
        printf "%d %.1f %.1f\n", got, got ? s / got : -1, max
    }' "$TMP/output.log" "$TMP/keys.log")
[ "$nav_n" -eq "$NKEYS" ] || echo "bench_ui: only $nav_n of $NKEYS navigation keys were seen on the screen" >&2
while [ "$(calc "$(now) - $w0 < $TRAIN_S" 0)" = 1 ]; do sleep 0.2; done
cpu1=$(ui_cpu "$pid") w1=$(now)
epoch=$(tm capture-pane -p -t trn | sed -n 's/^ epoch \([0-9]*\)\/.*/\1/p' | tail -1)
exec 3>&-
tm send-keys -t trn q
wait_for trn "q again" 20 || die "q during training did not ask to confirm"
tm send-keys -t trn q
wait_file "$stats" 120 || die "thaw wrote no frame statistics after quitting"
tm kill-session -t trn

frame_mean=$(field "$stats" frame_ms_mean) frame_max=$(field "$stats" frame_ms_max)
key_mean=$(field "$stats" key_ms_mean) key_max=$(field "$stats" key_ms_max)
frames=$(field "$stats" frames) wall=$(field "$stats" wall_s) cpu_all=$(field "$stats" ui_cpu_s)
cpu_pct=$(calc "100 * ($cpu1 - $cpu0) / ($w1 - $w0)" 2)
cpu_pct_run=$(calc "100 * $cpu_all / $wall" 2)
window=$(calc "$w1 - $w0" 1)

verdict() { [ "$(calc "$1 < $2" 0)" = 1 ] && echo "ok" || echo "OVER"; }
echo "UI at ${COLS}x${ROWS}, $MODEL on $DATA ($frames frames, $NKEYS keys, ${window} s of training to epoch ${epoch:-?})"
printf '  frame        mean %7.3f ms  max %7.3f ms   target < 2 ms: %s\n' "$frame_mean" "$frame_max" \
    "$(verdict "$frame_mean" 2)"
printf '  key->screen  navigation keys, send-keys to the output in tmux: mean %.1f ms  max %.1f ms   target < 50 ms: %s\n' \
    "$nav_mean" "$nav_max" "$(verdict "$nav_max" 50)"
printf '               (starting the tmux client that sends a key costs %.1f ms of that)\n' "$client_ms"
printf '               thaw'"'"'s own key->frame over all keys: mean %.1f ms  max %.1f ms;  t until the run shows: %.0f ms\n' \
    "$key_mean" "$key_max" "$train_key_ms"
printf '  UI thread CPU while training %.2f%% of a core (%.2f%% over the whole run, loading included)   target < 3%%: %s\n' \
    "$cpu_pct" "$cpu_pct_run" "$(verdict "$cpu_pct" 3)"
printf '  first frame  %.3f s (median of %s s; %s s from outside)   target < 0.5 s: %s\n' "$start_s" \
    "$(IFS=/; echo "${starts[*]}")" "$start_outside_s" "$(verdict "$start_s" 0.5)"
printf '{"ui_frame_ms_mean":%s,"ui_frame_ms_max":%s,"ui_key_ms_mean":%s,"ui_key_ms_max":%s,' \
    "$frame_mean" "$frame_max" "$key_mean" "$key_max"
printf '"ui_nav_key_ms_mean":%s,"ui_nav_key_ms_max":%s,"ui_nav_keys_seen":%s,"ui_train_key_ms":%s,"ui_tmux_client_ms":%s,' "$nav_mean" "$nav_max" "$nav_n" "$train_key_ms" "$client_ms"
printf '"ui_cpu_pct_training":%s,"ui_cpu_pct_run":%s,"ui_frames":%s,"ui_keys":%d,"ui_train_s":%s,' \
    "$cpu_pct" "$cpu_pct_run" "$frames" "$NKEYS" "$window"
printf '"ui_first_frame_s":%s,"ui_first_frame_outside_s":%s,"ui_data":"%s","ui_size":"%dx%d","bench":"ui"}\n' \
    "$start_s" "$start_outside_s" "$DATASET" $COLS $ROWS
