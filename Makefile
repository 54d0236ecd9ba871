# A thin layer over Meson: the README's two commands and a few conveniences.
.PHONY: demo test build deps bench clean

# The main job: generate the example word list and build the example lessons
# into out/site (offline when no API key is set).
demo:
	@bash scripts/demo.sh

# Every test: unit, integration, sanitizers, fuzzing, browser. Ends with
# "N passed, N failed".
test:
	@bash scripts/test.sh

deps:
	@bash scripts/deps.sh

build: deps
	@[ -f build/build.ninja ] || meson setup build
	@ninja -C build

# The benchmarks need the test tools too (ffmpeg for the original's audio path,
# node for the fake server).
bench:
	@bash scripts/deps.sh --test
	@[ -f build/build.ninja ] || meson setup build
	@ninja -C build
	@bash bench/run.sh

clean:
	rm -rf build build-asan build-fuzz build*.log out
