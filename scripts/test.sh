#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the tests need (Debian
# packages, when missing), checks formatting and vet, runs every test with the
# root-only ones required (a skip is a failure), then fuzzes each parser and
# writer for a bounded time. Run as root on Linux:  sudo bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

if [ "$(id -u)" != 0 ]; then
	echo "scripts/test.sh: run as root: the tests create network namespaces and bind NFLOG groups" >&2
	exit 1
fi

# Debian packages the tests use: nft, ip, tshark/capinfos/dumpcap/editcap, tcpdump (the
# benchmark harness's own test), setcap/capsh, setpriv, zstd.
pkgs=(nftables iproute2 tshark tcpdump libcap2-bin util-linux zstd)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "== installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi

echo "== go vet"
go vet ./...

echo "== go test -race (root-only tests required)"
# The whole verbose log stays for reading after a failure.
log=${NFLOGCAP_TEST_LOG:-/tmp/nflogcap-test.log}
export NFLOGCAP_REQUIRE_PRIVILEGED=1
status=0
go test -race -count=1 -timeout 20m -v ./... >"$log" 2>&1 || status=$?
grep -E '^(ok|FAIL|---|panic:)|^\s+--- (FAIL|SKIP)' "$log" | grep -v -- '--- PASS' || true
if grep -qE '^\s*--- SKIP' "$log"; then
	echo "tests were skipped; in CI every test must run:" >&2
	grep -E -A2 '^\s*--- SKIP' "$log" >&2
	exit 1
fi
if [ "$status" != 0 ]; then
	echo "== failures (whole log: $log)" >&2
	# Each failed test's own output, from its RUN line to its FAIL line.
	for name in $(sed -nE 's/^--- FAIL: (\S+) .*/\1/p' "$log"); do
		sed -n "/^=== RUN   $name\$/,/^--- FAIL: $name /p" "$log" | grep -vE '^=== (PAUSE|CONT)' | head -150 >&2
	done
	exit "$status"
fi
passed=$(grep -cE '^\s*--- PASS' "$log" || true)
echo "go test: $passed passed"

echo "== benchmarks (one iteration each: they must keep working; numbers come from go test -bench)"
go test -run '^$' -bench . -benchtime 1x ./nflog ./pcapng ./capture ./internal/directio >"$log.bench" 2>&1 || { cat "$log.bench" >&2; exit 1; }
grep -E '^Benchmark' "$log.bench" || true

echo "== fuzzing (bounded)"
fuzz() { go test -run '^$' -fuzz "^$1\$" -fuzztime "${FUZZTIME:-20s}" -fuzzminimizetime 5s "$2" >"$log.fuzz" 2>&1 || { cat "$log.fuzz" >&2; exit 1; }; echo "fuzz $1: ok"; }
fuzz FuzzParseDatagram ./nflog
fuzz FuzzKernelOrder ./nflog
fuzz FuzzEncoder ./capture
fuzz FuzzWriter ./pcapng
fuzz FuzzValidPrefix ./pcapng
fuzz FuzzAppend ./internal/escape

echo "$passed passed, 0 failed"
