# thaw — build, test, benchmark. Hand-written; GNU make.
#
#   make            the thaw binary and build/libthaw.a (the engine the tests link)
#   make run        install what is missing, build, and open thaw
#   make test       install what is missing, build, and run the test suite
#   make asan       the whole suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench      training throughput against BLIS's peak and PyTorch
#
# CFLAGS_EXTRA adds flags (CI passes -Werror). ARCH picks the instruction set
# (native by default: thaw is built where it runs).

CC      ?= cc
ARCH    ?= -march=native
OPT     ?= -O3
CFLAGS  := -std=c11 -D_GNU_SOURCE $(OPT) $(ARCH) -g -Wall -Wextra -Wshadow -Wvla \
           -Icore -Imodels -Idatasets -Itui $(CFLAGS_EXTRA)
PKGS    := zlib libcjson ncursesw readline
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LIBS    = -lblis $(PKG_LIBS) -lpthread -lm

BUILD   ?= build
ENGINE_SRC := $(wildcard core/*.c models/*.c datasets/*.c)
TUI_SRC    := $(wildcard tui/*.c)
TEST_SRC   := $(wildcard tests/*.c)
BENCH_SRC  := tests/bench/bench_train.c

ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/%.o)
TUI_OBJ    := $(TUI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ   := $(TEST_SRC:%.c=$(BUILD)/%.o)
BENCH_OBJ  := $(BENCH_SRC:%.c=$(BUILD)/%.o)

.PHONY: all run test asan bench deps deps-test deps-bench clean
all: thaw $(BUILD)/libthaw.a

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libthaw.a: $(ENGINE_OBJ)
	@rm -f $@
	ar rcs $@ $^

thaw: $(TUI_OBJ) $(BUILD)/libthaw.a
	$(CC) $(CFLAGS) -o $@ $(TUI_OBJ) $(BUILD)/libthaw.a $(LIBS)

$(BUILD)/thaw-tests: $(TEST_OBJ) $(BUILD)/libthaw.a
	$(CC) $(CFLAGS) -o $@ $(TEST_OBJ) $(BUILD)/libthaw.a $(LIBS)

$(BUILD)/thaw-bench: $(BENCH_OBJ) $(BUILD)/libthaw.a
	$(CC) $(CFLAGS) -o $@ $(BENCH_OBJ) $(BUILD)/libthaw.a $(LIBS)

deps:
	@sh scripts/deps.sh build
deps-test:
	@sh scripts/deps.sh test
deps-bench:
	@sh scripts/deps.sh bench

run: deps
	@$(MAKE) --no-print-directory all
	./thaw info

test: deps-test
	@$(MAKE) --no-print-directory $(BUILD)/thaw-tests
	$(BUILD)/thaw-tests

# A separate build tree, so sanitized objects never mix with the normal ones.
asan: deps-test
	@$(MAKE) --no-print-directory BUILD=build/asan CC=clang OPT=-O1 \
	    CFLAGS_EXTRA="$(CFLAGS_EXTRA) -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	    build/asan/thaw-tests
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 build/asan/thaw-tests

bench: deps-bench
	@$(MAKE) --no-print-directory $(BUILD)/thaw-bench
	$(BUILD)/thaw-bench --peer tests/bench/torch_peer.py

clean:
	rm -rf build thaw

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
