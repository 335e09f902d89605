#!/usr/bin/env bash
# Cross-architecture check: the same experiment gives the same bytes on x86-64 with the AVX2
# kernels, on x86-64 with the portable kernels (INITLAB_PORTABLE_KERNELS=1) and on aarch64
# (cross-compiled, run under qemu-aarch64). Installs what it needs: the Rust target with
# rustup, Debian's cross linker and qemu-user with apt-get when missing.
# Kept small (qemu emulates floating point in software): xor, iris, moons with one seed and a
# two-epoch deep-tanh with two starts. Also lints the aarch64 build (clippy -D warnings) and
# runs the floating-point mode test there (FPCR flush-to-zero).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=aarch64-unknown-linux-gnu
SYSROOT=/usr/aarch64-linux-gnu

rustup target add "$TARGET" >/dev/null 2>&1 || rustup target add "$TARGET"
if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64 >/dev/null; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q gcc-aarch64-linux-gnu qemu-user
fi
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L $SYSROOT"

echo "== clippy for $TARGET (-D warnings)"
cargo clippy --target "$TARGET" --quiet -- -D warnings

echo "== build: native and $TARGET"
cargo build --release --quiet
cargo build --release --quiet --target "$TARGET"
native=target/release/initlab
arm="qemu-aarch64 -L $SYSROOT target/$TARGET/release/initlab"

echo "== float_mode test under qemu-aarch64"
cargo test --release --quiet --target "$TARGET" --test suite -- float_mode::

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# name and arguments of each experiment run
runs=(
    "xor|xor --seeds 1"
    "iris|iris --seeds 1"
    "moons|moons --seeds 1"
    "deep-tanh|deep-tanh --seeds 1 --epochs 2 --inits glorot-standard,xavier-normal"
)
status=0
for run in "${runs[@]}"; do
    name=${run%%|*}
    args=${run#*|}
    start=$SECONDS
    # shellcheck disable=SC2086 # $args is a word list on purpose
    $native experiment $args --quiet --no-plots --threads 2 --out "$out/avx2/$name" >/dev/null
    # shellcheck disable=SC2086
    INITLAB_PORTABLE_KERNELS=1 $native experiment $args --quiet --no-plots --threads 2 \
        --out "$out/portable/$name" >/dev/null
    # shellcheck disable=SC2086
    $arm experiment $args --quiet --no-plots --threads 2 --out "$out/aarch64/$name" >/dev/null
    for other in portable aarch64; do
        if diff -r "$out/avx2/$name" "$out/$other/$name" >/dev/null; then
            echo "$name: $other identical to x86-64 AVX2"
        else
            echo "$name: $other DIFFERS from x86-64 AVX2:"
            diff -r "$out/avx2/$name" "$out/$other/$name" | head -5 || true
            status=1
        fi
    done
    echo "   ($((SECONDS - start)) s)"
done
exit $status
