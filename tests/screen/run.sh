#!/usr/bin/env bash
# tests/screen/run.sh — scripted screen tests of the curses workbench.
#
# Each check starts ./thaw in its own tmux session on a private socket, sends
# keys, waits (polling, with a timeout) for the screen to reach the expected
# state and compares it with a golden copy in tests/screen/golden/NAME.txt
# (trailing spaces removed). The training data is the built-in synthetic
# shapes, so nothing is downloaded and nothing depends on the machine.
#
#   bash tests/screen/run.sh                       every check
#   bash tests/screen/run.sh help restore          some groups: default expand freeze rate help
#                                                  resize ascii line repl restore train batch
#                                                  (or a restore_* name)
#   THAW_UPDATE_GOLDEN=1 bash tests/screen/run.sh  rewrite the golden screens (review the diff)
#   THAW_SCREEN_TIMEOUT=40 ...                     wait longer on a slow machine (default 20 s)
#
# Prints "ok   NAME" or "FAIL NAME" (the reason and a diff indented below) per
# check like the C runner, "skip NAME" for a check held back by a known
# workbench bug (it passes by itself once the bug is fixed), then
# "N passed, N failed"; exits 1 on a failure. Without tmux it says so and
# succeeds: scripts/deps.sh test installs tmux.
set -u

cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
GOLDEN=$ROOT/tests/screen/golden
MODEL=models/shapes-resnet.json
DATA=shapes:classes=0-3,shots=6,val=5,n=20,test=10
TIMEOUT=${THAW_SCREEN_TIMEOUT:-20}
UPDATE=${THAW_UPDATE_GOLDEN:-0}
ONLY=("$@")

if ! command -v tmux >/dev/null 2>&1; then
    echo "screen tests skipped: tmux is not installed (sh scripts/deps.sh test installs it)"
    exit 0
fi
if [ ! -x "$ROOT/thaw" ]; then
    echo "screen tests: $ROOT/thaw is missing; run make first" >&2
    exit 1
fi
# Character arithmetic on captured lines (column offsets) needs a UTF-8 locale.
export LC_ALL=C.UTF-8
unset TMUX TMUX_PANE
set -f                          # key names like ? and [ are words here, never globs

