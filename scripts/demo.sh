#!/usr/bin/env bash
# The main job on a fresh machine: install nftables and iproute2 when missing,
# then run `nflogcap demo`: a throwaway network namespace with nft rules that
# log to NFLOG group 5000, a little traffic, captured to pcapng and printed.
# The host's own firewall is not touched. Run as root: sudo bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
if [ "$(id -u)" != 0 ]; then
	echo "scripts/demo.sh: run as root (the demo creates a network namespace)" >&2
	exit 1
fi
missing=()
for p in nftables iproute2; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
go build -o nflogcap .
exec ./nflogcap demo "$@"
