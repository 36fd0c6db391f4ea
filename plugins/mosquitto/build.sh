#!/bin/sh
# Builds the Anxin auth plugin for Mosquitto 2.0: build.sh OUT_DIR -> OUT_DIR/anxin_auth.so
# Needs (Debian/Ubuntu): mosquitto-dev libmosquitto-dev libcjson-dev libcurl4-openssl-dev, and a C compiler.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 OUT_DIR" >&2
	exit 2
fi
out=$1
here=$(cd "$(dirname "$0")" && pwd)
cc=${CC:-cc}
packages="mosquitto-dev libmosquitto-dev libcjson-dev libcurl4-openssl-dev"

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "build.sh: no C compiler ($cc); install gcc (or set CC)" >&2
	exit 1
fi

# Each header and library on its own, so the message says which one is missing.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
missing=""
for h in mosquitto_broker.h mosquitto_plugin.h mosquitto.h cjson/cJSON.h curl/curl.h; do
	# preprocessor only: is the header there (mosquitto_plugin.h alone does not compile)
	printf '#include <%s>\n' "$h" >"$tmp/h.c"
	"$cc" -E "$tmp/h.c" >/dev/null 2>&1 || missing="$missing header <$h>;"
done
for l in curl cjson; do
	printf 'int main(void){return 0;}\n' >"$tmp/l.c"
	"$cc" "$tmp/l.c" -o "$tmp/l" "-l$l" 2>/dev/null || missing="$missing library -l$l;"
done
if [ -n "$missing" ]; then
	echo "build.sh: missing:$missing" >&2
	echo "build.sh: on Debian/Ubuntu: apt-get install $packages" >&2
	exit 1
fi

mkdir -p "$out"
# Mosquitto symbols (mosquitto_log_printf, mosquitto_topic_matches_sub, ...) come from the broker that
# loads the plugin, so there is no -lmosquitto.
"$cc" -std=c99 -O2 -Wall -Wextra -Werror -fPIC -shared \
	-o "$out/anxin_auth.so" "$here/anxin_auth.c" -lcurl -lcjson
echo "built $out/anxin_auth.so"