SOCK=thaw-test-$$
TMP=$(mktemp -d "${TMPDIR:-/tmp}/thaw-screen.XXXXXX") || exit 1
cleanup() {
    tmux -L "$SOCK" kill-server >/dev/null 2>&1
    rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$SOCK"     # the server leaves its socket behind
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# No status bar, so a session of W×H is a pane of W×H; a pane whose program
# exits stays, so its exit status can be read.
cat >"$TMP/tmux.conf" <<'EOF'
set -g status off
set -g remain-on-exit on
set -g history-limit 200
set -g exit-empty on
EOF
tm() { tmux -L "$SOCK" -f "$TMP/tmux.conf" "$@"; }

# thaw's environment: nothing inherited from the caller (an LC_ALL or a
# NO_COLOR there would change the screen), history under the temporary dir.
mkdir -p "$TMP/home" "$TMP/state"
thaw_env() {   # thaw_env LANG [VAR=VALUE...] -> the env(1) words that start a program cleanly
    local lang=$1
    shift
    printf '%q ' env -i PATH="$PATH" TERM=xterm-256color LANG="$lang" HOME="$TMP/home" \
        XDG_STATE_HOME="$TMP/state" "$@"
}

passed=0 failed=0 skipped=0
ok() { printf 'ok   %s\n' "$1"; passed=$((passed + 1)); }
fail() {   # fail NAME REASON [DETAIL-FILE]
    printf 'FAIL %s\n    %s\n' "$1" "$2"
    [ -n "${3:-}" ] && [ -s "$3" ] && head -60 "$3" | sed 's/^/    | /'
    failed=$((failed + 1))
}
skip() { printf 'skip %s\n    %s\n' "$1" "$2"; skipped=$((skipped + 1)); }
# verdict NAME PROBLEMS [KNOWN-BUG]: ok when PROBLEMS is empty; otherwise a
# failure, or a skip when the check is held back by a known workbench bug
# (it turns into ok by itself once the bug is fixed).
verdict() {
    if [ -z "$2" ]; then
        ok "$1"
    elif [ -n "${3:-}" ]; then
        skip "$1" "known workbench bug: $3 -- now: $2"
    else
        fail "$1" "$2" "${4:-}"
    fi
}
wanted() {   # wanted NAME: is this check selected on the command line?
    [ ${#ONLY[@]} -eq 0 ] && return 0
    local w
    for w in "${ONLY[@]}"; do
        case "$1" in *"$w"*) return 0 ;; esac
    done
    return 1
}

# ---- driving tmux ------------------------------------------------------------

# start SESSION COLS ROWS LANG [CWD] -- thaw's arguments: runs ./thaw in a new
# session. CWD (default: the repository root) is where runs/ would be written.
# thaw's exit status goes to $TMP/rc-SESSION.
start() {
    local s=$1 cols=$2 rows=$3 lang=$4 cwd=$ROOT
    shift 4
    if [ "$1" != -- ]; then cwd=$1; shift; fi
    shift
    local cmd
    cmd="cd $(printf %q "$cwd") && $(thaw_env "$lang")$(printf '%q ' "$ROOT/thaw" "$@"); echo \$? >$TMP/rc-$s"
    tm kill-session -t "$s" >/dev/null 2>&1
    rm -f "$TMP/rc-$s"
    tm new-session -d -s "$s" -x "$cols" -y "$rows" "$cmd"
}
stop() { tm kill-session -t "$1" >/dev/null 2>&1; }
keys() { local s=$1; shift; tm send-keys -t "$s" "$@"; }
text() { local s=$1; shift; tm send-keys -t "$s" -l -- "$*"; }
# The screen as text, trailing spaces removed.
capture() { tm capture-pane -p -t "$1" 2>/dev/null | sed 's/ *$//'; }
fmt() { tm display-message -p -t "$1" "$2" 2>/dev/null; }

# until TIMEOUT COMMAND...: runs COMMAND every 0.1 s until it succeeds.
until_ok() {
    local limit=$1 t0=$SECONDS
    shift
    while ! "$@"; do
        [ $((SECONDS - t0)) -ge "$limit" ] && return 1
        sleep 0.1
    done
    return 0
}
has() { capture "$1" | grep -qF -- "$2"; }
not_has() { ! has "$@"; }
# wait_for SESSION TEXT: the screen shows TEXT within the timeout.
wait_for() { until_ok "$TIMEOUT" has "$1" "$2"; }

# The same screen twice, 0.3 s apart.
stable() {
    local a b
    a=$(capture "$1")
    sleep 0.3
    b=$(capture "$1")
    [ "$a" = "$b" ]
}
matches() { capture "$1" >"$TMP/screen.txt"; cmp -s "$TMP/screen.txt" "$2"; }

# golden NAME SESSION MARKER [AS]: waits for MARKER, then for the screen to
# equal golden/NAME.txt (or, when updating, to hold still and rewrites it)
# within the timeout. With AS, the screen must equal golden/AS.txt, which
# another check owns (so it is never rewritten here).
golden() {
    local name=$1 s=$2 marker=$3 file=$GOLDEN/${4:-$1}.txt
    if ! wait_for "$s" "$marker"; then
        capture "$s" >"$TMP/screen.txt"
        fail "$name" "the screen never showed '$marker' within ${TIMEOUT}s; it shows:" "$TMP/screen.txt"
        return 1
    fi
    if [ "$UPDATE" = 1 ] && [ -z "${4:-}" ]; then
        until_ok "$TIMEOUT" stable "$s"
        mkdir -p "$GOLDEN"
        capture "$s" >"$file"
        ok "$name (golden rewritten)"
        return 0
    fi
    if [ ! -f "$file" ]; then
        fail "$name" "no golden screen $file (THAW_UPDATE_GOLDEN=1 writes it)"
        return 1
    fi
    if until_ok "$TIMEOUT" matches "$s" "$file"; then
        ok "$name"
        return 0
    fi
    diff -u "$file" "$TMP/screen.txt" >"$TMP/diff.txt"
    fail "$name" "the screen differs from golden/${4:-$1}.txt (THAW_UPDATE_GOLDEN=1 rewrites it):" "$TMP/diff.txt"
    return 1
}

# ---- reading the screen ---------------------------------------------------------

BRAILLE=$'\xe2[\xa0-\xa3][\x80-\xbf]'   # U+2800..U+28FF in UTF-8
braille_count() { LC_ALL=C grep -o "$BRAILLE" | wc -l; }
# The plot panels: every row but the title and the last three (status,
# message, keys), from the column where the first chart's title starts.
plots() {
    local scr hdr prefix col
    scr=$(capture "$1")
    hdr=$(sed -n 2p <<<"$scr")
    prefix=${hdr%%loss by epoch*}
    col=${#prefix}
    sed '1d;$d' <<<"$scr" | sed '$d' | sed '$d' | while IFS= read -r line; do
        printf '%s\n' "${line:$col}"
    done
}
status_epoch() {   # the N of "epoch N/M" on the status line, or -1
    local n
    n=$(capture "$1" | sed -n 's/^ epoch \([0-9][0-9]*\)\/.*/\1/p' | tail -1)
    echo "${n:--1}"
}

# ---- the checks -------------------------------------------------------------------

FOOTER="F1 help"

check_default() {
    wanted default || return 0
    start def 120 40 C.UTF-8 -- "$MODEL" --data "$DATA"
    golden default_120x40 def "$FOOTER"
    stop def
}

check_expand() {
    wanted expand || return 0
    start exp 120 40 C.UTF-8 -- "$MODEL" --data "$DATA"
    if wait_for exp "$FOOTER"; then
        keys exp Down Down Right     # stem -> stage1 -> stage2, expand
        golden tree_expand_right exp "▾ stage2"
        keys exp Left                 # collapse again, then the vi key
        if until_ok "$TIMEOUT" has exp "▸ stage2"; then
            keys exp l
            golden tree_expand_l exp "▾ stage2"
        else
            fail tree_expand_l "Left did not collapse stage2"
        fi
        # Enter expands too (the keys table binds it). The help overlay opened
        # and closed after it shows that Enter has been handled.
        keys exp Left
        if until_ok "$TIMEOUT" has exp "▸ stage2"; then
            keys exp Enter '?'
            wait_for exp "$HELP" && keys exp '?'
            until_ok "$TIMEOUT" not_has exp "$HELP"
            local why=""
            has exp "▾ stage2" || why="Enter on stage2 did not expand it"
            verdict tree_expand_enter "$why"
        else
            fail tree_expand_enter "Left did not collapse stage2"
        fi
    else
        fail tree_expand_right "thaw never drew its first frame"
    fi
    stop exp
}

check_freeze() {
    wanted freeze || return 0
    start frz 120 40 C.UTF-8 -- "$MODEL" --data "$DATA"
    if wait_for frz "$FOOTER"; then
        keys frz Down Space           # stage1
        golden freeze_stage1 frz "freeze stage1"
    else
        fail freeze_stage1 "thaw never drew its first frame"
    fi
    stop frz
}

check_rate() {
    wanted rate || return 0
    start lr 120 40 C.UTF-8 -- "$MODEL" --data "$DATA"
    if wait_for lr "$FOOTER"; then
        keys lr Down Down Down e      # stage3: the command line opens with "lr stage3 "
        if wait_for lr ":lr stage3"; then
            text lr 0.003
            keys lr Enter
            keys lr Down Down ']'     # head: 0.01 doubled
            golden lr_edit_and_double lr "lr head 0.02"
        else
            capture lr >"$TMP/screen.txt"
            fail lr_edit_and_double "e did not open the command line with 'lr stage3 ':" "$TMP/screen.txt"
        fi
    else
        fail lr_edit_and_double "thaw never drew its first frame"
    fi
    stop lr
}

check_training() {
    wanted train || return 0
    local name=training_plots_advance s=trn dir=$TMP/train-cwd
    mkdir -p "$dir"               # the run folder (runs/...) goes here, not into the repository
    start $s 120 40 C.UTF-8 "$dir" -- "$ROOT/$MODEL" --data "$DATA"
    if ! wait_for $s "$FOOTER"; then
        fail $name "thaw never drew its first frame"
        stop $s
        return
    fi
    keys $s t
    # the loss panel: from the top down to the accuracy panel's title
    epoch_ge1() { [ "$(status_epoch "$s")" -ge 1 ] && [ "$(plots "$s" | sed '/val accuracy/q' | braille_count)" -gt 0 ]; }
    if ! until_ok "$TIMEOUT" epoch_ge1; then
        capture $s >"$TMP/screen.txt"
        fail $name "no 'epoch N/..' with N >= 1 and braille in the loss plot within ${TIMEOUT}s:" "$TMP/screen.txt"
        stop $s
        return
    fi
    plots "$s" >"$TMP/plots1.txt"
    local e1
    e1=$(status_epoch "$s")
    sleep 2
    changed() {
        plots "$s" >"$TMP/plots2.txt"
        ! cmp -s "$TMP/plots1.txt" "$TMP/plots2.txt" && [ "$(status_epoch "$s")" -gt "$e1" ]
    }
    if until_ok "$TIMEOUT" changed; then
        ok "$name (epoch $e1 -> $(status_epoch "$s"), $(braille_count <"$TMP/plots2.txt") braille cells)"
    else
        fail $name "the plots did not change within $((TIMEOUT + 2))s of epoch $e1" "$TMP/plots2.txt"
    fi
    # q asks while training runs; q again quits, with status 0.
    keys $s q
    if wait_for $s "q again"; then
        keys $s q
        if until_ok "$TIMEOUT" test -s "$TMP/rc-$s" && [ "$(cat "$TMP/rc-$s")" = 0 ]; then
            ok training_quit_q_q
        else
            fail training_quit_q_q "thaw did not exit with status 0 after q q (status: $(cat "$TMP/rc-$s" 2>/dev/null || echo none))"
        fi
    else
        capture $s >"$TMP/screen.txt"
        fail training_quit_q_q "q while training did not ask for confirmation:" "$TMP/screen.txt"
    fi
    stop $s
}

# Layer-wise decay 0.5 (key 5) is a slope in the rate bars: each group's
# bar shorter than the one above it, in eighths of a cell; a frozen layer's
# rate reads "–" (strategy 1 freezes the body).
bar_eighths() {   # bar_eighths LINE -> the bar's length in eighths of a cell
    local bar last
    bar=$(sed 's/[^█▏▎▍▌▋▊▉]//g' <<<"$1")
    [ -z "$bar" ] && { echo 0; return; }
    last=${bar: -1}
    case $last in
        █) echo $((${#bar} * 8)) ;;
        ▏) echo $(((${#bar} - 1) * 8 + 1)) ;; ▎) echo $(((${#bar} - 1) * 8 + 2)) ;;
        ▍) echo $(((${#bar} - 1) * 8 + 3)) ;; ▌) echo $(((${#bar} - 1) * 8 + 4)) ;;
        ▋) echo $(((${#bar} - 1) * 8 + 5)) ;; ▊) echo $(((${#bar} - 1) * 8 + 6)) ;;
        ▉) echo $(((${#bar} - 1) * 8 + 7)) ;;
    esac
}
check_lrbar_slope() {
    wanted lrbar || return 0
    local s=lrb bad="" prev=-1 name line n
    start $s 120 40 C.UTF-8 -- "$MODEL" --data "$DATA"
    if ! wait_for $s "$FOOTER"; then
        fail lrbar_decay_slope "thaw never drew its first frame"
        stop $s
        return
    fi
    keys $s 5
    until_ok 5 has $s "0.00062" || bad="layer decay did not set stem's rate to 0.000625;"
    for name in stem stage1 stage2 stage3 head; do
        line=$(capture $s | grep -m1 "^[▸▾ ] $name ")
        n=$(bar_eighths "${line:70}")
        [ "$n" -gt "$prev" ] || bad="$bad $name's bar ($n/8) is not longer than the one above it ($prev/8);"
        prev=$n
    done
    capture $s >"$TMP/screen.txt"
    verdict lrbar_decay_slope "$bad" "" "$TMP/screen.txt"
    keys $s 1
    if until_ok 5 has $s "▸ stem" && until_ok 5 bash -c "tmux -L $SOCK capture-pane -p -t $s | grep -q '^▸ stem .* ❄ *– '"; then
        ok lr_frozen_shows_dash
    else
        capture $s >"$TMP/screen.txt"
        fail lr_frozen_shows_dash "a frozen layer's rate is not shown as –:" "$TMP/screen.txt"
    fi
    stop $s
}

# After a run: s, :save and :export say what they wrote (or the error), and
# show confusion opens the pager naming its split, which q closes.
check_results() {
    wanted results || return 0
    local s=res dir=$TMP/results-cwd bad=""
    mkdir -p "$dir"
    start $s 120 40 C.UTF-8 "$dir" -- "$ROOT/$MODEL" --data "$DATA"
    if ! wait_for $s "$FOOTER"; then
        fail results_messages "thaw never drew its first frame"
        stop $s
        return
    fi
    keys $s :
    text $s "set epochs 1"
    keys $s Enter t
    if ! until_ok "$TIMEOUT" has $s "results on test"; then
        capture $s >"$TMP/screen.txt"
        fail results_messages "one epoch did not finish within ${TIMEOUT}s:" "$TMP/screen.txt"
        stop $s
        return
    fi
    has $s "95% of final accuracy: transfer epoch" || bad="$bad the results do not say when each model reached 95%;"
    has $s "scratch " && has $s "points" || bad="$bad the results do not show both models and the delta;"
    keys $s s
    until_ok 5 has $s "saved runs/" || bad="$bad s did not say 'saved runs/...';"
    keys $s :
    text $s "save mine.json"
    keys $s Enter
    until_ok 5 has $s "saved mine.json" || bad="$bad :save did not say 'saved mine.json';"
    [ -s "$dir/mine.json" ] || bad="$bad mine.json was not written;"
    keys $s :
    text $s "export metrics /nonexistent/m.csv"
    keys $s Enter
    until_ok 5 has $s "/nonexistent/m.csv" || bad="$bad a failed export did not name its file;"
    keys $s :
    text $s "export plots p.svg"
    keys $s Enter
    until_ok 5 has $s "wrote p.svg" || bad="$bad :export did not say 'wrote p.svg';"
    verdict results_messages "$bad" "" "$TMP/screen.txt"
    keys $s :
    text $s "show confusion"
    keys $s Enter
    if until_ok 5 has $s "test: true \\ predicted" && has $s "q closes"; then
        keys $s q
        if until_ok 5 not_has $s "q closes"; then
            ok results_confusion_pager
        else
            fail results_confusion_pager "q did not close the pager"
        fi
    else
        capture $s >"$TMP/screen.txt"
        fail results_confusion_pager "show confusion did not open the pager with its split named:" "$TMP/screen.txt"
    fi
    stop $s
}

# The final pass over many test images shows on the status line with its
# progress ("testing 480/1,000"), and gives way to the results.
check_testing_status() {
    wanted testing_status || return 0
    local s=tst dir=$TMP/testing-cwd bad=""
    mkdir -p "$dir"
    start $s 140 40 C.UTF-8 "$dir" -- "$ROOT/$MODEL" --data "shapes:classes=0-3,shots=6,val=5,n=20,test=250"
    if ! wait_for $s "$FOOTER"; then
        fail testing_status "thaw never drew its first frame"
        stop $s
        return
    fi
    keys $s :
    text $s "set epochs 1"
    keys $s Enter t
    if until_ok "$TIMEOUT" has $s "testing "; then
        capture $s >"$TMP/screen.txt"
        grep -Eq "testing [0-9,]+/1,000 " "$TMP/screen.txt" || bad="$bad no 'testing N/1,000' on the status line;"
    else
        capture $s >"$TMP/screen.txt"
        bad="$bad the status line never said 'testing';"
    fi
    until_ok $((2 * TIMEOUT)) has $s "results on test" || bad="$bad the results never came;"
    not_has $s "testing " || bad="$bad 'testing' stayed after the results;"
    # A second run: until its own final pass ends, the first run's results
    # are not shown as its.
    keys $s :
    text $s "reset"
    keys $s Enter t
    if until_ok "$TIMEOUT" has $s "testing "; then
        capture $s >"$TMP/screen.txt"
        not_has $s "results on test" || bad="$bad the first run's results showed while the second trained;"
    else
        bad="$bad the second run never said 'testing';"
    fi
    until_ok $((2 * TIMEOUT)) has $s "results on test" || bad="$bad the second run's results never came;"
    verdict testing_status "$bad" "" "$TMP/screen.txt"
    stop $s
}

# The gradient heatmap keeps the whole run, with an x axis in epochs and
# the scale of its shades.
check_heatmap() {
    wanted heatmap || return 0
    local s=heat dir=$TMP/heatmap-cwd bad=""
    mkdir -p "$dir"
    start $s 120 40 C.UTF-8 "$dir" -- "$ROOT/$MODEL" --data "shapes:classes=0-3,shots=20,val=5,n=40,test=10"
    if ! wait_for $s "$FOOTER"; then
        fail heatmap "thaw never drew its first frame"
        stop $s
        return
    fi
    keys $s :
    text $s "set epochs 4"
    keys $s Enter t
    if ! until_ok $((2 * TIMEOUT)) has $s "results on test"; then
        capture $s >"$TMP/screen.txt"
        fail heatmap "four epochs did not finish:" "$TMP/screen.txt"
        stop $s
        return
    fi
    keys $s v
    until_ok 5 has $s "gradient norm by layer over the run" || bad="$bad v did not show the heatmap;"
    capture $s >"$TMP/screen.txt"
    grep -q "░<5% ▒<20% ▓<50% █ of the largest" "$TMP/screen.txt" || bad="$bad no scale under the heatmap;"
    grep -Eq "epoch +┬[─┬]+$" "$TMP/screen.txt" || bad="$bad no x axis named epoch;"
    # labels under the ticks: 0 first, later epochs after it (one too close to
    # its neighbour is left out, so which ones show depends on the run's pace)
    grep -A1 -E "epoch +┬[─┬]+$" "$TMP/screen.txt" | tail -1 | grep -Eq "(^| {8,})0( +[0-9]+)* +[2-4]$" ||
        bad="$bad the axis does not label the epochs from 0;"
    grep -Eq "head +[░▒▓█]*█" "$TMP/screen.txt" || bad="$bad the head's row has no full shade;"
    verdict heatmap "$bad" "" "$TMP/screen.txt"
    stop $s
}

# overlay RUN draws an earlier run's accuracy and delta curves beside this
# one's, named in the legend; overlay clear takes them away.
check_overlay() {
    wanted overlay || return 0
    local s=ovl dir=$TMP/overlay-cwd bad=""
    mkdir -p "$dir"
    (cd "$dir" && eval "$(thaw_env C.UTF-8)$(printf '%q ' "$ROOT/thaw" train --model "$ROOT/$MODEL" \
        --data "$DATA" --epochs 2 --out earlier)") >"$TMP/overlay-train.txt" 2>&1 ||
        bad="$bad the earlier run did not train;"
    start $s 120 40 C.UTF-8 "$dir" -- "$ROOT/$MODEL" --data "$DATA"
    if ! wait_for $s "$FOOTER"; then
        fail overlay "thaw never drew its first frame"
        stop $s
        return
    fi
    keys $s :
    text $s "overlay earlier"
    keys $s Enter
    until_ok 5 has $s "overlay: earlier, 2 evaluations" || bad="$bad overlay did not say what it read;"
    until_ok 5 has $s "earlier runs" || bad="$bad the legend does not name the earlier run;"
    [ "$(plots $s | braille_count)" -gt 0 ] || bad="$bad no curve was drawn;"
    capture $s >"$TMP/screen.txt"
    keys $s :
    text $s "overlay clear"
    keys $s Enter
    until_ok 5 not_has $s "earlier runs" || bad="$bad overlay clear left the curves;"
    keys $s :
    text $s "overlay nowhere"
    keys $s Enter
    until_ok 5 has $s "nowhere/metrics.csv" || bad="$bad a missing run was not named;"
    verdict overlay "$bad" "" "$TMP/screen.txt"
    stop $s
}

# The domain view: typed at the : line, a source of upright shapes and mmd
# on inverted ones; `v` reaches the view, which names the technique and the
# source's images and draws the gap and the alignment term as they train.
check_domain() {
    wanted domain || return 0
    local s=dom dir=$TMP/domain-cwd bad=""
    mkdir -p "$dir"
    start $s 120 40 C.UTF-8 "$dir" -- "$ROOT/$MODEL" --data "shapes:classes=0-3,shift=invert,shots=6,val=5,n=20,test=10,pool=10"
    if ! wait_for $s "$FOOTER"; then
        fail domain "thaw never drew its first frame"
        stop $s
        return
    fi
    for line in "set source shapes:classes=0-3,shots=10,val=0,n=20" "set adapt \"mmd weight=2\"" "train 2"; do
        keys $s :
        text $s "$line"
        keys $s Enter
    done
    keys $s v v v v
    until_ok 5 has $s "domain adaptation: mmd weight=2" || bad="$bad the view does not name the technique;"
    until_ok 5 has $s "source 40 labelled images" || bad="$bad the view does not count the source's images;"
    if until_ok "$TIMEOUT" has $s "finished"; then
        capture $s >"$TMP/screen.txt"
        grep -q "domain gap (0 alike, 2 apart)" "$TMP/screen.txt" || bad="$bad no domain gap chart;"
        grep -q "alignment term" "$TMP/screen.txt" || bad="$bad no alignment chart;"
        grep -q "MMD²" "$TMP/screen.txt" || bad="$bad the legend does not name MMD²;"
        [ "$(capture $s | braille_count)" -gt 0 ] || bad="$bad no curve was drawn;"
    else
        capture $s >"$TMP/screen.txt"
        bad="$bad the training never finished;"
    fi
    verdict domain "$bad" "" "$TMP/screen.txt"
    stop $s
}

# :lr-find brings its view to the front: the curve on a log axis (powers of
# ten on the x axis), the suggestion named; `a` takes it as the head's rate.
check_lrfind() {
    wanted lrfind || return 0
    local s=lrf dir=$TMP/lrfind-cwd bad=""
    mkdir -p "$dir"
    start $s 120 40 C.UTF-8 "$dir" -- "$ROOT/$MODEL" --data "$DATA"
    if ! wait_for $s "$FOOTER"; then
        fail lrfind "thaw never drew its first frame"
        stop $s
        return
    fi
    keys $s :
    text $s "lr-find steps=30"
    keys $s Enter
    if until_ok "$TIMEOUT" has $s "; a applies"; then
        capture $s >"$TMP/screen.txt"
        grep -q "lr-find: suggests [0-9.e-]*; a applies" "$TMP/screen.txt" ||
            bad="$bad the view does not name the suggestion;"
        grep -Eq "1e-[0-9]" "$TMP/screen.txt" || bad="$bad the x axis is not labelled in powers of ten;"
        [ "$(capture $s | braille_count)" -gt 10 ] || bad="$bad no curve was drawn;"
        [ -n "$(find "$dir/runs" -name lrfind.svg)" ] || bad="$bad lrfind.svg is not in the run folder;"
        keys $s a
        until_ok 5 has $s "lr-find apply: set lr " || bad="$bad a did not say it set the rate;"
    else
        capture $s >"$TMP/screen.txt"
        bad="$bad the lr-find view never showed a finished sweep;"
    fi
    verdict lrfind "$bad" "" "$TMP/screen.txt"
    stop $s
}

# Every key the help overlay lists must be a code in the keys table of
# tui/workbench.c, every named entry of that table must be in the overlay,
# and so must every key the footer hints at.
key_code() {   # a key's name as the help writes it -> its code as the table writes it
    case "$1" in
    "↓"|Down) echo KEY_DOWN ;; "↑"|Up) echo KEY_UP ;; "→"|Right) echo KEY_RIGHT ;; "←"|Left) echo KEY_LEFT ;;
    space | "␣") echo "' '" ;;
    F[0-9] | F[0-9][0-9]) echo "KEY_F(${1#F})" ;;
    ?) echo "'$1'" ;;
    *) echo "?" ;;
    esac
}
# help_names <SCREEN: the key names of the help pager: the lines between its
# "keys" and "commands" headings, inside the border; a name ends at the
# first double space.
help_names() {
    local line
    sed -n '/help (? or q closes)/,/commands at the : line/p' | sed '1,2d;$d' |
        sed -n 's/^[^│|]*[│|]   \([^ ].*\)$/\1/p' | while IFS= read -r line; do
            printf '%s\n' "${line%%  *}"
        done
}
HELP="help (? or q closes)"
check_help() {
    wanted help || return 0
    start hlp 120 40 C.UTF-8 -- "$MODEL" --data "$DATA"
    if ! wait_for hlp "$FOOTER"; then
        fail help_overlay "thaw never drew its first frame"
        stop hlp
        return
    fi
    keys hlp '?'
    golden help_overlay hlp "$HELP" || { stop hlp; return; }

    local scr table codes problems=0 names=() name k
    scr=$(capture hlp)
    table=$(sed -n '/^} keys\[\] = {/,/^};/p' tui/workbench.c)
    codes=$(sed -n "s/^ *{ \(KEY_[A-Z_]*([0-9]*)\|KEY_[A-Z_]*\|'[^']*'\), .*/\1/p" <<<"$table")
    : >"$TMP/help.txt"
    mapfile -t names < <(help_names <<<"$scr")
    for name in "${names[@]}"; do
        read -ra words <<<"$name"
        for k in "${words[@]}"; do
            if ! grep -qxF -- "$(key_code "$k")" <<<"$codes"; then
                echo "help lists key '$k' ($name) which the keys table has no code for" >>"$TMP/help.txt"
                problems=$((problems + 1))
            fi
        done
    done
    # each named table entry appears in the overlay
    while IFS= read -r name; do
        local found=0 n
        for n in "${names[@]}"; do [ "$n" = "$name" ] && found=1; done
        if [ $found = 0 ]; then
            echo "the keys table names '$name' but the help overlay does not list it" >>"$TMP/help.txt"
            problems=$((problems + 1))
        fi
    done < <(sed -n 's/^ *{ [^"]*, "\([^"]*\)", ".*/\1/p' <<<"$table")
    # the footer's hints: "F1 help  ␣ freeze  [ ] lr  t train ..."
    local footer
    footer=$(capture hlp | tail -1)
    for k in $(sed 's/  */\n/g' <<<"$footer" | sed -n 's/^\(F[0-9]*\|␣\|space\|.\)$/\1/p'); do
        if ! grep -qxF -- "$(key_code "$k")" <<<"$codes"; then
            echo "the footer hints at key '$k' which the keys table has no code for" >>"$TMP/help.txt"
            problems=$((problems + 1))
        fi
    done
    if [ ${#names[@]} -lt 10 ]; then
        echo "read only ${#names[@]} key lines from the overlay" >>"$TMP/help.txt"
        problems=$((problems + 1))
    fi
    if [ $problems = 0 ]; then
        ok "help_keys_match_table (${#names[@]} help lines, $(wc -l <<<"$codes") table codes)"
    else
        fail help_keys_match_table "help and the keys table disagree:" "$TMP/help.txt"
    fi
    # The box is whole: no braille of the plots between its borders.
    if capture hlp | sed -n '/help (? or q closes)/,/q closes ─/p' | grep -q "$BRAILLE"; then
        fail help_box_opaque "the plots show through the help box"
    else
        ok help_box_opaque
    fi
    # At any height End shows the last command, and the top comes back.
    tm resize-window -t hlp -x 80 -y 16
    keys hlp End
    if until_ok "$TIMEOUT" has hlp "leave thaw" && has hlp "of "; then
        keys hlp Home
        if until_ok "$TIMEOUT" has hlp "Down j"; then
            ok help_scrolls_to_the_end
        else
            fail help_scrolls_to_the_end "Home did not go back to the first key"
        fi
    else
        capture hlp >"$TMP/screen.txt"
        fail help_scrolls_to_the_end "End on a 16-row screen did not show the last command:" "$TMP/screen.txt"
    fi
    tm resize-window -t hlp -x 120 -y 40
    # ? closes it again
    keys hlp '?'
    if until_ok "$TIMEOUT" matches hlp "$GOLDEN/default_120x40.txt"; then
        ok help_closes
    else
        fail help_closes "? did not bring back the default screen" "$TMP/screen.txt"
    fi
    stop hlp
}

check_resize() {
    wanted resize || return 0
    start rsz 120 40 C.UTF-8 -- "$MODEL" --data "$DATA"
    if wait_for rsz "$FOOTER"; then
        tm resize-window -t rsz -x 60 -y 20
        golden resize_60x20 rsz "$FOOTER"
        tm resize-window -t rsz -x 20 -y 8
        golden resize_20x8 rsz "enlarge the"
        tm resize-window -t rsz -x 120 -y 40
        golden resize_back_to_120x40 rsz "$FOOTER" default_120x40
    else
        fail resize_60x20 "thaw never drew its first frame"
    fi
    stop rsz
}

# Terminal restoration. A non-interactive bash records `stty -g`, runs thaw,
# records `stty -g` again the moment thaw is gone (an interactive shell would
# repair the terminal itself after a program killed by a signal, hiding the
# fault), then becomes an interactive shell to show the prompt works.
cat >"$TMP/wrap.sh" <<'EOF'
d=$1; shift
trap : INT                      # Ctrl-C is for thaw; this shell carries on
ulimit -c 0                     # no core file from the SIGSEGV case
stty -g >"$d/before"
bash -c 'echo $$ >"$0/pid"; exec "$@"' "$d" "$@"
echo $? >"$d/rc"
stty -g >"$d/after"
trap - INT
PS1='shell$ ' exec bash --norc --noprofile -i
EOF

# restore NAME ACTION EXPECTED-RC [train]: ACTION is q, ctrl-c, or a signal
# name; with train, ACTION comes once the first epoch is on the status line
# (thaw runs in a folder of its own then, for its run folder).
restore() {
    local name=$1 action=$2 want_rc=$3 s=rst d=$TMP/restore-$1 cwd=$ROOT
    wanted "$name" || return 0
    mkdir -p "$d"
    [ "${4:-}" = train ] && cwd=$d
    tm kill-session -t $s >/dev/null 2>&1
    tm new-session -d -s $s -x 100 -y 30 "cd $(printf %q "$cwd") && exec $(thaw_env C.UTF-8)bash \
        $TMP/wrap.sh $(printf '%q ' "$d" "$ROOT/thaw" "$ROOT/$MODEL" --data "$DATA")"
    if ! wait_for $s "$FOOTER"; then
        capture $s >"$TMP/screen.txt"
        fail "$name" "thaw never drew its first frame:" "$TMP/screen.txt"
        stop $s
        return
    fi
    if [ "${4:-}" = train ]; then
        keys $s t
        epoch_ge1() { [ "$(status_epoch "$s")" -ge 1 ]; }
        if ! until_ok "$TIMEOUT" epoch_ge1; then
            capture $s >"$TMP/screen.txt"
            fail "$name" "training did not reach epoch 1 within ${TIMEOUT}s:" "$TMP/screen.txt"
            stop $s
            return
        fi
    fi
    case "$action" in
    q) keys $s q ;;
    ctrl-c)
        keys $s C-c
        if ! wait_for $s "Ctrl-C again quits"; then
            capture $s >"$TMP/screen.txt"
            fail "$name" "the first Ctrl-C did not say 'Ctrl-C again quits':" "$TMP/screen.txt"
            stop $s
            return
        fi
        keys $s C-c ;;
    *) kill -s "$action" "$(cat "$d/pid")" ;;
    esac
    if ! until_ok "$TIMEOUT" test -s "$d/after"; then
        capture $s >"$TMP/screen.txt"
        fail "$name" "thaw did not exit within ${TIMEOUT}s:" "$TMP/screen.txt"
        stop $s
        return
    fi
    local why=""
    if ! cmp -s "$d/before" "$d/after"; then
        why="stty -g before: $(cat "$d/before"); after: $(cat "$d/after")"
    fi
    # modes the pane is left in: alternate screen off, cursor shown, no
    # keypad transmit or mouse reporting
    local modes
    modes=$(fmt $s 'alternate=#{alternate_on} cursor=#{cursor_flag} keypad=#{keypad_cursor_flag}#{keypad_flag} mouse=#{mouse_any_flag}#{mouse_standard_flag}#{mouse_button_flag}#{mouse_all_flag}')
    [ "$modes" = "alternate=0 cursor=1 keypad=00 mouse=0000" ] || why="${why:+$why; }pane modes: $modes"
    local rc
    rc=$(cat "$d/rc")
    [ "$rc" = "$want_rc" ] || why="${why:+$why; }exit status $rc, expected $want_rc"
    # the prompt takes a command
    if wait_for $s 'shell$'; then
        # shellcheck disable=SC2016 # the shell in the pane does the arithmetic
        text $s 'echo usable-$((6*7))'
        keys $s Enter
        wait_for $s "usable-42" || why="${why:+$why; }the shell prompt did not run a command"
    else
        why="${why:+$why; }no shell prompt after thaw"
    fi
    if [ -z "$why" ]; then
        ok "$name"
    else
        capture $s >"$TMP/screen.txt"
        fail "$name" "$why" "$TMP/screen.txt"
    fi
    stop $s
}

# thaw train in batch mode, SIGTERM while the feature cache fills (about 25 s
# of work here): it exits within a second with status 1, the terminal as it
# was, and the last checkpoint it saved loads.
check_batch_sigterm() {
    local name=restore_batch_sigterm_cache_fill s=bst d=$TMP/restore-batch
    wanted "$name" || return 0
    mkdir -p "$d"
    tm kill-session -t $s >/dev/null 2>&1
    tm new-session -d -s $s -x 100 -y 30 "cd $(printf %q "$d") && exec $(thaw_env C.UTF-8)bash \
        $TMP/wrap.sh $(printf '%q ' "$d" "$ROOT/thaw" train --model "$ROOT/$MODEL" \
        --data shapes:classes=0-3,n=3000,val=5,test=5 --strategy feature-extraction --no-baseline \
        --out "$d/run")"
    if ! wait_for $s "run folder"; then
        capture $s >"$TMP/screen.txt"
        fail "$name" "thaw train never started its run:" "$TMP/screen.txt"
        stop $s
        return
    fi
    sleep 0.5
    local t0 why="" ms
    t0=$(date +%s%N)
    kill -s TERM "$(cat "$d/pid")"
    while [ ! -s "$d/after" ] && [ $((($(date +%s%N) - t0) / 1000000)) -lt $((TIMEOUT * 1000)) ]; do
        sleep 0.02
    done
    ms=$((($(date +%s%N) - t0) / 1000000))
    [ "$ms" -le 1000 ] || why="thaw train took $ms ms to exit after SIGTERM; expected at most 1000"
    cmp -s "$d/before" "$d/after" || why="${why:+$why; }stty -g before: $(cat "$d/before"); after: $(cat "$d/after" 2>/dev/null)"
    [ "$(cat "$d/rc" 2>/dev/null)" = 1 ] || why="${why:+$why; }exit status $(cat "$d/rc" 2>/dev/null), expected 1"
    "$ROOT/thaw" info "$d/run/last.json" >"$TMP/info.txt" 2>&1 || why="${why:+$why; }last.json does not load: $(head -1 "$TMP/info.txt")"
    if [ -z "$why" ]; then
        ok "$name (gone within $ms ms of the signal)"
    else
        capture $s >"$TMP/screen.txt"
        fail "$name" "$why" "$TMP/screen.txt"
    fi
    stop $s
}

# thaw train --json into a folder where best.json cannot be written (a
# folder stands in its place): status 1, stderr names the file, the JSON
# summary lists it under not_written, and last.json is written regardless.
check_batch_failed_saves() {
    local name=batch_failed_saves d=$TMP/failed-saves why="" rc
    wanted "$name" || return 0
    mkdir -p "$d/run/best.json"
    (cd "$d" && eval "$(thaw_env C.UTF-8)$(printf '%q ' timeout "$TIMEOUT" "$ROOT/thaw" train \
        --model "$ROOT/$MODEL" --data "$DATA" --epochs 1 --json --out run)") >"$d/out" 2>"$d/err"
    rc=$?
    [ $rc = 1 ] || why="exit status $rc, expected 1"
    grep -q "not written: best.json" "$d/err" || why="${why:+$why; }stderr does not name best.json"
    grep -q '"not_written":\["best.json"\]' "$d/out" || why="${why:+$why; }the summary does not list best.json"
    [ -s "$d/run/last.json" ] || why="${why:+$why; }no last.json"
    cat "$d/out" "$d/err" >"$TMP/saves.txt"
    verdict "$name" "$why" "" "$TMP/saves.txt"
}

# No byte a user or a file name controls reaches the terminal raw: hostile
# names (an OSC title sequence, a bell, an erase-screen) in file paths,
# specs, commands, class folders and lesson text, through thaw run, thaw
# repl (piped), thaw train, thaw info and thaw data; every output is
# searched for ESC and BEL. And thaw repl reads whole lines: a comment line
# longer than the limit with a save at its end is refused, not split.
check_batch_escapes() {
    local name=batch_no_raw_bytes d=$TMP/escapes why="" esc osc
    wanted "$name" || return 0
    esc=$'\033' osc=$'\033]0;owned\a'
    mkdir -p "$d/img/ok" "$d/img/cls${osc}"
    cp tests/data/datasets/images/good/a_png/grey8.png "$d/img/ok/a.png"
    cp tests/data/datasets/images/good/a_png/grey8.png "$d/img/cls${osc}/a.png"
    {
        printf 'load model "%s"\n' "$d/m${osc}.json"
        printf 'frobnicate%s\n' "$osc"
        printf 'load data "shapes:classes=0-1%s"\n' "$osc"
        printf 'load model %s\n' "$ROOT/$MODEL"
        printf 'load data "folder:dir=%s,size=28,channels=1,val=0"\n' "$d/img"
        printf 'say "narration%s\033[2J"\n' "$osc"
        printf 'save "%s"\n' "$d/x${osc}.json"
    } >"$d/script.thaw"
    (cd "$d" && eval "$(thaw_env C.UTF-8)$(printf '%q ' timeout "$TIMEOUT" "$ROOT/thaw" run -)") \
        <"$d/script.thaw" >"$d/out" 2>&1
    (cd "$d" && eval "$(thaw_env C.UTF-8)$(printf '%q ' timeout "$TIMEOUT" "$ROOT/thaw" repl)") \
        <"$d/script.thaw" >>"$d/out" 2>&1
    (cd "$d" && eval "$(thaw_env C.UTF-8)$(printf '%q ' timeout "$TIMEOUT" "$ROOT/thaw" train --model \
        "$d/m${osc}.json" --data "shapes${osc}" --strategy "x${osc}")") >>"$d/out" 2>&1
    (cd "$d" && eval "$(thaw_env C.UTF-8)$(printf '%q ' timeout "$TIMEOUT" "$ROOT/thaw" info "$d/m${osc}.json")") \
        >>"$d/out" 2>&1
    (cd "$d" && eval "$(thaw_env C.UTF-8)$(printf '%q ' timeout "$TIMEOUT" "$ROOT/thaw" data \
        "folder:dir=$d/img,size=28,channels=1")") >>"$d/out" 2>&1
    (cd "$d" && eval "$(thaw_env C.UTF-8)$(printf '%q ' timeout "$TIMEOUT" "$ROOT/thaw" "x${osc}")") \
        >>"$d/out" 2>&1
    if LC_ALL=C grep -n $'[\033\a]' "$d/out" >"$TMP/raw.txt"; then
        why="raw ESC or BEL bytes in the output: $(wc -l <"$TMP/raw.txt") lines"
    fi
    grep -q 'x1b\]0;owned' "$d/out" || why="${why:+$why; }the hostile names are not shown escaped"
    # a comment longer than the limit, a save at its end: refused whole
    { printf '#%09000d save %s\n' 0 "$d/split.json"; printf 'help\n'; } >"$d/long.thaw"
    (cd "$d" && eval "$(thaw_env C.UTF-8)$(printf '%q ' timeout "$TIMEOUT" "$ROOT/thaw" repl)") \
        <"$d/long.thaw" >"$d/long.out" 2>&1
    local rc=$?
    [ -e "$d/split.json" ] && why="${why:+$why; }the tail of a long line ran as a command"
    { [ $rc = 1 ] && grep -q "line 1: the line is longer than" "$d/long.out"; } ||
        why="${why:+$why; }the long line was not refused (status $rc)"
    cat "$TMP/raw.txt" "$d/long.out" >"$TMP/esc.txt" 2>/dev/null
    verdict "$name" "$why" "" "$TMP/esc.txt"
}

# Commands that used to do nothing and exit 0 give a clear answer and a
# failing status: thaw run on a folder, thaw compare with no strategy in its
# list, the workbench without a terminal on a missing model.
check_batch_clear_answers() {
    local name=batch_clear_answers why="" rc
    wanted "$name" || return 0
    eval "$(thaw_env C.UTF-8)$(printf '%q ' timeout "$TIMEOUT" ./thaw run tests)" </dev/null >"$TMP/ca1" 2>&1
    rc=$?
    { [ $rc = 1 ] && grep -q "is a folder" "$TMP/ca1"; } || why="thaw run FOLDER: status $rc"
    eval "$(thaw_env C.UTF-8)$(printf '%q ' timeout "$TIMEOUT" ./thaw compare --model "$MODEL" \
        --data "$DATA" --strategies ,,,)" </dev/null >"$TMP/ca2" 2>&1
    rc=$?
    { [ $rc = 2 ] && grep -q "names no strategy" "$TMP/ca2"; } || why="${why:+$why; }compare ,,,: status $rc"
    printf 'quit\n' | eval "$(thaw_env C.UTF-8)$(printf '%q ' timeout "$TIMEOUT" ./thaw no/such.json)" \
        >"$TMP/ca3" 2>&1
    rc=$?
    { [ $rc = 1 ] && grep -q "no/such.json" "$TMP/ca3"; } || why="${why:+$why; }thaw MISSING.json piped: status $rc"
    cat "$TMP/ca1" "$TMP/ca2" "$TMP/ca3" >"$TMP/ca.txt"
    verdict "$name" "$why" "" "$TMP/ca.txt"
}

# thaw compare runs its trainings side by side with --threads 2, and the
# table is the same as with one thread, figure for figure (the wall time
# aside); the progress line goes only to a terminal; a value the baseline
# has not (its Δ, its time) is a dash or an empty field, never "nan".
check_batch_compare_parallel() {
    local name=batch_compare_parallel why="" rc t
    wanted "$name" || return 0
    for t in 1 2; do
        eval "$(thaw_env C.UTF-8)$(printf '%q ' timeout "$TIMEOUT" ./thaw compare --model "$MODEL" \
            --data "$DATA" --strategies finetune,feature-extraction --seeds 2 --threads $t \
            --csv "$TMP/cmp$t.csv" --epochs 2)" </dev/null >"$TMP/cmp$t.out" 2>"$TMP/cmp$t.err"
        rc=$?
        [ $rc = 0 ] || why="${why:+$why; }--threads $t: status $rc"
        grep -q "compare:" "$TMP/cmp$t.err" && why="${why:+$why; }--threads $t: progress line without a terminal"
        cut -d, -f1-8 "$TMP/cmp$t.csv" >"$TMP/cmp$t.cut" 2>/dev/null
    done
    [ -s "$TMP/cmp1.cut" ] && [ "$(wc -l <"$TMP/cmp1.cut")" = 4 ] || why="${why:+$why; }no table of 3 rows"
    cmp -s "$TMP/cmp1.cut" "$TMP/cmp2.cut" || why="${why:+$why; }the tables differ between 1 and 2 threads"
    grep -qi nan "$TMP/cmp1.out" "$TMP/cmp1.csv" && why="${why:+$why; }a value printed as nan"
    head -1 "$TMP/cmp1.csv" | grep -q "test_acc_pct_mean,test_acc_pct_std,delta_pts_mean" ||
        why="${why:+$why; }the CSV header does not name its units"
    grep -q "curves to $TMP/cmp1.svg" "$TMP/cmp1.out" || why="${why:+$why; }the curves' SVG was not named"
    grep -q ">finetune<" "$TMP/cmp1.svg" 2>/dev/null && grep -q ">feature-extraction<" "$TMP/cmp1.svg" &&
        grep -q "scratch (baseline)" "$TMP/cmp1.svg" || why="${why:+$why; }the SVG lacks a strategy's curve"
    cmp -s "$TMP/cmp1.svg" "$TMP/cmp2.svg" || why="${why:+$why; }the curves differ between 1 and 2 threads"
    cat "$TMP/cmp1.csv" "$TMP/cmp2.csv" "$TMP/cmp1.err" "$TMP/cmp2.err" >"$TMP/cmp.txt" 2>/dev/null
    verdict "$name" "$why" "" "$TMP/cmp.txt"
}

check_restore() {
    restore restore_after_q q 0
    restore restore_after_ctrl_c_twice ctrl-c 0
    restore restore_after_sigterm TERM 0
    restore restore_after_sighup HUP 0
    restore restore_after_sigsegv SEGV 139
    restore restore_after_sigterm_while_training TERM 0 train
    check_batch_sigterm
}

check_ascii() {
    wanted ascii || return 0
    start asc 120 40 C -- "$MODEL" --data "$DATA"
    if golden default_ascii_120x40 asc "$FOOTER"; then
        capture asc >"$TMP/screen.txt"
        if LC_ALL=C grep -n $'[\x80-\xff]' "$TMP/screen.txt" >"$TMP/bytes.txt"; then
            fail ascii_default_no_high_bytes "LANG=C: bytes >= 0x80 on these lines:" "$TMP/bytes.txt"
        else
            ok ascii_default_no_high_bytes
        fi
    fi
    stop asc
}

# LANG=C: the help overlay, like the rest of the screen, in ASCII, with every key.
check_ascii_help() {
    wanted ascii || return 0
    start ahl 120 40 C -- "$MODEL" --data "$DATA"
    if wait_for ahl "$FOOTER"; then
        keys ahl '?'
        if wait_for ahl "$HELP" && until_ok "$TIMEOUT" stable ahl; then
            local why="" named lines
            capture ahl >"$TMP/screen.txt"
            LC_ALL=C grep -q $'[\x80-\xff]' "$TMP/screen.txt" && why="bytes >= 0x80 on the screen; "
            named=$(sed -n '/^} keys\[\] = {/,/^};/p' tui/workbench.c | grep -c '^ *{ [^"]*, "')
            lines=$(help_names <"$TMP/screen.txt" | wc -l)
            [ "$lines" = "$named" ] || why="${why}the overlay lists $lines keys, the keys table names $named"
            verdict ascii_help_lists_every_key "$why"
        else
            fail ascii_help_lists_every_key "? did not open the help overlay"
        fi
    else
        fail ascii_help_lists_every_key "thaw never drew its first frame"
    fi
    stop ahl
}

check_line_mode() {
    wanted line || return 0
    local out=$TMP/line.out rc missing=""
    printf 'help\nquit\n' |
        eval "$(thaw_env C.UTF-8 TERM=dumb)$(printf '%q ' timeout "$TIMEOUT" ./thaw "$MODEL" --data "$DATA")" >"$out" 2>&1
    rc=$?
    local verb
    for verb in $(sed -n 's/^ *X("\([a-z-]*\)",.*/\1/p' tui/app.c); do
        grep -q "^$verb " "$out" || missing="$missing $verb"
    done
    if [ $rc = 0 ] && [ -z "$missing" ]; then
        ok line_mode_help_quit
    else
        fail line_mode_help_quit "exit status $rc; commands missing from help:${missing:- none}" "$out"
    fi
}

# The : line edits as readline does in every terminal type: Backspace,
# Delete, Left/Right, Home/End, Up/Down through the history, Ctrl-A/E/K/U/W,
# Ctrl-R; Escape closes it; Tab's choices show on the screen; Ctrl-L redraws.
cmdline_is() { [ "$(capture "$1" | tail -2 | head -1)" = "$2" ]; }
check_cmdline_edit() {
    wanted cmdline || return 0
    local term
    for term in xterm-256color tmux-256color screen vt100; do
        local s=ed${term%%-*} bad="" step typed want
        local cmd
        cmd="cd $(printf %q "$ROOT") && $(thaw_env C.UTF-8 TERM=$term)$(printf '%q ' "$ROOT/thaw" "$MODEL" --data "$DATA")"
        tm new-session -d -s $s -x 120 -y 40 "$cmd"
        if ! wait_for $s "$FOOTER"; then
            fail "cmdline_edit_$term" "thaw never drew its first frame"
            stop $s
            continue
        fi
        # Each step: keys (tmux names; text in quotes is typed), then the line it must show.
        while IFS='|' read -r step want; do
            eval "set -- $step"
            local k
            for k in "$@"; do
                case $k in
                    =*) text $s "${k#=}" ;;
                    *) keys $s "$k" ;;
                esac
            done
            until_ok 5 cmdline_is $s "$want" || {
                bad="$bad after '$step' the line was '$(capture $s | tail -2 | head -1)', not '$want';"
                break
            }
        done <<'STEPS'
: =set\ epochz BSpace|:set epoch
=s\ 3 Left Left =X|:set epochsX 3
BSpace Home =#|:#set epochs 3
Home DC End =0|:set epochs 30
C-a C-k =freeze\ stem|:freeze stem
C-w|:freeze
C-u =set\ epochs\ 3 Enter|set epochs 3
: Up|:set epochs 3
Down|:
C-r =epo|(reverse-i-search)`epo': set epochs 3
C-g Escape|set epochs 3
: =set\ e Tab Tab|:set e
STEPS
        if [ -z "$bad" ]; then
            has $s "epochs" && capture $s | tail -3 | head -1 | grep -q "early-stop" ||
                bad="Tab Tab did not list the choices above the line;"
            keys $s C-l Escape
        fi
        capture $s >"$TMP/screen.txt"
        verdict "cmdline_edit_$term" "$bad" "" "$TMP/screen.txt"
        stop $s
    done
}

# thaw repl without arguments opens the workbench's model and task, so
# show settings names them.
check_repl_default() {
    wanted repl || return 0
    local out=$TMP/repl-default.out
    printf 'show settings\nquit\n' |
        eval "$(thaw_env C.UTF-8 TERM=dumb)$(printf '%q ' timeout "$TIMEOUT" ./thaw repl)" >"$out" 2>&1
    if grep -qE '^load model "models/(fashion|shapes)-resnet.json"' "$out" && grep -q '^load data "' "$out"; then
        ok repl_opens_the_default
    else
        fail repl_opens_the_default "show settings in a bare thaw repl names no model and data:" "$out"
    fi
}

# thaw repl completes a partial word from its place on the line: a command,
# a strategy, a setting, a layer path.
check_repl_complete() {
    wanted repl || return 0
    local s=repl bad=""
    start $s 100 20 C.UTF-8 -- repl "$MODEL" --data "$DATA"
    if ! wait_for $s "thaw>"; then
        capture $s >"$TMP/screen.txt"
        fail repl_complete "the prompt never showed" "$TMP/screen.txt"
        stop $s
        return
    fi
    local typed want
    while IFS='|' read -r typed want; do
        text $s "$typed"
        keys $s Tab
        until_ok 5 has $s "thaw> $want" || bad="$bad '$typed<Tab>' did not give '$want';"
        keys $s C-u
    done <<'CASES'
fre|freeze
strategy fe|strategy feature-extraction
set epo|set epochs
freeze stage2.co|freeze stage2.conv
CASES
    capture $s >"$TMP/screen.txt"
    verdict repl_complete "$bad" "" "$TMP/screen.txt"
    stop $s
}

# thaw --lesson FILE without a terminal runs the lesson as thaw run does: the
# narration printed, exit 0 when its expectations hold, 1 and FILE:LINE when
# one does not.
check_line_lesson() {
    wanted line || return 0
    local good=$TMP/good.thaw bad=$TMP/bad.thaw out=$TMP/lesson.out rc1 rc2 dir=$TMP/lesson
    mkdir -p "$dir"
    printf 'say "The head alone, then everything."\nset epochs 1\ntrain\nexpect epoch >= 1\n' >"$good"
    printf 'say "Too much to ask."\nexpect val_acc > 1\n' >"$bad"
    (cd "$dir" && eval "$(thaw_env C.UTF-8 TERM=dumb)$(printf '%q ' timeout "$TIMEOUT" "$ROOT/thaw" \
        "$ROOT/$MODEL" --data "$DATA" --lesson "$good")") </dev/null >"$out" 2>&1
    rc1=$?
    (cd "$dir" && eval "$(thaw_env C.UTF-8 TERM=dumb)$(printf '%q ' timeout "$TIMEOUT" "$ROOT/thaw" \
        "$ROOT/$MODEL" --data "$DATA" --lesson "$bad")") </dev/null >>"$out" 2>&1
    rc2=$?
    if [ $rc1 = 0 ] && [ $rc2 = 1 ] && grep -qF "The head alone, then everything." "$out" &&
        grep -qF "Too much to ask." "$out" && grep -qF "$bad:2:" "$out"; then
        ok line_mode_lesson
    else
        fail line_mode_lesson "exit statuses $rc1 and $rc2 (want 0 and 1), or the narration or FILE:LINE missing" "$out"
    fi
}

# A lesson on screen: the narration box says how to go on, > closes it and
# runs on to the next pause, a line after train waits for the training, and
# expect's verdict stays on the message line beside the prompt.
check_lesson() {
    wanted lesson || return 0
    local file=$TMP/screen-lesson.thaw dir=$TMP/screen-lesson
    mkdir -p "$dir"
    printf '%s\n' 'say "First the head alone."' pause-for-key 'set epochs 1' train 'expect epoch >= 1' \
        pause-for-key 'say "Now everything."' >"$file"
    start les 100 30 C.UTF-8 "$dir" -- "$ROOT/$MODEL" --data "$DATA" --lesson "$file"
    if ! wait_for les "First the head alone."; then
        capture les >"$TMP/screen.txt"
        fail lesson_steps "the first narration never showed:" "$TMP/screen.txt"
    elif ! has les "> goes on"; then
        capture les >"$TMP/screen.txt"
        fail lesson_steps "the narration box does not say how to go on:" "$TMP/screen.txt"
    else
        keys les '>'
        if ! wait_for les "as expected: epoch"; then
            capture les >"$TMP/screen.txt"
            fail lesson_steps "> did not run the lesson through its training and expect:" "$TMP/screen.txt"
        elif has les "First the head alone." || ! has les "> goes on (line 6 of 7)"; then
            capture les >"$TMP/screen.txt"
            fail lesson_steps "the box did not close, or the prompt did not keep expect's verdict:" "$TMP/screen.txt"
        else
            keys les '>'
            if wait_for les "Now everything."; then
                ok lesson_steps
            else
                capture les >"$TMP/screen.txt"
                fail lesson_steps "the last narration never showed:" "$TMP/screen.txt"
            fi
        fi
    fi
    keys les Escape
    keys les q
    stop les
}

# The environment matrix: TERM unset, dumb, vt100, xterm-256color or bogus, in
# the C and C.UTF-8 locales, on a terminal (tmux) and not (a pipe): thaw picks
# the workbench or the line-mode prompt and exits 0 on quit.
check_env_matrix() {
    wanted env || return 0
    local term lang mode want bad="" n=0 envs rc
    for term in unset dumb vt100 xterm-256color bogus; do
        for lang in C C.UTF-8; do
            envs="env -i PATH=$(printf %q "$PATH") LANG=$lang HOME=$TMP/home XDG_STATE_HOME=$TMP/state"
            [ "$term" != unset ] && envs="$envs TERM=$term"
            case $term in vt100 | xterm-256color) want=workbench ;; *) want=line ;; esac
            # not a terminal: always the line mode, reading commands from the pipe
            printf 'quit\n' | eval "$envs $(printf '%q ' timeout "$TIMEOUT" ./thaw "$MODEL" --data "$DATA")" \
                >"$TMP/env.out" 2>&1
            rc=$?
            n=$((n + 1))
            [ $rc = 0 ] || bad="$bad [$term/$lang/pipe: exit $rc]"
            # a terminal: tmux runs it with exactly this environment
            tm kill-session -t env >/dev/null 2>&1
            rm -f "$TMP/rc-env"
            tm new-session -d -s env -x 100 -y 30 \
                "cd $(printf %q "$ROOT") && $envs $(printf '%q ' ./thaw "$MODEL" --data "$DATA"); echo \$? >$TMP/rc-env"
            n=$((n + 1))
            if [ $want = workbench ]; then
                if wait_for env "layer"; then keys env q; else bad="$bad [$term/$lang/tty: no workbench]"; fi
            else
                if wait_for env "quit to leave"; then text env quit; keys env Enter
                else bad="$bad [$term/$lang/tty: no line-mode prompt]"; fi
            fi
            if until_ok "$TIMEOUT" test -s "$TMP/rc-env"; then
                mode=$(cat "$TMP/rc-env")
                [ "$mode" = 0 ] || bad="$bad [$term/$lang/tty: exit $mode]"
            else
                bad="$bad [$term/$lang/tty: did not exit on quit]"
            fi
            stop env
        done
    done
    if [ -z "$bad" ]; then ok "env_matrix ($n combinations)"; else fail env_matrix "$bad"; fi
}

# A resize storm while training: 1000 random sizes down to 1x1, then the
# usual layout at 120x40, still training, and a clean quit.
storm_restored() {
    local screen
    screen=$(capture storm)
    grep -qF -- "$FOOTER" <<<"$screen" && grep -q "^layer " <<<"$screen"
}

check_resize_storm() {
    wanted storm || return 0
    local dir=$TMP/storm i w h
    mkdir -p "$dir"
    start storm 120 40 C.UTF-8 "$dir" -- "$ROOT/$MODEL" --data "$DATA"
    if ! wait_for storm "$FOOTER"; then
        fail resize_storm "thaw never drew its first frame"
        stop storm
        return
    fi
    keys storm t
    RANDOM=7
    for ((i = 0; i < 1000; i++)); do
        w=$((1 + RANDOM % 160)) h=$((1 + RANDOM % 50))
        tm resize-window -t storm -x $w -y $h 2>/dev/null
    done
    tm resize-window -t storm -x 120 -y 40
    # thaw works through the queued sizes before it reaches the last one, and a
    # frame of an earlier size can show the footer: wait for footer and tree together.
    if until_ok "$TIMEOUT" storm_restored && [ ! -s "$TMP/rc-storm" ]; then
        keys storm q
        keys storm q
        if until_ok "$TIMEOUT" test -s "$TMP/rc-storm" && [ "$(cat "$TMP/rc-storm")" = 0 ]; then
            ok "resize_storm (1000 sizes while training)"
        else
            fail resize_storm "thaw did not quit cleanly after the storm"
        fi
    else
        capture storm >"$TMP/screen.txt"
        fail resize_storm "after the storm the layout did not come back at 120x40" "$TMP/screen.txt"
    fi
    stop storm
}

# ---- run ------------------------------------------------------------------------------

t0=$SECONDS
check_default
check_expand
check_freeze
check_rate
check_help
check_resize
check_ascii
check_ascii_help
check_line_mode
check_line_lesson
check_batch_failed_saves
check_batch_escapes
check_batch_clear_answers
check_batch_compare_parallel
check_repl_complete
check_repl_default
check_cmdline_edit
check_lesson
check_restore
check_training
check_results
check_testing_status
check_lrfind
check_domain
check_heatmap
check_overlay
check_lrbar_slope
check_env_matrix
check_resize_storm
echo "screen tests: $((SECONDS - t0)) s"
if [ $skipped -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ $failed = 0 ]
